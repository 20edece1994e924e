"""``mockserver spec-diff``: each kind of change between two small hand-written specs is found, once,
with a stable key; what is arrangement or prose is not; the command's output and exit statuses."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from mockserver.cli import main
from mockserver.spec_diff import (
    Difference,
    SpecDiffError,
    SpecDocument,
    compare,
    compare_files,
    render,
)
from tests.published import BUNDLED_SPEC, published_spec

Spec = dict[str, Any]


def _json_body(schema: Any) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def base() -> Spec:
    """A small spec in the Ingestion API's style: a path parameter by $ref, a body, error responses."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Things", "version": "1.0.0", "description": "Prose."},
        "security": [{"appId": [], "apiKey": []}],
        "paths": {
            "/1/things": {
                "post": {
                    "operationId": "createThing",
                    "x-acl": ["addObject"],
                    "requestBody": {"required": True, **_json_body({"$ref": "#/components/schemas/Thing"})},
                    "responses": {
                        "200": {"description": "OK", **_json_body({"$ref": "#/components/schemas/Thing"})},
                        "400": {"$ref": "#/components/responses/BadRequest"},
                    },
                },
                "get": {
                    "operationId": "listThings",
                    "x-acl": ["addObject"],
                    "parameters": [
                        {
                            "name": "kind",
                            "in": "query",
                            "style": "form",
                            "explode": False,
                            "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Kind"}},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "OK",
                            **_json_body({"type": "array", "items": {"$ref": "#/components/schemas/Thing"}}),
                        }
                    },
                },
            },
            "/1/things/{thingID}": {
                "parameters": [{"$ref": "#/components/parameters/thingID"}],
                "get": {
                    "operationId": "getThing",
                    "x-acl": ["addObject"],
                    "responses": {
                        "200": {"description": "OK", **_json_body({"$ref": "#/components/schemas/Thing"})},
                        "400": {"$ref": "#/components/responses/BadRequest"},
                    },
                },
            },
            "/chunkedThings": {
                "get": {"operationId": "chunkedThings", "x-helper": True, "responses": {"200": {}}},
            },
        },
        "components": {
            "parameters": {
                "thingID": {
                    "name": "thingID",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "description": "The thing's ID."},
                }
            },
            "responses": {
                "BadRequest": {
                    "description": "Bad request.",
                    **_json_body({"$ref": "#/components/schemas/ErrorBase"}),
                }
            },
            "schemas": {
                "Kind": {"type": "string", "enum": ["small", "large"]},
                "Thing": {
                    "type": "object",
                    "description": "A thing.",
                    "additionalProperties": False,
                    "required": ["name", "kind"],
                    "properties": {
                        "name": {"type": "string", "example": "Lamp"},
                        "kind": {"$ref": "#/components/schemas/Kind"},
                        "note": {"type": "string", "nullable": True},
                        "size": {"type": "integer", "minimum": 0},
                    },
                },
                "ErrorBase": {"type": "object", "properties": {"message": {"type": "string"}}},
            },
        },
    }


def diff(old: Spec, new: Spec) -> list[Difference]:
    return compare(SpecDocument(old, "OLD"), SpecDocument(new, "NEW"))


def changed(change: Callable[[Spec], None]) -> list[Difference]:
    """The differences from the base spec to a copy that ``change`` edited."""
    new = base()
    change(new)
    return diff(base(), new)


def keys(found: list[Difference]) -> set[str]:
    return {d.key for d in found}


def one(found: list[Difference]) -> Difference:
    assert len(found) == 1, [d.text for d in found]
    return found[0]


def thing(spec: Spec) -> dict[str, Any]:
    schema: dict[str, Any] = spec["components"]["schemas"]["Thing"]
    return schema


def operation(spec: Spec, path: str, method: str) -> dict[str, Any]:
    found: dict[str, Any] = spec["paths"][path][method]
    return found


# --- nothing to report --------------------------------------------------------------------------


