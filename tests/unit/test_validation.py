"""Request validation: query coercion, defaults, arrays, bodies and the text of its errors."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import pytest

from mockserver import Spec, create_app, load_spec
from mockserver.engine.assumptions import note
from mockserver.engine.errors import ApiError, BadRequest
from mockserver.engine.reference_validator import ReferenceValidator
from mockserver.engine.validation import MISSING, RequestValidators, ValidRequest
from mockserver.http.inprocess import InProcessClient
from tests.conftest import CREDENTIALS

LIST_DEFAULTS = {"itemsPerPage": 10, "sort": "createdAt", "order": "desc"}


@pytest.fixture(scope="module")
def validators() -> RequestValidators:
    return RequestValidators(load_spec())


def check(
    validators: RequestValidators,
    operation_id: str,
    query: dict[str, list[str]] | None = None,
    path: dict[str, str] | None = None,
    body: Any = MISSING,
) -> ValidRequest:
    return validators[operation_id].validate(path or {}, query or {}, body)


def rejected(
    validators: RequestValidators,
    operation_id: str,
    query: dict[str, list[str]] | None = None,
    path: dict[str, str] | None = None,
    body: Any = MISSING,
) -> str:
    with pytest.raises(BadRequest) as raised:
        check(validators, operation_id, query, path, body)
    assert raised.value.status == 400
    return raised.value.message


# --- query coercion and defaults --------------------------------------------------------------


def test_defaults_are_applied(validators: RequestValidators) -> None:
    assert check(validators, "listSources").query == LIST_DEFAULTS
    assert "page" not in check(validators, "listSources").query


def test_integers_are_coerced(validators: RequestValidators) -> None:
    query = check(validators, "listSources", {"itemsPerPage": ["25"], "page": ["3"]}).query
    assert query["itemsPerPage"] == 25
    assert query["page"] == 3
    assert isinstance(query["page"], int)
    assert check(validators, "listSources", {"page": ["+2"]}).query["page"] == 2


@pytest.mark.parametrize("value", ["1.5", "ten", "", " 3", "0x10"])
def test_non_integers_are_refused(validators: RequestValidators, value: str) -> None:
    message = rejected(validators, "listSources", {"page": [value]})
    if value:
        assert message == f"query.page: {value!r} is not an integer"
    else:
        assert message.startswith("query.page")


@pytest.mark.parametrize(("value", "rule"), [("0", "minimum of 1"), ("101", "maximum of 100")])
def test_integer_bounds(validators: RequestValidators, value: str, rule: str) -> None:
    message = rejected(validators, "listDestinations", {"itemsPerPage": [value]})
    assert message.startswith(f"query.itemsPerPage: {value}")
    assert rule in message


def test_booleans_are_coerced(validators: RequestValidators) -> None:
    assert check(validators, "listTasks", {"enabled": ["true"]}).query["enabled"] is True
    assert check(validators, "listTasks", {"enabled": ["false"]}).query["enabled"] is False
    assert (
        check(
            validators, "push", {"watch": ["true"]}, {"indexName": "i"}, {"action": "clear", "records": []}
        ).query["watch"]
        is True
    )


@pytest.mark.parametrize("value", ["yes", "1", "True", ""])
def test_non_booleans_are_refused(validators: RequestValidators, value: str) -> None:
    message = rejected(validators, "listTasks", {"enabled": [value]})
    assert message.startswith("query.enabled")
    if value:
        assert message == f"query.enabled: {value!r} is not a boolean (true or false)"


def test_comma_separated_arrays(validators: RequestValidators) -> None:
    query = check(validators, "listSources", {"type": ["json,csv,push"]}).query
    assert query["type"] == ["json", "csv", "push"]
    # An empty item is an empty string, as openapi-core reads it: the enum refuses it.
    assert rejected(validators, "listSources", {"type": ["json,,csv"]}).startswith(
        "query.type[1]: '' is not one of"
    )
    # An ID is never empty (the spec says minLength 1), so an empty ID item is refused too...
    # ... by an assumed rule, which the message names (ledger ids-non-empty-in-requests).
    assert rejected(validators, "listSources", {"authenticationID": ["a,,b"]}) == (
        "query.authenticationID[1]: '' should be non-empty " + note("ids-non-empty-in-requests")
    )
    # ...but an entirely empty parameter is refused (allowEmptyValue is false).
    assert rejected(validators, "listSources", {"authenticationID": [""]}) == (
        "query.authenticationID: empty value (leave the parameter out instead) "
        + note("query-lists-non-empty")
    )
    assert check(validators, "listSources", {"type": ["json"]}).query["type"] == ["json"]
    assert check(validators, "listAuthentications", {"platform": ["none,shopify"]}).query["platform"] == [
        "none",
        "shopify",
    ]


def test_bad_item_of_an_array_is_named_by_index(validators: RequestValidators) -> None:
    message = rejected(validators, "listSources", {"type": ["json,ftp"]})
    assert message.startswith("query.type[1]: 'ftp' is not one of")


def test_repeated_scalar_is_refused(validators: RequestValidators) -> None:
    message = rejected(validators, "listSources", {"itemsPerPage": ["5", "6"]})
    assert message == "query.itemsPerPage: given 2 times; expected a single value"


def test_enum_query_parameters(validators: RequestValidators) -> None:
    assert check(validators, "listSources", {"sort": ["name"], "order": ["asc"]}).query["order"] == "asc"
    assert rejected(validators, "listSources", {"order": ["ascending"]}).startswith(
        "query.order: 'ascending'"
    )
    assert rejected(validators, "listTransformations", {"sort": ["type"]}).startswith("query.sort")


def test_unknown_query_parameters_are_ignored(validators: RequestValidators) -> None:
    query = check(validators, "listSources", {"x-algolia-api-key": ["k"], "foo": ["bar"]}).query
    assert query == LIST_DEFAULTS


def test_free_form_query_object_takes_every_parameter(validators: RequestValidators) -> None:
    request = check(validators, "customGet", {"a": ["1"], "b": ["2", "3"]}, {"path": "some/where"})
    assert request.path == {"path": "some/where"}
    assert request.query == {"parameters": {"a": "1", "b": "3"}}


EXPLODED = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "paths": {
        "/things": {
            "get": {
                "operationId": "listThings",
                "parameters": [
                    {"name": "tag", "in": "query", "schema": {"type": "array", "items": {"type": "integer"}}},
                    {"name": "ratio", "in": "query", "schema": {"type": "number"}},
                    {"name": "flag", "in": "query", "required": True, "schema": {"type": "boolean"}},
                ],
                "responses": {"200": {"description": "ok"}},
            }
        }
    },
}


def test_exploded_arrays_and_numbers() -> None:
    validators = RequestValidators(Spec(EXPLODED))
    request = validators["listThings"].validate(
        {}, {"tag": ["1", "2"], "ratio": ["2.5e1"], "flag": ["true"]}, MISSING
    )
    assert request.query == {"tag": [1, 2], "ratio": 25.0, "flag": True}
    message = validators["listThings"].validate
    with pytest.raises(BadRequest, match=r"^query\.tag: '1,2' is not an integer$"):
        message({}, {"tag": ["1,2"], "flag": ["true"]}, MISSING)
    with pytest.raises(BadRequest, match=r"^query\.ratio: 'half' is not a number$"):
        message({}, {"ratio": ["half"], "flag": ["true"]}, MISSING)
    with pytest.raises(BadRequest, match=r"^query\.flag: is required$"):
        message({}, {}, MISSING)


# --- path parameters and bodies ---------------------------------------------------------------


def test_path_parameters(validators: RequestValidators) -> None:
    assert check(validators, "getEvent", path={"runID": "r", "eventID": "e"}).path == {
        "runID": "r",
        "eventID": "e",
    }
    assert rejected(validators, "getSource") == "path.sourceID: is required"


def test_required_body(validators: RequestValidators) -> None:
    assert rejected(validators, "createSource") == "body: a JSON body is required"


def test_optional_body(validators: RequestValidators) -> None:
    assert check(validators, "runTask", path={"taskID": "t"}).body is MISSING
    assert check(validators, "runTask", path={"taskID": "t"}, body={}).body == {}
    assert check(validators, "getSource", path={"sourceID": "s"}).body is MISSING


def test_valid_body_is_passed_through(validators: RequestValidators) -> None:
    body = {"type": "json", "name": "s", "input": {"url": "https://x"}}
    assert check(validators, "createSource", body=body).body == body


def test_body_errors_name_the_field(validators: RequestValidators) -> None:
    message = rejected(
        validators, "pushTask", path={"taskID": "t"}, body={"action": "addObject", "records": [{}]}
    )
    assert message == "body.records[0]: 'objectID' is a required property"
    message = rejected(
        validators, "createDestination", body={"type": "search", "name": 1, "input": {"indexName": "i"}}
    )
    assert message == "body.name: 1 is not of type 'string'"
    message = rejected(
        validators, "createDestination", body={"type": "web", "name": "d", "input": {"indexName": "i"}}
    )
    assert message.startswith("body.type: 'web' is not one of")


def test_type_rule_is_named(validators: RequestValidators) -> None:
    message = rejected(
        validators, "createAuthentication", body={"type": "basic", "name": "b", "input": {"username": "u"}}
    )
    assert message == "body.input: 'password' is a required property (rule for type 'basic')"


def test_json_input_fitting_csv_too_is_valid(validators: RequestValidators) -> None:
    body = {"type": "json", "name": "s", "input": {"url": "https://x"}}
    assert check(validators, "createSource", body=body).body == body
    update = {"input": {"url": "https://y"}}
    assert check(validators, "updateSource", path={"sourceID": "s"}, body=update).body == update


def test_algolia_and_insights_shapes_are_both_valid(validators: RequestValidators) -> None:
    for kind in ("algolia", "algoliaInsights"):
        body = {"type": kind, "name": "a", "input": {"appID": "A", "apiKey": "k"}}
        assert check(validators, "createAuthentication", body=body).body == body


def test_write_only_values_are_not_shown(validators: RequestValidators) -> None:
    body = {"type": "basic", "name": "b", "input": {"username": "u", "password": 424242}}
    message = rejected(validators, "createAuthentication", body=body)
    assert message.startswith("body.input.password: invalid value for a write-only field")
    assert "424242" not in message


def test_shapeless_input_says_so(validators: RequestValidators) -> None:
    body = {"input": {"username": ["u"]}}
    message = rejected(validators, "updateAuthentication", path={"authenticationID": "a"}, body=body)
    assert message == "body.input: matches none of the allowed shapes"


class _Body(dict[str, Any]):
    """A body that can be watched by a weak reference (a plain dict cannot)."""


class _Junk(list[str]):
    """Part of a body that can be watched by a weak reference."""


def test_a_refusal_leaves_no_garbage_cycle_holding_the_body(validators: RequestValidators) -> None:
    # jsonschema links each error to its branches and back; left linked, a refused body stays in
    # memory until the next full garbage collection (measured: +80 MB after six 10 MB bodies).
    # Watched by weak references, not by gc.collect()'s count: other threads (an earlier test's
    # server winding down) may leave garbage of their own meanwhile.
    validate = validators["createSource"].validate
    with pytest.raises(BadRequest):  # the first refusal builds the validator that explains it
        validate({}, {}, {"type": "push", "name": "warm-up", "junk": 1})
    body = _Body(type="push", name="big", junk=_Junk(["y" * 1000] * 10))
    watched = [weakref.ref(body), weakref.ref(body["junk"])]
    gc.disable()
    try:
        with pytest.raises(BadRequest) as refused:
            validate({}, {}, body)
        assert refused.value.message.startswith("body: Additional properties are not allowed")
        del body, refused
        assert [ref() for ref in watched] == [None, None], "the refused body outlived its refusal"
    finally:
        gc.enable()


# --- agreement with openapi-core --------------------------------------------------------------

AGREEMENT: list[tuple[str, str, dict[str, list[str]], Any]] = [
    ("listSources", "/1/sources", {"itemsPerPage": ["5"], "type": ["json,csv"]}, MISSING),
    ("listSources", "/1/sources", {"itemsPerPage": ["500"]}, MISSING),
    ("listSources", "/1/sources", {"type": ["ftp"]}, MISSING),
    ("createSource", "/1/sources", {}, {"type": "json", "name": "s", "input": {"url": "u"}}),
    ("createSource", "/1/sources", {}, {"type": "json", "name": "s", "input": {"url": "u"}, "x": 1}),
    ("createSource", "/1/sources", {}, {"type": "json", "name": "s", "input": {"indexName": "i"}}),
    (
        "createAuthentication",
        "/1/authentications",
        {},
        {"type": "basic", "name": "b", "input": {"username": "u"}},
    ),
    (
        "createAuthentication",
        "/1/authentications",
        {},
        {"type": "algoliaInsights", "name": "b", "input": {"appID": "a", "apiKey": "k"}},
    ),
    (
        "createDestination",
        "/1/destinations",
        {},
        {"type": "search", "name": "d", "input": {"indexName": "i"}},
    ),
    ("createDestination", "/1/destinations", {}, {"type": "search", "name": "d", "input": {}}),
]


@pytest.fixture(scope="module")
def reference() -> ReferenceValidator:
    return ReferenceValidator.of(load_spec())


@pytest.mark.parametrize(("operation_id", "path", "query", "body"), AGREEMENT)
def test_fast_validation_agrees_with_openapi_core(
    validators: RequestValidators,
    reference: ReferenceValidator,
    operation_id: str,
    path: str,
    query: dict[str, list[str]],
    body: Any,
) -> None:
    method = load_spec().operations[operation_id].method
    headers = {"content-type": "application/json", **CREDENTIALS}
    reference_error = reference.error(method, path, query, body, headers)
    try:
        check(validators, operation_id, query, body=body)
        fast_error: str | None = None
    except ApiError as exc:
        fast_error = exc.message
    assert (fast_error is None) == (reference_error is None), (fast_error, reference_error)


def test_mocks_on_one_spec_share_one_openapi_core_model_and_keep_their_own_verdicts() -> None:
    # openapi-core's model of the spec costs seconds of CPU to build: built once per spec and process.
    first = create_app(validation="openapi-core")
    second = create_app(validation="openapi-core")
    assert first.engine.reference is not None and first.engine.reference is second.engine.reference
    valid = {"type": "json", "name": "feed", "input": {"url": "https://example.com/feed.json"}}
    with (
        InProcessClient(first, base_url="http://mock", headers=CREDENTIALS) as one,
        InProcessClient(second, base_url="http://mock", headers=CREDENTIALS) as other,
    ):
        refused = one.post("/1/sources", json={"type": "json", "name": "feed"})
        assert refused.status_code == 400 and "input" in refused.json()["message"], refused.text
        assert other.post("/1/sources", json=valid).status_code == 200
        assert one.get("/1/sources").json()["pagination"]["nbItems"] == 0  # the refusal stored nothing
        assert other.get("/1/sources").json()["pagination"]["nbItems"] == 1


def test_parameters_left_unchecked_hold_every_value_parse_gives() -> None:
    """A parameter whose schema only names its type is not held against its schema again after
    parsing (validation.py, _holds_every_parsed): for every such parameter of the bundled spec,
    any value parse gives fits the schema, and one with more to check keeps its validator."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from mockserver.engine.validation import OperationValidator, SchemaCheck

    unchecked = []
    for op in load_spec().operations.values():
        for check in OperationValidator(op)._params:
            if check.validator is None and check.param.schema:
                unchecked.append(check)
            elif check.param.schema.get("enum") or check.param.schema.get("format"):
                assert check.validator is not None, check.where
    assert any(check.in_path for check in unchecked) and any(not check.in_path for check in unchecked)

    @settings(max_examples=60, deadline=None)
    @given(st.sampled_from(unchecked), st.sampled_from(["a", "true", "false", "x y", "é", "0", "-"]))
    def holds(check: Any, raw: str) -> None:
        try:
            value = check.parse([raw])
        except ApiError:
            return  # refused by parse itself (a boolean that is not one)
        assert SchemaCheck(check.param.schema).error(value, check.where) is None

    holds()


@pytest.mark.parametrize(
    ("schema", "in_path", "holds"),
    [
        ({"type": "string", "description": "an ID", "x-assumption": {}}, False, True),
        ({"type": "boolean"}, False, True),
        ({"type": "string", "minLength": 1}, True, True),  # a path parameter is never empty
        ({"type": "string", "minLength": 1}, False, False),  # a query string may be
        ({"type": "string", "minLength": 2}, True, False),
        ({"type": "string", "minLength": True}, True, False),
        ({"type": "string", "enum": ["a"]}, True, False),
        ({"type": "string", "format": "date-time"}, False, False),
        ({"type": "integer"}, False, False),
        ({"type": ["string", "null"]}, False, False),
    ],
)
def test_only_a_schema_parse_already_satisfies_goes_unchecked(
    schema: dict[str, Any], in_path: bool, holds: bool
) -> None:
    from mockserver.engine.validation import _holds_every_parsed, _json_type

    assert _holds_every_parsed(schema, _json_type(schema), in_path) is holds
