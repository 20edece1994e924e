"""Responses made from a spec alone: for operations the mock has no behaviour for (generic mode).

The documented example wins (``example`` / ``examples`` of the media type or the schema); else a
value is built from the schema: required properties, the first enum value, the lower bound of a
range, a value of the declared format. Deterministic: the same schema always gives the same value.
"""

from __future__ import annotations

from typing import Any

from mockserver.spec import Operation, Schema

_FORMATS = {
    "date-time": "2026-01-01T00:00:00Z",
    "date": "2026-01-01",
    "time": "00:00:00Z",
    "uuid": "6c02aeb1-775e-418e-870b-1faccd4b2c0f",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "byte": "",
}


def example_for(schema: Schema, depth: int = 0) -> Any:
    if depth > 12:
        return None
    if "example" in schema:
        return schema["example"]
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    if "const" in schema:
        return schema["const"]
    if "default" in schema:
        return schema["default"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            return example_for(schema[key][0], depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = example_for(part, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        base = _typed(schema, depth)
        return {**base, **merged} if isinstance(base, dict) else (merged or base)
    return _typed(schema, depth)


def _typed(schema: Schema, depth: int) -> Any:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string" if "format" in schema else None
    if kind == "object":
        props: dict[str, Schema] = schema.get("properties", {})
        required = schema.get("required", list(props))
        return {name: example_for(props.get(name, {}), depth + 1) for name in required}
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        return [example_for(schema.get("items", {}), depth + 1) for _ in range(count)]
    if kind == "string":
        text = _FORMATS.get(str(schema.get("format")), "string")
        length = int(schema.get("minLength", 0))
        return text if len(text) >= length else text + "x" * (length - len(text))
    if kind == "integer":
        return int(schema.get("minimum", 0))
    if kind == "number":
        return float(schema.get("minimum", 0))
    if kind == "boolean":
        return True
    return None


def example_response(operation: Operation) -> tuple[int, Any]:
    """The lowest documented 2xx status and a body for it."""
    statuses = sorted(s for s in operation.responses if s.isdigit() and s.startswith("2"))
    if not statuses:
        return 200, {}
    status = statuses[0]
    raw = operation.raw.get("responses", {}).get(status, {})
    media = (raw.get("content") or {}).get("application/json") or {}
    if "example" in media:
        return int(status), media["example"]
    examples = media.get("examples")
    if isinstance(examples, dict) and examples:
        first = next(iter(examples.values()))
        if isinstance(first, dict) and "value" in first:
            return int(status), first["value"]
    schema = operation.responses.get(status)
    return int(status), example_for(schema) if schema is not None else None
