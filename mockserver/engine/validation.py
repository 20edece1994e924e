"""Request validation, prepared once per operation at start-up.

The spec is dereferenced once and each operation gets compiled JSON Schema validators (the
same OAS 3.1 dialect and format checker openapi-core uses), so a request pays only for checking
its own data. openapi-core stays the reference for what is valid: ``reference.py`` wraps it, the
app can run on it (``validation="openapi-core"``), and the test suite checks the two agree.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import jsonschema_rs

from mockserver.engine import assumptions
from mockserver.engine.errors import BadRequest, NotFound
from mockserver.spec import Operation, Parameter, Schema, Spec

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from openapi_schema_validator import OAS31Validator

_INT = re.compile(r"[+-]?\d+")
_MAX_INT_DIGITS = 4000  # Python refuses to parse longer integers (a guard against quadratic parsing)
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


# What to do instead when a path names an empty ID that may exist (a push accepts an empty objectID)
_EMPTY_HINT = {
    "objectID": " (a record pushed with an empty objectID is read with POST /1/indexes/*/objects)",
}


class ValidRequest(NamedTuple):
    """What a handler receives: typed parameters (defaults applied) and the parsed body.

    (A NamedTuple, immutable as the frozen dataclass it was, made once per request in a fifth of
    the instructions: no object.__setattr__ call per field.)"""

    path: dict[str, Any]
    query: dict[str, Any]
    body: Any  # MISSING when the request had none
    text: bytes | None = None  # the JSON text the body was parsed from, unchanged, when known


def compile_schema(schema: Schema) -> OAS31Validator:
    """The reference validator (the one openapi-core uses), imported on first need: it is slow to import.

    One difference: a ``discriminator`` is read as the annotation it is in OAS 3.1, not followed
    through its ``mapping`` (whose ``$ref``s a dereferenced schema cannot resolve). Each variant
    states its discriminating value as a ``const``, so plain ``oneOf`` picks the same variant.
    """
    from openapi_schema_validator import oas31_format_checker

    return _validator_class()(schema, format_checker=oas31_format_checker)


@functools.cache
def _validator_class() -> type[OAS31Validator]:
    from jsonschema import Draft202012Validator, validators
    from openapi_schema_validator import OAS31Validator

    plain = {k: Draft202012Validator.VALIDATORS[k] for k in ("allOf",)}
    extended: type[OAS31Validator] = validators.extend(  # type: ignore[no-untyped-call]
        OAS31Validator, {**plain, **_bounded_keywords()}
    )
    return extended


# A refusal's message shows at most this much of the value refused: jsonschema's own keywords write
# ``repr(instance)`` whole, and list every unexpected key sorted, once per branch of a ``oneOf``;
# for a 1M-key object that was 33-50 s of CPU to refuse a 10 MB body. These keywords decide exactly
# as jsonschema's do and write the same message, bounded: a value's repr is cut by ``_brief``
# (the same text as ``repr`` for a small value), unexpected keys are found without walking the
# whole object (``properties`` is the schema's, so an object with more keys has an extra among its
# first ``len(properties) + n`` keys) and at most ``_SHOWN_KEYS`` are named.
_SHOWN_KEYS = 20


def _brief(value: Any, budget: int = 100) -> str:
    """``repr(value)`` (the same text for a value that is short), cut with ``...`` past about
    ``budget`` characters, in time proportional to what it shows (never sorting or walking the
    whole value)."""
    if isinstance(value, str):
        return repr(value) if len(value) <= budget else repr(value[:budget]) + "..."
    if isinstance(value, dict | list):
        opening, closing = ("{", "}") if isinstance(value, dict) else ("[", "]")
        pieces: list[str] = []
        used = 0
        items = iter(value.items()) if isinstance(value, dict) else iter(value)
        for item in items:
            if used > budget:
                pieces.append("...")
                break
            if isinstance(value, dict):
                key, inner = item
                piece = f"{_brief(key, budget - used)}: {_brief(inner, budget - used)}"
            else:
                piece = _brief(item, budget - used)
            pieces.append(piece)
            used += len(piece) + 2
        return opening + ", ".join(pieces) + closing
    return repr(value)


def _bounded_keywords() -> dict[str, Any]:
    from jsonschema._utils import ensure_list, equal, uniq
    from jsonschema.exceptions import ValidationError

    def additional_properties(validator: Any, allowed: Any, instance: Any, schema: Any) -> Any:
        if not validator.is_type(instance, "object"):
            return
        properties = schema.get("properties", {})
        patterns = "|".join(schema.get("patternProperties", {}))
        if validator.is_type(allowed, "object"):  # every extra is checked: its errors say where
            for key in instance:
                if key not in properties and not (patterns and re.search(patterns, key)):
                    yield from validator.descend(instance[key], allowed, path=key)
            return
        if allowed:
            return
        extras: list[Any] = []
        for key in instance:
            if key not in properties and not (patterns and re.search(patterns, key)):
                extras.append(key)
                if len(extras) > _SHOWN_KEYS:
                    break
        if not extras:
            return
        more = ""
        if len(extras) > _SHOWN_KEYS:
            extras = extras[:_SHOWN_KEYS]
            if patterns:
                more = ", and more"
            else:
                known = sum(1 for name in properties if name in instance)
                more = f", and {len(instance) - known - _SHOWN_KEYS:,} more"
        names = ", ".join(_brief(each) for each in sorted(extras, key=str)) + more
        if patterns:
            verb = "does" if len(extras) == 1 and not more else "do"
            regexes = ", ".join(repr(each) for each in sorted(schema["patternProperties"]))
            yield ValidationError(f"{names} {verb} not match any of the regexes: {regexes}")
            return
        verb = "was" if len(extras) == 1 and not more else "were"
        yield ValidationError(f"Additional properties are not allowed ({names} {verb} unexpected)")

    def type_(validator: Any, types: Any, instance: Any, schema: Any) -> Any:
        types = ensure_list(types)
        if not any(validator.is_type(instance, each) for each in types):
            reprs = ", ".join(repr(each) for each in types)
            yield ValidationError(f"{_brief(instance)} is not of type {reprs}")

    def enum(validator: Any, enums: Any, instance: Any, schema: Any) -> Any:
        if all(not equal(each, instance) for each in enums):
            yield ValidationError(f"{_brief(instance)} is not one of {enums!r}")

    def size(kind: str, too_few: bool, empty: str, wrong: str) -> Any:
        def check(validator: Any, limit: Any, instance: Any, schema: Any) -> Any:
            if validator.is_type(instance, kind) and (
                len(instance) < limit if too_few else len(instance) > limit
            ):
                message = empty if limit == (1 if too_few else 0) else wrong
                yield ValidationError(f"{_brief(instance)} {message}")

        return check

    def unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Any:
        if unique and validator.is_type(instance, "array") and not uniq(instance):
            yield ValidationError(f"{_brief(instance)} has non-unique elements")

    def any_of(validator: Any, branches: Any, instance: Any, schema: Any) -> Any:
        found = []
        for index, branch in enumerate(branches):
            errors = list(validator.descend(instance, branch, schema_path=index))
            if not errors:
                return
            found.extend(errors)
        yield ValidationError(
            f"{_brief(instance)} is not valid under any of the given schemas", context=found
        )

    def one_of(validator: Any, branches: Any, instance: Any, schema: Any) -> Any:
        indexed = enumerate(branches)
        found = []
        first_valid = None
        for index, branch in indexed:
            errors = list(validator.descend(instance, branch, schema_path=index))
            if not errors:
                first_valid = branch
                break
            found.extend(errors)
        else:
            yield ValidationError(
                f"{_brief(instance)} is not valid under any of the given schemas", context=found
            )
        more_valid = [each for _, each in indexed if validator.evolve(schema=each).is_valid(instance)]
        if more_valid:
            more_valid.append(first_valid)
            reprs = ", ".join(repr(each) for each in more_valid)
            yield ValidationError(f"{_brief(instance)} is valid under each of {reprs}")

    def not_(validator: Any, forbidden: Any, instance: Any, schema: Any) -> Any:
        if validator.evolve(schema=forbidden).is_valid(instance):
            yield ValidationError(f"{_brief(instance)} should not be valid under {forbidden!r}")

    return {
        "additionalProperties": additional_properties,
        "type": type_,
        "enum": enum,
        "minItems": size("array", True, "should be non-empty", "is too short"),
        "maxItems": size("array", False, "is expected to be empty", "is too long"),
        "minLength": size("string", True, "should be non-empty", "is too short"),
        "maxLength": size("string", False, "is expected to be empty", "is too long"),
        "minProperties": size("object", True, "should be non-empty", "does not have enough properties"),
        "maxProperties": size("object", False, "is expected to be empty", "has too many properties"),
        "uniqueItems": unique_items,
        "anyOf": any_of,
        "oneOf": one_of,
        "not": not_,
    }


class SchemaCheck:
    """One schema, checked fast.

    jsonschema-rs (compiled) decides that a value is valid in a few microseconds; a value it
    refuses is checked again by the same Python validator openapi-core uses, which has the last
    word and writes the message. Valid requests, the common case, never pay for Python validation.
    """

    __slots__ = ("_fast", "_rules", "_slow", "_without", "hide_values", "schema")

    def __init__(self, schema: Schema, assumed_rules: bool = True) -> None:
        # Without the assumed rules: the schema as the published spec allows (compiled once).
        self.schema = schema if assumed_rules else assumptions.relaxed(schema)
        self._fast = jsonschema_rs.validator_for(self.schema, validate_formats=True)
        self._slow: OAS31Validator | None = None
        # Where a value may be a secret, a refusal names the field and the rule, never the value.
        self.hide_values = holds_secrets(schema)
        # The assumed rules marked in the schema (none in most), each checked apart on a refusal.
        self._rules = assumptions.rules_in(self.schema)
        self._without: dict[str, Any] = {}

    def error(self, instance: Any, where: str) -> str | None:
        if self._fast.is_valid(instance):
            return None
        if self._slow is None:
            self._slow = compile_schema(self.schema)
        message = first_error(self._slow, instance, where, self.hide_values)
        if message is not None and self._rules:
            message = self._assumed(instance, where, message)
        return message

    def _assumed(self, instance: Any, where: str, message: str) -> str:
        """A refusal where assumed rules are marked (on the refusal path only): when the value is
        valid without them, the message names those it breaks; when it is not, the refusal stands
        without them too, and the message is left as it is (the strict one says most)."""
        everything = frozenset(self._rules)
        if not self._relaxed(everything).is_valid(instance):
            return message
        broken = [r for r in self._rules if not self._relaxed(everything - {r}).is_valid(instance)]
        return f"{message} {assumptions.note(broken or self._rules)}"

    def _relaxed(self, rules: frozenset[str]) -> Any:
        """The fast validator of the schema without ``rules`` (compiled once for each set asked)."""
        key = ",".join(sorted(rules))
        check = self._without.get(key)
        if check is None:
            relaxed = assumptions.relaxed(self.schema, rules)
            check = self._without[key] = jsonschema_rs.validator_for(relaxed, validate_formats=True)
        return check


def holds_secrets(schema: Any) -> bool:
    """Whether any part of ``schema`` is write-only (a secret the API never shows)."""
    if isinstance(schema, dict):
        if schema.get("writeOnly") is True or schema.get("x-secret-values"):
            return True
        return any(holds_secrets(v) for v in schema.values())
    if isinstance(schema, list):
        return any(holds_secrets(v) for v in schema)
    return False


def describe_error(
    error: ValidationError, where: str, root: Schema, hide_values: bool = False, context: str | None = None
) -> str:
    """``body.input.url: 'ftp://x' does not match ...``, with the discriminating type when there is one.

    With ``hide_values`` the message names the field and the rule but not the value given."""
    message = f"{_location(error, where)}: {_message(error, hide_values)}"
    return f"{message} ({context})" if context else message


def _location(error: ValidationError, where: str) -> str:
    location = where
    for part in error.absolute_path:
        location += f"[{part}]" if isinstance(part, int) else f".{part}"
    return location


_MAX_MESSAGE = 400


# Rules whose standard message names keys, not the value given.
_KEY_RULES = frozenset({"required", "additionalProperties", "dependentRequired", "unevaluatedProperties"})


def _message(error: ValidationError, hide_values: bool = False) -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    if schema.get("writeOnly"):
        return f"invalid value for a write-only field (rule {error.validator!r}; the value is not shown)"
    if hide_values and error.validator not in _KEY_RULES | {"anyOf", "oneOf"}:
        rule = error.validator
        if rule == "type":
            return f"must be of type {error.validator_value} (the value is not shown: it may be a secret)"
        if rule == "enum":
            return f"must be one of {error.validator_value} (the value is not shown: it may be a secret)"
        return (
            f"breaks the rule {rule}: {error.validator_value!r} (the value is not shown: it may be a secret)"
        )
    meaning = schema.get("x-pattern-meaning")
    if error.validator == "pattern" and isinstance(meaning, str):
        return f"{error.instance!r} is not allowed: {meaning}"
    if error.validator == "anyOf":
        branches = schema.get("anyOf", ())
        if branches and all(isinstance(b, dict) and set(b) == {"required"} for b in branches):
            return "needs " + " or ".join(" and ".join(map(repr, b["required"])) for b in branches)
        return "matches none of the allowed shapes"
    if error.validator == "oneOf":
        matched = sum(1 for _ in error.context or ()) < len(schema.get("oneOf", ()))
        return (
            "matches more than one of the allowed shapes" if matched else "matches none of the allowed shapes"
        )
    text = str(error.message)
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def discriminating_field(schema: Schema) -> str | None:
    """The field a ``oneOf``'s variants are told apart by: the ``discriminator``'s, or else the one
    property every variant fixes to a value (``const`` or a one-value ``enum``)."""
    branches = schema.get("oneOf")
    if not isinstance(branches, list) or not branches:
        return None
    discriminator = schema.get("discriminator")
    if isinstance(discriminator, dict) and isinstance(discriminator.get("propertyName"), str):
        return str(discriminator["propertyName"])
    fixed = [
        {k for k in b.get("properties", {}) if _named_value(b, k) is not None}
        if isinstance(b, dict)
        else set()
        for b in branches
    ]
    common = set.intersection(*fixed)
    if not common:
        return None
    return "type" if "type" in common else sorted(common)[0]


def discriminated_variants(schema: Schema) -> dict[str, Schema] | None:
    """A ``oneOf`` of per-type variants: the variants by their discriminating value (else None).

    Each variant names its value as ``const`` (or a one-value ``enum``) of the discriminating
    property, so this needs no ``$ref`` (it works on a dereferenced schema).
    """
    name = discriminating_field(schema)
    if name is None:
        return None
    found: dict[str, Schema] = {}
    for branch in schema["oneOf"]:
        value = _named_value(branch, name)
        if value is not None:
            found[value] = branch
    return found


def _default_variant(variants: Mapping[str, Schema], name: str) -> str | None:
    """The variant a value without the discriminating field falls in (one that does not require it)."""
    optional = [v for v, schema in variants.items() if name not in schema.get("required", ())]
    return optional[0] if len(optional) == 1 else None


def _named_value(branch: Any, name: Any) -> str | None:
    prop = branch.get("properties", {}).get(name) if isinstance(branch, dict) else None
    if not isinstance(prop, dict):
        return None
    if "const" in prop:
        return str(prop["const"])
    enum = prop.get("enum")
    return str(enum[0]) if isinstance(enum, list) and len(enum) == 1 else None


class _Verdict:
    """The errors worth reporting, each with the discriminating rule it comes from (if any)."""

    def __init__(self) -> None:
        self.errors: list[tuple[ValidationError, str | None]] = []
        self.message: str | None = None  # a missing or unknown discriminating value says it all


def _narrow(errors: Iterable[ValidationError], where: str, context: str | None, verdict: _Verdict) -> None:
    """Replace each discriminated ``oneOf`` failure by the failures of the variant its value names."""
    for error in errors:
        schema = error.schema if isinstance(error.schema, dict) else {}
        variants = discriminated_variants(schema) if error.validator == "oneOf" else None
        if not variants:
            verdict.errors.append((error, context))
            continue
        if not isinstance(error.instance, dict):  # every variant is an object: say that
            wrong_type = [e for e in error.context or () if e.validator == "type" and not e.relative_path]
            verdict.errors.append((wrong_type[0] if wrong_type else error, context))
            continue
        name = str(discriminating_field(schema))
        location = _location(error, where)
        value = error.instance.get(name, _default_variant(variants, name))
        if value is None:
            verdict.message = verdict.message or f"{location}: {name!r} is a required property"
            continue
        if not isinstance(value, str) or value not in variants:
            verdict.message = verdict.message or (
                f"{location}.{name}: {value!r} is not one of {sorted(variants)}"
            )
            continue
        index = schema["oneOf"].index(variants[value])
        chosen = [
            e for e in error.context or () if e.relative_schema_path and e.relative_schema_path[0] == index
        ]
        for sub in chosen:
            rule = f"rule for {name} {value!r}" if _varies(sub, variants, name) else context
            _narrow([sub], where, rule, verdict)


def _varies(error: ValidationError, variants: Mapping[str, Schema], name: str) -> bool:
    """Whether the failing part is one the variants state differently (so the type is worth naming)."""
    if error.relative_path:
        field = error.relative_path[0]
        shapes = [v.get("properties", {}).get(field) for v in variants.values()]
        return field != name and any(s != shapes[0] for s in shapes)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        # The variants' property names, not the object's keys, are walked: the object may be huge.
        named = {k for v in variants.values() for k in v.get("properties", {}) if k not in allowed}
        return any(k in error.instance for k in named)
    if error.validator == "required" and isinstance(error.instance, dict):
        wanted: list[Any] = list(error.validator_value) if isinstance(error.validator_value, list) else []
        missing = [r for r in wanted if r not in error.instance]
        return any(any(m not in v.get("required", ()) for v in variants.values()) for m in missing)
    return False


def first_error(
    validator: OAS31Validator, instance: Any, where: str, hide_values: bool = False
) -> str | None:
    errors = list(validator.iter_errors(instance))
    if not errors:
        return None
    try:
        return _explain(errors, validator, where, hide_values)
    finally:
        untangle(errors)


def untangle(errors: list[ValidationError]) -> None:
    """Break the parent/context links between jsonschema's errors. Each links to its branches and
    back, a cycle only the garbage collector frees; the errors hold parts of the refused body, so a
    large body would stay in memory until the next full collection."""
    stack = list(errors)
    while stack:
        error = stack.pop()
        stack.extend(error.context)
        error.context = []
        error.parent = None


def _explain(errors: list[ValidationError], validator: OAS31Validator, where: str, hide_values: bool) -> str:
    from jsonschema.exceptions import best_match, relevance

    # A discriminated oneOf (the input's shape follows ``type``) is judged by the variant its
    # ``type`` names, which says more than "matches none of the allowed shapes".
    verdict = _Verdict()
    _narrow(errors, where, None, verdict)
    if verdict.message is not None:
        return verdict.message
    contexts = {id(e): c for e, c in verdict.errors}
    specific = [e for e, c in verdict.errors if c is not None]
    error = best_match(specific or [e for e, _ in verdict.errors], key=relevance)
    assert error is not None
    top = error  # best_match may have gone down into an anyOf's branches: the rule is its root's
    while id(top) not in contexts and top.parent is not None:
        top = top.parent
    return describe_error(error, where, validator.schema, hide_values, contexts.get(id(top)))


class _ParameterCheck:
    # What validate() reads of the parameter on every request is worked out here once (its name,
    # where it is, its message prefix, its default): measured on listSources (six query parameters,
    # one given), validate 8.8 -> 6.8 µs; getSource 3.0 -> 2.4 µs (min of 10 processes, loaded machine).
    __slots__ = (
        "assumed_rules",
        "default",
        "free_form",
        "in_path",
        "item_type",
        "kind",
        "name",
        "null_items",
        "param",
        "required",
        "validator",
        "where",
    )

    def __init__(self, param: Parameter, assumed_rules: bool = True) -> None:
        self.param = param
        schema = param.schema
        self.kind = _json_type(schema)
        self.item_type = _json_type(schema.get("items", {})) if self.kind == "array" else None
        self.assumed_rules = assumed_rules
        self.name = param.name
        self.in_path = param.location == "path"
        # A schema that only names the type (and, for a path parameter, a minimum length of 1: a
        # path parameter is never empty) holds every value parse() gives: not checked again.
        holds_all = _holds_every_parsed(schema, self.kind, self.in_path)
        self.validator = SchemaCheck(schema, assumed_rules) if schema and not holds_all else None
        self.required = param.required
        self.where = f"{param.location}.{param.name}"
        # Free-form query objects (the custom requests' ``parameters``) take the leftover keys.
        self.free_form = self.kind == "object" and param.location == "query"
        self.default = schema.get("default", _NO_DEFAULT)
        # ``x-null-items: <rule>``: the published items may be null, which the bundled spec leaves
        # out by the assumed rule named; with the rules off an item spelled `null` is a null item,
        # which selects nothing of its own, and is dropped (all of them: the parameter left out).
        null_items = schema.get("x-null-items")
        self.null_items: str | None = null_items if isinstance(null_items, str) else None

    def parse(self, raw: list[str]) -> Any:
        p = self.param
        where = self.where
        if self.kind == "array":
            values: list[str] = []
            for chunk in raw:
                values.extend([chunk] if p.explode else chunk.split(","))
            if all(chunk == "" for chunk in raw):  # `name=`: OpenAPI's allowEmptyValue is false
                if not self.assumed_rules:
                    return []  # the published reading: an empty comma-separated list
                raise assumptions.refuse(
                    "query-lists-non-empty", f"{where}: empty value (leave the parameter out instead)"
                )
            if self.null_items is not None and "null" in values:
                if self.assumed_rules:
                    raise assumptions.refuse(
                        self.null_items,
                        f"{where}[{values.index('null')}]: a null item (the published spec allows one; "
                        "leave it out)",
                    )
                values = [v for v in values if v != "null"]
                if not values:
                    return LEFT_OUT
            # An empty item (`a,,b`) is an empty string: the item schema decides (an enum refuses it).
            return [_coerce(v, self.item_type, where) for v in values]
        if len(raw) > 1 and self.kind not in ("object",):
            raise BadRequest(f"{where}: given {len(raw)} times; expected a single value")
        if raw[0] == "":
            if p.location == "path":  # a URL cannot name it, whether or not it exists
                raise NotFound(
                    f"{where}: empty; a URL cannot name an empty {p.name}{_EMPTY_HINT.get(p.name, '')}"
                )
            if not self.assumed_rules and self.kind in (None, "string"):
                return ""  # the published reading: an empty string, held to the schema
            if self.kind in (None, "string"):
                raise assumptions.refuse(
                    "query-strings-non-empty", f"{where}: empty value (leave the parameter out instead)"
                )
            raise BadRequest(f"{where}: empty value (leave the parameter out instead)")
        return _coerce(raw[0], self.kind, where)


def _holds_every_parsed(schema: Schema, kind: str | None, in_path: bool) -> bool:
    """Whether every value :meth:`_ParameterCheck.parse` gives for ``schema`` fits it: a string or
    a boolean schema with nothing to check beyond its type (annotations and ``x-`` marks aside),
    and, for a path parameter, at most ``minLength: 1`` (parse refuses an empty one)."""
    if kind not in ("string", "boolean") or schema.get("type") != kind:
        return False
    for key, value in schema.items():
        if key in _ANNOTATIONS or key.startswith("x-"):
            continue
        if key == "minLength" and in_path and kind == "string" and type(value) is int and value <= 1:
            continue
        return False
    return True


_ANNOTATIONS = frozenset({"type", "description", "title", "default", "example", "examples", "deprecated"})
_NO_DEFAULT: Any = object()  # a parameter whose schema has no default
LEFT_OUT: Any = object()  # what a parameter given reads as when it is as good as left out


def _json_type(schema: Schema) -> str | None:
    t = schema.get("type")
    if isinstance(t, list):
        t = next((x for x in t if x != "null"), None)
    if t is None:
        for key in ("oneOf", "anyOf", "allOf"):
            for sub in schema.get(key, []):
                found = _json_type(sub)
                if found is not None and found != "null":
                    return found
    return t if isinstance(t, str) else None


def _coerce(value: str, kind: str | None, where: str) -> Any:
    if kind == "integer":
        if not _INT.fullmatch(value):
            raise BadRequest(f"{where}: {value[:50]!r} is not an integer")
        if len(value) > _MAX_INT_DIGITS:
            raise BadRequest(f"{where}: {value[:20]}... is out of range ({len(value)} digits)")
        return int(value)
    if kind == "number":
        if not _NUMBER.fullmatch(value) or len(value) > 64:
            raise BadRequest(f"{where}: {value[:50]!r} is not a number")
        return float(value)
    if kind == "boolean":
        if value not in ("true", "false"):
            raise BadRequest(f"{where}: {value[:50]!r} is not a boolean (true or false)")
        return value == "true"
    return value


class OperationValidator:
    """Everything needed to check one operation's requests, compiled once."""

    def __init__(self, operation: Operation, assumed_rules: bool = True) -> None:
        self.operation = operation
        self._params = [
            _ParameterCheck(p, assumed_rules) for p in operation.parameters if p.location in ("path", "query")
        ]
        self._body = (
            SchemaCheck(operation.body_schema, assumed_rules) if operation.body_schema is not None else None
        )
        # A body the bundled spec requires and the published one does not (marked on requestBody).
        mark = (operation.raw.get("requestBody") or {}).get(assumptions.MARK)
        self._body_rule = mark.get("rule") if isinstance(mark, dict) else None
        self._body_required = operation.body_required and (assumed_rules or self._body_rule is None)

    def validate(
        self,
        path_params: Mapping[str, str],
        query: Mapping[str, list[str]],
        body: Any,
        text: bytes | None = None,
    ) -> ValidRequest:
        """The request's typed parameters and its body, or BadRequest saying what is wrong and where.
        ``text``: the JSON text ``body`` was parsed from, handed on as it is."""
        path_out: dict[str, Any] = {}
        query_out: dict[str, Any] = {}
        for check in self._params:
            name = check.name
            if check.in_path:
                raw: list[str] | None = [path_params[name]] if name in path_params else None
                out = path_out
            else:
                raw = query.get(name)
                out = query_out
            if check.free_form:
                out[name] = {k: v[-1] for k, v in query.items()}
                continue
            if not raw:
                if check.required:
                    raise BadRequest(f"{check.where}: is required")
                if check.default is not _NO_DEFAULT:
                    out[name] = check.default
                continue
            value = check.parse(raw)
            if value is LEFT_OUT:
                continue
            if check.validator is not None:
                message = check.validator.error(value, check.where)
                if message is not None:
                    raise BadRequest(message)
            out[name] = value
        if self._body is not None:
            if body is MISSING:
                if self._body_required:
                    if self._body_rule is not None:
                        raise BadRequest(f"body: a JSON body is required {assumptions.note(self._body_rule)}")
                    raise BadRequest("body: a JSON body is required")
            else:
                message = self._body.error(body, "body")
                if message is not None:
                    raise BadRequest(message)
        return ValidRequest(path_out, query_out, body, text)


