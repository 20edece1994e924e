"""Bodies and requests that break exactly one rule and say which (``Invalid``, ``RULES``).

Each ``invalid_*`` strategy takes a valid draw and breaks one thing: a required field left out,
an unknown field, a value against the schema, an input of another type, a cron that does not
parse, a reference naming nothing, a path ID naming nothing, a date window out of order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from mockserver.engine.validation import compile_schema, discriminated_variants, discriminating_field
from mockserver.spec import Operation, Schema, Spec, load_spec
from mockserver.strategies._operations import (
    SEARCH_OPERATIONS,
    Request,
    body,
    json_kind,
    request,
    without_null,
)
from mockserver.strategies._pools import clone, pool
from mockserver.strategies._state import ID_FAMILIES, State, fresh_id
from mockserver.strategies._variants import SpecVariants, task_inputs, variants_of

T = TypeVar("T")

# Crons the spec's pattern admits but that never fire (a day the month never has): the schema
# cannot tell; the service refuses them. (A cron the pattern refuses is a schema error.)
_INVALID_CRONS: Final = (
    "0 0 30 2 *",
    "0 0 31 2 *",
    "0 12 31 4 *",
    "30 6 31 6 *",
    "0 0 30,31 2 *",
    "0 0 31 11 *",
)


@dataclass(frozen=True)
class Invalid(Generic[T]):
    """Something that breaks exactly one rule: ``rule`` says which kind, ``where`` which part."""

    value: T
    rule: str  # required | unknown-field | schema | input-type | cron | reference | missing-resource
    where: str  # body.input, path.sourceID, query.page, ...
    detail: str

    def __str__(self) -> str:
        return f"{self.rule} at {self.where}: {self.detail}"


RULES: Final = (
    "required",
    "unknown-field",
    "schema",
    "input-type",
    "cron",
    "reference",
    "missing-resource",
    "window",
)

_WRONG_VALUES: Final[tuple[Any, ...]] = (12345, "not-a-valid-choice", True, None, [1], {"unexpected": 1})


@dataclass(frozen=True)
class _Rules:
    """What a body's semantic rules are, for breaking one of them."""

    schema: Schema  # the whole body's (dereferenced) schema
    type_inputs: Mapping[str, Schema] | None = None  # the spec's, by type (create bodies with ``type``)
    own_input: Schema | None = None  # the spec's input schema of the resource acted on (updates, tasks)
    other_inputs: Sequence[Schema] = ()  # input schemas of other types (prepared: values are drawn)
    state: State | None = None
    references: bool = True  # whether its ID fields must name existing resources (not a search's)


def _mutations(value: dict[str, Any], rules: _Rules) -> list[SearchStrategy[Invalid[dict[str, Any]]]]:
    whole = _validator(rules.schema)
    schema = _shape_of(rules.schema, value)
    props: dict[str, Any] = schema.get("properties", {})
    found: list[SearchStrategy[Invalid[dict[str, Any]]]] = []
    for name in schema.get("required", ()):
        if name in value:
            broken = {k: v for k, v in value.items() if k != name}
            found.append(
                st.just(Invalid(broken, "required", f"body.{name}", f"required field {name} left out"))
            )
    if schema.get("additionalProperties") is False:
        extra = dict(value, unexpectedField=1)
        found.append(
            st.just(
                Invalid(extra, "unknown-field", "body.unexpectedField", "a field the schema does not allow")
            )
        )
    for name, sub in props.items():
        if name not in value:
            continue
        check = _validator(sub)
        for wrong in _WRONG_VALUES:
            broken = dict(value, **{name: wrong})
            if not check.is_valid(wrong) and not whole.is_valid(broken):
                found.append(
                    st.just(
                        Invalid(
                            broken, "schema", f"body.{name}", f"{json.dumps(wrong)} does not fit the schema"
                        )
                    )
                )
                break
    found.extend(_semantic_mutations(value, rules, whole))
    return found


