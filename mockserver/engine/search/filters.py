"""Algolia's filter language, parsed with lark, and the array forms (facetFilters, numericFilters,
tagFilters) read into the same tree. The grammar and its reading are in ``_filter_grammar``, imported
on the first filter read (importing lark cost every process ~40 ms of its start).

The ``filters`` grammar, as published (search.yml's ``filters``):

- ``attr:value`` a facet value (``attr:"two words"``, ``'single quotes'``, ``\\"`` escapes), ``attr:true``;
- ``attr < 3`` with ``<``, ``<=``, ``=``, ``!=``, ``>=``, ``>``; ``attr:1 TO 5`` (bounds included);
- ``_tags:value`` or a bare ``value`` (a tag);
- ``AND``, ``OR``, ``NOT`` (``AND`` binds tighter than ``OR``) and parentheses.

Its published restrictions are enforced: ``OR`` joins filters of one kind only (facet values and tags
are one kind, numeric comparisons and ranges the other), never a conjunction
(``a OR (b AND c)``), and ``NOT`` applies to one filter, never to a group of several. A mistake is a
:class:`FilterError` naming the parameter, the character position (1-based) and what was expected.
"""

from __future__ import annotations

import re
from typing import Any

from mockserver.engine.search.filter_nodes import (
    TAGS,
    And,
    Facet,
    FilterError,
    Node,
    Not,
    Numeric,
    Or,
    Range,
)

__all__ = [
    "MAX_DEPTH",
    "TAGS",
    "And",
    "Facet",
    "FilterError",
    "Node",
    "Not",
    "Numeric",
    "Or",
    "Range",
    "from_array",
    "parse",
]


MAX_DEPTH = 64
"""Assumed (none is published): how deep parentheses and ``NOT`` may nest in one filter."""

_DEPTH_TOKEN = re.compile(r"""\s+|"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|[()]|[^\s()"']+""")


def _check_depth(text: str, where: str) -> None:
    """A FilterError at the first character where parentheses and NOTs nest deeper than
    :data:`MAX_DEPTH` (checked before parsing: the parse and the evaluation recurse)."""
    nots = [0]  # per open parenthesis: the NOTs in a row before what comes next
    for match in _DEPTH_TOKEN.finditer(text):
        token = match.group()
        if token.isspace():
            continue
        if token == "(":
            nots.append(0)
        elif token == ")":
            if len(nots) > 1:
                nots.pop()
            nots[-1] = 0
        elif token == "NOT":
            nots[-1] += 1
        else:
            nots[-1] = 0
        if len(nots) - 1 + sum(nots) > MAX_DEPTH:
            raise FilterError(
                f"{where}: the filter nests deeper than {MAX_DEPTH} levels (parentheses and NOT) at "
                f"character {match.start() + 1}"
            )


def parse(text: str, where: str = "filters") -> Node | None:
    """The tree of a ``filters`` string (None for an empty one)."""
    if not text.strip():
        return None
    _check_depth(text, where)
    from mockserver.engine.search import _filter_grammar  # (lark: imported on the first filter)

    return _filter_grammar.parse(text, where)


# --- the array forms --------------------------------------------------------------------------


def _split_facet(text: str, where: str) -> Node:
    """``attr:value``, ``attr:-value`` (NOT), ``attr:\\-value`` (a value starting with ``-``)."""
    attribute, colon, value = text.partition(":")
    if not colon or not attribute:
        raise FilterError(f"{where}: expected attribute:value, found {text!r}")
    return _signed(attribute, value)


def _signed(attribute: str, value: str) -> Node:
    if value.startswith("-"):
        return Not(Facet(attribute, value[1:]))
    if value.startswith("\\-"):
        return Facet(attribute, value[1:])
    return Facet(attribute, value)


def _one_numeric(text: str, where: str) -> Node:
    node = parse(text, where)
    if not isinstance(node, Numeric | Range):
        raise FilterError(f"{where}: expected a numeric filter (attr > 3, attr:1 TO 5), found {text!r}")
    return node


def _one_tag(text: str, where: str) -> Node:
    return _signed(TAGS, text)


_READERS = {"facetFilters": _split_facet, "numericFilters": _one_numeric, "tagFilters": _one_tag}


def from_array(name: str, value: Any) -> Node | None:
    """``facetFilters`` / ``numericFilters`` / ``tagFilters``: a string is one filter; an array
    ANDs its items, and an array inside it ORs its own."""
    read = _READERS[name]
    if isinstance(value, str):
        return read(value, name) if value else None
    if not isinstance(value, list):
        raise FilterError(f"{name}: expected a string or an array, found {type(value).__name__}")
    parts: list[Node] = []
    for i, item in enumerate(value):
        where = f"{name}[{i}]"
        if isinstance(item, str):
            parts.append(read(item, where))
        elif isinstance(item, list):
            alternatives: list[Node] = []
            for j, inner in enumerate(item):
                if not isinstance(inner, str):
                    raise FilterError(f"{where}[{j}]: expected a string, found {type(inner).__name__}")
                alternatives.append(read(inner, f"{where}[{j}]"))
            if alternatives:
                parts.append(alternatives[0] if len(alternatives) == 1 else Or(tuple(alternatives)))
        else:
            raise FilterError(f"{where}: expected a string or an array, found {type(item).__name__}")
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else And(tuple(parts))