def test_a_spec_does_not_differ_from_itself() -> None:
    assert diff(base(), base()) == []
    assert render([], "a.yaml", "b.yaml").endswith("No differences.")


def test_prose_is_not_compared() -> None:
    def reword(spec: Spec) -> None:
        spec["info"]["description"] = "Other prose."
        thing(spec)["description"] = "Something else."
        thing(spec)["properties"]["name"]["example"] = "Chair"
        thing(spec)["title"] = "Thing"
        spec["components"]["parameters"]["thingID"]["description"] = "Reworded."

    assert changed(reword) == []


def test_helpers_of_the_published_spec_are_not_operations() -> None:
    def drop_helper(spec: Spec) -> None:
        del spec["paths"]["/chunkedThings"]

    assert changed(drop_helper) == []


def test_nullable_is_one_fact_in_openapi_30_and_31_spellings() -> None:
    def as_31(spec: Spec) -> None:
        thing(spec)["properties"]["note"] = {"type": ["string", "null"]}

    def as_one_of(spec: Spec) -> None:
        thing(spec)["properties"]["note"] = {"oneOf": [{"type": "string"}, {"type": "null"}]}

    assert changed(as_31) == []
    assert changed(as_one_of) == []


def test_how_a_union_is_arranged_is_not_a_difference_but_its_tag_is() -> None:
    """One spec says "the body is one of these per-kind bodies", the other "a body with a kind and an
    input that is one of these inputs": the same requests, so only the tag fact differs."""
    inputs = {
        "UrlInput": {"type": "object", "required": ["url"], "properties": {"url": {"type": "string"}}},
        "FileInput": {"type": "object", "required": ["path"], "properties": {"path": {"type": "string"}}},
    }

    def variant(kind: str, input_ref: str) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["kind", "input"],
            "properties": {
                "kind": {"type": "string", "const": kind},
                "input": {"$ref": f"#/components/schemas/{input_ref}"},
            },
        }

    per_kind = base()
    per_kind["components"]["schemas"].update(inputs)
    per_kind["components"]["schemas"]["Source"] = {
        "oneOf": [variant("url", "UrlInput"), variant("file", "FileInput")]
    }
    flat = base()
    flat["components"]["schemas"].update(inputs)
    flat["components"]["schemas"]["Source"] = {
        "type": "object",
        "required": ["kind", "input"],
        "properties": {
            "kind": {"type": "string", "enum": ["file", "url"]},
            "input": {
                "oneOf": [
                    {"$ref": "#/components/schemas/UrlInput"},
                    {"$ref": "#/components/schemas/FileInput"},
                ]
            },
        },
    }
    for spec in (per_kind, flat):
        operation(spec, "/1/things", "post")["requestBody"] = _json_body(
            {"$ref": "#/components/schemas/Source"}
        )

    found = one(diff(per_kind, flat))
    assert (found.key, found.old, found.new) == ("createThing.body tag", '"kind"', None)


def test_a_property_required_in_another_allof_part_is_required() -> None:
    def split(spec: Spec) -> None:
        whole = thing(spec)
        thing_parts = {
            "allOf": [
                {"type": "object", "additionalProperties": False, "properties": whole["properties"]},
                {"required": whole["required"]},
            ]
        }
        spec["components"]["schemas"]["Thing"] = thing_parts

    assert changed(split) == []


def test_a_recursive_schema_is_walked_once() -> None:
    def recurse(spec: Spec) -> None:
        thing(spec)["properties"]["parts"] = {
            "type": "array",
            "items": {"$ref": "#/components/schemas/Thing"},
        }

    found = changed(recurse)
    assert "createThing.body.parts[] recursive" in keys(found)
    assert all(d.key.count("parts") == 1 for d in found)


# --- each kind of change ------------------------------------------------------------------------