def _shape_of(schema: Schema, value: dict[str, Any]) -> Schema:
    """The variant of a per-type ``oneOf`` that ``value`` is (the schema itself when it is not one)."""
    name = discriminating_field(schema)
    variants = discriminated_variants(schema)
    if name is None or not variants:
        return schema
    optional = [v for v, s in variants.items() if name not in s.get("required", ())]
    kind = value.get(name, optional[0] if len(optional) == 1 else None)
    return variants.get(str(kind), schema)


def _semantic_mutations(
    value: dict[str, Any], rules: _Rules, whole: Any
) -> list[SearchStrategy[Invalid[dict[str, Any]]]]:
    found: list[SearchStrategy[Invalid[dict[str, Any]]]] = []
    # A type whose input rules the body's input out (create bodies: the schema says so too).
    if rules.type_inputs and "type" in value and isinstance(value.get("input"), dict):
        others = [
            t
            for t, s in sorted(rules.type_inputs.items())
            if t != value["type"] and not _validator(s).is_valid(value["input"])
        ]
        if others:
            found.append(
                st.sampled_from(others).map(
                    lambda t: Invalid(
                        dict(value, type=t), "input-type", "body.input", f"the input does not fit type {t!r}"
                    )
                )
            )
    # An input of another type, schema-valid for the body but not for the resource acted on.
    if rules.own_input is not None and rules.other_inputs:
        own = _validator(rules.own_input)
        candidates = [
            v
            for s in rules.other_inputs
            for v in pool(s)[:8]
            if not own.is_valid(v) and whole.is_valid(dict(value, input=v))
        ]
        if candidates:
            found.append(
                st.sampled_from(candidates).map(
                    lambda v: Invalid(
                        dict(value, input=clone(v)), "input-type", "body.input", "an input of another type"
                    )
                )
            )
    for path in (("cron",), ("trigger", "cron")):
        if _get(value, path) is not None:
            where = "body." + ".".join(path)
            found.append(st.sampled_from(_INVALID_CRONS).map(_bad_cron(value, path, where)))
    for name, family in ID_FAMILIES.items():
        searched = name.endswith("IDs") and name not in ("transformationIDs", "authenticationIDs")
        if not rules.references or name not in value or family in ("runs", "events") or searched:
            continue
        current = value[name]
        if isinstance(current, list) and not current:
            continue
        fresh = fresh_id(rules.state)
        if isinstance(current, list):
            found.append(fresh.map(_bad_reference(value, name, list(current))))
        else:
            found.append(fresh.map(_bad_reference(value, name, None)))
    return found


_validators: dict[int, tuple[Schema, Any]] = {}


def _validator(schema: Schema) -> Any:
    """A compiled validator for ``schema``, kept for as long as the schema object lives here."""
    found = _validators.get(id(schema))
    if found is None or found[0] is not schema:
        found = _validators[id(schema)] = (schema, compile_schema(schema))
    return found[1]


def _bad_cron(
    value: dict[str, Any], path: tuple[str, ...], where: str
) -> Callable[[str], Invalid[dict[str, Any]]]:
    def make(cron: str) -> Invalid[dict[str, Any]]:
        return Invalid(_set(value, path, cron), "cron", where, f"{cron!r} never fires")

    return make


def _bad_reference(
    value: dict[str, Any], name: str, current: list[Any] | None
) -> Callable[[str], Invalid[dict[str, Any]]]:
    def make(fresh: str) -> Invalid[dict[str, Any]]:
        new: Any = fresh if current is None else [*current[:-1], fresh]
        return Invalid(dict(value, **{name: new}), "reference", f"body.{name}", f"{fresh} names nothing")

    return make


