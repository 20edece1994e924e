"""Search parameters as sent: JSON fields or the URL-encoded ``params`` string. The string's values
are read to the types the JSON fields have.

Over HTTP a body holds one form or the other: the spec, like the published one, refuses ``params``
beside other fields (400) before a handler runs. :func:`read` itself, for a direct call of the engine's search
functions (not through HTTP), takes a body with both: the JSON fields win over the string's."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

from mockserver.engine.errors import BadRequest

_INTEGERS = frozenset(
    {"hitsPerPage", "page", "offset", "length", "maxValuesPerFacet", "maxFacetHits", "minProximity"}
)
_BOOLEANS = frozenset(
    {
        "analytics",
        "clickAnalytics",
        "getRankingInfo",
        "synonyms",
        "enableRules",
        "enablePersonalization",
        "advancedSyntax",
        "restrictHighlightAndSnippetArrays",
        "percentileComputation",
        "enableABTest",
        "sumOrFiltersScores",
        "facetingAfterDistinct",
        "allowTyposOnNumericTokens",
        "decompoundQuery",
        "enableReRanking",
        "attributeCriteriaComputedByMinProximity",
        "replaceSynonymsInHighlight",
    }
)
_LISTS = frozenset(
    {
        "attributesToRetrieve",
        "facets",
        "attributesToHighlight",
        "attributesToSnippet",
        "restrictSearchableAttributes",
        "analyticsTags",
        "ruleContexts",
        "responseFields",
        "disableTypoToleranceOnAttributes",
        "naturalLanguages",
        "queryLanguages",
        "optionalWords",
    }
)
_FILTER_ARRAYS = frozenset({"facetFilters", "numericFilters", "tagFilters", "optionalFilters"})


def _typed(name: str, text: str, where: str) -> Any:
    if name in _INTEGERS:
        try:
            return int(text)
        except ValueError:
            raise BadRequest(f"{where}.{name}: expected an integer, found {text!r}") from None
    if name in _BOOLEANS:
        if text.lower() in ("true", "1"):
            return True
        if text.lower() in ("false", "0"):
            return False
        raise BadRequest(f"{where}.{name}: expected true or false, found {text!r}")
    if name in _LISTS or name in _FILTER_ARRAYS:
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                raise BadRequest(f"{where}.{name}: {text!r} is not a JSON array") from None
            return value
        if name in _FILTER_ARRAYS:
            return text
        return [item for item in text.split(",") if item] if text else []
    return text


def from_string(text: str, where: str = "params") -> dict[str, Any]:
    """The parameters of a URL-encoded string (``query=a&hitsPerPage=2``)."""
    found: dict[str, Any] = {}
    for name, value in parse_qsl(text, keep_blank_values=True):
        found[name] = _typed(name, value, where)
    return found


def read(body: Mapping[str, Any] | None, where: str = "body") -> dict[str, Any]:
    """Every parameter of a request body: the ``params`` string's, then the JSON fields over them."""
    if not body:
        return {}
    merged: dict[str, Any] = {}
    text = body.get("params")
    if isinstance(text, str) and text:
        merged.update(from_string(text, f"{where}.params"))
    for name, value in body.items():
        if name != "params":
            merged[name] = value
    return merged


MAX_VALUE_BYTES = 512
"""Published (search.yml, searchParamsObject): each parameter value, the query included, is at most
512 bytes. A string is measured as UTF-8, any other value as its compact JSON text."""


def check_sizes(params: Mapping[str, Any], where: str = "body") -> None:
    """400 naming the first parameter whose value is larger than :data:`MAX_VALUE_BYTES`."""
    for name, value in params.items():
        if isinstance(value, bool | int | float) or value is None:
            continue
        if isinstance(value, str):
            size = len(value.encode("utf-8", "surrogatepass"))
        else:
            size = len(
                json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")
            )
        if size > MAX_VALUE_BYTES:
            raise BadRequest(
                f"{where}.{name}: the value is {size} bytes; a search parameter's value is at most "
                f"{MAX_VALUE_BYTES} bytes"
            )


def to_string(params: Mapping[str, Any]) -> str:
    """The URL-encoded form of the parameters (the ``params`` a search answer echoes)."""
    pairs: list[tuple[str, str]] = []
    for name, value in params.items():
        if isinstance(value, bool):
            pairs.append((name, "true" if value else "false"))
        elif isinstance(value, str):
            pairs.append((name, value))
        else:
            pairs.append((name, json.dumps(value, separators=(",", ":"), ensure_ascii=False)))
    return urlencode(pairs, errors="backslashreplace")  # (a lone surrogate cannot be UTF-8)
