"""The ``filters`` grammar and its reading into the tree of :mod:`mockserver.engine.search.filter_nodes`
(apart from :mod:`mockserver.engine.search.filters` so that lark is imported, and the parser built,
only when a filter is read)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from mockserver.engine.search.filter_nodes import TAGS, And, Facet, FilterError, Node, Not, Numeric, Or, Range

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


def parse(text: str, where: str) -> Node:
    """The tree of a non-empty ``filters`` string whose depth was checked."""
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
