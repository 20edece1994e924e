"""One search over one index: matching, filters, ranking, facets, paging and the answer's shape.

Pure: records, settings and parameters in, an answer out (no HTTP, no store). See README's "How
search behaves" for the rules, and :mod:`.prepared` for the structures that make it fast.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
import math
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.engine import assumptions, jsonio
from mockserver.engine.errors import BadRequest
from mockserver.engine.search import filters as flt
from mockserver.engine.search import highlight
from mockserver.engine.search import params as prm
from mockserver.engine.search.prepared import (
    Prepared,
    Record,
    filter_number,
    prepared,
    searchable_paths,
    strip_modifiers,
)
from mockserver.engine.search.text import fold, word_spans, words

DEFAULT_HITS_PER_PAGE = 20
BROWSE_HITS_PER_PAGE = 1000
MAX_HITS_PER_PAGE = 1000
DEFAULT_PAGINATION_LIMIT = 1000
DEFAULT_MAX_VALUES_PER_FACET = 100
DEFAULT_MAX_FACET_HITS = 10
_FILTER_PARAMS = ("filters", "facetFilters", "numericFilters", "tagFilters")
MAX_QUERIES = 100
"""Assumed (none is published): the most queries one multi-query (``*/queries``) may hold."""
MAX_SETTING_NAMES = 1000
"""Assumed (none is published): the most names a list setting (searchableAttributes,
attributesForFaceting, customRanking, ...) may hold, ``a,b`` counting as two."""


def check_settings(settings: Mapping[str, Any], where: str = "body") -> None:
    """400 naming the first list setting with more than :data:`MAX_SETTING_NAMES` names (every
    search reads them: a longer list would slow every later search of the index)."""
    for name, value in settings.items():
        if isinstance(value, list):
            count = sum(item.count(",") + 1 if isinstance(item, str) else 1 for item in value)
            if count > MAX_SETTING_NAMES:
                raise BadRequest(
                    f"{where}.{name}: {count} names; a list setting holds at most {MAX_SETTING_NAMES} "
                    "(an assumption of the mock, ledger search-request-bounds)"
                )


@dataclass
class _Run:
    """What one search needs on its way: the structures, the settings, its warnings."""

    prep: Prepared
    settings: Mapping[str, Any]
    warnings: list[str] = field(default_factory=list)

    def faceting(self) -> dict[str, frozenset[str]]:
        """attributesForFaceting: attribute -> its modifiers."""
        declared = self.settings.get("attributesForFaceting")
        found: dict[str, frozenset[str]] = {}
        if isinstance(declared, list):
            for entry in declared:
                if isinstance(entry, str):
                    name, modifiers = strip_modifiers(entry)
                    found[name] = modifiers
        return found

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)


def _everything(prep: Prepared) -> set[int]:
    return set(range(prep.size))


def _evaluate(node: flt.Node, run: _Run, faceting: dict[str, frozenset[str]]) -> set[int]:
    prep = run.prep
    if isinstance(node, flt.And):
        result: set[int] | None = None
        for part in node.parts:
            found = _evaluate(part, run, faceting)
            result = found if result is None else result & found
        return result if result is not None else _everything(prep)
    if isinstance(node, flt.Or):
        union: set[int] = set()
        for part in node.parts:
            union |= _evaluate(part, run, faceting)
        return union
    if isinstance(node, flt.Not):
        return _everything(prep) - _evaluate(node.operand, run, faceting)
    if isinstance(node, flt.Facet):
        if node.attribute != flt.TAGS and node.attribute not in faceting:
            run.warn(
                f"the filter on {node.attribute!r} matches no record: it is not in the index's "
                "attributesForFaceting (set it with setSettings)"
            )
            return set()
        return set(prep.facet_index(node.attribute).docs.get(node.value, ()))
    allowed = run.settings.get("numericAttributesForFiltering")
    if isinstance(allowed, list) and allowed:
        modifiers: dict[str, frozenset[str]] = {}
        for entry in allowed:
            name, marks = strip_modifiers(str(entry))
            modifiers[name] = modifiers.get(name, frozenset()) | marks
        if node.attribute not in modifiers:
            run.warn(
                f"the numeric filter on {node.attribute!r} matches no record: it is not in the "
                "index's numericAttributesForFiltering"
            )
            return set()
        if "equalOnly" in modifiers[node.attribute] and (
            isinstance(node, flt.Range) or node.op not in ("=", "!=")
        ):
            run.warn(
                f"the numeric filter on {node.attribute!r} matches no record: it is equalOnly in the "
                "index's numericAttributesForFiltering, which allows only = and !="
            )
            return set()
    numbers = prep.number_index(node.attribute)
    values, positions = numbers.values, numbers.positions
    if isinstance(node, flt.Range):
        low = bisect.bisect_left(values, filter_number(node.low))
        high = bisect.bisect_right(values, filter_number(node.high))
        return set(positions[low:high])
    number, op = filter_number(node.number), node.op
    if op == ">":
        return set(positions[bisect.bisect_right(values, number) :])
    if op == ">=":
        return set(positions[bisect.bisect_left(values, number) :])
    if op == "<":
        return set(positions[: bisect.bisect_left(values, number)])
    if op == "<=":
        return set(positions[: bisect.bisect_right(values, number)])
    equal = set(positions[bisect.bisect_left(values, number) : bisect.bisect_right(values, number)])
    return equal if op == "=" else _everything(prep) - equal


def filter_tree(params: Mapping[str, Any]) -> flt.Node | None:
    """The filters of every kind a request gives, ANDed (None: no filter). 400 on a mistake."""
    parts: list[flt.Node] = []
    try:
        text = params.get("filters")
        if text is not None:
            if not isinstance(text, str):
                raise flt.FilterError(f"filters: expected a string, found {type(text).__name__}")
            node = flt.parse(text)
            if node is not None:
                parts.append(node)
        for name in ("facetFilters", "numericFilters", "tagFilters"):
            if params.get(name) is not None:
                node = flt.from_array(name, params[name])
                if node is not None:
                    parts.append(node)
    except flt.FilterError as error:
        raise BadRequest(str(error), code="invalid_filters") from None
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else flt.And(tuple(parts))


@dataclass
class _Matched:
    """The records a search keeps, ranked."""

    positions: list[int]
    query_words: list[str]


def _match(run: _Run, params: Mapping[str, Any], *, by_words: bool = True) -> _Matched:
    prep, settings = run.prep, run.settings
    query = params.get("query", "")
    if not isinstance(query, str):
        raise BadRequest(f"query: expected a string, found {type(query).__name__}")
    query_words = words(query)
    tree = filter_tree(params)
    allowed = _evaluate(tree, run, run.faceting()) if tree is not None else None
    ranking = settings.get("customRanking")
    criteria = tuple(str(c) for c in ranking) if isinstance(ranking, list) else ()
    ranks = prep.ranks(criteria)
    if not query_words:
        found = range(prep.size) if allowed is None else allowed
        return _Matched(sorted(found, key=ranks.__getitem__), query_words)
    index = prep.word_index(
        _restricted(searchable_paths(settings), params.get("restrictSearchableAttributes"))
    )
    *whole, last = query_words
    best: dict[int, int] | None = None  # position -> best attribute priority over the words
    for word in whole:
        docs = index.postings.get(word)
        if not docs:
            return _Matched([], query_words)
        best = _combine(best, docs, allowed)
        if not best:
            return _Matched([], query_words)
    exact = index.postings.get(last, {})
    prefixed: dict[int, int] = {}
    for word in index.prefixed(last):
        for position, priority in index.postings[word].items():
            if prefixed.get(position, priority + 1) > priority:
                prefixed[position] = priority
    best = _combine(best, prefixed, allowed)
    if by_words:

        def key(position: int) -> tuple[int, int, int]:
            return (best[position], 0 if position in exact else 1, ranks[position])
    else:

        def key(position: int) -> tuple[int, int, int]:
            return (best[position], 0, ranks[position])

    return _Matched(sorted(best, key=key), query_words)


def _restricted(
    paths: tuple[tuple[int, str], ...] | None, restrict: Any
) -> tuple[tuple[int, str], ...] | None:
    """``restrictSearchableAttributes``: only the searchable attributes it names (every attribute it
    names when searchableAttributes is unset)."""
    if not isinstance(restrict, list) or not restrict:
        return paths
    names = list(dict.fromkeys(str(name) for name in restrict))
    if paths is None:
        return tuple((0, name) for name in names)
    named = frozenset(names)
    return tuple((priority, path) for priority, path in paths if path in named)


def _combine(best: dict[int, int] | None, docs: dict[int, int], allowed: set[int] | None) -> dict[int, int]:
    if best is None:
        keys = docs.keys() & allowed if allowed is not None else docs.keys()
        return {position: docs[position] for position in keys}
    return {
        position: min(priority, docs[position]) for position, priority in best.items() if position in docs
    }


def _retrieve(record: Record, wanted: Any, unretrievable: Iterable[str]) -> Record:
    """``attributesToRetrieve`` (``*``, names, dotted paths, ``-name`` with ``*``); objectID always."""
    names = [str(n) for n in wanted] if isinstance(wanted, list) else ["*"]
    if "*" in names:
        shown = dict(record)
        for name in names:
            if name.startswith("-"):
                shown.pop(name[1:], None)
    else:
        shown = {}
        for name in names:
            if name in record:
                shown[name] = record[name]
            elif "." in name:
                _copy_path(record, shown, name.split("."))
    for name in unretrievable:
        shown.pop(name, None)
    shown["objectID"] = record["objectID"]
    return shown


def _copy_path(source: Any, target: dict[str, Any], parts: list[str]) -> None:
    head, *rest = parts
    if not isinstance(source, dict) or head not in source:
        return
    if not rest:
        target[head] = source[head]
        return
    inner = target.setdefault(head, {})
    if isinstance(inner, dict):
        _copy_path(source[head], inner, rest)


def _int_param(params: Mapping[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = params.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(f"{name}: expected an integer, found {flt_shown(value)}")
    if not low <= value <= high:
        raise BadRequest(f"{name}: {value} is outside {low}..{high}")
    return value


def flt_shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "..."


def _facets(
    run: _Run, params: Mapping[str, Any], hits: list[int]
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    wanted = params.get("facets")
    if wanted is None or wanted == []:
        return None
    if isinstance(wanted, str):
        wanted = [wanted]
    if not isinstance(wanted, list):
        raise BadRequest(f"facets: expected an array of attribute names, found {flt_shown(wanted)}")
    faceting = run.faceting()
    names: dict[str, None] = {}  # ordered, without repeats
    for name in wanted:
        name = str(name)
        if name == "*":
            names.update((n, None) for n, mods in faceting.items() if "filterOnly" not in mods)
        elif name not in faceting or "filterOnly" in faceting[name]:
            run.warn(f"no facet counts for {name!r}: it is not a facet of attributesForFaceting")
        else:
            names[name] = None
    limit = params.get(
        "maxValuesPerFacet", run.settings.get("maxValuesPerFacet", DEFAULT_MAX_VALUES_PER_FACET)
    )
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise BadRequest(f"maxValuesPerFacet: expected a non-negative integer, found {flt_shown(limit)}")
    alpha = params.get("sortFacetValuesBy", run.settings.get("sortFacetValuesBy")) == "alpha"
    counts: dict[str, Any] = {}
    stats: dict[str, Any] = {}
    for name in names:
        facet = run.prep.facet_index(name)
        if not facet.docs:  # no record has a value: nothing to count (cheap for many facets)
            counts[name] = {}
            continue
        per_record = facet.per_record
        counter: Counter[str] = Counter()
        for position in hits:
            counter.update(per_record[position])
        ordered = sorted(counter.items(), key=(lambda kv: kv[0]) if alpha else (lambda kv: (-kv[1], kv[0])))
        counts[name] = dict(ordered[:limit])
        numbers = run.prep.number_index(name).per_record
        found = [number for position in hits for number in numbers[position]]
        if found:
            avg, total = _mean_and_sum(found)
            stats[name] = {"min": min(found), "max": max(found), "avg": avg}
            if total is None:
                run.warn(
                    f"facets_stats.{name}.sum: left out, the values of the hits sum beyond the largest "
                    "double (about 1.8e308)"
                )
            else:
                stats[name]["sum"] = total
    return counts, stats


_UNITS = 2**1074  # every finite double is a whole number of 2**-1074


def _mean_and_sum(numbers: list[float]) -> tuple[float, float | None]:
    """The mean and the sum of finite doubles, each correctly rounded; the sum None when no double
    holds it (the mean always fits: it lies between the smallest and the largest). ``math.fsum``
    serves every sum it can; one overflowing on the way (or at the end) is summed exactly in
    whole units of 2**-1074, then rounded once."""
    try:
        total = math.fsum(numbers)
        return total / len(numbers), total
    except OverflowError:
        pass
    units = 0
    for number in numbers:
        numerator, denominator = number.as_integer_ratio()
        units += numerator * (_UNITS // denominator)
    mean = units / (_UNITS * len(numbers))  # int / int: correctly rounded
    try:
        return mean, units / _UNITS
    except OverflowError:
        return mean, None


def _prepare(index: Mapping[str, Record], settings: Mapping[str, Any]) -> _Run:
    return _Run(prepared(index), settings)


def _echo(body: Mapping[str, Any] | None, params: Mapping[str, Any]) -> str:
    if body and set(body) == {"params"} and isinstance(body["params"], str):
        return body["params"]
    return prm.to_string({k: v for k, v in params.items() if k not in ("indexName", "type", "facet")})


def search(
    index: Mapping[str, Record],
    settings: Mapping[str, Any],
    body: Mapping[str, Any] | None,
    index_name: str,
    where: str = "body",
) -> dict[str, Any]:
    """searchSingleIndex's answer for ``body`` (JSON fields and/or a ``params`` string)."""
    started = time.perf_counter()
    params = prm.read(body, where)
    prm.check_sizes(params, where)
    run = _prepare(index, settings)
    ignored = [name for name in GEO if params.get(name) not in (None, "", [], False)]
    if ignored:
        run.warn(f"{', '.join(ignored)}: geographic search is not modelled by the mock (ignored)")
    matched = _match(run, params)
    positions = matched.positions
    default_hpp = settings.get("hitsPerPage", DEFAULT_HITS_PER_PAGE)
    hits_per_page = _int_param(
        params, "hitsPerPage", default_hpp if isinstance(default_hpp, int) else 20, 1, MAX_HITS_PER_PAGE
    )
    page = _int_param(params, "page", 0, 0, 2**31 - 1)
    limit = settings.get("paginationLimitedTo", DEFAULT_PAGINATION_LIMIT)
    reachable = min(len(positions), limit if isinstance(limit, int) else DEFAULT_PAGINATION_LIMIT)
    answer: dict[str, Any] = {}
    if "offset" in params or "length" in params:
        offset = _int_param(params, "offset", 0, 0, 2**31 - 1)
        length = _int_param(params, "length", hits_per_page, 0, MAX_HITS_PER_PAGE)
        window = positions[offset : min(offset + length, reachable)] if offset < reachable else []
        answer.update(offset=offset, length=length)
    else:
        start = page * hits_per_page
        window = positions[start : min(start + hits_per_page, reachable)] if start < reachable else []
    unretrievable = settings.get("unretrievableAttributes") or ()
    wanted = params.get("attributesToRetrieve", settings.get("attributesToRetrieve", ["*"]))
    records = run.prep.records
    shown = [_retrieve(records[p], wanted, unretrievable) for p in window]
    names = highlight.attributes(params, settings, searchable_paths(settings))
    if names != []:
        tags = (str(params.get("highlightPreTag", "<em>")), str(params.get("highlightPostTag", "</em>")))
        for hit in shown:
            hit["_highlightResult"] = highlight.result(dict(hit), names, matched.query_words, tags)
    hits = jsonio.load_trusted(jsonio.dumps(shown))
    answer = {
        "hits": hits,
        "nbHits": len(positions),
        "page": page,
        "nbPages": math.ceil(reachable / hits_per_page) if hits_per_page else 0,
        "hitsPerPage": hits_per_page,
        **answer,
        "exhaustiveNbHits": True,
        "exhaustiveTypo": True,
        "exhaustive": {"nbHits": True, "typo": True},
        "query": params.get("query", ""),
        "params": _echo(body, params),
        "index": index_name,
    }
    faceted = _facets(run, params, positions)
    if faceted is not None:
        answer["facets"], stats = faceted
        if stats:
            answer["facets_stats"] = stats
        answer["exhaustiveFacetsCount"] = True
        answer["exhaustive"]["facetsCount"] = True
    if run.warnings:
        answer["message"] = "; ".join(run.warnings)
    answer["processingTimeMS"] = int((time.perf_counter() - started) * 1000)
    return answer


