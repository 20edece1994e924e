"""Valid request bodies, one strategy per body (``source_create``, ``task_create``, ...).

Each is valid in the way the service means it: an ``input`` fits its ``type`` (or its source's
type, for a task), references name resources of the given :class:`State`, a ``cron`` parses.
Any top-level field can be overridden with a value or a strategy (``OMIT`` leaves it out).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from mockserver.spec import Schema, Spec
from mockserver.strategies._pools import OMIT, as_strategy, composed, maybe, pooled
from mockserver.strategies._state import UUIDS, State, existing_id, id_field_of
from mockserver.strategies._variants import SpecVariants, variants_of

Fragment = dict[str, Any]


def object_body(
    schema: Schema,
    fields: Mapping[str, SearchStrategy[Any]],
    groups: Sequence[tuple[tuple[str, ...], SearchStrategy[Fragment]]] = (),
) -> SearchStrategy[dict[str, Any]]:
    """Objects of ``schema`` whose named ``fields`` (and ``groups`` of fields) come from elsewhere."""
    taken = set(fields) | {name for names, _ in groups for name in names}
    rest = copy.deepcopy(schema)
    props = rest.get("properties", {})
    for name in taken:
        props.pop(name, None)
    if "required" in rest:
        rest["required"] = [r for r in rest["required"] if r not in taken]
    names = list(fields)
    parts: list[SearchStrategy[Any]] = [composed(rest), *fields.values(), *(g for _, g in groups)]

    def assemble(drawn: tuple[Any, ...]) -> dict[str, Any]:
        result: dict[str, Any] = copy.deepcopy(drawn[0])
        for name, value in zip(names, drawn[1 : 1 + len(names)], strict=True):
            if value is not OMIT:
                result[name] = copy.deepcopy(value)
        for fragment in drawn[1 + len(names) :]:
            result.update({k: copy.deepcopy(v) for k, v in fragment.items() if v is not OMIT})
        return result

    return st.tuples(*parts).map(assemble)


def _typed(
    variants: Mapping[str, Schema],
    chosen: Any,
    build: Callable[[str, Schema], SearchStrategy[dict[str, Any]]],
) -> SearchStrategy[dict[str, Any]]:
    """One of the type variants (or the one ``chosen``: a value or a strategy of values)."""
    if chosen is None:
        return st.one_of([build(t, variants[t]) for t in sorted(variants)])
    if isinstance(chosen, SearchStrategy):
        return chosen.flatmap(lambda t: build(t, _variant(variants, t)))
    return build(chosen, _variant(variants, chosen))


def _variant(variants: Mapping[str, Schema], value: str) -> Schema:
    if value not in variants:
        raise ValueError(f"no valid body has type {value!r}; known: {', '.join(sorted(variants))}")
    return variants[value]


def with_overrides(
    defaults: dict[str, SearchStrategy[Any]], overrides: Mapping[str, Any]
) -> dict[str, SearchStrategy[Any]]:
    fields = dict(defaults)
    for name, value in overrides.items():
        fields[name] = as_strategy(value)
    return fields


# --- named bodies ------------------------------------------------------------------------------------


def authentication_create(
    state: State | None = None, *, spec: Spec | None = None, **overrides: Any
) -> SearchStrategy[dict[str, Any]]:
    """``POST /1/authentications`` bodies; ``input`` fits ``type``."""
    gen = variants_of(spec)
    chosen = overrides.pop("type", None)
    return _typed(
        gen.variants("AuthenticationCreate"),
        chosen,
        lambda _t, schema: object_body(schema, with_overrides({}, overrides)),
    )


def authentication_update(
    state: State | None = None,
    *,
    auth_type: str | None = None,
    spec: Spec | None = None,
    **overrides: Any,
) -> SearchStrategy[dict[str, Any]]:
    """``PATCH /1/authentications/{id}`` bodies; with ``auth_type``, an ``input`` for that type."""
    gen = variants_of(spec)
    defaults: dict[str, SearchStrategy[Any]] = {"input": st.just(OMIT)}
    schema = gen.input_schema("AuthenticationUpdate", auth_type)
    if schema is not None:
        defaults["input"] = maybe(pooled(schema))
    return object_body(gen.prepared("AuthenticationUpdate"), with_overrides(defaults, overrides))


def source_create(
    state: State | None = None, *, spec: Spec | None = None, **overrides: Any
) -> SearchStrategy[dict[str, Any]]:
    """``POST /1/sources`` (and ``/1/sources/validate``) bodies; ``input`` fits ``type``."""
    gen = variants_of(spec)
    chosen = overrides.pop("type", None)
    defaults = {"authenticationID": _maybe_reference(state, "authentications")}
    return _typed(
        gen.variants("SourceCreate"),
        chosen,
        lambda _t, schema: object_body(schema, with_overrides(defaults, overrides)),
    )


def source_update(
    state: State | None = None,
    *,
    source_type: str | None = None,
    spec: Spec | None = None,
    **overrides: Any,
) -> SearchStrategy[dict[str, Any]]:
    """``PATCH /1/sources/{id}`` bodies; with ``source_type``, an ``input`` for that type."""
    gen = variants_of(spec)
    defaults: dict[str, SearchStrategy[Any]] = {
        "input": st.just(OMIT),
        "authenticationID": _maybe_reference(state, "authentications"),
    }
    schema = gen.input_schema("SourceUpdate", source_type)
    if schema is not None:
        defaults["input"] = maybe(pooled(schema))
    return object_body(gen.prepared("SourceUpdate"), with_overrides(defaults, overrides))


def _maybe_reference(state: State | None, family: str) -> SearchStrategy[Any]:
    ids = state.ids(family) if state is not None else []
    return maybe(st.sampled_from(ids)) if ids else st.just(OMIT)


def _maybe_references(state: State | None, family: str) -> SearchStrategy[Any]:
    ids = state.ids(family) if state is not None else []
    if not ids:
        return st.just(OMIT)
    return maybe(st.lists(st.sampled_from(ids), max_size=2, unique=True))


def destination_create(
    state: State | None = None, *, spec: Spec | None = None, **overrides: Any
) -> SearchStrategy[dict[str, Any]]:
    """``POST /1/destinations`` bodies; references exist in ``state`` (left out without one)."""
    defaults = {
        "authenticationID": _maybe_reference(state, "authentications"),
        "transformationIDs": _maybe_references(state, "transformations"),
    }
    return object_body(variants_of(spec).prepared("DestinationCreate"), with_overrides(defaults, overrides))


def destination_update(
    state: State | None = None, *, spec: Spec | None = None, **overrides: Any
) -> SearchStrategy[dict[str, Any]]:
    """``PATCH /1/destinations/{id}`` bodies."""
    defaults = {
        "authenticationID": _maybe_reference(state, "authentications"),
        "transformationIDs": _maybe_references(state, "transformations"),
    }
    return object_body(variants_of(spec).prepared("DestinationUpdate"), with_overrides(defaults, overrides))


def transformation_create(
    state: State | None = None, *, spec: Spec | None = None, **overrides: Any
) -> SearchStrategy[dict[str, Any]]:
    """``POST /1/transformations`` (and ``PUT``) bodies; ``input`` fits ``type`` (code or noCode)."""
    gen = variants_of(spec)
    chosen = overrides.pop("type", None)
    defaults = {"authenticationIDs": _maybe_references(state, "authentications")}
    return _typed(
        gen.variants("TransformationCreate"),
        chosen,
        lambda _t, schema: object_body(schema, with_overrides(defaults, overrides)),
    )


def transformation_try(
    state: State | None = None, *, spec: Spec | None = None, **overrides: Any
) -> SearchStrategy[dict[str, Any]]:
    """``POST /1/transformations/try`` bodies; each embedded authentication is valid for its type."""
    gen = variants_of(spec)
    chosen = overrides.pop("type", None)
    auths = st.lists(authentication_create(spec=spec), max_size=2)
    defaults = {"authentications": maybe(auths)}
    return _typed(
        gen.variants("TransformationTry"),
        chosen,
        lambda _t, schema: object_body(schema, with_overrides(defaults, overrides)),
    )


def _task_input(gen: SpecVariants, source_type: str | None) -> SearchStrategy[Any]:
    return maybe(pooled(gen.task_input(source_type)))


def _source_and_input(
    gen: SpecVariants, state: State | None, overrides: dict[str, Any]
) -> tuple[tuple[str, ...], SearchStrategy[Fragment]]:
    """The ``sourceID`` of a new task with an ``input`` fitting that source's type."""
    source = overrides.pop("sourceID", None)
    given_input = overrides.pop("input", None)

    def inputs(kind: str | None) -> SearchStrategy[Any]:
        return as_strategy(given_input) if given_input is not None else _task_input(gen, kind)

    def pair(ids: SearchStrategy[str], kind: str | None) -> SearchStrategy[Fragment]:
        return st.tuples(ids, inputs(kind)).map(lambda p: {"sourceID": p[0], "input": p[1]})

    if source is None:
        if state is None:
            return ("sourceID", "input"), pair(UUIDS, None)
        by_type: dict[str | None, list[str]] = {}
        for source_id in state.ids("sources"):
            by_type.setdefault(state.type_of("sources", source_id), []).append(source_id)
        options = [pair(st.sampled_from(ids), kind) for kind, ids in sorted(by_type.items(), key=str)]
        return ("sourceID", "input"), st.one_of(options) if options else st.nothing()
    if not isinstance(source, SearchStrategy):
        kind = state.type_of("sources", source) if state is not None else None
        return ("sourceID", "input"), pair(st.just(source), kind)

    def with_input(source_id: str) -> SearchStrategy[Fragment]:
        kind = state.type_of("sources", source_id) if state is not None else None
        return pair(st.just(source_id), kind)

    return ("sourceID", "input"), source.flatmap(with_input)


