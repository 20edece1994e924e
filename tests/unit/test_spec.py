"""The bundled spec: loads, is valid OpenAPI, and serves every operation of the API fact sheet."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from mockserver import Spec, load_spec
from mockserver.spec import SpecJoinError, bundled_spec_path, bundled_spec_paths, join_documents
from tests.published import published_search_spec

FACTS_OPERATIONS = Path(__file__).resolve().parents[1] / "data" / "facts_operations.txt"
FACT_SHEET_CANDIDATES = (
    Path("/work/shared/reference/ingestion-api-facts.md"),
    Path(__file__).resolve().parents[3] / "shared/reference/ingestion-api-facts.md",
)
NOT_IN_SPEC = {"setClientApiKey", "chunkedPush"}  # client helpers, not HTTP operations of the service
FACT_HEADING = re.compile(r"^### ([A-Z]+) (\S+)\s+— operationId `([^`]+)`\s*$", re.MULTILINE)


def facts_file_lines() -> list[str]:
    return [line for line in FACTS_OPERATIONS.read_text().splitlines() if line.strip()]


def spec_lines(spec: Spec) -> set[str]:
    return {f"{op.method} {op.path} {op.operation_id}" for op in spec.operations.values()}


def contains_ref(node: Any) -> bool:
    if isinstance(node, dict):
        return "$ref" in node or any(contains_ref(v) for v in node.values())
    if isinstance(node, list):
        return any(contains_ref(v) for v in node)
    return False


def test_bundled_spec_loads_with_59_operations() -> None:
    """The Ingestion API's 59 operations (its file alone), and the 58 of the Search API beside them in
    the bundled spec, which joins the two files."""
    ingestion = load_spec(bundled_spec_path())
    assert ingestion.title == "Ingestion API"
    assert len(ingestion.operations) == 59
    assert ingestion.path == bundled_spec_path() and not ingestion.bundled
    spec = load_spec()
    assert spec.title == "Ingestion and Search APIs"
    assert len(spec.operations) == 59 + 58
    assert spec.path is None and spec.sources == bundled_spec_paths() and spec.bundled
    assert set(ingestion.operations) < set(spec.operations)


def test_bundled_spec_is_valid_openapi() -> None:
    validate(copy.deepcopy(load_spec().document))


def test_load_spec_is_cached() -> None:
    assert load_spec() is load_spec()
    assert load_spec(bundled_spec_path()) is load_spec(bundled_spec_path())
    assert load_spec(bundled_spec_path()) is not load_spec()  # a file named alone is that document alone


def test_operation_ids_are_unique() -> None:
    document = load_spec().document
    ids = [
        op["operationId"]
        for item in document["paths"].values()
        for method, op in item.items()
        if method in ("get", "put", "post", "delete", "patch")
    ]
    assert len(ids) == len(set(ids)) == 59 + 58


def test_resolved_copy_has_no_references_left() -> None:
    spec = load_spec()
    assert not contains_ref(spec.resolved)
    assert contains_ref(spec.document)  # the raw tree is untouched


def test_facts_file_lists_59_operations() -> None:
    lines = facts_file_lines()
    assert len(lines) == len(set(lines)) == 59
    for line in lines:
        method, path, operation_id = line.split(" ")
        assert method in {"GET", "POST", "PUT", "PATCH", "DELETE"}
        assert path.startswith("/")
        assert operation_id not in NOT_IN_SPEC


def test_every_operation_of_the_fact_sheet_is_in_the_spec() -> None:
    missing = set(facts_file_lines()) - spec_lines(load_spec(bundled_spec_path()))
    assert not missing


def test_the_spec_has_no_operation_the_fact_sheet_lacks() -> None:
    extra = spec_lines(load_spec(bundled_spec_path())) - set(facts_file_lines())  # (the Ingestion API's)
    assert not extra


def test_facts_file_matches_the_fact_sheet() -> None:
    sheet = next((p for p in FACT_SHEET_CANDIDATES if p.is_file()), None)
    if sheet is None:
        pytest.skip("the API fact sheet is not available here")
    from_sheet = {
        f"{method} {path} {operation_id}"
        for method, path, operation_id in FACT_HEADING.findall(sheet.read_text(encoding="utf-8"))
        if operation_id not in NOT_IN_SPEC
    }
    assert len(from_sheet) == 59
    assert set(facts_file_lines()) == from_sheet


def test_operations_know_their_parameters_and_bodies() -> None:
    spec = load_spec()
    list_sources = spec.operations["listSources"]
    params = {(p.name, p.location): p for p in list_sources.parameters}
    assert params[("type", "query")].explode is False
    assert params[("itemsPerPage", "query")].schema["maximum"] == 100
    assert not list_sources.has_body
    create = spec.operations["createSource"]
    assert create.has_body and create.body_required
    assert create.body_schema is not None and create.body_schema["discriminator"]["propertyName"] == "type"
    assert all("type" in variant["properties"] for variant in create.body_schema["oneOf"])
    run = spec.operations["runTask"]
    assert run.has_body and not run.body_required
    get = spec.operations["getSource"]
    assert [(p.name, p.location, p.required) for p in get.parameters] == [("sourceID", "path", True)]


def test_response_schema_lookup() -> None:
    op = load_spec().operations["getSource"]
    documented, schema = op.response_schema(200)
    assert documented
    assert schema is not None and all("sourceID" in v["properties"] for v in schema["oneOf"])
    assert op.response_schema(404)[0]
    assert op.response_schema(418) == (False, None)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return path


MINI = """
openapi: 3.1.0
info: {title: Mini, version: '1'}
paths:
  /things/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {$ref: '#/components/schemas/Id'}}
    get:
      responses:
        '2XX': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}}
        default: {description: other}
