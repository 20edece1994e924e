"""Hypothesis strategies for Ingestion API requests, generated from the spec.

Every request body and every operation's parameters have a strategy, and what they draw is valid
in the way the service means it, not only against the schema:

* an authentication's or a source's ``input`` fits its ``type`` (the spec's ``if``/``then`` rules
  and ``x-input-schema-by-type``), a transformation's ``input`` fits its ``type``;
* a task's ``input`` fits its source's type (docker, shopify, or a streaming mapping);
* every ``cron`` is a five-field cron expression that parses, URLs are http(s) URLs, required
  text is not blank;
* given a :class:`State` (the resources that exist), every referenced ID names one of them, and
  path IDs name a resource the operation can act on (a deletable one for a delete, a docker
  source for a discovery, ...). Without a state, required IDs are fresh UUIDs and optional
  references are left out.

Any top-level field can be overridden with a value or a strategy
(``source_create(type="json", name=st.just("x"))``; ``OMIT`` leaves a field out), and each body
has an ``invalid_*`` twin that breaks exactly one rule and says which (:class:`Invalid`).

How it stays fast: values come from schemathesis's JSON Schema generator, run once per schema
(after the type-specific rules are resolved into plain schemas) to fill a pool of distinct valid
values, smallest first, which is cached for the process. A draw is then a few choices among
pools, so it is cheap, reproducible under Hypothesis's seed (the pools are built from a fixed
seed) and shrinks towards the simplest values. ``POOL_SIZE`` sets how many values each pool holds.
"""

from __future__ import annotations

import copy
import functools
import json
import random
import re
import threading
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Generic, TypeVar
from urllib.parse import quote

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from .spec import Operation, Schema, Spec, load_spec
from .validation import compile_schema

__all__ = [
    "OMIT",
    "POOL_SIZE",
    "Invalid",
    "Request",
    "State",
    "authentication_create",
    "authentication_update",
    "body",
    "destination_create",
    "destination_update",
    "from_schema",
    "invalid_authentication_create",
    "invalid_authentication_update",
    "invalid_body",
    "invalid_destination_create",
    "invalid_destination_update",
    "invalid_request",
    "invalid_source_create",
    "invalid_source_update",
    "invalid_task_create",
    "invalid_task_create_v1",
    "invalid_task_replace",
    "invalid_task_update",
    "invalid_task_update_v1",
    "invalid_transformation_create",
    "parameters",
    "push_payload",
    "request",
    "requests",
    "run_source_payload",
    "run_task_payload",
    "search",
    "source_create",
    "source_update",
    "task_create",
    "task_create_v1",
    "task_replace",
    "task_update",
    "task_update_v1",
    "transformation_create",
    "transformation_try",
    "warm_up",
]

T = TypeVar("T")
JSON = Any


class _Omit:
    _instance: _Omit | None = None

    def __new__(cls) -> _Omit:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "OMIT"


OMIT: Final = _Omit()
"""Give this as an override to leave a field out of every drawn body."""

POOL_SIZE = 32
"""Distinct values kept per schema (per type variant). Larger pools: more variety, slower start."""

# --- domain rules the generic machinery needs ------------------------------------------------------

# A task's input is chosen by its source's type (mockserver.resources.tasks holds the same rule).
TASK_INPUT_BY_SOURCE_TYPE: Final = {"docker": "DockerStreamsInput", "shopify": "ShopifyInput"}
DEFAULT_TASK_INPUT: Final = "StreamingInput"
# Input schemas by type for bodies whose spec does not spell the rule out with x-input-schema-by-type.
_EXTRA_INPUT_BY_TYPE: Final[dict[str, dict[str, str | None]]] = {
    "TransformationCreate": {"code": "TransformationCode", "noCode": "TransformationNoCode"},
    "TransformationTry": {"code": "TransformationCode", "noCode": "TransformationNoCode"},
}
# Which family a path or body ID names.
_ID_FAMILIES: Final = {
    "authenticationID": "authentications",
    "authenticationIDs": "authentications",
    "sourceID": "sources",
    "sourceIDs": "sources",
    "destinationID": "destinations",
    "destinationIDs": "destinations",
    "taskID": "tasks",
    "taskIDs": "tasks",
    "transformationID": "transformations",
    "transformationIDs": "transformations",
    "runID": "runs",
    "eventID": "events",
}
_STRING_BOUND = 16
_SAFE_INTEGER = 2**53
_ARRAY_BOUND = 3
_EXTRA_PROPERTIES = 2
_INVALID_CRONS: Final = ("* * *", "61 * * * *", "* 25 * * *", "every day", "* * * * * *", "0 0 32 * *")


