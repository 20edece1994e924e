"""The search structures of one index, built from its records once per version of the index.

Decoded records in the index's order (the order records were first written: the stable last
ranking criterion), an inverted index of folded words per ``searchableAttributes`` setting, facet
value -> records per attribute, sorted numbers per attribute, and each ``customRanking``'s order.
Each part is built on first need and kept with the rest until the index changes
(:meth:`mockserver.engine.indexes.Index.derived`).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockserver.engine import jsonio
from mockserver.engine.indexes import Index
from mockserver.engine.search.text import words

Record = dict[str, Any]

_MODIFIER = re.compile(r"^(\w+)\((.*)\)$")


def strip_modifiers(name: str) -> tuple[str, frozenset[str]]:
    """``afterDistinct(searchable(brand))`` -> (``brand``, {afterDistinct, searchable})."""
    modifiers: set[str] = set()
    name = name.strip()
    while True:
        found = _MODIFIER.match(name)
        if found is None:
            return name, frozenset(modifiers)
        modifiers.add(found.group(1))
        name = found.group(2).strip()


def filter_number(value: float) -> float:
    """A number as numeric filters compare it: precise up to 3 decimals (published), a boolean as
    1 or 0."""
    return round(float(value), 3)


def values_at(record: Any, path: str) -> list[Any]:
    """The values at a dotted path (``a.b``), arrays at any level flattened."""
    current = [record]
    for part in path.split("."):
        found: list[Any] = []
        for value in current:
            if isinstance(value, dict) and part in value:
                _flatten(value[part], found)
        current = found
    return current


def _flatten(value: Any, into: list[Any]) -> None:
    if isinstance(value, list):
        for item in value:
            _flatten(item, into)
    else:
        into.append(value)


def _strings(value: Any, into: list[str]) -> None:
    if isinstance(value, str):
        into.append(value)
    elif isinstance(value, list):
        for item in value:
            _strings(item, into)
    elif isinstance(value, dict):
        for item in value.values():
            _strings(item, into)


def facet_string(value: Any) -> str | None:
    """How a value reads as a facet value: strings as they are, ``true``/``false``, numbers in
    their shortest form (``3`` for 3.0); objects and null are no facet value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return None


def searchable_paths(settings: Mapping[str, Any]) -> tuple[tuple[int, str], ...] | None:
    """(priority, attribute path) of ``searchableAttributes``; None when unset or empty (every
    string attribute, one priority). ``a,b`` share a priority; ``unordered(x)`` is read as ``x``
    (positions within an attribute are not ranked anyway)."""
    declared = settings.get("searchableAttributes")
    if not isinstance(declared, list) or not declared:
        return None
    paths: list[tuple[int, str]] = []
    for priority, entry in enumerate(declared):
        if not isinstance(entry, str):
            continue
        for name in entry.split(","):
            bare, _ = strip_modifiers(name)
            if bare:
                paths.append((priority, bare))
    return tuple(paths)


@dataclass
class WordIndex:
    """folded word -> record position -> the best (lowest) priority of an attribute holding it."""

    postings: dict[str, dict[int, int]]
    vocabulary: list[str]  # sorted, for prefixes

    def prefixed(self, prefix: str) -> Iterator[str]:
        start = bisect.bisect_left(self.vocabulary, prefix)
        for word in self.vocabulary[start:]:
            if not word.startswith(prefix):
                return
            yield word


@dataclass
class FacetIndex:
    """One attribute's facet values: value (exact) -> positions; each record's values."""

    docs: dict[str, set[int]]
    per_record: list[tuple[str, ...]]


@dataclass
class NumberIndex:
    """One attribute's numbers: sorted (value, position) pairs, and each record's numbers."""

    values: list[float]
    positions: list[int]
    per_record: list[tuple[float, ...]]


