"""Whole requests: any operation's body and parameters, ``Request``, ``request(s)``, ``feasible``.

Given a :class:`State`, path IDs name a resource the operation can act on (a deletable one for a
delete, a docker source for a discovery, ...) and an update's body fits the resource acted on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from mockserver.resources.source_actions import RUNNABLE_SOURCE_TYPES
from mockserver.spec import Operation, Schema, Spec, load_spec
from mockserver.strategies._bodies import (
    Fragment,
    authentication_create,
    authentication_update,
    destination_create,
    destination_update,
    object_body,
    push_payload,
    run_source_payload,
    run_task_payload,
    search,
    source_create,
    source_update,
    task_create,
    task_create_v1,
    task_replace,
    task_update,
    task_update_v1,
    transformation_create,
    transformation_try,
    with_overrides,
)
from mockserver.strategies._pools import OMIT, clone, implicit_formats, maybe, pooled, prepare
from mockserver.strategies._state import ID_FAMILIES, UUIDS, State
from mockserver.strategies._variants import variants_of

SEARCH_OPERATIONS: Final = {
    "searchAuthentications": "authentications",
    "searchDestinations": "destinations",
    "searchSources": "sources",
    "searchTasks": "tasks",
    "searchTasksV1": "tasks",
    "searchTransformations": "transformations",
}
_DELETE_OPS: Final = {
    "deleteAuthentication",
    "deleteDestination",
    "deleteSource",
    "deleteTransformation",
}


def body(
    operation_id: str,
    state: State | None = None,
    *,
    path_params: Mapping[str, str] | None = None,
    spec: Spec | None = None,
    **overrides: Any,
) -> SearchStrategy[Any]:
    """Valid bodies of any operation (``None`` is drawn only for an optional body).

    ``path_params`` tells which resource an update acts on, so its ``input`` fits that resource.
    """
    loaded = spec if spec is not None else load_spec()
    op = loaded.operations[operation_id]
    if op.body_schema is None:
        return st.none()
    path = dict(path_params or {})
    kind = _body_kind(op, state, path)
    if kind is not None:
        drawn = kind(state, loaded, dict(overrides))
    else:
        drawn = object_body(variants_of(loaded).body_schema(op), with_overrides({}, overrides))
    # A validation needs something to validate: the service refuses validateSource without a body.
    if not op.body_required and not overrides and operation_id not in _BODY_NEEDED:
        return st.one_of(st.none(), drawn)
    return drawn


_BODY_NEEDED: Final = frozenset({"validateSource"})

BodyBuilder = Callable[[State | None, Spec, dict[str, Any]], SearchStrategy[Any]]


def _body_kind(op: Operation, state: State | None, path: Mapping[str, str]) -> BodyBuilder | None:
    op_id = op.operation_id
    if op_id in SEARCH_OPERATIONS:
        family = SEARCH_OPERATIONS[op_id]
        return lambda s, _spec, _o: search(family, s)
    source_type = state.type_of("sources", path["sourceID"]) if state and "sourceID" in path else None
    task_source = state.task_source_type(path["taskID"]) if state and "taskID" in path else None
    auth_type = (
        state.type_of("authentications", path["authenticationID"])
        if state and "authenticationID" in path
        else None
    )
    table: dict[str, BodyBuilder] = {
        "createAuthentication": lambda s, sp, o: authentication_create(s, spec=sp, **o),
        "updateAuthentication": lambda s, sp, o: authentication_update(s, auth_type=auth_type, spec=sp, **o),
        "createSource": lambda s, sp, o: source_create(s, spec=sp, **o),
        "validateSource": lambda s, sp, o: source_create(s, spec=sp, **o),
        "updateSource": lambda s, sp, o: source_update(s, source_type=source_type, spec=sp, **o),
        "validateSourceBeforeUpdate": lambda s, sp, o: source_update(
            s, source_type=source_type, spec=sp, **o
        ),
        "createDestination": lambda s, sp, o: destination_create(s, spec=sp, **o),
        "updateDestination": lambda s, sp, o: destination_update(s, spec=sp, **o),
        "createTransformation": lambda s, sp, o: transformation_create(s, spec=sp, **o),
        "updateTransformation": lambda s, sp, o: transformation_create(s, spec=sp, **o),
        "tryTransformation": lambda s, sp, o: transformation_try(s, spec=sp, **o),
        "tryTransformationBeforeUpdate": lambda s, sp, o: transformation_try(s, spec=sp, **o),
        "createTask": lambda s, sp, o: task_create(s, spec=sp, **o),
        "replaceTask": lambda s, sp, o: task_replace(s, source_type=task_source, spec=sp, **o),
        "updateTask": lambda s, sp, o: task_update(s, source_type=task_source, spec=sp, **o),
        "createTaskV1": lambda s, sp, o: task_create_v1(s, spec=sp, **o),
        "updateTaskV1": lambda s, sp, o: task_update_v1(s, source_type=task_source, spec=sp, **o),
        "push": lambda _s, sp, o: push_payload(spec=sp, **o),
        "pushTask": lambda _s, sp, o: push_payload(spec=sp, **o),
        "runSource": lambda _s, sp, o: run_source_payload(spec=sp, **o),
        "runTask": lambda _s, sp, o: run_task_payload(spec=sp, **o),
        "runTaskV1": lambda _s, sp, o: run_task_payload(spec=sp, **o),
    }
    return table.get(op_id)


def _path_candidates(op: Operation, name: str, state: State) -> list[str]:
    family = ID_FAMILIES.get(name)
    if family is None:
        return []
    ids = state.ids(family)
    if op.operation_id in _DELETE_OPS:
        used = state.referenced()
        ids = [i for i in ids if i not in used]
    if op.operation_id == "triggerDockerSourceDiscover":
        ids = [i for i in ids if state.type_of("sources", i) == "docker"]
    if op.operation_id == "runSource":
        ids = [i for i in ids if state.type_of("sources", i) in RUNNABLE_SOURCE_TYPES]
    return ids


def _path_params(op: Operation, state: State | None) -> SearchStrategy[dict[str, str]]:
    names = [p.name for p in op.parameters if p.location == "path"]
    if not names:
        return st.just({})
    if state is not None and "eventID" in names:
        pairs = sorted((run, event) for run, events in state.events.items() for event in events)
        return (
            st.sampled_from(pairs).map(lambda p: {"runID": p[0], "eventID": p[1]}) if pairs else st.nothing()
        )
    parts: dict[str, SearchStrategy[str]] = {}
    for name in names:
        if name == "indexName" and state is not None:
            indexes = state.push_indexes()
            parts[name] = st.sampled_from(indexes) if indexes else st.nothing()
        elif name in ID_FAMILIES:
            if state is None:
                parts[name] = UUIDS
            else:
                found = _path_candidates(op, name, state)
                parts[name] = st.sampled_from(found) if found else st.nothing()
        else:
            parts[name] = implicit_formats()["x-segment"]
    return st.fixed_dictionaries(parts)


def _query_schema(schema: Schema) -> Schema:
    """A query parameter's schema without ``null`` (a query string has no way to spell it)."""
    prepared: Schema = prepare(without_null(schema))
    if prepared.get("type") == "array":
        # An empty comma-separated list is spelled "" (the service refuses an empty value).
        prepared["minItems"] = max(1, int(prepared.get("minItems", 0)))
        prepared["maxItems"] = max(prepared["minItems"], int(prepared.get("maxItems", 0)))
    return prepared