# --- value formats the spec leaves implicit --------------------------------------------------------


def _cron_pool() -> list[str]:
    """Five-field cron expressions, built deterministically and checked with croniter."""
    from croniter import croniter

    rng = random.Random(5)
    fields = [
        ["*", "0", "15", "30", "59", "*/5", "*/15", "0-30", "10,40"],
        ["*", "0", "2", "12", "23", "*/2", "8-18", "1,13"],
        ["*", "1", "15", "28", "*/7", "1-10"],
        ["*", "1", "6", "12", "*/3", "1-6"],
        ["*", "0", "1", "6", "1-5", "*/2", "0,6"],
    ]
    found: dict[str, None] = {"* * * * *": None, "0 2 * * *": None}
    while len(found) < 64:
        cron = " ".join(rng.choice(options) for options in fields)
        if croniter.is_valid(cron):
            found[cron] = None
    return list(found)


@functools.cache
def _formats() -> dict[str, SearchStrategy[Any]]:
    words = st.from_regex(r"[a-z][a-z0-9-]{0,9}", fullmatch=True)
    urls = st.builds(
        "{}://{}.{}{}".format,
        st.sampled_from(["https", "http"]),
        words,
        st.sampled_from(["com", "io", "net", "org"]),
        st.sampled_from(["", "/", "/feed.json", "/products", "/v1/items.csv"]),
    )
    text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=12)
    return {
        "x-cron": st.sampled_from(_cron_pool()),
        "x-http-url": urls,
        "x-text": text.map(lambda s: s if s.strip() else f"x{s}"),
        "x-segment": st.from_regex(r"[A-Za-z0-9_.~-]{1,20}", fullmatch=True),
    }


_ANNOTATIONS = frozenset(
    {"description", "example", "examples", "discriminator", "deprecated", "readOnly", "writeOnly", "title"}
)


def _prepare(node: Any, name: str | None = None, required: bool = False) -> Any:
    """A copy of ``node`` ready for generation: annotations out, sizes bounded, implicit formats in.

    Everything it admits is valid for the original schema; it only narrows (shorter strings,
    fewer items) and adds what the service means but the spec leaves as ``type: string``.
    """
    if isinstance(node, list):
        return [_prepare(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-") or key in _ANNOTATIONS:
            continue
        if key == "properties" and isinstance(value, dict):
            needed = set(node.get("required", ()))
            out[key] = {k: _prepare(v, k, k in needed) for k, v in value.items()}
        elif key in ("if", "then", "else", "not", "const", "enum", "default"):
            out[key] = copy.deepcopy(value)
        else:
            out[key] = _prepare(value)
    kind = out.get("type")
    plain = not any(k in out for k in ("enum", "const", "pattern", "format", "anyOf", "oneOf", "allOf"))
    if kind == "string" and plain:
        if name is not None and name.lower().endswith("url"):
            out["format"] = "x-http-url"
        elif name == "cron":
            out["format"] = "x-cron"
        elif required and not out.get("maxLength") and not out.get("minLength"):
            out["format"] = "x-text"
        elif "maxLength" not in out:
            out["maxLength"] = max(int(out.get("minLength", 0)), _STRING_BOUND)
    if kind == "integer":
        # Integers a JSON consumer holds exactly (the service refuses what overflows 64 bits).
        if "maximum" not in out and "exclusiveMaximum" not in out:
            out["maximum"] = _SAFE_INTEGER
        if "minimum" not in out and "exclusiveMinimum" not in out:
            out["minimum"] = -_SAFE_INTEGER
    if kind == "array" and "maxItems" not in out:
        out["maxItems"] = int(out.get("minItems", 0)) + _ARRAY_BOUND
    if kind == "object" and out.get("additionalProperties", True) is not False and "maxProperties" not in out:
        floor = max(len(out.get("properties", {})), len(out.get("required", ())))
        out["maxProperties"] = floor + _EXTRA_PROPERTIES
    return out


def _key(schema: Any) -> str:
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))


def _clone(value: T) -> T:
    return copy.deepcopy(value)


# --- pools: schemathesis's generator, run once per schema -------------------------------------------

_lock = threading.RLock()


def _sample(strategy: SearchStrategy[Any], count: int, seed: int) -> list[Any]:
    """Up to ``count`` values drawn from ``strategy`` with a fixed seed (outside any test run)."""
    from hypothesis.control import BuildContext
    from hypothesis.errors import HypothesisException, StopTest
    from hypothesis.internal.conjecture.data import ConjectureData

    rng = random.Random(seed)
    values: list[Any] = []
    for _ in range(count):
        data = ConjectureData(random=rng)
        try:
            with BuildContext(data, is_final=False, wrapped_test=_sample):
                values.append(data.draw(strategy))
        except (StopTest, HypothesisException):
            continue
    return values


