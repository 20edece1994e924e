"""Every request the mock saw and what it answered, queryable and assertable from tests.

Secrets sent in authentication payloads are masked before they are recorded.
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import BadRequest

MASK = "***"
MAX_PAGE = 1000  # calls one journal query answers at most
# Journal query parameters beyond the first two (operationId, appID); any of them asks for the paged answer.
PAGING_PARAMS = ("status", "rejected", "order", "limit", "offset", "before", "after")
_UNSET: Any = object()


@dataclass(frozen=True)
class Call:
    """One request and its answer."""

    operation_id: str | None  # None when no operation matched (wrong method; with a spec that has no
    # custom /{path} operations, also an unknown path — the bundled spec records those as customGet & co.)
    method: str
    path: str
    app_id: str | None
    path_params: dict[str, str] = field(default_factory=dict)
    query: dict[str, list[str]] = field(default_factory=dict)
    body: Any = None
    status: int = 200
    response: Any = None

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
        return asdict(self)


class Journal:
    """An ordered, bounded record of calls. Thread-safe; cleared by the mock's reset."""

    def __init__(self, maxlen: int | None = 100_000) -> None:
        self._calls: deque[Call] = deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._recorded = 0  # calls ever recorded: the next call's sequence number

    def record(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)
            self._recorded += 1

    def clear(self) -> None:
        """Forget the calls; sequence numbers go on from where they were (a reader sees the gap)."""
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

    def numbered(self) -> list[tuple[int, Call]]:
        """The kept calls with their sequence numbers (0 for the first call ever recorded), oldest first."""
        with self._lock:
            first = self._recorded - len(self._calls)
            return list(enumerate(self._calls, start=first))

    def page(self, query: JournalQuery) -> JournalPage:
        """The calls ``query`` selects, in its order, one page of them, and how many matched."""
        matching = [(seq, c) for seq, c in self.numbered() if query.selects(seq, c)]
        if query.newest_first:
            matching.reverse()
        end = None if query.limit is None else query.offset + query.limit
        return JournalPage(matching[query.offset : end], len(matching), query.numbered)

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


@dataclass(frozen=True)
class JournalQuery:
    """Which calls to read: filters, then an order, then a page (``offset``, ``limit``).

    ``before``/``after`` keep only calls with a sequence number below/above them, so a reader can
    page back from what it saw, or ask for what came since, however many calls arrive meanwhile.
    """

    operation_id: str | None = None
    app_id: str | None = None
    status: int | None = None
    rejected: bool = False
    before: int | None = None
    after: int | None = None
    newest_first: bool = False
    offset: int = 0
    limit: int | None = None
    numbered: bool = True  # answer with seq and total (False: the first answer's shape, calls only)

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> JournalQuery:
        """Read a query from ``/__mock__/journal``'s query parameters; bad values raise BadRequest."""
        order = params.get("order", "asc")
        if order not in ("asc", "desc"):
            raise BadRequest(f"query.order: {order[:20]!r} is not asc or desc")
        rejected = params.get("rejected", "false")
        if rejected not in ("true", "false"):
            raise BadRequest(f"query.rejected: {rejected[:20]!r} is not a boolean (true or false)")
        limit = _whole(params, "limit", 1, MAX_PAGE)
        return cls(
            operation_id=params.get("operationId"),
            app_id=params.get("appID"),
            status=_whole(params, "status", 100, 599),
            rejected=rejected == "true",
            before=_whole(params, "before", 0, None),
            after=_whole(params, "after", -1, None),
            newest_first=order == "desc",
            offset=_whole(params, "offset", 0, None) or 0,
            limit=limit,
            numbered=any(name in params for name in PAGING_PARAMS),
        )

    def selects(self, seq: int, call: Call) -> bool:
        return (
            (self.operation_id is None or call.operation_id == self.operation_id)
            and (self.app_id is None or call.app_id == self.app_id)
            and (self.status is None or call.status == self.status)
            and (not self.rejected or call.rejected)
            and (self.before is None or seq < self.before)
            and (self.after is None or seq > self.after)
        )


@dataclass(frozen=True)
class JournalPage:
    """One page of calls with their sequence numbers, and how many calls the query matched in all."""

    calls: list[tuple[int, Call]]
    total: int
    numbered: bool = True

    def to_json(self) -> dict[str, Any]:
        if not self.numbered:
            return {"calls": [c.to_json() for _, c in self.calls]}
        return {"calls": [{"seq": seq, **c.to_json()} for seq, c in self.calls], "total": self.total}


def _whole(params: Mapping[str, str], name: str, low: int, high: int | None) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if re.fullmatch(r"-?[0-9]{1,18}", raw) is None:
        raise BadRequest(f"query.{name}: {raw[:20]!r} is not an integer")
    value = int(raw)
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise BadRequest(f"query.{name}: {value} is out of range (must be {bound})")
    return value


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
