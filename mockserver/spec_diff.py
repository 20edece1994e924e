"""What changed between two OpenAPI documents of the Ingestion API, in lines a person reads.

``mockserver spec-diff OLD NEW`` compares operations (by operationId; an operation the two documents
name differently on the same method and path is compared as one, its name one difference), their
routes, ``x-acl``,
security and deprecation, their parameters (schema, required, style), request bodies and responses
(statuses and body schemas). Schemas are compared as *facts* keyed by the place where they hold
(``body.input.url present``, ``path.taskID minLength``, ``response 200[].cron pattern``): type,
presence (required or optional), enum values, bounds, pattern, format, nullability, defaults,
``readOnly``/``writeOnly``, deprecation, closed objects, which property tags a union's branches
(``tag``), and which properties an object needs one of (``needs``, from ``anyOf: [{required: [a]},
{required: [b]}]``).

Arrangement is not meaning. One document may say "the body is one of these per-type bodies" where
the other says "the body has a type and an input that is one of these per-type inputs"; so the
branches of a ``oneOf``/``anyOf`` are merged before comparing (see :func:`merged`), nullability is
one fact whether a document spells it ``nullable: true`` (3.0) or ``type: [..., 'null']`` (3.1),
and ``$ref`` names are not compared. A status only one document documents is one difference, not
one per fact of its body. Descriptions, examples and titles are prose and are not compared.
Operations marked ``x-helper`` (client-side helpers of the published spec, such as ``chunkedPush``)
are not API calls and are left out.

What it cannot see (said here so nobody reads more into a clean diff): a constraint that ties two
fields together beyond the union's tag (which input goes with which source type shows only as the
tag fact), a bound or ``additionalProperties: false`` stated by some branches and not others (the
branches that state it decide), ``not``, vendor extensions other than ``x-acl`` and ``x-helper``
(``x-secret-values`` included), response headers, non-JSON response bodies, and servers.

Each difference is a :class:`Difference` with a stable ``key`` (``operationId.place``: what the
deviation ledger's patterns match, see :mod:`mockserver.ledger`) and a sentence.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

__all__ = [
    "Difference",
    "SpecDiffError",
    "SpecDocument",
    "compare",
    "compare_files",
    "merged",
    "operation_facts",
    "render",
]

Facts = dict[str, Any]  # place -> what holds there (one fact per place)

_HTTP_METHODS: Final = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# The schema keywords that are contract (what a request or an answer may be); the rest is prose.
_COMPARED: Final = (
    "type",
    "format",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "nullable",
    "readOnly",
    "writeOnly",
    "deprecated",
    "default",
)
_MAX_NAMED_DEPTH: Final = 16  # named schemas nested deeper than this are recursion in disguise
_MAX_REF_CHAIN: Final = 32
_SHOWN_CHARS: Final = 120
# The parameter styles OpenAPI assumes when a parameter states none (explode follows the style).
_DEFAULT_STYLE: Final = {"query": "form", "cookie": "form", "path": "simple", "header": "simple"}

OLD: Final = "OLD"
NEW: Final = "NEW"


class SpecDiffError(ValueError):
    """A document that cannot be read or compared; the message says which and why."""


@dataclass(frozen=True)
class Difference:
    """One difference between OLD and NEW at one place of one operation.

    ``old``/``new`` are the values as JSON text, ``None`` where that document has nothing there.
    ``place`` is ``operation`` when the whole operation is in one document only.
    """

    operation: str
    place: str
    old: str | None
    new: str | None
    route: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        """``operationId.place``: stable across runs, what ledger patterns match."""
        return f"{self.operation}.{self.place}"

    @property
    def signature(self) -> str:
        """``key (direction)``: what ``--keys`` prints, and what a ledger pattern may pin."""
        return f"{self.key} ({self.direction})"

    @property
    def direction(self) -> str:
        """``only in OLD``, ``only in NEW`` or ``changed``."""
        if self.new is None:
            return f"only in {OLD}"
        if self.old is None:
            return f"only in {NEW}"
        return "changed"

    @property
    def change(self) -> str:
        """What changed at the place, without the operation: ``minLength: 1 (only in OLD)``."""
        if self.place == "operation":
            return f"{self.direction} ({self.route})"
        if self.old is not None and self.new is not None:
            before, after = json.loads(self.old), json.loads(self.new)
            if isinstance(before, list) and isinstance(after, list):  # enum values, x-acl: what moved
                return f"{self.place}: {_list_change(before, after)}"
            return f"{self.place}: {_shown(self.old)} -> {_shown(self.new)}"
        value = self.old if self.old is not None else self.new
        return f"{self.place}: {_shown(value or '')} ({self.direction})"

    @property
    def text(self) -> str:
        return f"{self.operation}: {self.change}"


def _list_change(before: list[Any], after: list[Any]) -> str:
    """``+ ["c"] (only in NEW), - ["a"] (only in OLD)``: the members one list has and the other not."""
    old, new = {_json(v) for v in before}, {_json(v) for v in after}
    parts = [f"+ [{', '.join(sorted(new - old))}] (only in {NEW})"] if new - old else []
    parts += [f"- [{', '.join(sorted(old - new))}] (only in {OLD})"] if old - new else []
    return _shown(_json(", ".join(parts) or "same members, another order"))


def _shown(value: str) -> str:
    """A value as a person reads it: JSON, a plain string without its quotes, long ones cut."""
    decoded = json.loads(value)
    text = decoded if isinstance(decoded, str) else value
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


class SpecDocument:
    """An OpenAPI document read for comparison: ``$ref`` resolved on the way, component names kept."""

    def __init__(self, document: Mapping[str, Any], name: str = "document") -> None:
        if not isinstance(document, Mapping) or not isinstance(document.get("paths"), Mapping):
            raise SpecDiffError(f"{name}: not an OpenAPI document (it has no 'paths' mapping)")
        self.document = document
        self.name = name

    @classmethod
    def read(cls, path: str | Path) -> SpecDocument:
        """The document in the YAML or JSON file ``path``; any failure is a :class:`SpecDiffError`."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SpecDiffError(f"{path}: no such file") from None
        except IsADirectoryError:
            raise SpecDiffError(f"{path}: is a folder, not a file") from None
        except UnicodeDecodeError:
            raise SpecDiffError(f"{path}: not UTF-8 text") from None
        except OSError as exc:
            raise SpecDiffError(f"{path}: cannot read it: {exc.strerror or exc}") from None
        try:
            document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            problem = getattr(exc, "problem", None) or type(exc).__name__
            raise SpecDiffError(f"{path}: not YAML or JSON{where}: {problem}") from None
        return cls(document, str(path))

    def resolve(self, node: Any) -> tuple[Any, str | None]:
        """``node`` with its ``$ref`` chain followed, and the last component name on the way."""
        name = None
        for _ in range(_MAX_REF_CHAIN):
            if not (isinstance(node, Mapping) and "$ref" in node):
                return node, name
            ref = str(node["$ref"])
            if not ref.startswith("#/"):
                raise SpecDiffError(f"{self.name}: reference {ref!r} points outside the document")
            target: Any = self.document
            for part in ref[2:].split("/"):
                part = part.replace("~1", "/").replace("~0", "~")
                if not isinstance(target, Mapping) or part not in target:
                    raise SpecDiffError(f"{self.name}: reference {ref!r} names nothing in the document")
                target = target[part]
            node, name = target, ref.rsplit("/", 1)[-1]
        raise SpecDiffError(f"{self.name}: a $ref chain longer than {_MAX_REF_CHAIN} (a loop?)")

    def operations(self) -> dict[str, tuple[str, Mapping[str, Any], list[Any]]]:
        """operationId -> (route, operation, path-level parameters); helpers left out.

        An operation without an operationId is named by its route (``GET /1/things``).
        """
        found: dict[str, tuple[str, Mapping[str, Any], list[Any]]] = {}
        for path, raw_item in self.document["paths"].items():
            item, _ = self.resolve(raw_item)
            if not isinstance(item, Mapping):
                continue
            for method in _HTTP_METHODS:
                operation = item.get(method)
                if not isinstance(operation, Mapping) or operation.get("x-helper"):
                    continue
                route = f"{method.upper()} {path}"
                op_id = str(operation.get("operationId") or route)
                if op_id in found:
                    raise SpecDiffError(
                        f"{self.name}: operationId {op_id!r} is used twice ({found[op_id][0]}, {route})"
                    )
                found[op_id] = (route, operation, list(item.get("parameters") or []))
        return found

    def security(self, operation: Mapping[str, Any]) -> list[str]:
        """The operation's security alternatives, each as its scheme names joined by ``+``."""
        requirements = operation.get("security", self.document.get("security")) or []
        return sorted("+".join(sorted(str(s) for s in r)) or "(none)" for r in requirements)