def _get(value: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _set(value: dict[str, Any], path: tuple[str, ...], new: Any) -> dict[str, Any]:
    out = clone(value)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = new
    return out


def _break_one(
    valid: SearchStrategy[dict[str, Any]], rules: _Rules
) -> SearchStrategy[Invalid[dict[str, Any]]]:
    def choose(value: dict[str, Any]) -> SearchStrategy[Invalid[dict[str, Any]]]:
        options = _mutations(value, rules)
        return st.one_of(options) if options else st.nothing()

    return valid.flatmap(choose)


def _type_inputs(gen: SpecVariants, owner: str) -> dict[str, Schema]:
    """The spec's own input schema (not the narrower prepared one) of each type of ``owner``.

    Whether a value breaks a rule is judged by the schema the server checks against."""
    mapping = gen.input_mapping(owner)
    return {t: gen.spec.schema(n) for t, n in mapping.items() if n is not None and t in gen.variants(owner)}


def _rules_for(op: Operation, state: State | None, path: Mapping[str, str], spec: Spec) -> _Rules:
    gen = variants_of(spec)
    schema = op.body_schema or {}
    op_id = op.operation_id
    if op_id in SEARCH_OPERATIONS:
        return _Rules(schema, state=state, references=False)
    owners = {
        "createAuthentication": "AuthenticationCreate",
        "createSource": "SourceCreate",
        "validateSource": "SourceCreate",
        "createTransformation": "TransformationCreate",
        "updateTransformation": "TransformationCreate",
    }
    if op_id in owners:
        return _Rules(schema, type_inputs=_type_inputs(gen, owners[op_id]), state=state)
    update_owner = {
        "updateAuthentication": ("AuthenticationUpdate", "authentications", "authenticationID"),
        "updateSource": ("SourceUpdate", "sources", "sourceID"),
        "validateSourceBeforeUpdate": ("SourceUpdate", "sources", "sourceID"),
    }
    if op_id in update_owner and state is not None:
        owner, family, param = update_owner[op_id]
        kind = state.type_of(family, path.get(param, ""))
        mapping = gen.input_mapping(owner)
        own_name = mapping.get(kind or "")
        own = gen.spec.schema(own_name) if own_name is not None else None
        others = [gen.prepared(n) for t, n in sorted(mapping.items()) if n is not None and t != kind]
        return _Rules(schema, own_input=own, other_inputs=others, state=state)
    if op_id in ("createTask", "createTaskV1", "replaceTask", "updateTask", "updateTaskV1"):
        return _Rules(schema, state=state, **_task_input_rules(gen, op_id, state, path))
    return _Rules(schema, state=state)


def _task_input_rules(
    gen: SpecVariants, op_id: str, state: State | None, path: Mapping[str, str]
) -> dict[str, Any]:
    if state is None or op_id in ("createTask", "createTaskV1") or "taskID" not in path:
        return {}
    kind = state.task_source_type(path["taskID"])
    table = task_inputs(gen.spec)
    own_name = table.get(kind or "", table["default"])
    names = set(table.values()) - {own_name}
    return {"own_input": gen.spec.schema(own_name), "other_inputs": [gen.prepared(n) for n in sorted(names)]}


def invalid_body(
    operation_id: str,
    state: State | None = None,
    *,
    path_params: Mapping[str, str] | None = None,
    spec: Spec | None = None,
    **overrides: Any,
) -> SearchStrategy[Invalid[dict[str, Any]]]:
    """Bodies of ``operation_id`` that break exactly one rule (schema or domain), and say which."""
    loaded = spec if spec is not None else load_spec()
    op = loaded.operations[operation_id]
    if op.body_schema is None:
        return st.nothing()
    path = dict(path_params or {})
    valid = body(operation_id, state, path_params=path, spec=loaded, **overrides).filter(
        lambda b: isinstance(b, dict)
    )
    return _break_one(valid, _rules_for(op, state, path, loaded))


def _invalid_named(operation_id: str) -> Callable[..., SearchStrategy[Invalid[dict[str, Any]]]]:
    def make(
        state: State | None = None,
        *,
        path_params: Mapping[str, str] | None = None,
        spec: Spec | None = None,
        **overrides: Any,
    ) -> SearchStrategy[Invalid[dict[str, Any]]]:
        return invalid_body(operation_id, state, path_params=path_params, spec=spec, **overrides)

    make.__name__ = make.__qualname__ = f"invalid_{operation_id}"
    make.__doc__ = f"Bodies of ``{operation_id}`` that break exactly one rule (see :func:`invalid_body`)."
    return make


invalid_authentication_create = _invalid_named("createAuthentication")
invalid_authentication_update = _invalid_named("updateAuthentication")
invalid_source_create = _invalid_named("createSource")
invalid_source_update = _invalid_named("updateSource")
invalid_destination_create = _invalid_named("createDestination")
invalid_destination_update = _invalid_named("updateDestination")
invalid_transformation_create = _invalid_named("createTransformation")
invalid_task_create = _invalid_named("createTask")
invalid_task_create_v1 = _invalid_named("createTaskV1")
invalid_task_replace = _invalid_named("replaceTask")
invalid_task_update = _invalid_named("updateTask")
invalid_task_update_v1 = _invalid_named("updateTaskV1")


def _invalid_query_values(schema: Schema) -> list[Any]:
    kind = json_kind(schema)
    check = _validator(schema)
    if kind == "integer":
        candidates: list[Any] = [
            "not-a-number",
            schema.get("minimum", 1) - 1,
            schema.get("maximum", 10**9) + 1,
        ]
        return [c for c in candidates if isinstance(c, str) or not check.is_valid(c)]
    if kind == "boolean":
        return ["maybe"]
    if kind == "array":
        return [["not-a-valid-choice"]] if not check.is_valid(["not-a-valid-choice"]) else []
    if kind == "string" and not check.is_valid("not-a-valid-choice"):
        return ["not-a-valid-choice"]
    return []


def invalid_request(
    operation_id: str, state: State | None = None, *, spec: Spec | None = None
) -> SearchStrategy[Invalid[Request]]:
    """Requests of one operation that break exactly one rule: a body rule, a query parameter's
    schema, a date window, or a path ID naming nothing (``missing-resource``)."""
    loaded = spec if spec is not None else load_spec()
    op = loaded.operations[operation_id]

    def mutate(req: Request) -> SearchStrategy[Invalid[Request]]:
        options: list[SearchStrategy[Invalid[Request]]] = []
        for name in req.path_params:
            if name in ID_FAMILIES:
                options.append(fresh_id(state).map(_missing_resource(req, name)))
        for p in op.parameters:
            if p.location != "query" or json_kind(p.schema) == "object":
                continue
            for wrong in _invalid_query_values(without_null(p.schema)):
                options.append(
                    st.just(
                        Invalid(
                            _replace(req, query={**req.query, p.name: wrong}),
                            "schema",
                            f"query.{p.name}",
                            f"{wrong!r} does not fit the parameter's schema",
                        )
                    )
                )
        if "startDate" in {p.name for p in op.parameters}:
            options.append(
                st.just(
                    Invalid(
                        _replace(
                            req,
                            query={
                                **req.query,
                                "startDate": "2030-01-02T00:00:00Z",
                                "endDate": "2030-01-01T00:00:00Z",
                            },
                        ),
                        "window",
                        "query.startDate",
                        "startDate after endDate",
                    )
                )
            )
        if isinstance(req.body, dict) and op.body_schema is not None:
            rules = _rules_for(op, state, req.path_params, loaded)
            for option in _mutations(req.body, rules):
                options.append(
                    option.map(
                        lambda inv: Invalid(_replace(req, body=inv.value), inv.rule, inv.where, inv.detail)
                    )
                )
        return st.one_of(options) if options else st.nothing()

    return request(operation_id, state, spec=loaded).flatmap(mutate)


def _missing_resource(req: Request, name: str) -> Callable[[str], Invalid[Request]]:
    def make(fresh: str) -> Invalid[Request]:
        changed = _replace(req, path_params={**req.path_params, name: fresh})
        return Invalid(changed, "missing-resource", f"path.{name}", f"{fresh} names nothing")

    return make


def _replace(req: Request, **changes: Any) -> Request:
    import dataclasses

    return dataclasses.replace(req, **changes)
