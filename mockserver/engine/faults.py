"""Misbehaviour on purpose, off by default: latency, injected errors, dropped connections, rate limits.

Rules are matched per request: by operationId (or every operation when none is named), by
application, and, for a rule naming an operation, by path parameters, query and a body subset (the
journal's matchers, ``call_matching.py``). A rule without a body matcher is decided as soon as the
route is known, before the credentials are checked and the body is read (so ``drop`` cuts the
connection before anything is read); a rule with one is decided once the body is read and decoded,
after authentication and before validation (:meth:`Faults.decide_on_body`): what it answers or
drops is still a request the mock has not acted on. The rate limiter reproduces the service's
documented limits: 200 requests per 30 s per IP on observability endpoints (runs and events), 200
per minute per IP on every other endpoint.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from mockserver.engine.call_matching import UNSET, Matcher, MatchTarget
from mockserver.engine.errors import shown
from mockserver.engine.jsonio import check_text

OBSERVABILITY = frozenset({"listRuns", "getRun", "listEvents", "getEvent"})


MAX_TIMES = 1_000_000  # the most matching calls a fault rule or a stub may be limited to (times)


def finite(value: Any) -> bool:
    """A number (not a bool) a float holds: finite, and no integer too large to convert."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


@dataclass
class FaultRule:
    """One misbehaviour. ``status`` answers an error; ``drop`` cuts the connection; ``latency`` delays."""

    operation: str | None = None  # operationId; None matches every operation
    status: int | None = None  # e.g. 500, 503, 429
    message: str = "Injected fault"
    rate: float = 1.0  # probability the rule fires on a matching call
    times: int | None = None  # fire on the next N matching calls only, then retire
    latency: float | tuple[float, float] | None = None  # seconds, or a (min, max) range
    drop: bool = False  # cut the connection before the request is acted on (nothing was applied)
    drop_after: bool = False  # apply the request, then cut the connection (the answer is lost)
    retry_after: int | None = None  # Retry-After header on an injected 429
    app: str | None = None  # fire only on this application's calls (None: every application's)
    path_params: dict[str, str] | None = None  # only requests with these path parameters
    query: dict[str, str | list[str]] | None = None  # only requests with these query parameters
    body: Any = None  # only requests whose body holds this subset (decided once the body is read)

    def matcher(self) -> Matcher:
        return Matcher(UNSET if self.body is None else self.body, self.query, self.path_params)

    def check(self) -> None:
        if self.retry_after is not None and (
            isinstance(self.retry_after, bool)
            or not isinstance(self.retry_after, int)
            or not 0 <= self.retry_after <= 86_400
        ):
            raise ValueError(
                f"retry_after: {shown(self.retry_after)} is not a whole number of seconds (0-86400)"
            )
        if self.times is not None and (isinstance(self.times, bool) or not isinstance(self.times, int)):
            raise ValueError(f"times: {shown(self.times)} is not a whole number")
        if not finite(self.rate):
            raise ValueError(f"rate: {shown(self.rate)} is not a number between 0 and 1")
        if self.status is not None and (isinstance(self.status, bool) or not isinstance(self.status, int)):
            raise ValueError(f"status: {shown(self.status)} is not an HTTP status")
        if not isinstance(self.message, str) or len(self.message) > 1000:
            raise ValueError("message: a text of at most 1000 characters")
        check_text(self.message, "message")  # (the answer's body carries it)
        if isinstance(self.app, str):
            check_text(self.app, "app")
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError(f"status: {shown(self.status)} is not an error status (400-599)")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"rate: {self.rate} is not between 0 and 1")
        if self.times is not None and not 1 <= self.times <= MAX_TIMES:
            raise ValueError(f"times: {shown(self.times)} is not between 1 and {MAX_TIMES}")
        if isinstance(self.latency, (list, tuple)):
            low, high = self.latency
            if not (finite(low) and finite(high) and 0 <= low <= high):
                raise ValueError(f"latency: {list(self.latency)} is not a range [min, max] of seconds")
            self.latency = (float(low), float(high))
        elif self.latency is not None and not finite(self.latency):
            raise ValueError(f"latency: {shown(self.latency)} is not a number of seconds")
        elif self.latency is not None and self.latency < 0:
            raise ValueError(f"latency: {self.latency} is negative")
        if self.drop and self.drop_after:
            raise ValueError("drop and drop_after: choose one (before or after the write)")
        if self.status is None and not self.drop and not self.drop_after and self.latency is None:
            raise ValueError("a fault needs a status, drop=true, drop_after=true or a latency")