def schema_facts(
    doc: SpecDocument, schema: Any, where: str, facts: Facts, stack: tuple[str, ...] = ()
) -> None:
    """The facts of ``schema`` at place ``where``, added to ``facts``.

    Branches of a ``oneOf``/``anyOf`` are labelled ``<index:Name>`` after the place; :func:`merged`
    takes the labels out again.
    """
    schema, name = doc.resolve(schema)
    if not isinstance(schema, Mapping):
        return
    if name is not None:
        if name in stack or len(stack) >= _MAX_NAMED_DEPTH:
            facts[f"{where} recursive"] = name
            return
        stack = (*stack, name)
    for keyword in _COMPARED:
        if keyword in schema:
            facts[f"{where} {keyword}"] = schema[keyword]
    if "enum" in schema:
        facts[f"{where} enum"] = list(schema["enum"] or ())
    if "const" in schema:
        facts[f"{where} enum"] = [schema["const"]]
    for part in schema.get("allOf") or ():
        schema_facts(doc, part, where, facts, stack)
    for keyword in ("oneOf", "anyOf"):
        branches = list(schema.get(keyword) or ())
        alternatives = _required_alternatives(doc, branches)
        if alternatives is not None:  # "one of these properties must be there": a fact of its own
            facts[f"{where} needs"] = alternatives
            continue
        tag = _tag_of(doc, schema, branches)
        if tag is not None:
            facts[f"{where} tag"] = tag
        for index, branch in enumerate(branches):
            schema_facts(doc, branch, f"{where}<{index}:{_label(doc, branch)}>", facts, stack)
    properties = schema.get("properties") or {}
    required = {str(p) for p in schema.get("required") or ()}
    for prop, sub in properties.items():
        here = f"{where}.{prop}"
        _note_presence(facts, here, prop in required)
        schema_facts(doc, sub, here, facts, stack)
    for prop in sorted(required - {str(p) for p in properties}):
        _note_presence(facts, f"{where}.{prop}", True)
    extra = schema.get("additionalProperties")
    if extra is False:
        facts[f"{where} additionalProperties"] = False
    elif isinstance(extra, Mapping):
        schema_facts(doc, extra, f"{where}{{*}}", facts, stack)
    items = schema.get("items")
    if isinstance(items, Mapping):
        schema_facts(doc, items, f"{where}[]", facts, stack)


