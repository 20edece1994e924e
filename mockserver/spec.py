"""Load the OpenAPI document once, resolve its references and index its operations."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockserver.spec_twin import read_document

Schema = dict[str, Any]

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def bundled_spec_path() -> Path:
    """The Ingestion spec shipped with the package."""
    from mockserver.data import ingestion_spec

    return ingestion_spec()


def bundled_spec_paths() -> tuple[Path, ...]:
    """The documents the bundled spec joins, in order: the Ingestion API's, then the Search API's."""
    from mockserver.data import ingestion_spec, search_spec

    return (ingestion_spec(), search_spec())


BUNDLED_TITLE = "Ingestion and Search APIs"


class SpecJoinError(ValueError):
    """Two documents cannot be joined into one: they define the same thing differently."""


@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # path | query | header | cookie
    required: bool
    schema: Schema
    explode: bool


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str  # upper case
    path: str  # template, e.g. /1/sources/{sourceID}
    parameters: tuple[Parameter, ...]
    body_schema: Schema | None
    body_required: bool
    responses: dict[str, Schema | None]  # status -> schema of the JSON body (None: no body)
    raw: dict[str, Any] = field(repr=False, compare=False, hash=False)
    success_status: int = 200  # the lowest 2xx documented (saveObject: 201): what a success answers

    @property
    def has_body(self) -> bool:
        return self.body_schema is not None

    def response_schema(self, status: int) -> tuple[bool, Schema | None]:
        """Whether ``status`` is documented, and the body schema for it."""
        responses = self.responses
        code = str(status)
        if code in responses:  # (nearly always: tried before the other two keys are even made)
            return True, responses[code]
        for key in (f"{code[0]}XX", "default"):
            if key in responses:
                return True, responses[key]
        return False, None


class Spec:
    """One parsed OpenAPI document: the raw tree, a fully dereferenced copy, and its operations.

    ``path`` is the file the document was read from; a document joined from several files (the
    bundled spec: see :func:`join_documents`) has none, and ``sources`` names its files."""

    def __init__(
        self, document: dict[str, Any], path: Path | None = None, *, sources: tuple[Path, ...] = ()
    ) -> None:
        self.path = path
        self.sources = sources or ((path,) if path is not None else ())
        self.document = document
        self.resolved: dict[str, Any] = _dereference(document, document)
        self.operations: dict[str, Operation] = {}
        for template, item in self.resolved.get("paths", {}).items():
            shared = item.get("parameters", [])
            for method in HTTP_METHODS:
                if method in item:
                    op = _operation(template, method, item[method], shared)
                    self.operations[op.operation_id] = op

    @property
    def title(self) -> str:
        return str(self.document.get("info", {}).get("title", "API"))

    def schema(self, name: str) -> Schema:
        """A component schema, references resolved."""
        schemas: dict[str, Schema] = self.resolved["components"]["schemas"]
        return schemas[name]

    def has_schema(self, name: str) -> bool:
        return name in self.resolved.get("components", {}).get("schemas", {})

    @property
    def bundled(self) -> bool:
        """Whether this is the spec shipped with the package (the joined Ingestion and Search APIs)."""
        return self.path is None and self.sources == bundled_spec_paths()


def _operation(template: str, method: str, raw: dict[str, Any], shared: list[dict[str, Any]]) -> Operation:
    params: dict[tuple[str, str], Parameter] = {}
    for p in [*shared, *raw.get("parameters", [])]:
        location = p["in"]
        style_explode_default = location in ("query", "cookie")
        params[(p["name"], location)] = Parameter(
            name=p["name"],
            location=location,
            required=bool(p.get("required", location == "path")),
            schema=p.get("schema", {}),
            explode=bool(p.get("explode", style_explode_default)),
        )
    body_schema: Schema | None = None
    body_required = False
    if "requestBody" in raw:
        content: dict[str, Any] = raw["requestBody"].get("content", {})
        media: dict[str, Any] = content.get("application/json") or next(iter(content.values()), {})
        body_schema = media.get("schema", {})
        body_required = bool(raw["requestBody"].get("required", False))
    responses: dict[str, Schema | None] = {}
    for status, resp in raw.get("responses", {}).items():
        resp_content: dict[str, Any] = resp.get("content") or {}
        resp_media: dict[str, Any] | None = resp_content.get("application/json")
        key = str(status)
        key = key.upper() if key.lower().endswith("xx") else key  # 4xx -> 4XX; 'default' stays
        responses[key] = resp_media.get("schema", {}) if resp_media else None
    op_id = raw.get("operationId") or f"{method}_{re.sub(r'[^A-Za-z0-9]+', '_', template).strip('_')}"
    successes = sorted(int(k) for k in responses if k.isdigit() and k.startswith("2"))
    return Operation(
        operation_id=op_id,
        method=method.upper(),
        path=template,
        parameters=tuple(params.values()),
        body_schema=body_schema,
        body_required=body_required,
        responses=responses,
        raw=raw,
        success_status=successes[0] if successes else 200,
    )


def _dereference(
    node: Any, root: dict[str, Any], seen: tuple[str, ...] = (), done: dict[str, Any] | None = None
) -> Any:
    """Inline every local ``$ref``. Sibling keywords beside a ``$ref`` are kept (OpenAPI 3.1).

    Each target is resolved once and shared by every reference to it (``done``): the Ingestion
    spec refers to some schemas dozens of times, and copying each use cost a fifth of the load."""
    if done is None:
        done = {}
    if isinstance(node, dict):
        if "$ref" in node and isinstance(node["$ref"], str):
            pointer = node["$ref"]
            if pointer in seen:
                raise ValueError(f"recursive $ref {pointer} is not supported")
            target = done.get(pointer, _UNRESOLVED)
            if target is _UNRESOLVED:
                target = _dereference(_lookup(root, pointer), root, (*seen, pointer), done)
                done[pointer] = target
            siblings = {k: _dereference(v, root, seen, done) for k, v in node.items() if k != "$ref"}
            if not siblings:
                return target
            return {**target, **siblings} if isinstance(target, dict) else target
        return {k: _dereference(v, root, seen, done) for k, v in node.items()}
    if isinstance(node, list):
        return [_dereference(v, root, seen, done) for v in node]
    return node


_UNRESOLVED = object()


def _lookup(root: dict[str, Any], pointer: str) -> Any:
    if not pointer.startswith("#/"):
        raise ValueError(f"only local references are supported, not {pointer!r}")
    node: Any = root
    for part in pointer[2:].split("/"):
        key = part.replace("~1", "/").replace("~0", "~")
        try:
            node = node[int(key) if isinstance(node, list) else key]
        except (KeyError, IndexError, TypeError, ValueError):
            raise ValueError(f"$ref {pointer!r} points to nothing: there is no {key!r}") from None
    return node


def load_spec(path: str | Path | None = None) -> Spec:
    """Parse a spec file, that one document alone; by default the bundled spec, the Ingestion and
    Search APIs joined (:func:`join_documents`). Cached per path for the process."""
    if path is None:
        sources = bundled_spec_paths()
        return _load_joined(sources, tuple(p.stat().st_mtime_ns for p in sources))
    resolved = Path(path).resolve()
    return _load_cached(resolved, resolved.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _load_cached(path: Path, _mtime: int) -> Spec:
    return Spec(_read(path), path)


@functools.lru_cache(maxsize=2)
def _load_joined(sources: tuple[Path, ...], _mtimes: tuple[int, ...]) -> Spec:
    documents = [(_read(p), p.name) for p in sources]
    return Spec(join_documents(documents, title=BUNDLED_TITLE), sources=sources)


def _read(path: Path) -> dict[str, Any]:
    document = read_document(path)  # (from its parsed twin when there is a current one)
    if not isinstance(document, dict) or "paths" not in document:
        raise ValueError(f"{path}: not an OpenAPI document (no 'paths')")
    return document


def join_documents(documents: list[tuple[dict[str, Any], str]], *, title: str) -> dict[str, Any]:
    """One OpenAPI document holding every path and component of ``documents`` (each with the name
    its errors call it by); the first one's ``info`` (titled ``title``), ``servers`` and ``security``.

    Nothing is renamed: two documents may both define a component only when they define it alike
    (the shared security schemes); a component name, a path's method or an operationId that two
    documents define differently is refused with SpecJoinError naming both documents."""
    first = documents[0][0]
    joined: dict[str, Any] = {
        key: value for key, value in first.items() if key not in ("paths", "components")
    }
    joined["info"] = {**first.get("info", {}), "title": title}
    paths: dict[str, dict[str, Any]] = {}
    components: dict[str, dict[str, Any]] = {}
    tags: dict[str, Any] = {}
    where: dict[tuple[str, ...], str] = {}  # what is defined -> the document that defined it first

    def claim(key: tuple[str, ...], name: str, what: str, same: bool) -> None:
        owner = where.setdefault(key, name)
        if owner != name and not same:
            raise SpecJoinError(f"cannot join {owner} and {name}: both define {what}")

    def place(
        target: dict[str, Any], key: str, value: Any, owner: tuple[str, ...], name: str, what: str
    ) -> bool:
        """Put ``value`` under ``key`` unless another document already did (the same value is
        fine; another is refused). Whether it was put there now."""
        if key in target:
            claim(owner, name, what, target[key] == value)
            return False
        where[owner] = name
        target[key] = value
        return True

    for document, name in documents:
        for template, item in document.get("paths", {}).items():
            target = paths.setdefault(template, {})
            for method, operation in item.items():
                placed = place(
                    target,
                    method,
                    operation,
                    ("path", template, method),
                    name,
                    f"{method.upper()} {template}",
                )
                if (
                    placed
                    and method in HTTP_METHODS
                    and isinstance(operation, dict)
                    and "operationId" in operation
                ):
                    op_id = str(operation["operationId"])
                    claim(("operationId", op_id), name, f"the operationId {op_id!r}", False)
        for section, entries in document.get("components", {}).items():
            target = components.setdefault(section, {})
            for component, value in entries.items():
                place(
                    target,
                    component,
                    value,
                    ("component", section, component),
                    name,
                    f"components/{section}/{component} (differently; rename one of them)",
                )
        for tag in document.get("tags", []):
            tags.setdefault(tag.get("name"), tag)
    joined["paths"] = paths
    joined["components"] = components
    if tags:
        joined["tags"] = list(tags.values())
    return joined