def task_create(
    state: State | None = None, *, spec: Spec | None = None, **overrides: Any
) -> SearchStrategy[dict[str, Any]]:
    """``POST /2/tasks`` bodies: existing source and destination, input by source type, valid cron."""
    gen = variants_of(spec)
    group = _source_and_input(gen, state, overrides)
    defaults = {"destinationID": existing_id(state, "destinations", required=True)}
    return object_body(gen.prepared("TaskCreate"), with_overrides(defaults, overrides), [group])


def task_create_v1(
    state: State | None = None, *, spec: Spec | None = None, **overrides: Any
) -> SearchStrategy[dict[str, Any]]:
    """``POST /1/tasks`` bodies (deprecated API): as ``task_create``, with a ``trigger``."""
    gen = variants_of(spec)
    group = _source_and_input(gen, state, overrides)
    defaults = {"destinationID": existing_id(state, "destinations", required=True)}
    return object_body(gen.prepared("TaskCreateV1"), with_overrides(defaults, overrides), [group])


def _task_change(
    name: str,
    state: State | None,
    source_type: str | None,
    spec: Spec | None,
    overrides: Mapping[str, Any],
    destination_required: bool,
) -> SearchStrategy[dict[str, Any]]:
    gen = variants_of(spec)
    destination = (
        existing_id(state, "destinations", required=True)
        if destination_required
        else _maybe_reference(state, "destinations")
    )
    defaults = {
        "destinationID": destination,
        "input": _task_input(gen, source_type) if source_type is not None else st.just(OMIT),
    }
    return object_body(gen.prepared(name), with_overrides(defaults, overrides))