def _strip_null(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _strip_null(v) for k, v in node.items()}
        for key in ("oneOf", "anyOf"):
            if key in out:
                kept = [b for b in out[key] if b.get("type") != "null"]
                out[key] = kept
        if isinstance(out.get("type"), list):
            out["type"] = [t for t in out["type"] if t != "null"]
        if isinstance(out.get("enum"), list):
            out["enum"] = [v for v in out["enum"] if v is not None]
        return out
    if isinstance(node, list):
        return [_strip_null(v) for v in node]
    return node


def without_null(schema: Schema) -> Schema:
    stripped: Schema = _strip_null(schema)
    return stripped


def _rfc3339(epoch: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_DATES = st.integers(1_577_836_800, 1_735_689_600)  # 2020 to 2025: in the past


def _window() -> SearchStrategy[Fragment]:
    """startDate/endDate: RFC 3339, the start not after the end.

    A lone ``endDate`` is never drawn: the service takes the missing start as "a while before
    now", which is after any end in the past. A lone ``startDate`` is in the past.
    """
    pair = st.tuples(_DATES, st.integers(0, 30 * 86_400)).map(lambda p: (p[0], p[0] + p[1]))
    return st.tuples(pair, st.sampled_from(["both", "start", "none"])).map(
        lambda d: {
            "startDate": _rfc3339(d[0][0]) if d[1] in ("both", "start") else OMIT,
            "endDate": _rfc3339(d[0][1]) if d[1] == "both" else OMIT,
        }
    )


def _query(op: Operation, state: State | None) -> SearchStrategy[dict[str, Any]]:
    params = [p for p in op.parameters if p.location == "query" and json_kind(p.schema) != "object"]
    fields: dict[str, SearchStrategy[Any]] = {}
    window = any(p.name == "startDate" for p in params) and any(p.name == "endDate" for p in params)
    for p in params:
        if window and p.name in ("startDate", "endDate"):
            continue
        family = ID_FAMILIES.get(p.name)
        if p.name == "referenceIndexName":
            value: SearchStrategy[Any] = (
                st.sampled_from(state.push_indexes()) if state and state.push_indexes() else st.nothing()
            )
        elif family is not None and family != "events":
            ids = state.ids(family) if state is not None else []
            one = st.one_of(st.sampled_from(ids), UUIDS) if ids else UUIDS
            value = st.lists(one, min_size=1, max_size=3) if json_kind(p.schema) == "array" else one
        else:
            value = pooled(_query_schema(p.schema))
        fields[p.name] = value if p.required else maybe(value)
    drawn = st.fixed_dictionaries(fields) if fields else st.just({})
    if window:
        drawn = st.tuples(drawn, _window()).map(lambda t: {**t[0], **t[1]})
    return drawn.map(lambda q: {k: v for k, v in q.items() if v is not OMIT})


def json_kind(schema: Schema) -> str | None:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind if isinstance(kind, str) else None


@dataclass(frozen=True)
class Request:
    """One call of one operation: what to send, with the parameters still typed."""

    operation_id: str
    method: str
    path_template: str
    path_params: Mapping[str, str]
    query: Mapping[str, Any]
    body: Any = None  # None: no body
    exploded: frozenset[str] = frozenset()  # array query parameters sent as repeated keys

    @property
    def path(self) -> str:
        """The path with its parameters filled in (percent-encoded)."""
        return re.sub(
            r"\{([^}]+)\}", lambda m: quote(str(self.path_params[m.group(1)]), safe=""), self.path_template
        )

    def query_params(self) -> list[tuple[str, str]]:
        """The query string's pairs, arrays spelled as the spec says (comma-joined unless exploded)."""
        pairs: list[tuple[str, str]] = []
        for name, value in self.query.items():
            if isinstance(value, list):
                if name in self.exploded:
                    pairs.extend((name, _spell(v)) for v in value)
                else:
                    pairs.append((name, ",".join(_spell(v) for v in value)))
            else:
                pairs.append((name, _spell(value)))
        return pairs

    def send(self, client: Any, headers: Mapping[str, str] | None = None) -> Any:
        """Send with an httpx-style client (``httpx.Client``, Starlette's ``TestClient``)."""
        kwargs: dict[str, Any] = {"params": self.query_params()}
        if headers is not None:
            kwargs["headers"] = dict(headers)
        if self.body is not None:
            kwargs["json"] = self.body
        return client.request(self.method, self.path, **kwargs)

    def describe(self) -> str:
        query = "&".join(f"{k}={v}" for k, v in self.query_params())
        text = f"{self.method} {self.path}" + (f"?{query}" if query else "")
        return text + (f" {json.dumps(self.body)}" if self.body is not None else "")


def _spell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def parameters(
    operation_id: str, state: State | None = None, *, spec: Spec | None = None
) -> SearchStrategy[tuple[dict[str, str], dict[str, Any]]]:
    """Valid ``(path_params, query)`` of an operation; path IDs name resources the state holds."""
    op = (spec if spec is not None else load_spec()).operations[operation_id]
    return st.tuples(_path_params(op, state), _query(op, state))


def request(
    operation_id: str, state: State | None = None, *, spec: Spec | None = None, **overrides: Any
) -> SearchStrategy[Request]:
    """Valid requests of one operation (parameters and a body that fits the resource acted on).

    With a ``state``, an operation that has nothing to act on (no deletable source, no docker
    source to discover, no shopify, bigcommerce or commercetools source to run, ...) draws
    nothing: see :func:`requests` to pick among feasible ones.
    """
    loaded = spec if spec is not None else load_spec()
    op = loaded.operations[operation_id]
    exploded = frozenset(p.name for p in op.parameters if p.location == "query" and p.explode)
    built: dict[tuple[tuple[str, str], ...], SearchStrategy[Any]] = {}

    def with_body(params: tuple[dict[str, str], dict[str, Any]]) -> SearchStrategy[Request]:
        path, query = params
        key = tuple(sorted(path.items()))
        if key not in built:
            built[key] = body(operation_id, state, path_params=path, spec=loaded, **overrides)
        return built[key].map(
            lambda b: Request(operation_id, op.method, op.path, path, query, clone(b), exploded)
        )

    return parameters(operation_id, state, spec=loaded).flatmap(with_body)


_CUSTOM = ("customGet", "customPost", "customPut", "customDelete")


def feasible(state: State | None, spec: Spec | None = None) -> list[str]:
    """Operations a valid request can be drawn for in ``state`` (the custom ones left out, and those
    the spec marks ``x-mock-served: false``: the mock answers them 402 whatever is sent)."""
    loaded = spec if spec is not None else load_spec()
    found = []
    for op_id, op in loaded.operations.items():
        if op_id in _CUSTOM or op.raw.get("x-mock-served") is False:
            continue
        if state is not None and not _feasible(op, state):
            continue
        found.append(op_id)
    return found


def _feasible(op: Operation, state: State) -> bool:
    for p in op.parameters:
        if p.location != "path":
            continue
        if p.name == "eventID":
            if not any(state.events.values()):
                return False
        elif p.name == "indexName":
            if not state.push_indexes():
                return False
        elif p.name in ID_FAMILIES and not _path_candidates(op, p.name, state):
            return False
    if op.operation_id in ("createTask", "createTaskV1"):
        return bool(state.ids("sources")) and bool(state.ids("destinations"))
    if op.operation_id == "replaceTask":
        return bool(state.ids("destinations"))
    return True


def requests(
    state: State | None = None, operations: Iterable[str] | None = None, *, spec: Spec | None = None
) -> SearchStrategy[Request]:
    """A valid request of any feasible operation (or of those in ``operations``)."""
    wanted = list(operations) if operations is not None else feasible(state, spec)
    built: dict[str, SearchStrategy[Request]] = {}

    def one(op_id: str) -> SearchStrategy[Request]:
        if op_id not in built:
            built[op_id] = request(op_id, state, spec=spec)
        return built[op_id]

    return st.sampled_from(sorted(wanted)).flatmap(one)


def warm_up(spec: Spec | None = None) -> None:
    """Build every pool now (the first draw of each body would otherwise pay for it)."""
    loaded = spec if spec is not None else load_spec()
    for op_id in loaded.operations:
        body(op_id, spec=loaded)
        parameters(op_id, spec=loaded)
