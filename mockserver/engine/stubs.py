"""Stubs: answers a test chooses for the requests that match them, on top of the mock's state.

A stub names an operation and, optionally, the path parameters, query and body subset a request
must have (the journal's matchers, ``call_matching.py``); a matching request is answered with the
stub's status, body and headers instead of being acted on, so it changes no state. A stub answers
once, N times (``times``) or always; the newest matching stub answers. A stub added for one
application (``app``) matches that application's calls only; one without ``app`` (the settings'
``stubs``) matches every application's. Where a request meets stubs: after it is authenticated,
its body read and validated, before the engine acts on it (``Engine._answer``), so a request the
spec refuses is still refused. The values are checked, and the answer held to the spec, in
``steering.stub_rule``.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any

from mockserver.engine.call_matching import UNSET, Matcher, MatchTarget


@dataclass
class Stub:
    """One stubbed answer: ``status``, ``response`` (the JSON body; None: none) and ``headers``, for
    the requests of ``operation`` matching ``path_params``, ``query`` and ``body`` (a subset)."""

    operation: str
    status: int = 200
    response: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    path_params: dict[str, str] | None = None
    query: dict[str, str | list[str]] | None = None
    body: Any = None  # a subset of the request body; None: any body
    times: int | None = None  # answer the next N matching requests, then retire; None: always
    check: bool = True  # the answer was held to the spec's responses for operation and status
    app: str | None = None  # only this application's requests (None: every application's)
    id: str = ""  # given when the stub is added
    hits: int = 0  # requests answered so far

    def matcher(self) -> Matcher:
        return Matcher(UNSET if self.body is None else self.body, self.query, self.path_params)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "operation": self.operation,
            "path_params": copy.deepcopy(self.path_params),
            "query": copy.deepcopy(self.query),
            "body": copy.deepcopy(self.body),
            "status": self.status,
            "response": copy.deepcopy(self.response),
            "headers": dict(self.headers),
            "times": self.times,
            "check": self.check,
            "app": self.app,
            "hits": self.hits,
        }


# The fields a rule may give (the others are the stub's own bookkeeping).
RULE_FIELDS = (
    "operation",
    "status",
    "response",
    "headers",
    "path_params",
    "query",
    "body",
    "times",
    "check",
    "app",
)


class Stubs:
    """The stubs of one mock, newest last. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stubs: list[Stub] = []
        self._added = 0  # stubs ever added: the next one's number

    @property
    def active(self) -> bool:
        return bool(self._stubs)

    def add(self, stub: Stub) -> Stub:
        """Keep ``stub`` (already checked) and give it its ID."""
        with self._lock:
            self._added += 1
            stub.id = f"stub-{self._added}"
            self._stubs.append(stub)
        return stub

    def replace_server_stubs(self, stubs: list[Stub]) -> None:
        """Make ``stubs`` the server-wide ones (those of no one application), in place of the old."""
        with self._lock:
            self._stubs = [s for s in self._stubs if s.app is not None]
        for stub in stubs:
            self.add(stub)

    def match(self, operation_id: str, app_id: str | None, request: MatchTarget) -> Stub | None:
        """The newest stub matching this request, counted as used (retired once its times are up)."""
        with self._lock:
            for stub in reversed(self._stubs):
                if stub.operation != operation_id or (stub.app is not None and stub.app != app_id):
                    continue
                if not stub.matcher().matches(request):
                    continue
                stub.hits += 1
                if stub.times is not None:
                    stub.times -= 1
                    if stub.times <= 0:
                        self._stubs.remove(stub)
                return stub
        return None

    def describe(self, app_id: str | None = None) -> list[dict[str, Any]]:
        """The stubs in force, oldest first (``app_id``: those that match that application's calls)."""
        with self._lock:
            return [s.to_json() for s in self._stubs if app_id is None or s.app in (None, app_id)]

    def remove(self, stub_id: str, app_id: str | None = None) -> bool:
        """Remove one stub (``app_id``: only if it is that application's own); whether it was there."""
        with self._lock:
            for stub in self._stubs:
                if stub.id == stub_id and (app_id is None or stub.app == app_id):
                    self._stubs.remove(stub)
                    return True
        return False

    def to_json(self) -> dict[str, Any]:
        """Every stub and the count of stubs ever added, as JSON (what the state file keeps)."""
        with self._lock:
            return {"stubs": [s.to_json() for s in self._stubs], "added": self._added}

    def load(self, value: dict[str, Any]) -> None:
        """Put back stubs saved by :meth:`to_json` (KeyError/TypeError when damaged)."""
        stubs = [Stub(**stub) for stub in value["stubs"]]
        added = int(value["added"])
        with self._lock:
            self._stubs, self._added = stubs, added

    def clear(self, app_id: str | None = None) -> None:
        """Remove every stub, or (``app_id``) that application's own."""
        with self._lock:
            self._stubs = [] if app_id is None else [s for s in self._stubs if s.app != app_id]
