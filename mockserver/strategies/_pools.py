"""Value pools: valid values of a schema, made once with schemathesis's generator and cached.

``prepare`` readies a spec schema for generation (annotations out, sizes bounded, the formats the
spec leaves implicit in: cron expressions, http(s) URLs, non-blank text). ``pool`` runs
schemathesis's JSON Schema generator once per schema with a fixed seed and keeps up to
``POOL_SIZE`` distinct valid values, smallest first; a draw is then a choice among them.
"""

from __future__ import annotations

import copy
import functools
import json
import random
import sys
import threading
import zlib
from typing import Any, Final, TypeVar

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from mockserver.engine.validation import compile_schema
from mockserver.spec import Schema

T = TypeVar("T")


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

_STRING_BOUND = 16
_SAFE_INTEGER = 2**53
_ARRAY_BOUND = 3
_EXTRA_PROPERTIES = 2


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
def implicit_formats() -> dict[str, SearchStrategy[Any]]:
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


def prepare(node: Any, name: str | None = None, required: bool = False) -> Any:
    """A copy of ``node`` ready for generation: annotations out, sizes bounded, implicit formats in.

    Everything it admits is valid for the original schema; it only narrows (shorter strings,
    fewer items) and adds what the service means but the spec leaves as ``type: string``.
    """
    if isinstance(node, list):
        return [prepare(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-") or key in _ANNOTATIONS:
            continue
        if key == "properties" and isinstance(value, dict):
            needed = set(node.get("required", ()))
            out[key] = {k: prepare(v, k, k in needed) for k, v in value.items()}
        elif key in ("if", "then", "else", "not", "const", "enum", "default"):
            out[key] = copy.deepcopy(value)
        else:
            out[key] = prepare(value)
    kind = out.get("type")
    if kind == "string" and name == "cron" and "pattern" in out and not {"enum", "const"} & set(out):
        # The spec's cron pattern also admits crons that never fire (30 February): draw from the
        # cron pool instead, whose every value fits the pattern and fires.
        del out["pattern"]
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


def clone(value: T) -> T:
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
    strategy = build(schema, draft=20, formats=implicit_formats())
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
    return _pool_for(_key(schema), _pool_size())


def _pool_size() -> int:
    """``mockserver.strategies.POOL_SIZE``, read at each use so that setting it takes effect."""
    return int(sys.modules[__package__ or "mockserver.strategies"].POOL_SIZE)


def from_schema(schema: Schema) -> SearchStrategy[Any]:
    """Values valid for any JSON Schema (2020-12 / OAS 3.1, references resolved), from a cached pool."""
    values = pool(prepare(schema))
    return st.sampled_from(values).map(clone) if values else st.nothing()


def pooled(schema: Schema) -> SearchStrategy[Any]:
    values = pool(schema)
    if len(values) == 1:
        return st.just(values[0])
    return st.sampled_from(values) if values else st.nothing()


def satisfiable(schema: Schema) -> bool:
    """Whether a valid value was found (for an object of independent properties: for each)."""
    props = schema.get("properties")
    if schema.get("type") == "object" and isinstance(props, dict) and set(schema) <= _COMPOSABLE:
        return all(pool(props[k]) for k in schema.get("required", ()) if k in props)
    return bool(pool(schema))


_COMPOSABLE = frozenset({"type", "properties", "required", "additionalProperties", "maxProperties"})


def composed(schema: Schema) -> SearchStrategy[Any]:
    """An object from one pool per property (many more combinations than one pool of objects).

    Only for objects whose properties are independent (no keyword relating them); any other
    schema is drawn from its own pool.
    """
    props = schema.get("properties")
    required = set(schema.get("required", ()))
    if schema.get("type") != "object" or not isinstance(props, dict) or not set(schema) <= _COMPOSABLE:
        return pooled(schema)
    if not required <= set(props):
        return pooled(schema)
    return st.fixed_dictionaries(
        {k: pooled(v) for k, v in props.items() if k in required},
        optional={k: pooled(v) for k, v in props.items() if k not in required},
    )


def maybe(strategy: SearchStrategy[Any]) -> SearchStrategy[Any]:
    return st.one_of(st.just(OMIT), strategy)


def as_strategy(value: Any) -> SearchStrategy[Any]:
    return value if isinstance(value, SearchStrategy) else st.just(value)