components:
  schemas:
    Id: {type: string}
    Thing: {type: object, properties: {id: {$ref: '#/components/schemas/Id'}}}
"""


def test_a_custom_spec_file(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, MINI))
    assert spec.title == "Mini"
    (op,) = spec.operations.values()
    assert op.operation_id == "get_things_id"  # made up when the spec gives none
    assert op.method == "GET"
    assert op.parameters[0].name == "id"
    assert op.parameters[0].schema == {"type": "string"}
    assert op.response_schema(201) == (True, {"type": "object", "properties": {"id": {"type": "string"}}})


def test_a_default_response_documents_every_other_status(tmp_path: Path) -> None:
    (op,) = load_spec(write(tmp_path, MINI)).operations.values()
    assert op.response_schema(500) == (True, None)
    assert op.response_schema(404) == (True, None)


def test_a_file_that_is_not_openapi_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not an OpenAPI document"):
        load_spec(write(tmp_path, "just: text\n"))


@pytest.mark.parametrize(
    ("schemas", "message"),
    [
        ("A: {$ref: '#/components/schemas/A'}", "recursive"),
        ("A: {$ref: 'other.yaml#/A'}", "only local references"),
    ],
)
def test_unsupported_references_are_refused(tmp_path: Path, schemas: str, message: str) -> None:
    header = "openapi: 3.1.0\ninfo: {title: X, version: '1'}\npaths: {}\n"
    text = f"{header}components:\n  schemas:\n    {schemas}\n"
    with pytest.raises(ValueError, match=message):
        load_spec(write(tmp_path, text))


def _inline(node: Any, root: dict[str, Any]) -> Any:
    """Every $ref replaced by a fresh copy of its target (the slow, obviously right way)."""
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            target: Any = root
            for part in node["$ref"][2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            siblings = {k: _inline(v, root) for k, v in node.items() if k != "$ref"}
            resolved = _inline(target, root)
            return {**resolved, **siblings} if siblings and isinstance(resolved, dict) else resolved
        return {k: _inline(v, root) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, root) for v in node]
    return node


def test_references_resolve_to_their_targets_and_share_them() -> None:
    spec = load_spec()
    assert spec.resolved == _inline(spec.document, spec.document)
    # A schema referred to from several operations is one object: resolved once, not copied per use.
    push, push_task = spec.operations["push"], spec.operations["pushTask"]
    assert push.body_schema == push_task.body_schema
    assert push.body_schema is push_task.body_schema


def test_a_cycle_through_several_references_is_refused(tmp_path: Path) -> None:
    header = "openapi: 3.1.0\ninfo: {title: X, version: '1'}\npaths: {}\n"
    schemas = (
        "    A: {type: object, properties: {b: {$ref: '#/components/schemas/B'}}}\n"
        "    B: {type: array, items: {$ref: '#/components/schemas/A'}}\n"
    )
    with pytest.raises(ValueError, match="recursive"):
        load_spec(write(tmp_path, f"{header}components:\n  schemas:\n{schemas}"))


@pytest.mark.parametrize("name", ["ingestion.yaml", "search.yaml", "control.yaml"])
def test_every_property_of_the_shipped_specs_has_a_schema(name: str) -> None:
    """A flow-style YAML description holding a comma becomes extra properties with no schema."""
    import yaml

    from mockserver import data

    document = yaml.safe_load((data.control_spec().parent / name).read_text(encoding="utf-8"))
    empty: list[str] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "properties" and isinstance(value, dict):  # a schema's properties
                    for prop, schema in value.items():
                        if isinstance(schema, dict):
                            walk(schema, f"{where}.{prop}")
                        else:
                            empty.append(f"{where}.{prop}")
                else:
                    walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for index, item in enumerate(node):
                walk(item, f"{where}[{index}]")

    walk(document, name)
    assert empty == []


# --- the bundled spec: two files joined -----------------------------------------------------------


def _document(paths: dict[str, Any], schemas: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas or {}},
    }


def _op(operation_id: str, schema: str | None = None) -> dict[str, Any]:
    content = {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}} if schema else None
    response: dict[str, Any] = {"description": "ok", **({"content": content} if content else {})}
    return {"operationId": operation_id, "responses": {"200": response}}


def test_the_join_holds_both_documents_and_shares_what_they_define_alike() -> None:
    shared = {"type": "object"}
    first = _document({"/a": {"get": _op("getA", "A")}}, {"A": {"type": "string"}, "Shared": shared})
    second = _document(
        {"/b": {"get": _op("getB", "B")}, "/a": {"post": _op("postA")}}, {"B": {}, "Shared": shared}
    )
    joined = join_documents([(first, "first.yaml"), (second, "second.yaml")], title="Both")
    spec = Spec(joined)
    assert spec.title == "Both" and joined["info"]["version"] == "1"
    assert set(spec.operations) == {"getA", "getB", "postA"}
    assert set(joined["components"]["schemas"]) == {"A", "B", "Shared"}
    assert spec.operations["getA"].responses["200"] == {"type": "string"}
    assert first["paths"] == {"/a": {"get": _op("getA", "A")}}, "the documents joined are left as they were"


@pytest.mark.parametrize(
    ("second", "message"),
    [
        (
            _document({"/b": {"get": _op("getB")}}, {"A": {"type": "integer"}}),
            "cannot join first.yaml and second.yaml: both define components/schemas/A (differently; "
            "rename one of them)",
        ),
        (
            _document({"/a": {"get": _op("getOther")}}),
            "cannot join first.yaml and second.yaml: both define GET /a",
        ),
        (
            _document({"/c": {"get": _op("getA")}}),
            "cannot join first.yaml and second.yaml: both define the operationId 'getA'",
        ),
    ],
)
def test_the_join_refuses_a_clash_naming_it(second: dict[str, Any], message: str) -> None:
    first = _document({"/a": {"get": _op("getA", "A")}}, {"A": {"type": "string"}})
    with pytest.raises(SpecJoinError) as raised:
        join_documents([(first, "first.yaml"), (second, "second.yaml")], title="Both")
    assert str(raised.value) == message


def test_the_bundled_files_join_without_a_clash_and_name_their_search_components_apart() -> None:
    """A name both files use is one they define alike (the error answers, the credentials); the
    Search API's own components that the Ingestion spec also names are prefixed Search."""
    ingestion = load_spec(bundled_spec_path()).document["components"]
    search = load_spec(bundled_spec_paths()[1]).document["components"]
    for section in ("schemas", "responses", "parameters", "securitySchemes"):
        for name in set(ingestion.get(section, {})) & set(search.get(section, {})):
            assert search[section][name] == ingestion[section][name], (section, name)
    assert {"ErrorBase"} == set(ingestion["schemas"]) & set(search["schemas"])
    assert {"SearchTaskID", "SearchObjectID", "SearchPage"} <= set(search["schemas"])


