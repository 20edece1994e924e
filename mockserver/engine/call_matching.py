"""Matching a call against what a test expects of it: ``body``, ``query``, ``path_params`` and, for
a recorded call, plain fields of its answer (``status``, ``rejected``, ``app_id``...).

A matcher is broken into *checks*, one per expected value (a leaf of the expected body, a query
parameter, a path parameter, a field). A call matches when every check holds; the share of checks
that hold says how close a call came, and the checks that fail are the diff a test failure shows.

The same matcher picks requests before they are answered: stubs and fault rules match a request by
its path parameters, query and a body subset (``engine/stubs.py``, ``engine/faults.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar


class _Unset:
    """The type of :data:`UNSET`: "no body matcher given" (``body=None`` matches a call without a body)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = _Unset()


class MatchTarget(Protocol):
    """What a matcher reads of a request (a recorded call, or a request not answered yet)."""

    @property
    def body(self) -> Any: ...
    @property
    def query(self) -> dict[str, list[str]]: ...
    @property
    def path_params(self) -> dict[str, str]: ...


class RecordedCall(MatchTarget, Protocol):
    def describe(self) -> str: ...


CallT = TypeVar("CallT", bound=RecordedCall)


@dataclass(frozen=True)
class Check:
    """One expected value at ``where`` (``body.input.url``, ``query.status``...) and what was found."""

    where: str
    expected: Any
    actual: Any
    present: bool
    ok: bool
    weight: int = 1  # how many expected values it stands for (a whole missing sub-object counts them all)

    def describe(self) -> str:
        found = f"got {_show(self.actual)}" if self.present else "missing"
        return f"{self.where}: expected {_show(self.expected)}, {found}"


@dataclass(frozen=True)
class Matcher:
    """What a test expects of a call. ``body`` is a deep subset match; ``query`` values are a string
    (comma-separated lists allowed) or a list of strings; ``path_params`` are compared exactly;
    ``fields`` (attribute name -> value: ``status``, ``rejected``...) are compared exactly too."""

    body: Any = UNSET
    query: Mapping[str, str | Sequence[str]] | None = None
    path_params: Mapping[str, str] | None = None
    fields: Mapping[str, Any] | None = None

    @property
    def given(self) -> bool:
        return (
            self.body is not UNSET
            or self.query is not None
            or self.path_params is not None
            or bool(self.fields)
        )

    def checks(self, call: MatchTarget) -> list[Check]:
        found: list[Check] = []
        for name, value in (self.fields or {}).items():
            actual = getattr(call, name, None)
            found.append(Check(name, value, actual, True, actual == value and type(actual) is type(value)))
        if self.body is not UNSET:
            found.extend(_body_checks("body", self.body, call.body, present=True))
        for key, value in (self.query or {}).items():
            expected = [value] if isinstance(value, str) else list(value)
            sent = call.query.get(key)
            ok = sent is not None and (sent == expected or ",".join(sent) == ",".join(expected))
            found.append(Check(f"query.{key}", expected, sent, sent is not None, ok))
        for key, value in (self.path_params or {}).items():
            present = key in call.path_params
            param = call.path_params.get(key)
            found.append(Check(f"path_params.{key}", value, param, present, present and param == value))
        return found

    def matches(self, call: MatchTarget) -> bool:
        for name, value in (self.fields or {}).items():  # cheap checks first, without the diff
            actual = getattr(call, name, None)
            if not (actual == value and type(actual) is type(value)):
                return False
        if self.body is UNSET and self.query is None and self.path_params is None:
            return True
        return all(check.ok for check in self.checks(call))

    def score(self, call: MatchTarget) -> tuple[int, int]:
        """(expected values this call has, expected values in all)."""
        checks = self.checks(call)
        return sum(c.weight for c in checks if c.ok), sum(c.weight for c in checks)

    def wanted(self) -> dict[str, Any]:
        """The structured matchers that were given (body, query, path_params), by name."""
        given = {"body": self.body, "query": self.query, "path_params": self.path_params}
        return {k: v for k, v in given.items() if v is not UNSET and v is not None}


def _leaves(expected: Any) -> int:
    if isinstance(expected, Mapping) and expected:
        return sum(_leaves(v) for v in expected.values())
    return 1


def _body_checks(where: str, expected: Any, actual: Any, *, present: bool) -> Iterator[Check]:
    if isinstance(expected, Mapping) and expected and isinstance(actual, Mapping):
        for key, value in expected.items():
            inner = f"{where}.{key}"
            if key in actual:
                yield from _body_checks(inner, value, actual[key], present=True)
            else:
                yield Check(inner, value, None, False, False, _leaves(value))
        return
    if isinstance(expected, Mapping):
        ok = not expected and isinstance(actual, Mapping)  # {} matches any object
        yield Check(where, expected, actual, present, ok, _leaves(expected))
        return
    yield Check(where, expected, actual, present, bool(expected == actual))


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def closest(matcher: Matcher, calls: Sequence[CallT]) -> CallT:
    """The call with the most expected values (the latest among equals); ``calls`` must not be empty."""
    best = calls[-1]
    best_score = matcher.score(best)[0]
    for call in reversed(calls[:-1]):
        score = matcher.score(call)[0]
        if score > best_score:
            best, best_score = call, score
    return best


def explain(matcher: Matcher, call: RecordedCall) -> list[str]:
    """How ``call`` differs from what ``matcher`` expects: a heading, the call, each difference, and
    the expected and actual values in full."""
    matched, total = matcher.score(call)
    lines = [f"closest call ({matched} of {total} expected values match):", f"  {call.describe()}"]
    lines += [f"  {check.describe()}" for check in matcher.checks(call) if not check.ok]
    for key, value in matcher.wanted().items():
        lines.append(f"  {key} expected: {_show(value)}")
        lines.append(f"  {key} actual:   {_show(getattr(call, key))}")
    return lines