def _note_presence(facts: Facts, place: str, required: bool) -> None:
    """``allOf`` parts may list a property in one part and require it in another: required wins."""
    key = f"{place} present"
    if required or facts.get(key) != "required":
        facts[key] = "required" if required else "optional"


def _label(doc: SpecDocument, branch: Any) -> str:
    """A branch's name for a person debugging facts (the index before it keeps labels unique)."""
    resolved, name = doc.resolve(branch)
    if name is not None:
        return name
    if isinstance(resolved, Mapping):
        if resolved.get("title"):
            return str(resolved["title"])
        if "type" in resolved:
            return f"type {resolved['type']}"
    return "inline"


_PROSE: Final = frozenset({"description", "title", "required"})


def _required_alternatives(doc: SpecDocument, branches: list[Any]) -> list[str] | None:
    """``anyOf: [{required: [a]}, {required: [b]}]`` as ``["a", "b"]``; None for other unions."""
    alternatives: list[str] = []
    for branch in branches:
        resolved, _ = doc.resolve(branch)
        if not isinstance(resolved, Mapping) or not resolved.get("required") or set(resolved) - _PROSE:
            return None
        alternatives.append(" + ".join(sorted(str(p) for p in resolved["required"])))
    return sorted(alternatives) or None


def _tag_of(doc: SpecDocument, schema: Mapping[str, Any], branches: list[Any]) -> str | None:
    """The property that tells a union's branches apart: the discriminator's, else one every branch
    fixes to a value of its own (``const`` or a one-value ``enum``)."""
    discriminator = schema.get("discriminator")
    if isinstance(discriminator, Mapping) and discriminator.get("propertyName"):
        return str(discriminator["propertyName"])
    if len(branches) < 2:
        return None
    fixed: list[dict[str, str]] = []
    for branch in branches:
        resolved, _ = doc.resolve(branch)
        values: dict[str, str] = {}
        if isinstance(resolved, Mapping):
            for prop, sub in (resolved.get("properties") or {}).items():
                sub, _ = doc.resolve(sub)
                if isinstance(sub, Mapping):
                    if "const" in sub:
                        values[str(prop)] = _json(sub["const"])
                    elif len(sub.get("enum") or ()) == 1:
                        values[str(prop)] = _json(sub["enum"][0])
        fixed.append(values)
    for prop in sorted(set.intersection(*(set(v) for v in fixed))):
        if len({v[prop] for v in fixed}) == len(fixed):
            return prop
    return None


