"""Prepared schemas and type variants for one spec (what the body strategies are built from).

The spec states "the input's shape follows ``type``" as a ``oneOf`` of per-type variants with a
``discriminator`` on ``type``; ``_Generator.variants`` reads those. A task's input follows its
source's type by the spec's ``x-input-schema-by-source-type`` on ``TaskCreate``.
"""

from __future__ import annotations

import copy
import functools
from typing import Any, Final

from ..spec import Operation, Schema, Spec, load_spec
from ..validation import discriminated_variants
from .pools import _prepare, _satisfiable

# Input schemas by type for bodies whose spec has no discriminated variants (a transformation's
# ``type`` is optional, so it cannot discriminate).
_EXTRA_INPUT_BY_TYPE: Final[dict[str, dict[str, str | None]]] = {
    "TransformationCreate": {"code": "TransformationCode", "noCode": "TransformationNoCode"},
    "TransformationTry": {"code": "TransformationCode", "noCode": "TransformationNoCode"},
}
TASK_INPUT_OWNER: Final = "TaskCreate"  # the schema carrying x-input-schema-by-source-type


def task_inputs(spec: Spec) -> dict[str, str]:
    """The spec's table of a task's input schema by its source's type (``default``: any other)."""
    mapping = spec.schema(TASK_INPUT_OWNER).get("x-input-schema-by-source-type")
    if not isinstance(mapping, dict) or not isinstance(mapping.get("default"), str):
        raise ValueError(f"the spec's {TASK_INPUT_OWNER} has no x-input-schema-by-source-type with a default")
    return {str(k): str(v) for k, v in mapping.items()}


def task_input_name(spec: Spec, source_type: str | None) -> str:
    """The input schema a task of a ``source_type`` source takes."""
    table = task_inputs(spec)
    return table.get(source_type or "", table["default"])


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
        """``owner`` as one plain prepared schema per value of its discriminating field."""
        key = ("variants", owner, field_name)
        if key in self._cache:
            cached: dict[str, Schema] = self._cache[key]
            return cached
        raw = self.spec.schema(owner)
        discriminated = discriminated_variants(raw)
        if discriminated is not None:
            result = {value: _prepare(variant) for value, variant in discriminated.items()}
        else:
            result = self._by_extra_mapping(owner, raw, field_name)
        result = {value: schema for value, schema in result.items() if _satisfiable(schema)}
        self._cache[key] = result
        return result

    def _by_extra_mapping(self, owner: str, raw: Schema, field_name: str) -> dict[str, Schema]:
        """Variants of a schema without a discriminator: its ``type`` enum, each with its input."""
        base = _prepare(raw)
        mapping = _EXTRA_INPUT_BY_TYPE.get(owner, {})
        values = [*base.get("properties", {}).get(field_name, {}).get("enum", ())] or list(mapping)
        result: dict[str, Schema] = {}
        for value in values:
            schema = copy.deepcopy(base)
            props = schema.setdefault("properties", {})
            required = set(schema.get("required", ()))
            if field_name in props:
                props[field_name] = {"const": value}
                required.add(field_name)
            target = mapping.get(value)
            if value in mapping and target is None:
                props.pop("input", None)
                required.discard("input")
            elif target is not None:
                props["input"] = self.prepared(target)
                required.add("input")
            if required:
                schema["required"] = sorted(required)
            result[value] = schema
        return result

    def input_mapping(self, owner: str) -> dict[str, str | None]:
        """The input schema names by type (``x-input-schema-by-type``, else the table above)."""
        raw = self.spec.schema(owner)
        mapping: dict[str, str | None] = raw.get("x-input-schema-by-type") or _EXTRA_INPUT_BY_TYPE.get(
            owner, {}
        )
        return mapping

    def body_schema(self, op: Operation) -> Schema:
        key = ("body", op.operation_id)
        if key not in self._cache:
            self._cache[key] = _prepare(op.body_schema or {})
        result: Schema = self._cache[key]
        return result

    def input_schema(self, owner: str, type_value: str | None) -> Schema | None:
        """The prepared input schema a resource of ``type_value`` takes per ``owner`` (None: none)."""
        mapping = self.input_mapping(owner)
        if type_value is None or type_value not in mapping or mapping[type_value] is None:
            return None
        return self.prepared(str(mapping[type_value]))

    def task_input(self, source_type: str | None) -> Schema:
        """The prepared input schema of a task whose source has ``source_type``."""
        return self.prepared(task_input_name(self.spec, source_type))


@functools.lru_cache(maxsize=8)
def _generator(spec: Spec) -> _Generator:
    return _Generator(spec)


def _gen(spec: Spec | None) -> _Generator:
    return _generator(spec if spec is not None else load_spec())
