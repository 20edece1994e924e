"""The bundled spec describes, in its own words, every place the published spec describes.

A *place* is an operation (``op:createTask``), one of its parameters (``op:listRuns:param:startDate``),
a schema written inline in an operation (``op:runSource:response:200/properties/taskWithRunID``) or
a component schema and anything inside it (``schema:failureThreshold``,
``schema:SourceCSV/properties/delimiter``). Every place the published spec gives a description must
have one in ours. Where ours is arranged differently, the description sits where ours puts the
thing: on the list rather than on its items (``/items``), on the value rather than on one branch of
its ``oneOf`` (``/oneOf/0``), on the parameter rather than its inline schema, on each per-type
variant where ours splits a schema by type (SourceCreate -> SourceCreateJsonVariant, ...).

Left out, on purpose (NOT_COMPARED): the document's own prose (info, tags, servers, externalDocs),
the status texts of responses and request bodies ("OK"), and the SDK-side helper operations the
published spec marks ``x-helper`` (no request reaches the API through them).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.published import BUNDLED_SPEC, published_spec

METHODS = frozenset({"get", "post", "put", "patch", "delete"})
NOT_COMPARED = (
    "info",
    "tags",
    "servers",
    "externalDocs",
    "response and request-body status texts",
    "x-helper",
)

Doc = dict[str, Any]


def _described(node: Any) -> bool:
    return (
        isinstance(node, dict)
        and isinstance(node.get("description"), str)
        and bool(node["description"].strip())
    )


def _walk(node: Any, place: str) -> Iterator[tuple[str, Any]]:
    """Every mapping under ``node`` (itself included) with its place."""
    if isinstance(node, dict):
        yield place, node
        for key, value in node.items():
            if key not in ("description", "example", "examples"):
                yield from _walk(value, f"{place}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{place}/{i}")


def places(doc: Doc) -> dict[str, Any]:
    """Every place of ``doc`` (see the module's docstring) and the mapping found there."""
    found: dict[str, Any] = {}
    components = doc.get("components", {})
    for item in doc.get("paths", {}).values():
        for method, operation in item.items():
            if method not in METHODS or operation.get("x-helper"):
                continue
            op = f"op:{operation['operationId']}"
            found[op] = operation
            for parameter in operation.get("parameters", ()):
                if "$ref" in parameter:
                    parameter = components["parameters"][parameter["$ref"].rsplit("/", 1)[-1]]
                at = f"{op}:param:{parameter['name']}"
                found[at] = parameter
                if isinstance(parameter.get("schema"), dict) and "$ref" not in parameter["schema"]:
                    found.update(_walk(parameter["schema"], f"{at}:schema"))
            for code, response in operation.get("responses", {}).items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if isinstance(schema, dict) and "$ref" not in schema:
                    found.update(_walk(schema, f"{op}:response:{code}"))
    for name, schema in components.get("schemas", {}).items():
        found.update(_walk(schema, f"schema:{name}"))
    return found


def _variants(doc: Doc, place: str) -> list[Any]:
    """``schema:X/properties/p`` where ours splits X into per-type variants: p in each variant."""
    match = re.fullmatch(r"schema:([^/]+)/properties/([^/]+)", place)
    schemas = doc.get("components", {}).get("schemas", {})
    top = schemas.get(match.group(1)) if match else None
    if match is None or not isinstance(top, dict) or "oneOf" not in top:
        return []
    branches = [schemas.get(b.get("$ref", "").rsplit("/", 1)[-1], {}) for b in top["oneOf"]]
    return [b["properties"][match.group(2)] for b in branches if match.group(2) in b.get("properties", {})]


def undescribed(published: Doc, ours: Doc) -> list[str]:
    """The places the published spec describes and ours does not (where ours puts them)."""
    mine = places(ours)
    missing: list[str] = []
    for place, node in places(published).items():
        if not _described(node) or _described(mine.get(place)):
            continue
        parent = re.sub(r"(/items|/oneOf/\d+|:schema.*)$", "", place)
        if parent != place and _described(mine.get(parent)):
            continue
        variants = _variants(ours, place) if place not in mine else []
        if variants and all(_described(v) for v in variants):
            continue
        missing.append(place)
    return missing


@pytest.fixture(scope="module")
def published() -> Doc:
    document: Doc = yaml.safe_load(published_spec().read_text())
    return document


@pytest.fixture(scope="module")
def ours() -> Doc:
    document: Doc = yaml.safe_load(BUNDLED_SPEC.read_text())
    return document


def test_every_place_the_published_spec_describes_is_described_in_ours(published: Doc, ours: Doc) -> None:
    missing = undescribed(published, ours)
    assert not missing, (
        f"{len(missing)} places the published spec describes have no description in spec/ingestion.yaml "
        "(write one in our own words; see this module's docstring for where it goes):\n" + "\n".join(missing)
    )


def test_the_check_covers_operations_parameters_and_schemas(published: Doc) -> None:
    described = [p for p, node in places(published).items() if _described(node)]
    assert len(described) > 400
    assert {"op:runSource", "op:listRuns:param:startDate", "schema:failureThreshold"} <= set(described)
    assert not any(p.startswith(("op:chunkedPush", "op:setClientApiKey")) for p in described)


@pytest.mark.parametrize(
    ("where", "place"),
    [
        (("paths", "/1/sources/{sourceID}/run", "post"), "op:runSource"),
        (("components", "schemas", "failureThreshold"), "schema:failureThreshold"),
        (
            ("components", "schemas", "SourceCreateJsonVariant", "properties", "name"),
            "schema:SourceCreate/properties/name",
        ),
    ],
)
def test_a_description_taken_out_of_ours_is_reported(
    published: Doc, ours: Doc, where: tuple[str, ...], place: str
) -> None:
    changed = copy.deepcopy(ours)
    node = changed
    for key in where:
        node = node[key]
    del node["description"]
    assert undescribed(published, changed) == [place]