def operation_facts(doc: SpecDocument, route: str, operation: Mapping[str, Any], shared: list[Any]) -> Facts:
    """Everything compared of one operation, as facts (branches not merged yet)."""
    facts: Facts = {"route": route}
    if "x-acl" in operation:
        facts["x-acl"] = sorted(str(a) for a in operation["x-acl"] or ())
    facts["security"] = doc.security(operation)
    if operation.get("deprecated"):
        facts["deprecated"] = True
    parameters: dict[tuple[str, str], Mapping[str, Any]] = {}
    for raw in [*shared, *(operation.get("parameters") or [])]:  # the operation's own win
        parameter, _ = doc.resolve(raw)
        if isinstance(parameter, Mapping) and "name" in parameter:
            place = str(parameter.get("in"))
            name = str(parameter["name"]).lower() if place == "header" else str(parameter["name"])
            parameters[(place, name)] = parameter
    for (place, name), parameter in parameters.items():
        where = f"{place}.{name}"
        facts[f"{where} present"] = "required" if parameter.get("required") else "optional"
        if parameter.get("deprecated"):
            facts[f"{where} deprecated"] = True
        style = str(parameter.get("style") or _DEFAULT_STYLE.get(place, "form"))
        explode = parameter.get("explode", style == "form")
        facts[f"{where} style"] = f"{style}, explode={str(bool(explode)).lower()}"
        if "schema" in parameter:
            schema_facts(doc, parameter["schema"], where, facts)
        for media, content in (parameter.get("content") or {}).items():
            schema_facts(doc, (content or {}).get("schema") or {}, f"{where}[{media}]", facts)
    body, _ = doc.resolve(operation.get("requestBody"))
    if isinstance(body, Mapping):
        facts["body present"] = "required" if body.get("required") else "optional"
        for media, content in (body.get("content") or {}).items():
            where = "body" if media == "application/json" else f"body[{media}]"
            facts[f"{where} media"] = "accepted"
            schema_facts(doc, (content or {}).get("schema") or {}, where, facts)
    for status, raw_response in (operation.get("responses") or {}).items():
        response, _ = doc.resolve(raw_response)
        facts[f"status {status}"] = "documented"
        for media, content in ((response or {}).get("content") or {}).items():
            if media == "application/json":
                schema_facts(doc, (content or {}).get("schema") or {}, f"response {status}", facts)
    return facts


_BRANCH: Final = re.compile(r"<[^<>]*>")
_UNIONED: Final = ("type", "enum")


def merged(facts: Facts) -> Facts:
    """The facts with ``oneOf``/``anyOf`` branch labels taken out and the branches' facts merged.

    What a request or an answer may be is compared, not how the schema is arranged. Merging: types
    and enum values are the union over the branches; a property is ``required`` when every branch
    that has it requires it, else ``optional``; any other fact (a bound, a format, a pattern,
    ``additionalProperties: false``...) holds as the branches that state it say, or is ``"varies by
    branch"`` when they disagree. Then ``null`` among the types becomes ``nullable: true``, and a
    single type is a string.
    """
    grouped: dict[str, list[Any]] = {}
    for key, value in facts.items():
        grouped.setdefault(_BRANCH.sub("", key), []).append(value)
    out: Facts = {}
    for key, values in grouped.items():
        kind = key.rsplit(" ", 1)[-1]
        if kind in _UNIONED:
            members = {_json(m): m for v in values for m in (v if isinstance(v, list) else [v])}
            out[key] = [members[k] for k in sorted(members)]
        elif kind == "present":
            out[key] = "required" if all(v == "required" for v in values) else "optional"
        else:
            shown = {_json(v) for v in values}
            out[key] = values[0] if len(shown) == 1 else "varies by branch"
    for key in [k for k in out if k.endswith(" type")]:
        types = out[key]
        if "null" in types:
            types = [t for t in types if t != "null"]
            out[key.removesuffix("type") + "nullable"] = True
        if not types:
            del out[key]
        else:
            out[key] = types[0] if len(types) == 1 else types
    for key in [k for k in out if k.endswith(" enum") and None in out[k]]:
        out[key] = [v for v in out[key] if v is not None]  # null as an enum value is nullability
        out[key.removesuffix("enum") + "nullable"] = True
    for key in [k for k in out if k.endswith(" nullable") and out[k] is False]:
        del out[key]
    return out


