"""Every request the mock saw and what it answered, queryable and assertable from tests.

Secrets sent in authentication payloads are masked before they are recorded.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, overload

from .call_matching import UNSET, Matcher, closest, explain

MASK = "***"


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
        body: Any = UNSET,
        query: Mapping[str, str | Sequence[str]] | None = None,
        path_params: Mapping[str, str] | None = None,
    ) -> list[Call]:
        """The calls that match every criterion given (``body``, ``query``, ``path_params`` as in
        :meth:`assert_called`)."""
        matcher = Matcher(body, query, path_params)
        return [
            c
            for c in self.calls
            if (operation_id is None or c.operation_id == operation_id)
            and (method is None or c.method == method.upper())
            and (path is None or c.path == path)
            and (status is None or c.status == status)
            and (app_id is None or c.app_id == app_id)
            and matcher.matches(c)
        ]

    def operations(self) -> list[str]:
        """The operationIds called, in order (unmatched requests left out)."""
        return [c.operation_id for c in self.calls if c.operation_id is not None]

    def called(
        self,
        operation_id: str,
        *,
        body: Any = UNSET,
        query: Mapping[str, str | Sequence[str]] | None = None,
        path_params: Mapping[str, str] | None = None,
    ) -> bool:
        return self.call_count(operation_id, body=body, query=query, path_params=path_params) > 0

    def call_count(
        self,
        operation_id: str,
        *,
        body: Any = UNSET,
        query: Mapping[str, str | Sequence[str]] | None = None,
        path_params: Mapping[str, str] | None = None,
    ) -> int:
        """How many calls of ``operation_id`` match every matcher given."""
        return len(self.filter(operation_id, body=body, query=query, path_params=path_params))

    def last(self, operation_id: str | None = None) -> Call:
        found = self.filter(operation_id) if operation_id else self.calls
        if not found:
            raise AssertionError(f"no call{f' to {operation_id}' if operation_id else ''} was recorded")
        return found[-1]

    def rejections(self) -> list[Call]:
        return [c for c in self.calls if c.rejected]

    # --- assertions ----------------------------------------------------------------------------
    @overload
    def assert_called(
        self,
        operation_id: str,
        *,
        times: None = None,
        body: Any = UNSET,
        query: Mapping[str, str | Sequence[str]] | None = None,
        path_params: Mapping[str, str] | None = None,
    ) -> Call: ...
    @overload
    def assert_called(
        self,
        operation_id: str,
        *,
        times: Literal[0],
        body: Any = UNSET,
        query: Mapping[str, str | Sequence[str]] | None = None,
        path_params: Mapping[str, str] | None = None,
    ) -> None: ...
    @overload
    def assert_called(
        self,
        operation_id: str,
        *,
        times: int,
        body: Any = UNSET,
        query: Mapping[str, str | Sequence[str]] | None = None,
        path_params: Mapping[str, str] | None = None,
    ) -> Call | None: ...
    def assert_called(
        self,
        operation_id: str,
        *,
        times: int | None = None,
        body: Any = UNSET,
        query: Mapping[str, str | Sequence[str]] | None = None,
        path_params: Mapping[str, str] | None = None,
    ) -> Call | None:
        """Assert ``operation_id`` was called with these arguments: at least once, or exactly
        ``times`` times when given (``times=0``: never with them).

        ``times`` counts the calls matching every matcher given. ``body`` matches when every key it
        gives equals the sent body's, at every depth (a subset match); ``query`` values may be a
        string or a list of strings; ``path_params`` are compared exactly. Returns the last matching
        call (None when ``times=0``). A failure shows the call that came closest, and how it differs.
        """
        __tracebackhide__ = True  # pytest: show the test's line, not this one
        matcher = Matcher(body, query, path_params)
        calls = self.filter(operation_id)
        matching = [c for c in calls if matcher.matches(c)]
        if (times is None and matching) or (times is not None and len(matching) == times):
            return matching[-1] if matching else None
        if times is None:
            if not calls:
                raise AssertionError(f"{operation_id} was never called\n{self._summary()}")
            head = f"{operation_id} was called {len(calls)} times, never with the expected arguments"
            raise AssertionError("\n".join([head, *explain(matcher, closest(matcher, calls))]))
        if not matcher.given:
            raise AssertionError(
                f"{operation_id} was called {len(calls)} times, expected {times}\n{self._summary()}"
            )
        lines = [
            f"{operation_id} was called {len(matching)} times with the expected arguments "
            f"({len(calls)} times in all), expected {times}"
        ]
        if len(matching) > times:
            lines += ["matching calls:", *(f"  {c.describe()}" for c in matching)]
        elif len(matching) < len(calls):
            others = [c for c in calls if not matcher.matches(c)]
            lines += explain(matcher, closest(matcher, others))
        elif not calls:
            lines.append(self._summary())
        raise AssertionError("\n".join(lines))

    def assert_not_called(
        self,
        operation_id: str,
        *,
        body: Any = UNSET,
        query: Mapping[str, str | Sequence[str]] | None = None,
        path_params: Mapping[str, str] | None = None,
    ) -> None:
        """Assert no call of ``operation_id`` matches these arguments (no call at all when none given)."""
        __tracebackhide__ = True
        matcher = Matcher(body, query, path_params)
        calls = self.filter(operation_id)
        matching = [c for c in calls if matcher.matches(c)]
        if not matching:
            return
        head = (
            f"{operation_id} was called {len(matching)} times with the expected arguments "
            f"({len(calls)} times in all), expected never"
            if matcher.given
            else f"{operation_id} was called {len(calls)} times, expected never"
        )
        raise AssertionError("\n".join([head, *(f"  {c.describe()}" for c in matching)]))

    def assert_order(self, operation_ids: Sequence[str]) -> None:
        """Assert these operations were called in this order (others may come between)."""
        __tracebackhide__ = True
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
        __tracebackhide__ = True
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
