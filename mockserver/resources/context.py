"""What a domain action gets to work with: the store, the caller's account and the valid request."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from mockserver.engine.clock import Clock
from mockserver.engine.errors import BadRequest
from mockserver.engine.jsengine import JsSandbox
from mockserver.engine.store import Account, Record, RunPolicy, Store
from mockserver.engine.validation import SchemaCheck, ValidRequest
from mockserver.spec import Operation, Schema, Spec


class SchemaChecks:
    """Compiled validators for named component schemas, made on first use and kept."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._validator = functools.lru_cache(maxsize=None)(self._compile)
        self._named: dict[int, tuple[Schema, frozenset[str]]] = {}

    def _compile(self, name: str) -> SchemaCheck:
        return SchemaCheck(self.spec.schema(name))

    def named_fields(self, schema: Schema) -> frozenset[str]:
        """The fields a response schema names (any of its ``oneOf`` variants' too), worked out once
        per schema: it is on every answer's path."""
        found = self._named.get(id(schema))
        if found is not None and found[0] is schema:
            return found[1]
        props = set(schema.get("properties") or ())
        for variant in schema.get("oneOf", ()):
            if isinstance(variant, dict):
                props.update(variant.get("properties") or ())
        named = frozenset(props)
        self._named[id(schema)] = (schema, named)
        return named

    def error_of(self, name: str, value: Any, where: str) -> str | None:
        """Why ``value`` does not fit the component schema ``name`` (None when it does)."""
        return self._validator(name).error(value, where)

    def check(self, name: str, value: Any, where: str) -> None:
        message = self.error_of(name, value, where)
        if message is not None:
            raise BadRequest(message)

    def input_schema_for(self, owner_schema: str, type_: str) -> str | None:
        """The input schema a resource of ``type_`` takes, from the spec's x-input-schema-by-type."""
        mapping: dict[str, str | None] = self.spec.schema(owner_schema).get("x-input-schema-by-type", {})
        return mapping.get(type_)


@dataclass(slots=True)
class Context:
    store: Store
    account: Account
    operation: Operation
    request: ValidRequest
    checks: SchemaChecks
    js: JsSandbox | None = None  # the mock's sandbox (one budget for every application); made when absent
    deadline: float | None = None  # time.monotonic() by which this request's transformations must end
    assumed_rules: bool = True  # the mock's assumed rules apply (engine/assumptions.py)

    @property
    def sandbox(self) -> JsSandbox:
        if self.js is None:
            self.js = JsSandbox()
        return self.js

    @property
    def body(self) -> Any:
        return self.request.body

    @property
    def clock(self) -> Clock:
        """The clock this application's requests see (its own once its tests steered it)."""
        return self.store.clock_of(self.account)

    @property
    def run_policy(self) -> RunPolicy:
        """How this application's runs behave (its own policy once set)."""
        return self.store.policy_of(self.account)

    @contextmanager
    def store_released(self) -> Iterator[None]:
        """Let go of the store's lock for a slow step that touches no shared state (running
        transformation code): other applications go on meanwhile; this one's lock stays held."""
        lock = self.store.lock
        try:
            lock.release()
        except RuntimeError:  # not held by this thread (a handler called directly, in a test)
            yield
            return
        try:
            yield
        finally:
            lock.acquire()

    def now(self) -> str:
        return self.clock.timestamp()

    def new_id(self) -> str:
        return self.store.ids.new()

    def response_schema(self) -> Schema:
        _, schema = self.operation.response_schema(200)
        return schema or {}


Handler = Callable[[Context], Any]


View = Callable[[Record, SchemaChecks, Account], Record]  # (record, checks, its account)
Settler = Callable[[Account, float], None]
TypeOf = Callable[[Account, Mapping[str, str]], str | None]


@dataclass
class Hooks:
    """What a resource family tells the layers above it, so they never import the family by name.

    ``views``: how the control plane shows a family's stored records (secrets left out);
    ``settlers``: what brings an account up to the mock's present moment (runs finishing);
    ``types``: for an operation whose body does not say its resource's type (an update), the stored
    resource's type, so its secrets are masked by the right shape.
    """

    views: dict[str, View] = field(default_factory=dict)
    settlers: list[Settler] = field(default_factory=list)
    types: dict[str, TypeOf] = field(default_factory=dict)

    def merge(self, other: Hooks) -> None:
        self.views.update(other.views)
        self.settlers.extend(other.settlers)
        self.types.update(other.types)

    def type_of(
        self, operation_id: str, account: Account | None, path_params: Mapping[str, str]
    ) -> str | None:
        found = self.types.get(operation_id)
        return found(account, path_params) if found is not None and account is not None else None

    def view(self, family: str, record: Record, checks: SchemaChecks, account: Account) -> Record:
        shown = self.views.get(family)
        return shown(record, checks, account) if shown is not None else record

    def settle(self, account: Account, now: float) -> None:
        for settler in self.settlers:
            settler(account, now)