@dataclass
class Prepared:
    ids: list[str]
    records: list[Record]
    _words: dict[Any, WordIndex] = field(default_factory=dict)
    _facets: dict[str, FacetIndex] = field(default_factory=dict)
    _numbers: dict[str, NumberIndex] = field(default_factory=dict)
    _ranks: dict[tuple[str, ...], list[int]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.ids)

    def word_index(self, paths: tuple[tuple[int, str], ...] | None) -> WordIndex:
        found = self._words.get(paths)
        if found is None:
            found = self._words[paths] = self._build_words(paths)
        return found

    def _build_words(self, paths: tuple[tuple[int, str], ...] | None) -> WordIndex:
        postings: dict[str, dict[int, int]] = {}
        split: dict[str, list[str]] = {}  # text -> its words, for texts many records share
        by_top: dict[str, list[tuple[int, str]]] = {}  # a path's first name -> (priority, path)
        for priority, path in paths or ():
            by_top.setdefault(path.split(".", 1)[0], []).append((priority, path))
        for position, record in enumerate(self.records):
            best: dict[str, int] = {}  # this record's words -> the best priority holding them
            if paths is None:
                texts: list[str] = []
                for name, value in record.items():
                    if name != "objectID":
                        _strings(value, texts)
                pairs = [(0, text) for text in texts]
            else:
                pairs = []
                # only the paths whose first name the record has: linear in the record, not in
                # the number of searchable attributes
                mine = [entry for name in record if name in by_top for entry in by_top[name]]
                for priority, path in mine:
                    found: list[str] = []
                    _strings(record.get(path) if "." not in path else values_at(record, path), found)
                    pairs.extend((priority, text) for text in found)
            for priority, text in pairs:
                found_words = split.get(text)
                if found_words is None:
                    found_words = split[text] = words(text)
                for word in found_words:
                    if best.get(word, priority + 1) > priority:
                        best[word] = priority
            for word, priority in best.items():
                docs = postings.get(word)
                if docs is None:
                    postings[word] = {position: priority}
                else:
                    docs[position] = priority
        return WordIndex(postings, sorted(postings))

    def facet_index(self, attribute: str) -> FacetIndex:
        found = self._facets.get(attribute)
        if found is None:
            docs: dict[str, set[int]] = {}
            per_record: list[tuple[str, ...]] = []
            for position, record in enumerate(self.records):
                seen: dict[str, None] = {}
                for value in values_at(record, attribute):
                    text = facet_string(value)
                    if text is not None and text not in seen:
                        seen[text] = None
                        docs.setdefault(text, set()).add(position)
                per_record.append(tuple(seen))
            found = self._facets[attribute] = FacetIndex(docs, per_record)
        return found

    def number_index(self, attribute: str) -> NumberIndex:
        """The attribute's values for numeric filters: numbers, and booleans as 1 and 0 (as
        published: ``inStock = 1``), rounded to 3 decimals (comparisons are precise up to 3
        decimals, as published). ``per_record`` (for facet stats) holds the numbers as stored,
        booleans left out."""
        found = self._numbers.get(attribute)
        if found is None:
            pairs: list[tuple[float, int]] = []
            per_record: list[tuple[float, ...]] = []
            for position, record in enumerate(self.records):
                values = [v for v in values_at(record, attribute) if isinstance(v, int | float)]
                per_record.append(tuple(float(v) for v in values if not isinstance(v, bool)))
                pairs.extend((filter_number(value), position) for value in values)
            pairs.sort()
            found = self._numbers[attribute] = NumberIndex(
                [pair[0] for pair in pairs], [pair[1] for pair in pairs], per_record
            )
        return found

    def ranks(self, custom_ranking: tuple[str, ...]) -> list[int]:
        """Each record's place in the index's order under ``customRanking`` (records missing a
        value last for that criterion, ties in the index's order)."""
        found = self._ranks.get(custom_ranking)
        if found is None:
            order = list(range(self.size))
            for criterion in reversed(custom_ranking):
                direction, attribute = _criterion(criterion)
                if attribute is None:
                    continue
                keyed = [(_sort_key(values_at(self.records[p], attribute)), p) for p in order]
                present = [(key, p) for key, p in keyed if key is not None]
                missing = [p for key, p in keyed if key is None]
                present.sort(key=lambda pair: pair[0], reverse=direction == "desc")
                order = [p for _, p in present] + missing
            found = [0] * self.size
            for place, position in enumerate(order):
                found[position] = place
            self._ranks[custom_ranking] = found
        return found


def _criterion(text: str) -> tuple[str, str | None]:
    found = _MODIFIER.match(text.strip())
    if found is None or found.group(1) not in ("asc", "desc"):
        return "asc", None
    return found.group(1), found.group(2).strip()


def _sort_key(values: list[Any]) -> tuple[int, Any] | None:
    """Numbers before booleans before strings; None: no value (sorted last)."""
    for value in values:
        if isinstance(value, bool):
            return (1, int(value))
        if isinstance(value, int | float):
            return (0, float(value))
        if isinstance(value, str):
            return (2, value)
    return None


def prepare(index: Index) -> Prepared:
    """The records of ``index`` decoded in one call, in the index's order."""
    ids = list(index)
    packed = [index.packed_record(object_id) or b"null" for object_id in ids]
    records: list[Record] = jsonio.load_trusted(b"[" + b",".join(packed) + b"]") if ids else []
    return Prepared(ids, records)


def prepared(index: Mapping[str, Record]) -> Prepared:
    """The structures of an index, kept on it until it changes (a plain mapping: built anew)."""
    if isinstance(index, Index):
        return index.derived(prepare)
    ids = list(index)
    return Prepared(ids, [dict(index[object_id]) for object_id in ids])
