"""Every request the mock saw and what it answered, queryable and assertable from tests.

Secrets sent in authentication payloads are masked before they are recorded.
"""

from __future__ import annotations

import copy
import json
import threading
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from . import jsonio

MASK = "***"
_UNSET: Any = object()


@dataclass(frozen=True, init=False, repr=False)
class Call:
    """One request and its answer.

    The request body is kept packed (MessagePack) and decoded again on each read of ``body``: a
    journal of 100,000 calls would otherwise hold every pushed record as Python objects.
    """

    operation_id: str | None  # None when no operation matched (wrong method; with a spec that has no
    # custom /{path} operations, also an unknown path — the bundled spec records those as customGet & co.)
    method: str
    path: str
    app_id: str | None
    path_params: dict[str, str]
    query: dict[str, list[str]]
    _body: Any  # a _Packed, or the body itself when it does not pack exactly
    status: int
    response: Any

    def __init__(
        self,
        operation_id: str | None,
        method: str,
        path: str,
        app_id: str | None,
        path_params: dict[str, str] | None = None,
        query: dict[str, list[str]] | None = None,
        body: Any = None,
        status: int = 200,
        response: Any = None,
        *,
        body_json: bytes | None = None,
    ) -> None:
        """``body_json``: the JSON text ``body`` was parsed from, when the caller has it (kept as
        is, nothing encoded again; it must be valid JSON and say exactly what ``body`` holds)."""
        put = object.__setattr__
        put(self, "operation_id", operation_id)
        put(self, "method", method)
        put(self, "path", path)
        put(self, "app_id", app_id)
        put(self, "path_params", {} if path_params is None else path_params)
        put(self, "query", {} if query is None else query)
        put(self, "_body", _Packed.of(body) if body_json is None else _Packed(body_json, json=True))
        put(self, "status", status)
        put(self, "response", response)

    @property
    def body(self) -> Any:
        """The request body (a fresh copy on every read), None when there was none."""
        return self._body.value() if isinstance(self._body, _Packed) else self._body

    def __repr__(self) -> str:
        return (
            f"Call(operation_id={self.operation_id!r}, method={self.method!r}, path={self.path!r}, "
            f"app_id={self.app_id!r}, path_params={self.path_params!r}, query={self.query!r}, "
            f"body={self.body!r}, status={self.status!r}, response={self.response!r})"
        )

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def rejected(self) -> bool:
        return self.status >= 400

    @property
    def message(self) -> str | None:
        """The error message the mock answered with, if any."""
        if isinstance(self.response, dict) and isinstance(self.response.get("message"), str):
            return str(self.response["message"])
        return None

    def describe(self) -> str:
        name = self.operation_id or "no operation"
        text = f"{self.method} {self.path} ({name}) -> {self.status}"
        return f"{text}: {self.message}" if self.rejected and self.message else text

    def to_json(self) -> dict[str, Any]:
        return {
            "operation_id": self.operation_id,
            "method": self.method,
            "path": self.path,
            "app_id": self.app_id,
            "path_params": copy.deepcopy(self.path_params),
            "query": copy.deepcopy(self.query),
            "body": self.body,
            "status": self.status,
            "response": copy.deepcopy(self.response),
        }


@dataclass(frozen=True)
class _Packed:
    """A value kept as its MessagePack encoding: a fifth smaller than compact JSON, with nothing
    to check (NaN, integers up to 64 bits and every JSON type round-trip exactly)."""

    data: bytes
    json: bool = False  # data is JSON text rather than MessagePack

    @staticmethod
    def of(value: Any) -> Any:
        """``value`` packed when it is an object or array that packs exactly, as is otherwise."""
        if not isinstance(value, dict | list):
            return value
        try:
            return _Packed(_PACK(value))
        except (TypeError, ValueError, OverflowError):  # big integers, lone surrogates, odd objects
            return value

    def value(self) -> Any:
        return jsonio.load_trusted(self.data) if self.json else _UNPACK(self.data)


_PACK = msgspec.msgpack.Encoder().encode
_UNPACK = msgspec.msgpack.Decoder().decode


