"""Match a method and path to an operation of the spec: one table, built once from the spec."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from mockserver.engine.errors import MethodNotAllowed, NotFound
from mockserver.spec import Operation, Spec

_PARAM = re.compile(r"\{([^}/]+)\}")
MATCHES_KEPT = 4096  # (method, path) pairs a table remembers the operation of
LONGEST_KEPT = 256  # the longest path whose match is remembered


class Match(NamedTuple):
    """The operation a request names, and its path parameters. (A NamedTuple, immutable as the
    frozen dataclass it was, made in half the time: measured 1.7 -> 0.8 µs on a loaded machine.)"""

    operation: Operation
    path_params: dict[str, str]


_new_match = tuple.__new__  # (a NamedTuple's own __new__ is a Python function: twice as slow)


class RouteTable:
    """Static paths are a dict lookup; templated paths are tried most specific first.

    A template made only of one parameter (``/{path}``, the clients' custom requests) is the
    fallback: it answers only for paths no named operation serves.
    """

    def __init__(self, spec: Spec) -> None:
        self._static: dict[str, dict[str, Operation]] = {}
        templated: dict[str, dict[str, Operation]] = {}
        self._fallback: dict[str, Operation] = {}
        self._matches: dict[tuple[str, str], tuple[Operation, dict[str, str]]] = {}
        for op in spec.operations.values():
            if _PARAM.fullmatch(op.path.strip("/")):
                self._fallback[op.method] = op
            elif "{" in op.path:
                templated.setdefault(op.path, {})[op.method] = op
            else:
                self._static.setdefault(op.path, {})[op.method] = op
        # Fewer parameters and more literal characters first: /1/sources/search beats /1/sources/{id}.
        order = sorted(templated, key=lambda t: (len(_PARAM.findall(t)), -len(_PARAM.sub("", t))))
        self._templated: list[tuple[re.Pattern[str], list[str], dict[str, Operation]]] = [
            (_compile(t), _PARAM.findall(t), templated[t]) for t in order
        ]
        # Templates by their number of segments and first two literal segments, most specific first:
        # a path is tried against the few that can match it, not all of them.
        self._by_shape: dict[
            tuple[int, str, str], list[tuple[re.Pattern[str], list[str], dict[str, Operation]]]
        ] = {}
        self._loose = False
        for template, entry in zip(order, self._templated, strict=True):
            segments = template[1:].split("/")
            head = segments[:2]
            if len(head) == 2 and not any(_PARAM.search(seg) for seg in head):
                self._by_shape.setdefault((len(segments), head[0], head[1]), []).append(entry)
            else:
                self._loose = True
        self._fallback_name = next(
            (_PARAM.fullmatch(op.path.strip("/")).group(1) for op in self._fallback.values()),  # type: ignore[union-attr]
            "path",
        )

    def match(self, method: str, path: str) -> Match:
        """The operation serving ``method`` on ``path`` (see :meth:`_match`), remembered: a suite
        asks for the same few paths again and again, and a hit costs a dict lookup where matching
        costs a regular expression or two (measured on a getSource: ~4 µs of ~45 in process).

        The table never changes once built, so a remembered match stays true; each hit gets its
        own copy of the path parameters (a caller may keep or change them). Only matches are
        remembered (an unmatched path raises each time), at most ``MATCHES_KEPT`` of them (a full
        memory starts over), none for a path longer than ``LONGEST_KEPT`` characters (so the memory
        stays under ~2 MB whatever paths clients send)."""
        key = (method, path)
        kept = self._matches.get(key)
        if kept is not None:
            return _new_match(Match, (kept[0], dict(kept[1])) if kept[1] else (kept[0], {}))
        match = self._match(method, path)
        if len(path) > LONGEST_KEPT:
            return match
        if len(self._matches) >= MATCHES_KEPT:
            self._matches.clear()
        self._matches[key] = (match.operation, dict(match.path_params))
        return match

    def _match(self, method: str, path: str) -> Match:
        """The operation serving ``method`` on ``path``. A path several templates match goes to the
        first (most specific) template that has the method: ``GET /1/indexes/i/query`` is getObject
        of the record ``query``, since the query route takes only POST. A path without parameters
        (``/1/sources/search``, ``/1/indexes/*/queries``) is its route's alone. A path some route
        matches without the method is 405 naming every method those routes take; one no route
        matches goes to the fallback, or is 404."""
        methods = self._static.get(path)
        if methods is not None:  # a path without parameters names its route alone
            op = methods.get(method)
            if op is None:
                raise _not_allowed(method, path, methods)
            return Match(op, {})
        allowed: set[str] | None = None
        segments = path[1:].split("/")  # a trailing slash is an empty last segment
        key = (len(segments), segments[0], segments[1] if len(segments) > 1 else "")
        candidates = self._by_shape.get(key, [])
        if self._loose:  # templates with a parameter early on: everything, in the global order
            candidates = self._templated
        for pattern, names, ops in candidates:
            m = pattern.fullmatch(path)
            if m is not None:
                op = ops.get(method)
                if op is not None:
                    # (The pattern has one group per name, by construction: no need for zip's
                    # strict check, which costs a keyword call: measured 2.1 -> 1.2 µs.)
                    return Match(op, dict(zip(names, m.groups())))  # noqa: B905
                allowed = allowed | set(ops) if allowed is not None else set(ops)
        if allowed is not None:
            raise _not_allowed(method, path, allowed)
        fallback = self._fallback.get(method)
        if fallback is not None:
            return Match(fallback, {self._fallback_name: path.lstrip("/")})
        if self._fallback:
            listed = ", ".join(sorted(self._fallback))
            raise MethodNotAllowed(f"Method {method} is not allowed on {path}", headers={"Allow": listed})
        raise NotFound(f"No operation serves {method} {path}")


def _not_allowed(method: str, path: str, allowed: Iterable[str]) -> MethodNotAllowed:
    listed = ", ".join(sorted(allowed))
    message = f"Method {method} is not allowed on {path}; allowed: {listed}"
    return MethodNotAllowed(message, headers={"Allow": listed})


def _compile(template: str) -> re.Pattern[str]:
    parts = _PARAM.split(template)
    # split() alternates literal, name, literal, ...
    # An empty parameter (``/1/tasks/``) still names the operation, which answers 404 (no empty IDs).
    regex = "".join(re.escape(p) if i % 2 == 0 else "([^/]*)" for i, p in enumerate(parts))
    return re.compile(regex)