def test_an_operation_in_one_spec_only() -> None:
    def remove(spec: Spec) -> None:
        del spec["paths"]["/1/things/{thingID}"]

    gone = one(changed(remove))
    assert (gone.key, gone.direction) == ("getThing.operation", "only in OLD")
    assert gone.text == "getThing: only in OLD (GET /1/things/{thingID})"
    added = one(diff(_with(remove), base()))
    assert (added.key, added.direction) == ("getThing.operation", "only in NEW")


def _with(change: Callable[[Spec], None]) -> Spec:
    spec = base()
    change(spec)
    return spec


def test_an_operation_renamed_on_the_same_route_is_compared_as_one() -> None:
    def rename(spec: Spec) -> None:
        operation = spec["paths"]["/1/things/{thingID}"]["get"]
        operation["operationId"] = "getThingByID"
        operation["x-acl"] = ["search"]

    found = changed(rename)
    assert [d.key for d in found] == ["getThing.operationId", "getThing.x-acl"]
    assert found[0].change == "operationId: getThing -> getThingByID"
    assert found[1].change == 'x-acl: + ["search"] (only in NEW), - ["addObject"] (only in OLD)'


def test_a_route_that_moved() -> None:
    def move(spec: Spec) -> None:
        spec["paths"]["/2/things/{thingID}"] = spec["paths"].pop("/1/things/{thingID}")

    moved = one(changed(move))
    assert moved.key == "getThing.route"
    assert moved.change == "route: GET /1/things/{thingID} -> GET /2/things/{thingID}"


def test_a_parameter_added_and_one_made_required() -> None:
    def add(spec: Spec) -> None:
        operation(spec, "/1/things", "get")["parameters"].append(
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}}
        )

    assert {"listThings.query.page present", "listThings.query.page minimum"} <= keys(changed(add))

    def require(spec: Spec) -> None:
        operation(spec, "/1/things", "get")["parameters"][0]["required"] = True

    found = one(changed(require))
    assert found.change == "query.kind present: optional -> required"


def test_a_parameter_bound_and_its_style() -> None:
    def bound(spec: Spec) -> None:
        spec["components"]["parameters"]["thingID"]["schema"]["minLength"] = 1

    found = one(changed(bound))
    assert found.key == "getThing.path.thingID minLength"
    assert found.change == "path.thingID minLength: 1 (only in NEW)"

    def explode(spec: Spec) -> None:
        del operation(spec, "/1/things", "get")["parameters"][0]["explode"]

    assert one(changed(explode)).change == "query.kind style: form, explode=false -> form, explode=true"


def test_a_request_body_made_optional_and_a_property_required() -> None:
    def optional_body(spec: Spec) -> None:
        operation(spec, "/1/things", "post")["requestBody"]["required"] = False

    assert one(changed(optional_body)).change == "body present: required -> optional"

    def require_size(spec: Spec) -> None:
        thing(spec)["required"].append("size")

    found = changed(require_size)  # the schema is shared: the body and every answer that has it
    assert keys(found) == {
        "createThing.body.size present",
        "createThing.response 200.size present",
        "getThing.response 200.size present",
        "listThings.response 200[].size present",
    }
    assert {d.change for d in found if d.operation == "createThing"} >= {
        "body.size present: optional -> required"
    }


def test_enum_values_types_and_closed_objects() -> None:
    def grow(spec: Spec) -> None:
        spec["components"]["schemas"]["Kind"]["enum"].append("huge")
        thing(spec)["properties"]["size"]["type"] = "number"
        del thing(spec)["additionalProperties"]

    found = {d.key: d for d in changed(grow) if d.operation == "createThing" and d.place.startswith("body")}
    assert found["createThing.body.kind enum"].change == 'body.kind enum: + ["huge"] (only in NEW)'
    assert found["createThing.body.size type"].change == "body.size type: integer -> number"
    assert found["createThing.body additionalProperties"].direction == "only in OLD"


