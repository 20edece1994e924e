"""The values that steer a mock (clock instants, run policies, fault rules, stubs), checked in one place.

The engine applies them from its settings; the control plane and the pytest API change them at run
time. Both read the same checks, so a value refused at start is refused later with the same message.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from mockserver.engine.clock import parse_rfc3339, rfc3339
from mockserver.engine.errors import error_body, shown
from mockserver.engine.faults import MAX_TIMES, FaultRule, finite
from mockserver.engine.jsonio import check_text
from mockserver.engine.store import RunPolicy
from mockserver.engine.stubs import RULE_FIELDS, Stub
from mockserver.engine.validation import SchemaCheck
from mockserver.spec import Operation, Spec
from mockserver.suggest import did_you_mean

# The mock's clock stays where dates can still be written and a run's finish can still be added.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
MAX_RUN_SECONDS = 366 * 24 * 3600.0  # a deferred run takes at most a year of the mock's clock
MAX_LATENCY = 60.0  # seconds an injected delay may last


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
        raise ValueError(f"{name}: {shown(value)} seconds is out of range") from None


_CLOCK_SPAN = (LATEST - EARLIEST).total_seconds()


def advanced(start: datetime, advance: Any) -> datetime:
    """``start`` moved by ``advance`` seconds, checked to stay within the clock's range."""
    if isinstance(advance, bool) or not isinstance(advance, (int, float)):
        raise ValueError(f"advance: {shown(advance)} is not a number of seconds")
    if not finite(advance) or abs(advance) > _CLOCK_SPAN:  # (an int compares exactly, never overflows)
        raise ValueError(f"advance: {shown(advance)} seconds moves the clock out of range")
    try:
        moved = start + duration(advance, "advance")
    except OverflowError:
        raise ValueError(f"advance: {shown(advance)} seconds moves the clock out of range") from None
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
        if not finite(value) and not (isinstance(value, int) and not isinstance(value, bool)):
            raise ValueError(f"{name}: {shown(value)} is not a number of seconds")
        if not 0 <= value <= MAX_RUN_SECONDS:
            raise ValueError(f"{name}: {shown(value)} is not between 0 and {MAX_RUN_SECONDS:g} seconds")
    codes = spec.schema("RunReasonCode").get("enum", []) if spec.has_schema("RunReasonCode") else []
    if policy.reason_code is not None and codes and policy.reason_code not in codes:
        raise ValueError(f"reason_code: {policy.reason_code!r} is not one of {codes}")
    return policy


def fault_rule(rule: Mapping[str, Any], spec: Spec) -> FaultRule:
    """A fault rule from its fields, checked against the spec's operations; TypeError/ValueError."""
    known = {f.name for f in dataclasses.fields(FaultRule)}
    unknown = sorted(set(rule) - known)
    if unknown:
        raise TypeError(
            f"fault: unknown fields {unknown}{did_you_mean(unknown[0], known)}; known: {sorted(known)}"
        )
    fault = FaultRule(**rule)
    operation = _operation(fault.operation, spec) if fault.operation is not None else None
    fault.path_params, fault.query = request_matchers(
        operation, fault.path_params, fault.query, fault.body, "fault"
    )
    check_latency(fault.latency)
    return fault


def _operation(name: Any, spec: Spec) -> Operation:
    if not isinstance(name, str):
        raise ValueError(f"operation: {name!r} is not an operationId")
    found = spec.operations.get(name)
    if found is None:
        hint = did_you_mean(name, spec.operations)
        raise ValueError(f"operation: {name[:100]!r} is not an operation of {spec.title}{hint}")
    return found


def request_matchers(
    operation: Operation | None, path_params: Any, query: Any, body: Any, what: str
) -> tuple[dict[str, str] | None, dict[str, str | list[str]] | None]:
    """Check what a stub or a fault rule matches requests by: path parameters and query parameters
    the operation has (a typo is refused with the likely name), a JSON body subset for an operation
    that takes a body. Returns the parameters as plain dicts; ValueError naming the field."""
    if operation is None:
        if path_params is not None or query is not None or body is not None:
            raise ValueError(
                f"{what}: path_params, query and body match the requests of one operation: name it "
                "with operation"
            )
        return None, None
    params: dict[str, str] | None = None
    if path_params is not None:
        if not isinstance(path_params, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in path_params.items()
        ):
            raise ValueError("path_params: a mapping of path parameter names to strings")
        for name, value in path_params.items():
            check_text(name, "path_params", key=True)
            check_text(value, f"path_params.{name}")
        names = [p.name for p in operation.parameters if p.location == "path"]
        _known_names("path_params", path_params, names, operation)
        params = dict(path_params)
    queries: dict[str, str | list[str]] | None = None
    if query is not None:
        if not isinstance(query, Mapping) or not all(
            isinstance(k, str)
            and (isinstance(v, str) or (isinstance(v, (list, tuple)) and all(isinstance(i, str) for i in v)))
            for k, v in query.items()
        ):
            raise ValueError("query: a mapping of query parameter names to a string or a list of strings")
        for name, value in query.items():
            check_text(name, "query", key=True)
            for text in [value] if isinstance(value, str) else value:
                check_text(text, f"query.{name}")
        names = [p.name for p in operation.parameters if p.location == "query"]
        _known_names("query", query, names, operation)
        queries = {k: v if isinstance(v, str) else list(v) for k, v in query.items()}
    if body is not None:
        if not operation.has_body:
            raise ValueError(f"body: {operation.operation_id} takes no body: leave body out")
        json_value(body, "body")
    return params, queries