@functools.cache
def _pool_for(schema_key: str, size: int) -> tuple[Any, ...]:
    from schemathesis.generation.jsonschema.builder import build

    schema = json.loads(schema_key)
    strategy = build(schema, draft=20, formats=_formats())
    validator = compile_schema(schema)
    seen: dict[str, Any] = {}
    with _lock:
        for value in _sample(strategy, size + size // 2, zlib.crc32(schema_key.encode())):
            key = _key(value)
            if key not in seen and validator.is_valid(value):
                seen[key] = value
            if len(seen) >= size:
                break
    return tuple(seen[k] for k in sorted(seen, key=lambda k: (len(k), k)))


def pool(schema: Schema) -> tuple[Any, ...]:
    """The cached pool of valid values for ``schema`` (already prepared), smallest first."""
    return _pool_for(_key(schema), POOL_SIZE)


def from_schema(schema: Schema) -> SearchStrategy[Any]:
    """Values valid for any JSON Schema (2020-12 / OAS 3.1, references resolved), from a cached pool."""
    values = pool(_prepare(schema))
    return st.sampled_from(values).map(_clone) if values else st.nothing()


def _pooled(schema: Schema) -> SearchStrategy[Any]:
    values = pool(schema)
    if len(values) == 1:
        return st.just(values[0])
    return st.sampled_from(values) if values else st.nothing()


def _satisfiable(schema: Schema) -> bool:
    """Whether a valid value was found (for an object of independent properties: for each)."""
    props = schema.get("properties")
    if schema.get("type") == "object" and isinstance(props, dict) and set(schema) <= _COMPOSABLE:
        return all(pool(props[k]) for k in schema.get("required", ()) if k in props)
    return bool(pool(schema))


_COMPOSABLE = frozenset({"type", "properties", "required", "additionalProperties", "maxProperties"})


def _composed(schema: Schema) -> SearchStrategy[Any]:
    """An object from one pool per property (many more combinations than one pool of objects).

    Only for objects whose properties are independent (no keyword relating them); any other
    schema is drawn from its own pool.
    """
    props = schema.get("properties")
    required = set(schema.get("required", ()))
    if schema.get("type") != "object" or not isinstance(props, dict) or not set(schema) <= _COMPOSABLE:
        return _pooled(schema)
    if not required <= set(props):
        return _pooled(schema)
    return st.fixed_dictionaries(
        {k: _pooled(v) for k, v in props.items() if k in required},
        optional={k: _pooled(v) for k, v in props.items() if k not in required},
    )


# --- state: what exists ------------------------------------------------------------------------------

Record = Mapping[str, Any]


@dataclass(frozen=True)
class State:
    """The resources that exist, as the API shows them; IDs are drawn from here.

    Build it from an in-process mock (``State.from_app(app, app_id)``), from its store
    (``State.from_account``), or from records a server returned (``State(sources=[...], ...)``;
    only the ID fields, ``type``, the references and a destination's ``input.indexName`` matter).
    ``events`` maps a run ID to the IDs of its published events.
    """

    authentications: Sequence[Record] = ()
    sources: Sequence[Record] = ()
    destinations: Sequence[Record] = ()
    transformations: Sequence[Record] = ()
    tasks: Sequence[Record] = ()
    runs: Sequence[Record] = ()
    events: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @classmethod
    def from_account(cls, account: Any, now: float | None = None) -> State:
        """From a mock's ``Account`` (``app.store.account(app_id)``); ``now``: epoch seconds for events."""
        moment = float("inf") if now is None else now
        events = {
            run_id: tuple(e["eventID"] for e in found.values() if e.get("_publishAt", 0) <= moment)
            for run_id, found in account.events.items()
        }
        return cls(
            authentications=tuple(account.authentications.values()),
            sources=tuple(account.sources.values()),
            destinations=tuple(account.destinations.values()),
            transformations=tuple(account.transformations.values()),
            tasks=tuple(account.tasks.values()),
            runs=tuple(account.runs.values()),
            events=events,
        )

    @classmethod
    def from_app(cls, app: Any, app_id: str) -> State:
        """What an in-process mock holds for ``app_id`` right now."""
        store = app.store
        with store.lock:
            account = store.account(app_id)
            return cls.from_account(account, store.clock_of(account).now().timestamp())

    def ids(self, family: str) -> list[str]:
        if family == "events":
            return sorted({e for found in self.events.values() for e in found})
        id_field = _id_field(family)
        return [str(r[id_field]) for r in getattr(self, family)]

    def type_of(self, family: str, record_id: str) -> str | None:
        for record in getattr(self, family):
            if record.get(_id_field(family)) == record_id:
                kind = record.get("type")
                return str(kind) if kind is not None else None
        return None

    def task_source_type(self, task_id: str) -> str | None:
        for task in self.tasks:
            if task.get("taskID") == task_id:
                return self.type_of("sources", str(task.get("sourceID")))
        return None

    def referenced(self) -> set[str]:
        """IDs something else refers to (and so cannot be deleted)."""
        used: set[str] = set()
        for record in (*self.sources, *self.destinations):
            if record.get("authenticationID"):
                used.add(str(record["authenticationID"]))
        for record in self.destinations:
            used.update(record.get("transformationIDs", ()))
        for record in self.transformations:
            used.update(record.get("authenticationIDs", ()))
        for task in self.tasks:
            used.update((str(task.get("sourceID")), str(task.get("destinationID"))))
        return used

    def push_indexes(self) -> list[str]:
        """Index names exactly one push task writes to (what ``POST /1/push/{indexName}`` needs)."""
        push_sources = {s["sourceID"] for s in self.sources if s.get("type") == "push"}
        index_of = {d["destinationID"]: d.get("input", {}).get("indexName") for d in self.destinations}
        counts: dict[str, int] = {}
        for task in self.tasks:
            index = index_of.get(task.get("destinationID"))
            if task.get("sourceID") in push_sources and index:
                counts[index] = counts.get(index, 0) + 1
        return sorted(name for name, n in counts.items() if n == 1)


def _id_field(family: str) -> str:
    return {
        "authentications": "authenticationID",
        "sources": "sourceID",
        "destinations": "destinationID",
        "transformations": "transformationID",
        "tasks": "taskID",
        "runs": "runID",
    }[family]


_UUID_RNG = random.Random(20260101)
# Fresh IDs: version-4 UUIDs from a fixed sequence (one choice per draw, reproducible).
_UUIDS = st.sampled_from(
    tuple(str(uuid.UUID(int=_UUID_RNG.getrandbits(128), version=4)) for _ in range(1024))
)


def _fresh_id(state: State | None) -> SearchStrategy[str]:
    """An ID that names nothing (a random UUID not in the state)."""
    taken = set() if state is None else {i for fam in _FAMILIES for i in state.ids(fam)}
    return _UUIDS.filter(lambda i: i not in taken)


_FAMILIES = ("authentications", "sources", "destinations", "transformations", "tasks", "runs")


def _existing(state: State | None, family: str, required: bool) -> SearchStrategy[Any]:
    """An existing ID of ``family`` (state given), else a fresh UUID when required, else OMIT."""
    ids = state.ids(family) if state is not None else []
    if ids:
        return st.sampled_from(ids)
    if state is None and required:
        return _UUIDS
    return st.nothing() if required else st.just(OMIT)


def _maybe(strategy: SearchStrategy[Any]) -> SearchStrategy[Any]:
    return st.one_of(st.just(OMIT), strategy)


def _as_strategy(value: Any) -> SearchStrategy[Any]:
    return value if isinstance(value, SearchStrategy) else st.just(value)


# --- the generator: variants, objects, bodies ---------------------------------------------------------


class _Generator:
    """Prepared schemas and type variants for one spec."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._cache: dict[Any, Any] = {}

    def prepared(self, name: str) -> Schema:
        key = ("prepared", name)
        if key not in self._cache:
            self._cache[key] = _prepare(self.spec.schema(name))
        result: Schema = self._cache[key]
        return result

    def variants(self, owner: str, field_name: str = "type") -> dict[str, Schema]:
        """``owner`` resolved for each value of its discriminating field into a plain schema."""
        key = ("variants", owner, field_name)
        if key in self._cache:
            cached: dict[str, Schema] = self._cache[key]
            return cached
        raw = self.spec.schema(owner)
        base = _prepare(raw)
        mapping: dict[str, str | None] = raw.get("x-input-schema-by-type") or _EXTRA_INPUT_BY_TYPE.get(
            owner, {}
        )
        discriminator = base.get("properties", {}).get(field_name, {})
        values = [*discriminator.get("enum", ())] or list(mapping)
        conditional = [c for c in raw.get("allOf", ()) if isinstance(c, dict) and "if" in c]
        result: dict[str, Schema] = {}
        for value in values:
            schema = copy.deepcopy(base)
            schema["allOf"] = [c for c in schema.get("allOf", ()) if "if" not in c]
            if not schema["allOf"]:
                del schema["allOf"]
            props = schema.setdefault("properties", {})
            required = set(schema.get("required", ()))
            if field_name in props:
                props[field_name] = {"const": value}
                required.add(field_name)
            for clause in conditional:
                matched = compile_schema(clause["if"]).is_valid({field_name: value})
                branch = clause.get("then") if matched else clause.get("else")
                if isinstance(branch, dict):
                    self._merge_branch(props, required, _prepare(branch))
            if value in mapping:
                target = mapping[value]
                if target is None:
                    props.pop("input", None)
                    required.discard("input")
                else:
                    props["input"] = self.prepared(target)
                    required.add("input")
            if required:
                schema["required"] = sorted(required)
            if _satisfiable(schema):
                result[value] = schema
        self._cache[key] = result
        return result

    @staticmethod
    def _merge_branch(props: dict[str, Any], required: set[str], branch: Schema) -> None:
        for name, sub in branch.get("properties", {}).items():
            props[name] = sub
        required.update(branch.get("required", ()))
        forbidden = branch.get("not", {})
        for name in forbidden.get("required", ()) if isinstance(forbidden, dict) else ():
            props.pop(name, None)
            required.discard(name)

    def body_schema(self, op: Operation) -> Schema:
        key = ("body", op.operation_id)
        if key not in self._cache:
            self._cache[key] = _prepare(op.body_schema or {})
        result: Schema = self._cache[key]
        return result

    def input_schema(self, owner: str, type_value: str | None) -> Schema | None:
        """The prepared input schema a resource of ``type_value`` takes per ``owner`` (None: none)."""
        raw = self.spec.schema(owner)
        mapping: dict[str, str | None] = raw.get("x-input-schema-by-type") or _EXTRA_INPUT_BY_TYPE.get(
            owner, {}
        )
        if type_value is None or type_value not in mapping or mapping[type_value] is None:
            return None
        return self.prepared(str(mapping[type_value]))


@functools.lru_cache(maxsize=8)
def _generator(spec: Spec) -> _Generator:
    return _Generator(spec)


def _gen(spec: Spec | None) -> _Generator:
    return _generator(spec if spec is not None else load_spec())


Fragment = dict[str, Any]


def _object(
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
    parts: list[SearchStrategy[Any]] = [_composed(rest), *fields.values(), *(g for _, g in groups)]

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


def _with_overrides(
    defaults: dict[str, SearchStrategy[Any]], overrides: Mapping[str, Any]
) -> dict[str, SearchStrategy[Any]]:
    fields = dict(defaults)
    for name, value in overrides.items():
        fields[name] = _as_strategy(value)
    return fields


# --- named bodies ------------------------------------------------------------------------------------


def authentication_create(
    state: State | None = None, *, spec: Spec | None = None, **overrides: Any
) -> SearchStrategy[dict[str, Any]]:
    """``POST /1/authentications`` bodies; ``input`` fits ``type``."""
    gen = _gen(spec)
    chosen = overrides.pop("type", None)
    return _typed(
        gen.variants("AuthenticationCreate"),
        chosen,
        lambda _t, schema: _object(schema, _with_overrides({}, overrides)),
    )


def authentication_update(
    state: State | None = None,
    *,
    auth_type: str | None = None,
    spec: Spec | None = None,
    **overrides: Any,
) -> SearchStrategy[dict[str, Any]]:
    """``PATCH /1/authentications/{id}`` bodies; with ``auth_type``, an ``input`` for that type."""
    gen = _gen(spec)
    defaults: dict[str, SearchStrategy[Any]] = {"input": st.just(OMIT)}
    schema = gen.input_schema("AuthenticationUpdate", auth_type)
    if schema is not None:
        defaults["input"] = _maybe(_pooled(schema))
    return _object(gen.prepared("AuthenticationUpdate"), _with_overrides(defaults, overrides))


def source_create(
    state: State | None = None, *, spec: Spec | None = None, **overrides: Any
) -> SearchStrategy[dict[str, Any]]:
    """``POST /1/sources`` (and ``/1/sources/validate``) bodies; ``input`` fits ``type``."""
    gen = _gen(spec)
    chosen = overrides.pop("type", None)
    defaults = {"authenticationID": _maybe_reference(state, "authentications")}
    return _typed(
        gen.variants("SourceCreate"),
        chosen,
        lambda _t, schema: _object(schema, _with_overrides(defaults, overrides)),
    )


def source_update(
    state: State | None = None,
    *,
    source_type: str | None = None,
    spec: Spec | None = None,
    **overrides: Any,
) -> SearchStrategy[dict[str, Any]]:
    """``PATCH /1/sources/{id}`` bodies; with ``source_type``, an ``input`` for that type."""
    gen = _gen(spec)
    defaults: dict[str, SearchStrategy[Any]] = {
        "input": st.just(OMIT),
        "authenticationID": _maybe_reference(state, "authentications"),
    }
    schema = gen.input_schema("SourceUpdate", source_type)
    if schema is not None:
        defaults["input"] = _maybe(_pooled(schema))
    return _object(gen.prepared("SourceUpdate"), _with_overrides(defaults, overrides))


def _maybe_reference(state: State | None, family: str) -> SearchStrategy[Any]:
    ids = state.ids(family) if state is not None else []
    return _maybe(st.sampled_from(ids)) if ids else st.just(OMIT)


def _maybe_references(state: State | None, family: str) -> SearchStrategy[Any]:
    ids = state.ids(family) if state is not None else []
    if not ids:
        return st.just(OMIT)
    return _maybe(st.lists(st.sampled_from(ids), max_size=2, unique=True))


def destination_create(
    state: State | None = None, *, spec: Spec | None = None, **overrides: Any
) -> SearchStrategy[dict[str, Any]]:
    """``POST /1/destinations`` bodies; references exist in ``state`` (left out without one)."""
    defaults = {
        "authenticationID": _maybe_reference(state, "authentications"),
        "transformationIDs": _maybe_references(state, "transformations"),
    }
    return _object(_gen(spec).prepared("DestinationCreate"), _with_overrides(defaults, overrides))


def destination_update(
    state: State | None = None, *, spec: Spec | None = None, **overrides: Any
) -> SearchStrategy[dict[str, Any]]:
    """``PATCH /1/destinations/{id}`` bodies."""
    defaults = {
        "authenticationID": _maybe_reference(state, "authentications"),
        "transformationIDs": _maybe_references(state, "transformations"),
    }
    return _object(_gen(spec).prepared("DestinationUpdate"), _with_overrides(defaults, overrides))


def transformation_create(
    state: State | None = None, *, spec: Spec | None = None, **overrides: Any
) -> SearchStrategy[dict[str, Any]]:
    """``POST /1/transformations`` (and ``PUT``) bodies; ``input`` fits ``type`` (code or noCode)."""
    gen = _gen(spec)
    chosen = overrides.pop("type", None)
    defaults = {"authenticationIDs": _maybe_references(state, "authentications")}
    return _typed(
        gen.variants("TransformationCreate"),
        chosen,
        lambda _t, schema: _object(schema, _with_overrides(defaults, overrides)),
    )


def transformation_try(
    state: State | None = None, *, spec: Spec | None = None, **overrides: Any
) -> SearchStrategy[dict[str, Any]]:
    """``POST /1/transformations/try`` bodies; each embedded authentication is valid for its type."""
    gen = _gen(spec)
    chosen = overrides.pop("type", None)
    auths = st.lists(authentication_create(spec=spec), max_size=2)
    defaults = {"authentications": _maybe(auths)}
    return _typed(
        gen.variants("TransformationTry"),
        chosen,
        lambda _t, schema: _object(schema, _with_overrides(defaults, overrides)),
    )


def _task_input(gen: _Generator, source_type: str | None) -> SearchStrategy[Any]:
    name = TASK_INPUT_BY_SOURCE_TYPE.get(source_type or "", DEFAULT_TASK_INPUT)
    return _maybe(_pooled(gen.prepared(name)))


def _source_and_input(
    gen: _Generator, state: State | None, overrides: dict[str, Any]
) -> tuple[tuple[str, ...], SearchStrategy[Fragment]]:
    """The ``sourceID`` of a new task with an ``input`` fitting that source's type."""
    source = overrides.pop("sourceID", None)
    given_input = overrides.pop("input", None)

    def inputs(kind: str | None) -> SearchStrategy[Any]:
        return _as_strategy(given_input) if given_input is not None else _task_input(gen, kind)

    def pair(ids: SearchStrategy[str], kind: str | None) -> SearchStrategy[Fragment]:
        return st.tuples(ids, inputs(kind)).map(lambda p: {"sourceID": p[0], "input": p[1]})

    if source is None:
        if state is None:
            return ("sourceID", "input"), pair(_UUIDS, None)
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
    gen = _gen(spec)
    group = _source_and_input(gen, state, overrides)
    defaults = {"destinationID": _existing(state, "destinations", required=True)}
    return _object(gen.prepared("TaskCreate"), _with_overrides(defaults, overrides), [group])


def task_create_v1(
    state: State | None = None, *, spec: Spec | None = None, **overrides: Any
) -> SearchStrategy[dict[str, Any]]:
    """``POST /1/tasks`` bodies (deprecated API): as ``task_create``, with a ``trigger``."""
    gen = _gen(spec)
    group = _source_and_input(gen, state, overrides)
    defaults = {"destinationID": _existing(state, "destinations", required=True)}
    return _object(gen.prepared("TaskCreateV1"), _with_overrides(defaults, overrides), [group])


def _task_change(
    name: str,
    state: State | None,
    source_type: str | None,
    spec: Spec | None,
    overrides: Mapping[str, Any],
    destination_required: bool,
) -> SearchStrategy[dict[str, Any]]:
    gen = _gen(spec)
    destination = (
        _existing(state, "destinations", required=True)
        if destination_required
        else _maybe_reference(state, "destinations")
    )
    defaults = {
        "destinationID": destination,
        "input": _task_input(gen, source_type) if source_type is not None else st.just(OMIT),
    }
    return _object(gen.prepared(name), _with_overrides(defaults, overrides))


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
    return _object(_gen(spec).prepared("PushTaskPayload"), _with_overrides({}, overrides))


def run_source_payload(*, spec: Spec | None = None, **overrides: Any) -> SearchStrategy[dict[str, Any]]:
    """``POST /1/sources/{id}/run`` bodies."""
    return _object(_gen(spec).prepared("RunSourcePayload"), _with_overrides({}, overrides))


def run_task_payload(*, spec: Spec | None = None, **overrides: Any) -> SearchStrategy[dict[str, Any]]:
    """``POST /2/tasks/{id}/run`` bodies."""
    return _object(_gen(spec).prepared("RunTaskPayload"), _with_overrides({}, overrides))


def search(family: str, state: State | None = None) -> SearchStrategy[dict[str, Any]]:
    """``POST /1/{family}/search`` bodies: IDs that exist (when known) mixed with unknown ones."""
    id_field = _id_field(family) + "s"
    known = state.ids(family) if state is not None else []
    ids = st.one_of(st.sampled_from(known), _UUIDS) if known else _UUIDS
    return st.lists(ids, max_size=4).map(lambda found: {id_field: found})


# --- operations: bodies, parameters, requests --------------------------------------------------------

_SEARCH_OPS: Final = {
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
        drawn = _object(_gen(loaded).body_schema(op), _with_overrides({}, overrides))
    # A validation needs something to validate: the service refuses validateSource without a body.
    if not op.body_required and not overrides and operation_id not in _BODY_NEEDED:
        return st.one_of(st.none(), drawn)
    return drawn


_BODY_NEEDED: Final = frozenset({"validateSource"})

BodyBuilder = Callable[[State | None, Spec, dict[str, Any]], SearchStrategy[Any]]


def _body_kind(op: Operation, state: State | None, path: Mapping[str, str]) -> BodyBuilder | None:
    op_id = op.operation_id
    if op_id in _SEARCH_OPS:
        family = _SEARCH_OPS[op_id]
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
    family = _ID_FAMILIES.get(name)
    if family is None:
        return []
    ids = state.ids(family)
    if op.operation_id in _DELETE_OPS:
        used = state.referenced()
        ids = [i for i in ids if i not in used]
    if op.operation_id == "triggerDockerSourceDiscover":
        ids = [i for i in ids if state.type_of("sources", i) == "docker"]
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
        elif name in _ID_FAMILIES:
            if state is None:
                parts[name] = _UUIDS
            else:
                found = _path_candidates(op, name, state)
                parts[name] = st.sampled_from(found) if found else st.nothing()
        else:
            parts[name] = _formats()["x-segment"]
    return st.fixed_dictionaries(parts)


def _query_schema(schema: Schema) -> Schema:
    """A query parameter's schema without ``null`` (a query string has no way to spell it)."""
    prepared: Schema = _prepare(_without_null(schema))
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


def _without_null(schema: Schema) -> Schema:
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
    params = [p for p in op.parameters if p.location == "query" and _json_kind(p.schema) != "object"]
    fields: dict[str, SearchStrategy[Any]] = {}
    window = any(p.name == "startDate" for p in params) and any(p.name == "endDate" for p in params)
    for p in params:
        if window and p.name in ("startDate", "endDate"):
            continue
        family = _ID_FAMILIES.get(p.name)
        if p.name == "referenceIndexName":
            value: SearchStrategy[Any] = (
                st.sampled_from(state.push_indexes()) if state and state.push_indexes() else st.nothing()
            )
        elif family is not None and family != "events":
            ids = state.ids(family) if state is not None else []
            one = st.one_of(st.sampled_from(ids), _UUIDS) if ids else _UUIDS
            value = st.lists(one, min_size=1, max_size=3) if _json_kind(p.schema) == "array" else one
        else:
            value = _pooled(_query_schema(p.schema))
        fields[p.name] = value if p.required else _maybe(value)
    drawn = st.fixed_dictionaries(fields) if fields else st.just({})
    if window:
        drawn = st.tuples(drawn, _window()).map(lambda t: {**t[0], **t[1]})
    return drawn.map(lambda q: {k: v for k, v in q.items() if v is not OMIT})


def _json_kind(schema: Schema) -> str | None:
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
    source to discover, ...) draws nothing: see :func:`requests` to pick among feasible ones.
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
            lambda b: Request(operation_id, op.method, op.path, path, query, _clone(b), exploded)
        )

    return parameters(operation_id, state, spec=loaded).flatmap(with_body)


