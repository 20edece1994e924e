"""What a domain action gets to work with: the store, the caller's account and the valid request."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import BadRequest
from ..jsengine import JsSandbox
from ..spec import Operation, Schema, Spec
from ..store import Account, Store
from ..validation import SchemaCheck, ValidRequest


class SchemaChecks:
    """Compiled validators for named component schemas, made on first use and kept."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._validator = functools.lru_cache(maxsize=None)(self._compile)

    def _compile(self, name: str) -> SchemaCheck:
        return SchemaCheck(self.spec.schema(name))

    def check(self, name: str, value: Any, where: str) -> None:
        message = self._validator(name).error(value, where)
        if message is not None:
            raise BadRequest(message)

    def input_schema_for(self, owner_schema: str, type_: str) -> str | None:
        """The input schema a resource of ``type_`` takes, from the spec's x-input-schema-by-type."""
        mapping: dict[str, str | None] = self.spec.schema(owner_schema).get("x-input-schema-by-type", {})
        return mapping.get(type_)


@dataclass
class Context:
    store: Store
    account: Account
    operation: Operation
    request: ValidRequest
    checks: SchemaChecks
    js: JsSandbox | None = None  # the app's sandbox; a fresh one is made when absent

    @property
    def sandbox(self) -> JsSandbox:
        if self.js is None:
            self.js = JsSandbox()
        return self.js

    @property
    def body(self) -> Any:
        return self.request.body

    def now(self) -> str:
        return self.store.clock.timestamp()

    def new_id(self) -> str:
        return self.store.ids.new()

    def response_schema(self) -> Schema:
        _, schema = self.operation.response_schema(200)
        return schema or {}


Handler = Callable[[Context], Any]
