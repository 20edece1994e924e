"""Algolia's filter language, parsed with lark, and the array forms (facetFilters, numericFilters,
tagFilters) read into the same tree.

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

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

_GRAMMAR = r"""
start: disj
?disj: conj
     | conj (_OR conj)+         -> or_
?conj: unary
     | unary (_AND unary)+      -> and_
?unary: atom
      | _NOT unary              -> not_
?atom: "(" disj ")"             -> group
     | value ":" value _TO value -> range
     | value ":" value          -> facet
     | value OP value           -> numeric
     | value                    -> tag
value: WORD | QUOTED

_AND.2: /AND(?![^\s:()"'<>=!])/
_OR.2: /OR(?![^\s:()"'<>=!])/
_NOT.2: /NOT(?![^\s:()"'<>=!])/
_TO.2: /TO(?![^\s:()"'<>=!])/
OP: "<=" | ">=" | "!=" | "<" | ">" | "="
QUOTED: /"(?:[^"\\]|\\.)*"/ | /'(?:[^'\\]|\\.)*'/
WORD: /[^\s:()"'<>=!]+/
%import common.WS
%ignore WS
"""


class FilterError(ValueError):
    """A filter the mock cannot read; the message names the parameter and the position."""


@dataclass(frozen=True)
class Facet:
    """``attribute:value`` (``_tags`` for a tag); ``value`` as written, unescaped."""

    attribute: str
    value: str


@dataclass(frozen=True)
class Numeric:
    attribute: str
    op: str
    number: float


@dataclass(frozen=True)
class Range:
    attribute: str
    low: float
    high: float


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Node, ...]


Node = Facet | Numeric | Range | Not | And | Or

TAGS = "_tags"


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(_GRAMMAR, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def _unquote(token: Token) -> str:
    text = str(token)
    if token.type == "QUOTED":
        body = text[1:-1]
        out: list[str] = []
        escaped = False
        for char in body:
            if escaped:
                out.append(char)
                escaped = False
            elif char == "\\":
                escaped = True
            else:
                out.append(char)
        return "".join(out)
    return text


@dataclass(frozen=True)
class _Group:
    """Parentheses, kept until the checks ran (``NOT (a OR b)`` is refused, ``NOT (a)`` is not)."""

    inner: Any
    column: int


class _Build(Transformer[Token, Any]):
    def __init__(self, text: str, where: str) -> None:
        super().__init__()
        self.text = text
        self.where = where

    def _fail(self, column: int, what: str) -> FilterError:
        return FilterError(f"{self.where}: {what} at character {column} of {self.text!r}")

    def value(self, children: list[Token]) -> tuple[str, Token]:
        return (_unquote(children[0]), children[0])

    def _number(self, item: tuple[str, Token]) -> float:
        text, token = item
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if token.type == "QUOTED" or not math.isfinite(number):
            raise self._fail(token.column or 1, f"expected a number, found {text!r}")
        return number

    @v_args(meta=True)
    def group(self, meta: Any, children: list[Any]) -> _Group:
        return _Group(children[0], meta.column)

    def facet(self, children: list[Any]) -> Facet:
        return Facet(children[0][0], children[1][0])

    def tag(self, children: list[Any]) -> Facet:
        return Facet(TAGS, children[0][0])

    def numeric(self, children: list[Any]) -> Numeric:
        return Numeric(children[0][0], str(children[1]), self._number(children[2]))

    def range(self, children: list[Any]) -> Range:
        return Range(children[0][0], self._number(children[1]), self._number(children[2]))

    @v_args(meta=True)
    def not_(self, meta: Any, children: list[Any]) -> Not:
        operand = children[0]
        inner = operand
        while isinstance(inner, _Group):
            inner = inner.inner
        if isinstance(inner, And | Or):
            raise self._fail(meta.column, "NOT applies to one filter, not to a group of several")
        return Not(_bare(operand))

    @v_args(meta=True)
    def and_(self, meta: Any, children: list[Any]) -> And:
        return And(tuple(_bare(child) for child in children))

    @v_args(meta=True)
    def or_(self, meta: Any, children: list[Any]) -> Or:
        parts = tuple(_bare(child) for child in children)
        kinds = set()
        for part in parts:
            if isinstance(part, And | Or):
                raise self._fail(meta.column, "OR cannot join a conjunction (AND) of filters")
            kinds.add(_kind(part))
        if len(kinds) > 1:
            raise self._fail(
                meta.column, "OR joins filters of one kind only (facet values and tags, or numeric filters)"
            )
        return Or(parts)

    def start(self, children: list[Any]) -> Node:
        return _bare(children[0])


def _bare(node: Any) -> Node:
    while isinstance(node, _Group):
        node = node.inner
    result: Node = node
    return result


def _kind(node: Node) -> str:
    if isinstance(node, Not):
        return _kind(node.operand)
    return "numeric" if isinstance(node, Numeric | Range) else "facet"


def _expected(error: UnexpectedInput) -> str:
    if isinstance(error, UnexpectedEOF):
        return "the filter ends too early"
    if isinstance(error, UnexpectedToken):
        if error.token.type == "$END":
            return "the filter ends too early"
        return f"unexpected {str(error.token)!r}"
    if isinstance(error, UnexpectedCharacters):
        return f"unexpected {error.char!r}"
    return "cannot read the filter"


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
    try:
        tree: Tree[Token] = _parser().parse(text)
    except UnexpectedInput as error:
        column = getattr(error, "column", None)
        ended = isinstance(error, UnexpectedEOF) or (
            isinstance(error, UnexpectedToken) and error.token.type == "$END"
        )
        if ended or not isinstance(column, int) or column < 1:
            column = len(text) + 1
        raise FilterError(
            f"{where}: syntax error at character {column} of {text!r}: {_expected(error)}"
        ) from None
    try:
        node: Node = _Build(text, where).transform(tree)
    except VisitError as error:
        if isinstance(error.orig_exc, FilterError):
            raise error.orig_exc from None
        raise
    return node


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
