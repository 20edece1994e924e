"""Hide secrets before a request is recorded: by the spec, not by a list of field names.

A field is a secret when some shape the body may take marks it ``writeOnly`` (or its object says
``x-secret-values``: every value is secret). Inside an object that holds secrets, a key no shape
declares is hidden too (a typo, another type's secret), and so is a value of the wrong kind where an
object with secrets was expected. Everything else is recorded as sent, so tests can still check the
fields that are not secret (which application an authentication targets, a user name).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockserver.engine.journal import MASK
from mockserver.engine.validation import holds_secrets
from mockserver.names import API_KEY_HEADER
from mockserver.spec import Schema, Spec

_BRANCHES = ("anyOf", "oneOf", "allOf")
_CREDENTIAL_PARAMS = frozenset({API_KEY_HEADER})


class _Plan:
    """What to hide in values of one schema, worked out once."""

    __slots__ = ("all_secret", "items", "props", "secret_keys")

    def __init__(self) -> None:
        self.all_secret = False  # x-secret-values: every value of the object is secret
        self.secret_keys: set[str] = set()
        self.props: dict[str, list[Schema]] = {}
        self.items: list[Schema] = []


def _collect(schema: Any, plan: _Plan, depth: int = 0) -> None:
    if not isinstance(schema, dict) or depth > 32:
        return
    every_value_secret = bool(schema.get("x-secret-values"))
    props = schema.get("properties") or {}
    if every_value_secret and not props and not any(schema.get(k) for k in _BRANCHES):
        plan.all_secret = True  # a map of secrets: any key it is given holds one
    for key, prop in props.items():
        plan.props.setdefault(key, []).append(prop)
        if every_value_secret or (isinstance(prop, dict) and prop.get("writeOnly") is True):
            plan.secret_keys.add(key)
    if isinstance(schema.get("items"), dict):
        plan.items.append(schema["items"])
    for keyword in _BRANCHES:
        for branch in schema.get(keyword) or ():
            _collect(branch, plan, depth + 1)
    for keyword in ("then", "else"):
        _collect(schema.get(keyword), plan, depth + 1)


class Masker:
    """Masks request bodies of one spec's operations.

    Where a schema says which input shape each ``type`` takes (``x-input-schema-by-type``), the
    ``input`` is masked by the shape of its type only: the body's own ``type``, or, for an update
    that does not repeat it, the stored resource's (``type_hint``).
    """

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._secretive: dict[int, tuple[Schema, bool]] = {}

    def _holds(self, schema: Schema) -> bool:
        key = id(schema)
        found = self._secretive.get(key)
        if found is None or found[0] is not schema:
            found = (schema, holds_secrets(schema))
            self._secretive[key] = found
        return found[1]

    def may_hold_secrets(self, schema: Schema | None) -> bool:
        """Whether a value of ``schema`` may hold secrets (:meth:`mask` returns any other value as is)."""
        return schema is not None and self._holds(schema)

    def mask(self, value: Any, schema: Schema | None, type_hint: str | None = None) -> Any:
        """``value`` with its secrets replaced by ``***`` (the value itself when it holds none)."""
        if schema is None or not self._holds(schema):
            return value
        return self._mask(value, [schema], 0, type_hint)

    def _input_shape(
        self, value: dict[str, Any], schemas: list[Schema], type_hint: str | None
    ) -> Schema | None:
        kind = value.get("type", type_hint)
        if not isinstance(kind, str):
            return None
        for schema in schemas:
            by_type = schema.get("x-input-schema-by-type")
            if isinstance(by_type, dict) and isinstance(by_type.get(kind), str):
                name: str = by_type[kind]
                if self.spec.has_schema(name):
                    return self.spec.schema(name)
        return None

    def _mask(self, value: Any, schemas: list[Schema], depth: int, type_hint: str | None = None) -> Any:
        if depth > 64:
            return MASK
        plan = _Plan()
        for schema in schemas:
            _collect(schema, plan)
        if isinstance(value, dict):
            if plan.all_secret and len(schemas) == 1:
                return dict.fromkeys(value, MASK)
            declared = plan.props
            shape = self._input_shape(value, schemas, type_hint) if "input" in value else None
            out: dict[str, Any] = {}
            for key, item in value.items():
                if key == "input" and shape is not None:
                    out[key] = self._mask(item, [shape], depth + 1)
                elif key in plan.secret_keys or key not in declared:
                    out[key] = MASK
                else:
                    subs = declared[key]
                    out[key] = self._mask(item, subs, depth + 1) if any(map(self._holds, subs)) else item
            return out
        if isinstance(value, list):
            if plan.items:
                return [self._mask(item, plan.items, depth + 1) for item in value]
            # A list where an object holding secrets was expected may itself hold them.
            return MASK if plan.props or plan.all_secret else value
        # A scalar where an object holding secrets was expected may itself be a secret.
        return MASK if plan.props or plan.all_secret else value


def mask_query(query: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Query parameters with credentials masked (the service accepts the API key in the query)."""
    for name in query:  # (a loop, not any() over a generator: measured 0.9 -> 0.4 µs, no query)
        if name.lower() in _CREDENTIAL_PARAMS:
            return {k: ([MASK] * len(v) if k.lower() in _CREDENTIAL_PARAMS else v) for k, v in query.items()}
    return dict(query)