def test_a_status_only_one_spec_documents_is_one_difference() -> None:
    def add_404(spec: Spec) -> None:
        operation(spec, "/1/things/{thingID}", "get")["responses"]["404"] = {
            "description": "Not found.",
            **_json_body({"type": "object", "properties": {"error": {"type": "object"}}}),
        }

    found = one(changed(add_404))
    assert (found.key, found.change) == ("getThing.status 404", "status 404: documented (only in NEW)")


def test_a_response_body_that_changed() -> None:
    def error_code(spec: Spec) -> None:
        error = spec["components"]["schemas"]["ErrorBase"]
        error["required"] = ["message", "code"]
        error["properties"]["code"] = {"type": "string"}

    assert keys(changed(error_code)) == {
        f"{op}.response 400.{place}"
        for op in ("createThing", "getThing")
        for place in ("message present", "code present", "code type")
    }


def test_acl_security_and_deprecation() -> None:
    def acl(spec: Spec) -> None:
        operation(spec, "/1/things", "post")["x-acl"] = ["addObject", "editSettings"]

    assert one(changed(acl)).change == 'x-acl: + ["editSettings"] (only in NEW)'

    def swap(spec: Spec) -> None:
        operation(spec, "/1/things", "post")["x-acl"] = ["editSettings"]

    assert (
        one(changed(swap)).change == 'x-acl: + ["editSettings"] (only in NEW), - ["addObject"] (only in OLD)'
    )

    def open_up(spec: Spec) -> None:
        operation(spec, "/1/things", "get")["security"] = []

    assert one(changed(open_up)).key == "listThings.security"

    def deprecate(spec: Spec) -> None:
        operation(spec, "/1/things", "get")["deprecated"] = True

    assert one(changed(deprecate)).change == "deprecated: true (only in NEW)"


def test_properties_one_of_which_is_needed() -> None:
    def needs(spec: Spec) -> None:
        thing(spec)["anyOf"] = [{"required": ["note"]}, {"required": ["size"]}]

    found = [d for d in changed(needs) if d.operation == "createThing"]
    assert [d.change for d in found if d.place.startswith("body")] == [
        'body needs: ["note", "size"] (only in NEW)'
    ]


def test_keys_are_operation_and_place_and_the_text_says_both() -> None:
    found = Difference("getThing", "path.thingID minLength", "1", None, "GET /1/things/{thingID}")
    assert found.key == "getThing.path.thingID minLength"
    assert found.signature == "getThing.path.thingID minLength (only in OLD)"
    assert found.text == "getThing: path.thingID minLength: 1 (only in OLD)"
    long = Difference("x", "pattern", json.dumps("a" * 300), json.dumps("b"))
    assert long.change == f"pattern: {'a' * 117}... -> b"


# --- the report ---------------------------------------------------------------------------------


def test_the_report_is_grouped_by_operation_with_a_summary() -> None:
    def several(spec: Spec) -> None:
        spec["components"]["parameters"]["thingID"]["schema"]["minLength"] = 1
        for path, method in (("/1/things", "post"), ("/1/things/{thingID}", "get")):
            operation(spec, path, method)["responses"]["503"] = {"description": "Unavailable."}

    text = render(changed(several), "old.yaml", "new.yaml")
    assert text.splitlines()[:3] == ["OLD = old.yaml", "NEW = new.yaml", ""]
    assert "createThing  (POST /1/things)\n  status 503: documented (only in NEW)\n" in text
    assert "getThing  (GET /1/things/{thingID})\n  path.thingID minLength: 1 (only in NEW)\n" in text
    assert "3 differences in 2 operations: 0 only in OLD, 3 only in NEW, 0 changed" in text
    assert "Found in the most operations:\n     2 x status 503: documented (only in NEW)" in text


# --- files and errors ---------------------------------------------------------------------------