class RequestValidators:
    """Compiled validators for every operation of a spec."""

    def __init__(
        self, spec: Spec, operations: Iterable[Operation] | None = None, *, assumed_rules: bool = True
    ) -> None:
        """``assumed_rules=False``: the spec's assumed rules are left out (engine/assumptions.py)."""
        ops = operations if operations is not None else spec.operations.values()
        self.assumed_rules = assumed_rules
        self._by_id = {op.operation_id: OperationValidator(op, assumed_rules) for op in ops}

    @staticmethod
    def of(spec: Spec, *, assumed_rules: bool = True) -> RequestValidators:
        """The validators of every operation of ``spec``, compiled once per spec object and process
        (:func:`mockserver.spec.load_spec` hands out one object per file) and shared by the engines
        built on it: they hold no state of a mock (what they compile lazily, a refusal's message
        validator, depends on the schema alone). Compiling them is most of what building a mock
        costs (about 16 of 19 ms)."""
        return _compiled(spec, assumed_rules)

    def __getitem__(self, operation_id: str) -> OperationValidator:
        return self._by_id[operation_id]


@functools.lru_cache(maxsize=16)
def _compiled(spec: Spec, assumed_rules: bool) -> RequestValidators:
    return RequestValidators(spec, assumed_rules=assumed_rules)