@dataclass
class RateLimit:
    """Requests allowed per window, per client address. Defaults: the service's documented limits."""

    limit: int = 200
    window: float = 60.0
    observability_limit: int = 200
    observability_window: float = 30.0

    def check(self) -> None:
        for name in ("limit", "observability_limit"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1_000_000:
                raise ValueError(
                    f"rateLimit.{name}: {shown(value)} is not a whole number between 1 and 1000000"
                )
        for name in ("window", "observability_window"):
            value = getattr(self, name)
            if not finite(value) or not 0 < value <= 86_400:
                raise ValueError(
                    f"rateLimit.{name}: {shown(value)} is not a number of seconds between 0 and 86400"
                )


@dataclass(frozen=True)
class Decision:
    delay: float = 0.0
    status: int | None = None
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    drop_after: bool = False


NO_FAULT = Decision()


class Faults:
    """The active fault rules and rate limit of one mock. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random()
        self.rules: list[FaultRule] = []
        self.rate_limit: RateLimit | None = None
        self._hits: dict[tuple[str, bool], deque[float]] = {}

    @property
    def active(self) -> bool:
        return bool(self.rules) or self.rate_limit is not None

    @property
    def on_body(self) -> bool:
        """Whether a rule waits for the body (has a body matcher)."""
        rules = self.rules  # (none, nearly always: then no generator is made, on every request with a body)
        return bool(rules) and any(rule.body is not None for rule in rules)

    def add(self, rule: FaultRule) -> None:
        rule.check()
        with self._lock:
            self.rules.append(rule)

    def replace_server_rules(self, rules: list[FaultRule]) -> None:
        """Make ``rules`` the server-wide rules (those of no one application), in place of the old."""
        for rule in rules:
            rule.check()
        with self._lock:
            self.rules = [r for r in self.rules if r.app is not None] + list(rules)

    def set_rate_limit(self, limit: RateLimit | None) -> None:
        if limit is not None:
            limit.check()
        with self._lock:
            self.rate_limit = limit
            self._hits.clear()

    def clear(self, app_id: str | None = None) -> None:
        """Remove every rule and the rate limit, or (``app_id``) that application's rules only."""
        with self._lock:
            if app_id is not None:
                self.rules = [r for r in self.rules if r.app != app_id]
                return
            self.rules.clear()
            self.rate_limit = None
            self._hits.clear()

    def describe(self, app_id: str | None = None) -> dict[str, Any]:
        """The rules (``app_id``: those that fire on that application's calls) and the rate limit."""
        with self._lock:
            return {
                "rules": [asdict(r) for r in self.rules if app_id is None or r.app in (None, app_id)],
                "rateLimit": asdict(self.rate_limit) if self.rate_limit else None,
            }

    def decide(
        self,
        operation_id: str | None,
        client: str,
        app_id: str | None = None,
        request: MatchTarget | None = None,
    ) -> Decision:
        """What to do with this call (of application ``app_id``; ``request``: its path parameters and
        query, for the rules that match them), before its body is read: usually nothing. Rules with
        a body matcher wait for :meth:`decide_on_body`."""
        with self._lock:
            limited = self._rate_limited(operation_id, client)
            if limited is not None:
                return limited
            return self._decide(operation_id, app_id, request, on_body=False)

    def decide_on_body(self, operation_id: str, app_id: str | None, request: MatchTarget) -> Decision:
        """What the rules with a body matcher do with this call, once its body is decoded."""
        with self._lock:
            return self._decide(operation_id, app_id, request, on_body=True)

    def _decide(
        self, operation_id: str | None, app_id: str | None, request: MatchTarget | None, *, on_body: bool
    ) -> Decision:
        delay = 0.0
        for rule in list(self.rules):
            if (rule.body is not None) != on_body:
                continue
            if rule.operation is not None and rule.operation != operation_id:
                continue
            if rule.app is not None and rule.app != app_id:
                continue
            if (rule.path_params is not None or rule.query is not None or rule.body is not None) and (
                request is None or not rule.matcher().matches(request)
            ):
                continue
            if rule.rate < 1.0 and self._rng.random() >= rule.rate:
                continue
            if rule.times is not None:
                rule.times -= 1
                if rule.times <= 0:
                    self.rules.remove(rule)
            if rule.latency is not None:
                latency = rule.latency
                delay += self._rng.uniform(*latency) if isinstance(latency, tuple) else latency
            if rule.drop or rule.drop_after:
                return Decision(delay=delay, drop=rule.drop, drop_after=rule.drop_after)
            if rule.status is not None:
                headers = {}
                if rule.status == 429:
                    headers["Retry-After"] = str(rule.retry_after if rule.retry_after is not None else 1)
                return Decision(delay=delay, status=rule.status, message=rule.message, headers=headers)
        return Decision(delay=delay) if delay else NO_FAULT

    def _rate_limited(self, operation_id: str | None, client: str) -> Decision | None:
        limit = self.rate_limit
        if limit is None:
            return None
        observability = operation_id in OBSERVABILITY
        allowed = limit.observability_limit if observability else limit.limit
        window = limit.observability_window if observability else limit.window
        now = time.monotonic()
        hits = self._hits.setdefault((client, observability), deque())
        while hits and hits[0] <= now - window:
            hits.popleft()
        if len(hits) >= allowed:
            retry = max(1, int(hits[0] + window - now + 0.999))
            return Decision(
                status=429,
                message=f"Too many requests: {allowed} per {window:g} s per IP; retry in {retry} s",
                headers={
                    "Retry-After": str(retry),
                    "X-RateLimit-Limit": str(allowed),
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(int(time.time()) + retry),
                },
            )
        hits.append(now)
        return None