def write(path: Path, spec: Spec) -> Path:
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("paths: [unclosed", "not YAML or JSON (line 2)"),
        ("- a list\n", "not an OpenAPI document (it has no 'paths' mapping)"),
        (b"\xff\xfe paths", "not UTF-8 text"),
    ],
)
def test_a_file_that_cannot_be_read_says_why(
    tmp_path: Path, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / "spec.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(SpecDiffError, match=re.escape(f"spec.yaml: {message}")):
        compare_files(path, write(tmp_path / "other.yaml", base()))


def test_a_folder_is_not_a_spec(tmp_path: Path) -> None:
    with pytest.raises(SpecDiffError, match="is a folder, not a file"):
        SpecDocument.read(tmp_path)


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("#/components/schemas/Nothing", "names nothing in the document"),
        ("other.yaml#/Thing", "points outside the document"),
    ],
)
def test_a_reference_that_cannot_be_followed_says_which(tmp_path: Path, ref: str, message: str) -> None:
    spec = base()
    thing(spec)["properties"]["name"] = {"$ref": ref}
    with pytest.raises(SpecDiffError, match=message):
        compare_files(write(tmp_path / "a.yaml", spec), write(tmp_path / "b.yaml", base()))


def test_an_operation_id_used_twice_is_refused() -> None:
    spec = base()
    operation(spec, "/1/things/{thingID}", "get")["operationId"] = "listThings"
    with pytest.raises(SpecDiffError, match=r"operationId 'listThings' is used twice \(GET /1/things, GET"):
        diff(spec, base())


# --- the command --------------------------------------------------------------------------------


def test_the_command_exits_0_when_nothing_differs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write(tmp_path / "a.yaml", base())
    assert main(["spec-diff", str(spec), str(spec)]) == 0
    assert capsys.readouterr().out.endswith("No differences.\n")


def test_the_command_exits_1_and_prints_the_report_or_the_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = write(tmp_path / "old.yaml", base())
    new = write(tmp_path / "new.yaml", _with(lambda s: thing(s)["properties"]["name"].update(maxLength=64)))
    assert main(["spec-diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out
    assert "createThing  (POST /1/things)\n  body.name maxLength: 64 (only in NEW)" in out
    assert main(["spec-diff", "--keys", str(old), str(new)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "createThing.body.name maxLength (only in NEW)",
        "createThing.response 200.name maxLength (only in NEW)",
        "getThing.response 200.name maxLength (only in NEW)",
        "listThings.response 200[].name maxLength (only in NEW)",
    ]


def test_the_command_exits_2_on_a_file_it_cannot_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write(tmp_path / "a.yaml", base())
    assert main(["spec-diff", str(spec), str(tmp_path / "missing.yaml")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"mockserver: {tmp_path / 'missing.yaml'}: no such file\n"
    assert main(["spec-diff", str(spec)]) == 2
    assert "the following arguments are required: NEW" in capsys.readouterr().err


def test_the_command_is_listed_and_named_when_no_command_is_given(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "spec-diff" in capsys.readouterr().out
    assert main([]) == 2
    assert "no command given: use serve, check, spec-diff" in capsys.readouterr().err


# --- the bundled spec and the published one -----------------------------------------------------


def test_a_real_difference_between_the_bundled_and_the_published_spec() -> None:
    found = {d.key: d for d in compare_files(BUNDLED_SPEC, published_spec())}
    task_id = found["getTask.path.taskID minLength"]
    assert (task_id.old, task_id.new, task_id.route) == ("1", None, "GET /2/tasks/{taskID}")
    assert found["createSource.status 503"].direction == "only in OLD"
    assert (
        found["listRuns.query.startDate format"].change == "query.startDate format: date-time (only in OLD)"
    )
    assert not [d for d in found.values() if d.place == "operation"], "the same operations on both sides"


def test_the_bundled_spec_read_twice_is_the_same() -> None:
    document = SpecDocument.read(BUNDLED_SPEC)
    assert compare(document, SpecDocument(copy.deepcopy(dict(document.document)), "copy")) == []