# --- browse -----------------------------------------------------------------------------------


def _cursor(index_name: str, params: Mapping[str, Any], offset: int) -> str:
    raw = json.dumps({"i": index_name, "o": offset, "p": params}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _uncursor(index_name: str, cursor: str) -> tuple[dict[str, Any], int]:
    problem = f"cursor: {flt_shown(cursor)} is not a cursor this mock gave for index {index_name!r}"
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        state = json.loads(raw)
    except (ValueError, binascii.Error):
        raise BadRequest(f"{problem} (pass the cursor of the previous browse answer unchanged)") from None
    if (
        not isinstance(state, dict)
        or state.get("i") != index_name
        or not isinstance(state.get("o"), int)
        or isinstance(state.get("o"), bool)
        or state["o"] < 0
        or not isinstance(state.get("p"), dict)
    ):
        raise BadRequest(f"{problem} (pass the cursor of the previous browse answer unchanged)")
    return state["p"], state["o"]


def browse(
    index: Mapping[str, Record],
    settings: Mapping[str, Any],
    body: Mapping[str, Any] | None,
    index_name: str,
) -> dict[str, Any]:
    """browse's answer: every matching record, page after page through ``cursor``.

    A cursor carries the first request's parameters and where the page ended; the parameters sent
    with a cursor are ignored (as published). Records are ranked by attribute and custom ranking,
    never by the words' exactness.
    """
    started = time.perf_counter()
    params = prm.read(body)
    cursor = params.pop("cursor", None)
    if cursor is not None:
        if not isinstance(cursor, str):
            raise BadRequest(f"cursor: expected a string, found {flt_shown(cursor)}")
        params, offset = _uncursor(index_name, cursor)
    else:
        offset = None
    prm.check_sizes(params)
    run = _prepare(index, settings)
    positions = _match(run, params, by_words=False).positions
    hits_per_page = _int_param(params, "hitsPerPage", BROWSE_HITS_PER_PAGE, 1, MAX_HITS_PER_PAGE)
    if offset is None:
        offset = _int_param(params, "page", 0, 0, 2**31 - 1) * hits_per_page
    end = offset + hits_per_page
    wanted = params.get("attributesToRetrieve", settings.get("attributesToRetrieve", ["*"]))
    unretrievable = settings.get("unretrievableAttributes") or ()
    records = run.prep.records
    window = positions[offset:end]
    answer: dict[str, Any] = {
        "hits": jsonio.load_trusted(
            jsonio.dumps([_retrieve(records[p], wanted, unretrievable) for p in window])
        ),
        "nbHits": len(positions),
        "page": offset // hits_per_page,
        "nbPages": math.ceil(len(positions) / hits_per_page),
        "hitsPerPage": hits_per_page,
        "exhaustiveNbHits": True,
        "exhaustiveTypo": True,
        "exhaustive": {"nbHits": True, "typo": True},
        "query": params.get("query", ""),
        "params": prm.to_string(params),
        "index": index_name,
    }
    if end < len(positions):
        answer["cursor"] = _cursor(index_name, params, end)
    if run.warnings:
        answer["message"] = "; ".join(run.warnings)
    answer["processingTimeMS"] = int((time.perf_counter() - started) * 1000)
    return answer


# --- searchForFacetValues ---------------------------------------------------------------------


def _highlight(value: str, query_words: list[str]) -> str:
    """``value`` with each word that a query word starts marked ``<em>...</em>`` (the matched part
    when folding kept the word's length, else the whole word)."""
    if not query_words:
        return value
    out: list[str] = []
    last = 0
    for start, end in word_spans(value):
        word = value[start:end]
        folded = fold(word)
        match = max((len(q) for q in query_words if folded.startswith(q)), default=0)
        if match:
            cut = start + match if len(folded) == len(word) else end
            out.append(value[last:start] + "<em>" + value[start:cut] + "</em>")
            last = cut
    out.append(value[last:])
    return "".join(out)


def _value_matches(value: str, query_words: list[str]) -> bool:
    value_words = words(value)
    *whole, last = query_words
    return all(w in value_words for w in whole) and any(v.startswith(last) for v in value_words)


def facet_values(
    index: Mapping[str, Record],
    settings: Mapping[str, Any],
    facet_name: str,
    body: Mapping[str, Any] | None,
    where: str = "body",
) -> dict[str, Any]:
    """searchForFacetValues' answer: the facet's values that ``facetQuery`` starts (every word, the
    last as a prefix), counted over the records the search parameters keep."""
    started = time.perf_counter()
    request = dict(body or {})
    facet_query = request.pop("facetQuery", "")
    max_hits = request.pop("maxFacetHits", DEFAULT_MAX_FACET_HITS)
    params = prm.read(request, where)
    prm.check_sizes({"facetQuery": facet_query, **params}, where)
    if not isinstance(facet_query, str):
        raise BadRequest(f"facetQuery: expected a string, found {flt_shown(facet_query)}")
    if isinstance(max_hits, bool) or not isinstance(max_hits, int) or not 1 <= max_hits <= 100:
        raise BadRequest(f"maxFacetHits: expected an integer in 1..100, found {flt_shown(max_hits)}")
    run = _prepare(index, settings)
    modifiers = run.faceting().get(facet_name)
    if modifiers is None or "searchable" not in modifiers:
        raise BadRequest(
            f"facetName: cannot search the values of {facet_name!r}: the index's attributesForFaceting "
            f"must hold searchable({facet_name}) (it holds {sorted(run.faceting()) or 'nothing'})",
            code="facet_not_searchable",
        )
    positions = _match(run, params).positions
    per_record = run.prep.facet_index(facet_name).per_record
    counter: Counter[str] = Counter()
    for position in positions:
        counter.update(per_record[position])
    query_words = words(facet_query)
    found = [
        (value, count)
        for value, count in counter.items()
        if not query_words or _value_matches(value, query_words)
    ]
    found.sort(key=lambda kv: (-kv[1], kv[0]))
    return {
        "facetHits": [
            {"value": value, "highlighted": _highlight(value, query_words), "count": count}
            for value, count in found[:max_hits]
        ],
        "exhaustiveFacetsCount": True,
        "processingTimeMS": int((time.perf_counter() - started) * 1000),
    }


# --- deleteBy ---------------------------------------------------------------------------------


GEO = ("aroundLatLng", "aroundLatLngViaIP", "aroundRadius", "insideBoundingBox", "insidePolygon")


def matching_ids(
    index: Mapping[str, Record],
    settings: Mapping[str, Any],
    body: Mapping[str, Any] | None,
    *,
    assumed_rules: bool = True,
) -> list[str]:
    """The objectIDs deleteBy removes: the records its filters keep. Empty filters are refused
    (published: the operation does not accept them). Geographic filters are not modelled: refused
    by the assumed rule search-geo-not-modelled; with the assumed rules off, a geographic filter
    matches no record (nothing is deleted on its account)."""
    params = prm.read(body)
    geo = [name for name in GEO if params.get(name) not in (None, "", [])]
    if geo and assumed_rules:
        raise assumptions.refuse(
            "search-geo-not-modelled",
            f"{', '.join(geo)}: the mock does not model geographic filters, so it cannot tell which "
            "records they would delete",
        )
    if filter_tree(params) is None and not geo:
        raise BadRequest(
            "deleteBy needs a filter: give filters, facetFilters, numericFilters or tagFilters "
            "(an empty filter would delete every record; use clearObjects for that)"
        )
    if geo:
        return []
    run = _prepare(index, settings)
    kept = {name: params[name] for name in _FILTER_PARAMS if name in params}
    ids = run.prep.ids
    return [ids[p] for p in _match(run, kept).positions]