def test_every_real_endpoint_of_the_published_search_spec_is_in_ours() -> None:
    """Served or not: the mock can name every endpoint a Search client calls. Left out: the clients'
    helpers (``x-helper``: saveObjects, waitForTask, ...) and the custom requests (``/{path}``:
    the Ingestion spec's fallback takes them)."""
    import yaml

    published = yaml.safe_load(published_search_spec().read_text(encoding="utf-8"))
    renamed = {
        ("GET", "/1/indexes/{indexName}/task/{taskID}"): "getIndexTask",
        ("DELETE", "/1/security/sources/{source}"): "deleteSecuritySource",
    }
    ours = {(op.method, op.path): op.operation_id for op in load_spec().operations.values()}
    endpoints = {
        (method.upper(), path): renamed.get((method.upper(), path), operation["operationId"])
        for path, item in published["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "delete", "patch")
        and not operation.get("x-helper")
        and path != "/{path}"
    }
    assert len(endpoints) == 58
    missing = {key: op_id for key, op_id in endpoints.items() if ours.get(key) != op_id}
    assert not missing, f"published Search endpoints not in our spec (or under another name): {missing}"
    search = load_spec(bundled_spec_paths()[1])
    assert {(op.method, op.path) for op in search.operations.values()} == set(endpoints)