def task_replace(
    state: State | None = None,
    *,
    source_type: str | None = None,
    spec: Spec | None = None,
    **overrides: Any,
) -> SearchStrategy[dict[str, Any]]:
    """``PUT /2/tasks/{id}`` bodies; with the task's ``source_type``, an ``input`` for it."""
    return _task_change("TaskReplace", state, source_type, spec, overrides, True)


def task_update(
    state: State | None = None,
    *,
    source_type: str | None = None,
    spec: Spec | None = None,
    **overrides: Any,
) -> SearchStrategy[dict[str, Any]]:
    """``PATCH /2/tasks/{id}`` bodies."""
    return _task_change("TaskUpdate", state, source_type, spec, overrides, False)


def task_update_v1(
    state: State | None = None,
    *,
    source_type: str | None = None,
    spec: Spec | None = None,
    **overrides: Any,
) -> SearchStrategy[dict[str, Any]]:
    """``PATCH /1/tasks/{id}`` bodies (deprecated API)."""
    return _task_change("TaskUpdateV1", state, source_type, spec, overrides, False)


def push_payload(*, spec: Spec | None = None, **overrides: Any) -> SearchStrategy[dict[str, Any]]:
    """``POST /1/push/{indexName}`` and ``/2/tasks/{id}/push`` bodies."""
    return object_body(variants_of(spec).prepared("PushTaskPayload"), with_overrides({}, overrides))


def run_source_payload(*, spec: Spec | None = None, **overrides: Any) -> SearchStrategy[dict[str, Any]]:
    """``POST /1/sources/{id}/run`` bodies."""
    return object_body(variants_of(spec).prepared("RunSourcePayload"), with_overrides({}, overrides))


def run_task_payload(*, spec: Spec | None = None, **overrides: Any) -> SearchStrategy[dict[str, Any]]:
    """``POST /2/tasks/{id}/run`` bodies."""
    return object_body(variants_of(spec).prepared("RunTaskPayload"), with_overrides({}, overrides))


def search(family: str, state: State | None = None) -> SearchStrategy[dict[str, Any]]:
    """``POST /1/{family}/search`` bodies: IDs that exist (when known) mixed with unknown ones."""
    id_field = id_field_of(family) + "s"
    known = state.ids(family) if state is not None else []
    ids = st.one_of(st.sampled_from(known), UUIDS) if known else UUIDS
    return st.lists(ids, max_size=4).map(lambda found: {id_field: found})