def _known_names(field: str, given: Mapping[str, Any], names: list[str], operation: Operation) -> None:
    for name in given:
        if name not in names:
            raise ValueError(
                f"{field}.{name}: {operation.operation_id} has no such parameter{did_you_mean(name, names)} "
                f"(it has {names or 'none'})"
            )


def json_value(value: Any, field: str, depth: int = 0) -> None:
    """Refuse what is not a plain JSON value (a set, a tuple, an object, a NaN), naming where."""
    if depth > 64:
        raise ValueError(f"{field}: nested too deeply (64 levels at most)")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{field}: the key {key!r} is not a string")
            check_text(key, field, key=True)
            json_value(item, f"{field}.{key}", depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            json_value(item, f"{field}[{i}]", depth + 1)
    elif isinstance(value, str):
        check_text(value, field)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{field}: {value!r} is not a JSON number")
    elif value is not None and not isinstance(value, (str, int, float, bool)):
        raise ValueError(f"{field}: not a JSON value ({type(value).__name__})")


# Headers a stub may not set: the mock frames every answer itself (a JSON body, its length).
RESERVED_HEADERS = frozenset({"content-length", "content-type", "transfer-encoding", "connection"})
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")


def stub_rule(rule: Mapping[str, Any], spec: Spec) -> Stub:
    """A stub from its fields, checked: the operation and the parameters it matches exist, the
    values have their types, and (unless ``check`` is false) the answer fits what the spec documents
    for that operation and status. TypeError/ValueError naming the field and the fix."""
    unknown = sorted(set(rule) - set(RULE_FIELDS))
    if unknown:
        hint = did_you_mean(unknown[0], RULE_FIELDS)
        raise TypeError(f"stub: unknown fields {unknown}{hint}; known: {list(RULE_FIELDS)}")
    if "operation" not in rule:
        raise TypeError("stub: name the operation it answers (operation: an operationId)")
    stub = Stub(**rule)
    operation = _operation(stub.operation, spec)
    status = stub.status
    if isinstance(status, bool) or not isinstance(status, int) or not 200 <= status <= 599:
        raise ValueError(f"status: {shown(status)} is not an HTTP status a stub can answer (200-599)")
    if stub.times is not None and (
        isinstance(stub.times, bool) or not isinstance(stub.times, int) or not 1 <= stub.times <= MAX_TIMES
    ):
        raise ValueError(
            f"times: {shown(stub.times)} is not a whole number between 1 and {MAX_TIMES} "
            "(leave it out: always)"
        )
    if not isinstance(stub.check, bool):
        raise ValueError(f"check: {stub.check!r} is not true or false")
    if stub.app is not None and (not isinstance(stub.app, str) or not stub.app):
        raise ValueError(f"app: {stub.app!r} is not an application ID")
    if stub.app is not None:
        check_text(stub.app, "app")
    if not isinstance(stub.headers, Mapping):
        raise ValueError("headers: a mapping of header names to strings")
    for name, value in stub.headers.items():
        if not isinstance(name, str) or _TOKEN.fullmatch(name) is None:
            raise ValueError(f"headers: {name!r} is not a header name")
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"headers.{name}: the mock sets it itself (a stub answers JSON)")
        if not isinstance(value, str) or _HEADER_VALUE.fullmatch(value) is None:
            raise ValueError(f"headers.{name}: {value!r} is not a header value (text without line breaks)")
    stub.headers = dict(stub.headers)
    stub.path_params, stub.query = request_matchers(
        operation, stub.path_params, stub.query, stub.body, "stub"
    )
    json_value(stub.response, "response")
    if status in (204, 304) and stub.response is not None:
        raise ValueError(f"response: an answer with status {status} has no body: leave response out")
    if stub.response is None and status >= 400:
        stub.response = error_body(status, f"Stubbed answer: {operation.operation_id} -> {status}")
    stub.response = copy.deepcopy(stub.response)
    stub.body = copy.deepcopy(stub.body)
    if stub.check:
        check_answer(operation, status, stub.response)
    return stub


def check_answer(operation: Operation, status: int, response: Any) -> None:
    """Refuse an answer the spec does not document for ``operation`` and ``status``."""
    name = operation.operation_id
    anyway = "(check=False answers it anyway)"
    documented, schema = operation.response_schema(status)
    if not documented:
        statuses = ", ".join(sorted(operation.responses))
        raise ValueError(
            f"status: the spec documents no {status} answer for {name} (it has {statuses}) {anyway}"
        )
    if schema is None:
        if response is not None:
            raise ValueError(f"response: the spec documents no body for {name} answering {status} {anyway}")
        return
    if response is None:
        raise ValueError(
            f"response: the spec documents a body for {name} answering {status}: give response {anyway}"
        )
    message = SchemaCheck(schema).error(response, "response")
    if message is not None:
        raise ValueError(f"{message}: not what the spec documents for {name} answering {status} {anyway}")


def check_latency(latency: Any) -> None:
    values = latency if isinstance(latency, (list, tuple)) else [latency] if latency is not None else []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"latency: {shown(value)} is not a number of seconds")
        if value > MAX_LATENCY:  # (before converting: an int too large for a float compares exactly)
            raise ValueError(f"latency: {shown(value)} is more than {MAX_LATENCY:g} seconds")
        if not finite(value):
            raise ValueError(f"latency: {shown(value)} is not a number of seconds")