_CUSTOM = ("customGet", "customPost", "customPut", "customDelete")


def feasible(state: State | None, spec: Spec | None = None) -> list[str]:
    """Operations a valid request can be drawn for in ``state`` (the custom ones left out)."""
    loaded = spec if spec is not None else load_spec()
    found = []
    for op_id, op in loaded.operations.items():
        if op_id in _CUSTOM:
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
        elif p.name in _ID_FAMILIES and not _path_candidates(op, p.name, state):
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


# --- invalid requests: exactly one rule broken -------------------------------------------------------


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
    type_inputs: Mapping[str, Schema] | None = None  # by type (create bodies carrying ``type``)
    own_input: Schema | None = None  # the input schema the resource acted on takes (updates, tasks)
    other_inputs: Sequence[Schema] = ()  # input schemas of other types
    state: State | None = None
    references: bool = True  # whether its ID fields must name existing resources (not a search's)


def _mutations(value: dict[str, Any], rules: _Rules) -> list[SearchStrategy[Invalid[dict[str, Any]]]]:
    schema = rules.schema
    props: dict[str, Any] = schema.get("properties", {})
    found: list[SearchStrategy[Invalid[dict[str, Any]]]] = []
    whole = _validator(schema)
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
                        dict(value, input=_clone(v)), "input-type", "body.input", "an input of another type"
                    )
                )
            )
    for path in (("cron",), ("trigger", "cron")):
        if _get(value, path) is not None:
            where = "body." + ".".join(path)
            found.append(st.sampled_from(_INVALID_CRONS).map(_bad_cron(value, path, where)))
    for name, family in _ID_FAMILIES.items():
        searched = name.endswith("IDs") and name not in ("transformationIDs", "authenticationIDs")
        if not rules.references or name not in value or family in ("runs", "events") or searched:
            continue
        current = value[name]
        if isinstance(current, list) and not current:
            continue
        fresh = _fresh_id(rules.state)
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
        return Invalid(_set(value, path, cron), "cron", where, f"{cron!r} is not a cron expression")

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
    out = _clone(value)
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