class Journal:
    """An ordered, bounded record of calls. Thread-safe; cleared by the mock's reset."""

    def __init__(self, maxlen: int | None = 100_000) -> None:
        self._calls: deque[Call] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def __len__(self) -> int:
        return len(self._calls)

    def __iter__(self) -> Iterator[Call]:
        return iter(self.calls)

    # --- queries -------------------------------------------------------------------------------
    def filter(
        self,
        operation_id: str | None = None,
        *,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        app_id: str | None = None,
    ) -> list[Call]:
        return [
            c
            for c in self.calls
            if (operation_id is None or c.operation_id == operation_id)
            and (method is None or c.method == method.upper())
            and (path is None or c.path == path)
            and (status is None or c.status == status)
            and (app_id is None or c.app_id == app_id)
        ]

    def operations(self) -> list[str]:
        """The operationIds called, in order (unmatched requests left out)."""
        return [c.operation_id for c in self.calls if c.operation_id is not None]

    def called(self, operation_id: str) -> bool:
        return any(c.operation_id == operation_id for c in self.calls)

    def call_count(self, operation_id: str) -> int:
        return sum(1 for c in self.calls if c.operation_id == operation_id)

    def last(self, operation_id: str | None = None) -> Call:
        found = self.filter(operation_id) if operation_id else self.calls
        if not found:
            raise AssertionError(f"no call{f' to {operation_id}' if operation_id else ''} was recorded")
        return found[-1]

    def rejections(self) -> list[Call]:
        return [c for c in self.calls if c.rejected]

    # --- assertions ----------------------------------------------------------------------------
    def assert_called(
        self,
        operation_id: str,
        *,
        times: int | None = None,
        body: Any = _UNSET,
        query: Mapping[str, Any] | None = None,
        path_params: Mapping[str, str] | None = None,
    ) -> Call:
        """Assert ``operation_id`` was called (``times`` times; one of the calls with these arguments).

        ``body`` matches when every key it gives equals the sent body's (a subset match);
        ``query`` values may be a string or a list of strings. Returns the matching call.
        """
        calls = self.filter(operation_id)
        if times is not None and len(calls) != times:
            raise AssertionError(
                f"{operation_id} was called {len(calls)} times, expected {times}\n{self._summary()}"
            )
        if not calls:
            raise AssertionError(f"{operation_id} was never called\n{self._summary()}")
        for call in reversed(calls):
            if _matches(call, body, query, path_params):
                return call
        wanted = {
            k: v
            for k, v in (("body", body), ("query", query), ("path_params", path_params))
            if v not in (_UNSET, None)
        }
        closest = calls[-1]
        raise AssertionError(
            f"{operation_id} was called {len(calls)} times, never with the expected arguments\n"
            + _diff(wanted, closest)
        )

    def assert_not_called(self, operation_id: str) -> None:
        calls = self.filter(operation_id)
        if calls:
            raise AssertionError(
                f"{operation_id} was called {len(calls)} times, expected never\n"
                + "\n".join(f"  {c.describe()}" for c in calls)
            )

    def assert_order(self, operation_ids: Sequence[str]) -> None:
        """Assert these operations were called in this order (others may come between)."""
        seen = self.operations()
        position = 0
        for wanted in operation_ids:
            try:
                position = seen.index(wanted, position) + 1
            except ValueError:
                raise AssertionError(
                    f"expected {list(operation_ids)} in this order; "
                    f"{wanted} not found after position {position}\n"
                    f"calls were: {seen}"
                ) from None

    def assert_no_rejections(self) -> None:
        rejected = self.rejections()
        if rejected:
            raise AssertionError(
                "the mock rejected requests:\n" + "\n".join(f"  {c.describe()}" for c in rejected)
            )

    def _summary(self) -> str:
        calls = self.calls
        if not calls:
            return "no calls were recorded"
        return "calls were:\n" + "\n".join(f"  {c.describe()}" for c in calls)


def _subset(expected: Any, actual: Any) -> bool:
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        return all(k in actual and _subset(v, actual[k]) for k, v in expected.items())
    return bool(expected == actual)


def _matches(
    call: Call, body: Any, query: Mapping[str, Any] | None, path_params: Mapping[str, str] | None
) -> bool:
    if body is not _UNSET and not _subset(body, call.body):
        return False
    if query is not None:
        for key, value in query.items():
            values = call.query.get(key)
            expected = [value] if isinstance(value, str) else list(value)
            if values != expected and ",".join(values or []) != ",".join(expected):
                return False
    return path_params is None or all(call.path_params.get(k) == v for k, v in path_params.items())


def _diff(wanted: Mapping[str, Any], call: Call) -> str:
    lines = ["closest (last) call:", f"  {call.describe()}"]
    for key, value in wanted.items():
        actual = getattr(call, key)
        lines.append(f"  {key} expected: {json.dumps(value, sort_keys=True, default=str)}")
        lines.append(f"  {key} actual:   {json.dumps(actual, sort_keys=True, default=str)}")
    return "\n".join(lines)
