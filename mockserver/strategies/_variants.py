"""Prepared schemas and type variants for one spec (what the body strategies are built from).

The spec states "the input's shape follows ``type``" as a ``oneOf`` of per-type variants with a
``discriminator`` on ``type``; ``SpecVariants.variants`` reads those. A task's input follows its
source's type by the spec's ``x-input-schema-by-source-type`` on ``TaskCreate``.
"""

from __future__ import annotations

import functools
from typing import Any, Final

from mockserver.engine.validation import discriminated_variants, discriminating_field
from mockserver.spec import Operation, Schema, Spec, load_spec
from mockserver.strategies._pools import prepare, satisfiable

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


class SpecVariants:
    """Prepared schemas and type variants for one spec."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._cache: dict[Any, Any] = {}

    def prepared(self, name: str) -> Schema:
        key = ("prepared", name)
        if key not in self._cache:
            self._cache[key] = prepare(self.spec.schema(name))
        result: Schema = self._cache[key]
        return result

    def variants(self, owner: str) -> dict[str, Schema]:
        """``owner`` (a ``oneOf`` of per-type variants) as one plain prepared schema per type.

        Each variant is drawn with its type and, where it has one, its input: a variant that may
        leave them out (a transformation's type defaults to code) is narrowed to one that does not.
        """
        key = ("variants", owner)
        if key in self._cache:
            cached: dict[str, Schema] = self._cache[key]
            return cached
        raw = self.spec.schema(owner)
        field_name = discriminating_field(raw)
        found = discriminated_variants(raw)
        if field_name is None or found is None:
            raise ValueError(f"{owner} is not a oneOf of per-type variants")
        result: dict[str, Schema] = {}
        for value, variant in found.items():
            schema = prepare(variant)
            required = set(schema.get("required", ())) | {field_name}
            if "input" in schema.get("properties", {}):
                required.add("input")
            schema["required"] = sorted(required)
            # Alternatives of required fields (input or code) that the above already meets go.
            alternatives = schema.get("anyOf", ())
            if alternatives and any(set(a.get("required", ())) <= required for a in alternatives):
                del schema["anyOf"]
            if satisfiable(schema):
                result[value] = schema
        self._cache[key] = result
        return result

    def input_mapping(self, owner: str) -> dict[str, str | None]:
        """The input schema names by type (the spec's ``x-input-schema-by-type``)."""
        mapping: dict[str, str | None] = self.spec.schema(owner).get("x-input-schema-by-type", {})
        return mapping

    def body_schema(self, op: Operation) -> Schema:
        key = ("body", op.operation_id)
        if key not in self._cache:
            self._cache[key] = prepare(op.body_schema or {})
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
def _generator(spec: Spec) -> SpecVariants:
    return SpecVariants(spec)


def variants_of(spec: Spec | None) -> SpecVariants:
    return _generator(spec if spec is not None else load_spec())