def compare(old: SpecDocument, new: SpecDocument) -> list[Difference]:
    """Every difference from ``old`` to ``new``, sorted by operation and place."""
    old_ops, new_ops = old.operations(), new.operations()
    found: list[Difference] = []
    # An operation each document names differently on the same route is one operation renamed: its
    # new name is one difference (``operationId``), and the rest is compared as for any other.
    new_by_route = {route: op_id for op_id, (route, _, _) in new_ops.items() if op_id not in old_ops}
    renamed = {
        op_id: new_by_route[route]
        for op_id, (route, _, _) in old_ops.items()
        if op_id not in new_ops and route in new_by_route
    }
    for op_id, new_id in sorted(renamed.items()):
        route = old_ops[op_id][0]
        found.append(Difference(op_id, "operationId", _json(op_id), _json(new_id), route))
        before = merged(operation_facts(old, *old_ops[op_id]))
        after = merged(operation_facts(new, *new_ops[new_id]))
        found.extend(_fact_differences(op_id, route, before, after))
    for op_id in sorted((set(old_ops) | set(new_ops)) - set(renamed) - set(renamed.values())):
        if op_id not in new_ops:
            found.append(Difference(op_id, "operation", _json(old_ops[op_id][0]), None, old_ops[op_id][0]))
        elif op_id not in old_ops:
            found.append(Difference(op_id, "operation", None, _json(new_ops[op_id][0]), new_ops[op_id][0]))
        else:
            before = merged(operation_facts(old, *old_ops[op_id]))
            after = merged(operation_facts(new, *new_ops[op_id]))
            found.extend(_fact_differences(op_id, new_ops[op_id][0], before, after))
    found.sort(key=lambda d: (d.operation, d.place))
    return found


_RESPONSE_STATUS: Final = re.compile(r"^response (?P<status>[^ .\[{<]+)")


def _fact_differences(op_id: str, route: str, before: Facts, after: Facts) -> Iterator[Difference]:
    # A status only one side documents is one difference, not one per fact of its body.
    lone = {k.removeprefix("status ") for k in set(before) ^ set(after) if k.startswith("status ")}
    for key in sorted(set(before) | set(after)):
        status = _RESPONSE_STATUS.match(key)
        if status is not None and status["status"] in lone:
            continue
        old = _json(before[key]) if key in before else None
        new = _json(after[key]) if key in after else None
        if old != new:
            yield Difference(op_id, key, old, new, route)


def compare_files(old: str | Path, new: str | Path) -> list[Difference]:
    """:func:`compare` of two files; an unreadable or malformed one is a :class:`SpecDiffError`."""
    try:
        return compare(SpecDocument.read(old), SpecDocument.read(new))
    except SpecDiffError:
        raise
    except (TypeError, AttributeError, KeyError) as exc:  # a document whose parts have the wrong shape
        raise SpecDiffError(f"cannot compare {old} and {new}: a malformed part ({exc!r})") from None


def render(
    differences: Iterable[Difference],
    old: str = OLD,
    new: str = NEW,
    repeated: int = 12,
    empty: str = "No differences.",
) -> str:
    """The differences as a person reads them: one block per operation, then a summary.

    ``repeated``: how many of the changes found in the most operations the summary lists;
    ``empty``: what is said when there is no difference.
    """
    found = list(differences)
    lines = [f"{OLD} = {old}", f"{NEW} = {new}", ""]
    if not found:
        return "\n".join([*lines, empty])
    by_operation: dict[str, list[Difference]] = {}
    for difference in found:
        by_operation.setdefault(difference.operation, []).append(difference)
    for op_id, group in by_operation.items():
        whole = [d for d in group if d.place == "operation"]
        if whole:
            lines.append(f"{op_id}: {whole[0].change}")
            continue
        lines.append(f"{op_id}  ({group[0].route})")
        lines += [f"  {difference.change}" for difference in group]
    directions = Counter(d.direction for d in found)
    lines += [
        "",
        f"{len(found)} difference{'s' if len(found) != 1 else ''} in {len(by_operation)} "
        f"operation{'s' if len(by_operation) != 1 else ''}: "
        + ", ".join(f"{directions[d]} {d}" for d in (f"only in {OLD}", f"only in {NEW}", "changed")),
    ]
    common = Counter(d.change for d in found if d.place != "operation").most_common(repeated)
    common = [(change, count) for change, count in common if count > 1]
    if common:
        lines.append("Found in the most operations:")
        lines += [f"  {count:4} x {change}" for change, count in common]
    return "\n".join(lines)
