"""The values that steer a mock (clock instants, run policies, fault rules), checked in one place.

The engine applies them from its settings; the control plane and the pytest API change them at run
time. Both read the same checks, so a value refused at start is refused later with the same message.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from mockserver.engine.clock import parse_rfc3339, rfc3339
from mockserver.engine.faults import FaultRule
from mockserver.engine.store import RunPolicy
from mockserver.spec import Spec

# The mock's clock stays where dates can still be written and a run's finish can still be added.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
MAX_RUN_SECONDS = 366 * 24 * 3600.0  # a deferred run takes at most a year of the mock's clock
MAX_LATENCY = 60.0  # seconds an injected delay may last


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean X?"`` for the closest of ``choices`` (case-insensitive), or ``""``."""
    by_folded: dict[str, str] = {}
    for choice in choices:
        by_folded.setdefault(choice.casefold(), choice)
    close = difflib.get_close_matches(word.casefold(), list(by_folded), n=1, cutoff=0.6)
    return f"; did you mean {by_folded[close[0]]}?" if close else ""


def instant(value: str | datetime, name: str) -> datetime:
    """An RFC 3339 text or a datetime (naive: UTC) within the clock's range; ValueError otherwise."""
    if isinstance(value, datetime):
        moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    elif isinstance(value, str):
        try:
            moment = parse_rfc3339(value)
        except ValueError:
            raise ValueError(f"{name}: {value[:60]!r} is not an RFC 3339 date-time") from None
    else:
        raise ValueError(f"{name}: {value!r} is not an RFC 3339 date-time")
    check_instant(moment, name)
    return moment


def check_instant(moment: datetime, name: str) -> None:
    if not EARLIEST <= moment <= LATEST:
        raise ValueError(
            f"{name}: the mock's clock must stay between {rfc3339(EARLIEST)} and {rfc3339(LATEST)}"
        )


def duration(value: float, name: str) -> timedelta:
    try:
        return timedelta(seconds=value)
    except OverflowError:
        raise ValueError(f"{name}: {value!r} seconds is out of range") from None


def advanced(start: datetime, advance: Any) -> datetime:
    """``start`` moved by ``advance`` seconds, checked to stay within the clock's range."""
    if isinstance(advance, bool) or not isinstance(advance, (int, float)) or not math.isfinite(advance):
        raise ValueError(f"advance: {advance!r} is not a number of seconds")
    try:
        moved = start + duration(advance, "advance")
    except OverflowError:
        raise ValueError(f"advance: {advance!r} seconds moves the clock out of range") from None
    check_instant(moved, "advance")
    return moved


def run_policy(current: RunPolicy, changes: Mapping[str, Any], spec: Spec) -> RunPolicy:
    """``current`` with ``changes`` (fields of RunPolicy), checked; TypeError/ValueError naming the field."""
    known = sorted(f.name for f in dataclasses.fields(RunPolicy))
    unknown = sorted(set(changes) - set(known))
    if unknown:
        raise TypeError(f"runs: unknown fields {unknown}; known: {known}")
    policy = dataclasses.replace(current, **changes)
    if policy.mode not in ("immediate", "deferred"):
        raise ValueError(f"mode: {policy.mode!r} is not immediate or deferred")
    if policy.outcome not in ("success", "failure"):
        raise ValueError(f"outcome: {policy.outcome!r} is not success or failure")
    for name in ("start_after", "finish_after"):
        value = getattr(policy, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name}: {value!r} is not a number of seconds")
        if not 0 <= value <= MAX_RUN_SECONDS:
            raise ValueError(f"{name}: {value!r} is not between 0 and {MAX_RUN_SECONDS:g} seconds")
    codes = spec.schema("RunReasonCode").get("enum", []) if spec.has_schema("RunReasonCode") else []
    if policy.reason_code is not None and codes and policy.reason_code not in codes:
        raise ValueError(f"reason_code: {policy.reason_code!r} is not one of {codes}")
    return policy


def fault_rule(rule: Mapping[str, Any], spec: Spec) -> FaultRule:
    """A fault rule from its fields, checked against the spec's operations; TypeError/ValueError."""
    known = {f.name for f in dataclasses.fields(FaultRule)}
    unknown = sorted(set(rule) - known)
    if unknown:
        raise TypeError(f"fault: unknown fields {unknown}; known: {sorted(known)}")
    fault = FaultRule(**rule)
    if fault.operation is not None and fault.operation not in spec.operations:
        hint = did_you_mean(str(fault.operation), spec.operations)
        raise ValueError(f"operation: {fault.operation!r} is not an operation of {spec.title}{hint}")
    check_latency(fault.latency)
    return fault


def check_latency(latency: Any) -> None:
    values = latency if isinstance(latency, (list, tuple)) else [latency] if latency is not None else []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"latency: {value!r} is not a number of seconds")
        if value > MAX_LATENCY:
            raise ValueError(f"latency: {value!r} is more than {MAX_LATENCY:g} seconds")
