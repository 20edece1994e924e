"""``_highlightResult``: where the query's words are in a hit's attributes.

Each highlighted attribute (``attributesToHighlight``, else the searchable attributes' top-level
names, else every attribute but ``objectID``) answers ``value`` (the text with each matched word
wrapped in ``highlightPreTag``/``highlightPostTag``, ``<em>``/``</em>`` by default), ``matchLevel``
(``full``: every query word matched, ``partial``: some, ``none``), ``matchedWords`` (the query's
words that matched, folded) and ``fullyHighlighted``. Arrays and objects answer the same shape
inside. A word matches as in the search itself: whole, the last query word also as a prefix (only
that prefix is wrapped when folding kept the word's length). Numbers, booleans and null are not
highlighted. Values are not HTML-escaped. No ``_snippetResult``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.engine.search.text import fold, word_spans


def attributes(params: Mapping[str, Any], settings: Mapping[str, Any], searchable: Any) -> list[str] | None:
    """The attributes to highlight (None: every attribute but objectID)."""
    wanted = params.get("attributesToHighlight", settings.get("attributesToHighlight"))
    if isinstance(wanted, list):
        names = [str(name) for name in wanted]
        return None if "*" in names else names
    if searchable is None:
        return None
    found: dict[str, None] = {}  # ordered, without repeats
    for _, path in searchable:
        found[path.split(".", 1)[0]] = None
    return list(found)


def result(
    record: Mapping[str, Any], names: list[str] | None, query_words: list[str], tags: tuple[str, str]
) -> dict[str, Any]:
    """The ``_highlightResult`` of one record."""
    chosen = [n for n in record if n != "objectID"] if names is None else [n for n in names if n in record]
    found: dict[str, Any] = {}
    for name in chosen:
        shown = _value(record[name], query_words, tags)
        if shown is not None:
            found[name] = shown
    return found


def _value(value: Any, query_words: list[str], tags: tuple[str, str]) -> Any:
    if isinstance(value, str):
        return _text(value, query_words, tags)
    if isinstance(value, list):
        items = [_value(item, query_words, tags) for item in value]
        return [item for item in items if item is not None] or None
    if isinstance(value, dict):
        inner = {k: _value(v, query_words, tags) for k, v in value.items()}
        return {k: v for k, v in inner.items() if v is not None} or None
    return None


def _text(value: str, query_words: list[str], tags: tuple[str, str]) -> dict[str, Any]:
    pre, post = tags
    matched: list[str] = []
    out: list[str] = []
    last_end = 0
    covered = 0
    *whole, last = query_words or [""]
    for start, end in word_spans(value):
        word = value[start:end]
        folded = fold(word)
        hit: str | None = None
        cut = end
        if folded in whole or (query_words and folded == last):
            hit = folded
        elif query_words and last and folded.startswith(last):
            hit = last
            cut = start + len(last) if len(folded) == len(word) else end
        if hit is None:
            continue
        if hit not in matched:
            matched.append(hit)
        out.append(value[last_end:start] + pre + value[start:cut] + post)
        covered += cut - start
        last_end = cut
    out.append(value[last_end:])
    level = "none" if not matched else ("full" if all(q in matched for q in query_words) else "partial")
    letters = sum(end - start for start, end in word_spans(value))
    answer: dict[str, Any] = {
        "value": "".join(out),
        "matchLevel": level,
        "matchedWords": [m for m in query_words if m in matched],
    }
    if matched:
        answer["fullyHighlighted"] = covered == letters
    return answer
