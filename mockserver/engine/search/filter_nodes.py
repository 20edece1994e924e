"""The tree a filter is read into (:mod:`mockserver.engine.search.filters` reads it, with
``_filter_grammar`` for the ``filters`` string), and the error of a filter that cannot be read."""

from __future__ import annotations

from dataclasses import dataclass


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