def _type_inputs(gen: _Generator, owner: str) -> dict[str, Schema]:
    return {
        t: s["properties"]["input"]
        for t, s in gen.variants(owner).items()
        if "input" in s.get("properties", {})
    }


def _rules_for(op: Operation, state: State | None, path: Mapping[str, str], spec: Spec) -> _Rules:
    gen = _gen(spec)
    schema = op.body_schema or {}
    op_id = op.operation_id
    if op_id in _SEARCH_OPS:
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
        own = gen.input_schema(owner, kind)
        mapping: dict[str, str | None] = spec.schema(owner).get("x-input-schema-by-type", {})
        others = [gen.prepared(n) for t, n in sorted(mapping.items()) if n is not None and t != kind]
        return _Rules(schema, own_input=own, other_inputs=others, state=state)
    if op_id in ("createTask", "createTaskV1", "replaceTask", "updateTask", "updateTaskV1"):
        return _Rules(schema, state=state, **_task_input_rules(gen, op_id, state, path))
    return _Rules(schema, state=state)


def _task_input_rules(
    gen: _Generator, op_id: str, state: State | None, path: Mapping[str, str]
) -> dict[str, Any]:
    if state is None or op_id in ("createTask", "createTaskV1") or "taskID" not in path:
        return {}
    kind = state.task_source_type(path["taskID"])
    own_name = TASK_INPUT_BY_SOURCE_TYPE.get(kind or "", DEFAULT_TASK_INPUT)
    names = {*TASK_INPUT_BY_SOURCE_TYPE.values(), DEFAULT_TASK_INPUT} - {own_name}
    return {"own_input": gen.prepared(own_name), "other_inputs": [gen.prepared(n) for n in sorted(names)]}


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
    kind = _json_kind(schema)
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
            if name in _ID_FAMILIES:
                options.append(_fresh_id(state).map(_missing_resource(req, name)))
        for p in op.parameters:
            if p.location != "query" or _json_kind(p.schema) == "object":
                continue
            for wrong in _invalid_query_values(_without_null(p.schema)):
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
