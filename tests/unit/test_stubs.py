"""Stubs and request-matching fault rules in the engine: what matches, what is answered, what is
refused, and that a stubbed request changes nothing."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from mockserver import open_mock
from mockserver.control.mock_control import MockControl
from mockserver.engine.core import Answer, Engine
from mockserver.engine.faults import Faults
from mockserver.engine.validation import MISSING

APP = "STUBAPP"
FEED = {"type": "json", "name": "feed", "input": {"url": "https://example.com/feed.json"}}
ERROR_503 = {"error": {"code": "service_unavailable"}, "message": "down", "status": 503}


@pytest.fixture
def control() -> MockControl:
    return open_mock(seed=7, check_responses=True)


@pytest.fixture
def engine(control: MockControl) -> Engine:
    return control.engine


def call(
    engine: Engine,
    operation_id: str,
    app_id: str = APP,
    *,
    path_params: dict[str, str] | None = None,
    query: dict[str, list[str]] | None = None,
    body: Any = MISSING,
) -> Answer:
    """A request as the HTTP face makes it (not internal: stubs apply), journaled."""
    request = engine.request(operation_id, app_id, path_params, query, body)
    return engine.execute(dataclasses.replace(request, internal=False))


def test_a_stub_answers_what_it_says_and_the_mock_acts_on_nothing(
    control: MockControl, engine: Engine
) -> None:
    stub = control.add_stub(operation="createSource", status=503, response=ERROR_503, app=APP)
    answer = call(engine, "createSource", body=FEED)
    assert (answer.status, answer.body, answer.stub_id) == (503, ERROR_503, stub["id"])
    assert APP not in engine.store.accounts  # no state: not even the application's account
    recorded = engine.journal.last("createSource")
    assert recorded.stubbed and recorded.stub_id == stub["id"] and recorded.body == FEED
    assert engine.journal.call_count(stubbed=True) == 1
    assert control.stubs()["stubs"][0]["hits"] == 1


def test_a_stub_matches_by_path_params_query_and_a_body_subset(control: MockControl, engine: Engine) -> None:
    source_id = call(engine, "createSource", body=FEED).body["sourceID"]
    control.add_stub(operation="getSource", path_params={"sourceID": source_id}, status=404, app=APP)
    control.add_stub(
        operation="listSources",
        query={"type": "csv"},
        response={"sources": [], "pagination": {"nbPages": 1, "page": 1, "nbItems": 0, "itemsPerPage": 10}},
        app=APP,
    )
    control.add_stub(
        operation="createSource",
        body={"input": {"url": "https://example.com/down.json"}},
        status=503,
        app=APP,
    )

    assert call(engine, "getSource", path_params={"sourceID": source_id}).status == 404
    other = call(engine, "getSource", path_params={"sourceID": "0a1b2c3d-0000-4000-8000-00000000ffff"})
    assert (other.status, other.stub_id) == (404, None)  # the mock's own 404
    assert call(engine, "listSources", query={"type": ["csv"]}).body["sources"] == []
    assert len(call(engine, "listSources", query={"type": ["json"]}).body["sources"]) == 1
    assert len(call(engine, "listSources").body["sources"]) == 1
    down = {**FEED, "input": {"url": "https://example.com/down.json"}}
    assert call(engine, "createSource", body=down).status == 503
    assert call(engine, "createSource", body=FEED).status == 200
    assert len(engine.store.accounts[APP].sources) == 2


def test_once_n_times_or_always_and_the_newest_stub_answers(control: MockControl, engine: Engine) -> None:
    control.add_stub(operation="listSources", status=503, app=APP)  # always
    control.add_stub(operation="listSources", status=429, times=2, app=APP)
    control.add_stub(operation="listSources", status=500, check=False, times=1, app=APP)
    statuses = [call(engine, "listSources").status for _ in range(5)]
    assert statuses == [500, 429, 429, 503, 503]
    assert [s["status"] for s in control.stubs()["stubs"]] == [503]  # used-up stubs retire


def test_a_stub_of_one_application_answers_only_its_calls(control: MockControl, engine: Engine) -> None:
    control.add_stub(operation="listSources", status=503, app=APP)
    control.add_stub(operation="getSource", status=404)  # (no app: every application's)
    assert call(engine, "listSources").status == 503
    assert call(engine, "listSources", "OTHERAPP").status == 200
    some = {"sourceID": "0a1b2c3d-0000-4000-8000-000000000001"}
    assert call(engine, "getSource", "OTHERAPP", path_params=some).stub_id is not None
    assert [s["app"] for s in control.stubs("OTHERAPP")["stubs"]] == [None]
    assert len(control.stubs(APP)["stubs"]) == 2


def test_a_request_the_spec_refuses_is_refused_before_any_stub(control: MockControl, engine: Engine) -> None:
    control.add_stub(operation="createSource", status=503, app=APP)
    answer = call(engine, "createSource", body={"type": "json"})
    assert (answer.status, answer.stub_id) == (400, None)


def test_seeding_and_other_requests_from_inside_are_never_stubbed(control: MockControl) -> None:
    control.add_stub(operation="createSource", status=503)
    assert control.seed("catalog", APP)["sources"] == 5


def test_stubs_are_listed_removed_and_cleared(control: MockControl, engine: Engine) -> None:
    first = control.add_stub(operation="listSources", status=503, app=APP)
    control.add_stub(operation="getSource", status=404, app="OTHERAPP")
    control.add_stub(operation="getTask", status=404)
    assert [s["id"] for s in control.stubs()["stubs"]] == ["stub-1", "stub-2", "stub-3"]
    with pytest.raises(LookupError, match="No stub of application 'OTHERAPP' with ID 'stub-1'"):
        control.remove_stub(first["id"], "OTHERAPP")
    assert [s["id"] for s in control.remove_stub(first["id"], APP)["stubs"]] == ["stub-3"]
    assert call(engine, "listSources").status == 200
    control.clear_stubs("OTHERAPP")
    assert [s["id"] for s in control.stubs()["stubs"]] == ["stub-3"]
    control.reset()
    assert control.stubs() == {"stubs": []}


def test_an_answer_without_a_response_is_the_apis_error_body(control: MockControl) -> None:
    stub = control.add_stub(operation="deleteSource", status=429)
    assert stub["response"] == {
        "error": {"code": "too_many_requests"},
        "message": "Stubbed answer: deleteSource -> 429",
        "status": 429,
    }


@pytest.mark.parametrize(
    ("rule", "kind", "message"),
    [
        (
            {"operation": "createSources"},
            ValueError,
            "operation: 'createSources' is not an operation of Ingestion and Search APIs; "
            "did you mean createSource?",
        ),
        (
            {"operation": "push", "status": 201},
            ValueError,
            "status: the spec documents no 201 answer for push (it has 200, 400, 403, 404, 413, 429, 503) "
            "(check=False answers it anyway)",
        ),
        (
            {"operation": "push", "response": {"events": []}},
            ValueError,
            "response: 'runID' is a required property: not what the spec documents for push answering 200 "
            "(check=False answers it anyway)",
        ),
        (
            {"operation": "listSources"},
            ValueError,
            "response: the spec documents a body for listSources answering 200: give response",
        ),
        (
            {"operation": "push", "path_params": {"index": "x"}},
            ValueError,
            "path_params.index: push has no such parameter; did you mean indexName? (it has ['indexName'])",
        ),
        (
            {"operation": "listSources", "query": {"typ": "json"}, "status": 503},
            ValueError,
            "query.typ: listSources has no such parameter; did you mean type?",
        ),
        (
            {"operation": "listSources", "body": {"a": 1}, "status": 503},
            ValueError,
            "body: listSources takes no body: leave body out",
        ),
        (
            {"operation": "listSources", "status": 503, "headers": {"Content-Type": "text/plain"}},
            ValueError,
            "headers.Content-Type: the mock sets it itself",
        ),
        (
            {"operation": "listSources", "status": 503, "headers": {"X-A": "one\ntwo"}},
            ValueError,
            "headers.X-A: 'one\\ntwo' is not a header value",
        ),
        (
            {"operation": "listSources", "status": 503, "times": 0},
            ValueError,
            "times: 0 is not a whole number between 1 and 1000000",
        ),
        (
            {"operation": "listSources", "status": 700},
            ValueError,
            "status: 700 is not an HTTP status a stub can answer (200-599)",
        ),
        ({"operation": "listSources", "status": "503"}, ValueError, "status: '503' is not an HTTP status"),
        (
            {"operation": "listSources", "status": 503, "response": {1, 2}},
            ValueError,
            "response: not a JSON value (set)",
        ),
        (
            {"operation": "listSources", "stauts": 503},
            TypeError,
            "stub: unknown fields ['stauts']; did you mean status?",
        ),
        ({"status": 503}, TypeError, "stub: name the operation it answers"),
        # a lone surrogate cannot be UTF-8: the answer would be a 500, the call not journaled
        (
            {"operation": "listSources", "status": 503, "response": {"s": "a\ud800"}, "check": False},
            ValueError,
            "response.s: a string holds a lone surrogate ('\\ud800')",
        ),
        (
            {"operation": "listSources", "status": 503, "response": {"\udc00": 1}, "check": False},
            ValueError,
            "response: the key '\\udc00' holds a lone surrogate ('\\udc00')",
        ),
        (
            {
                "operation": "getSource",
                "response": {
                    "sourceID": "x",
                    "name": "\udc00",
                    "type": "push",
                    "createdAt": "2026-01-01T00:00:00Z",
                },
            },
            ValueError,
            "response.name: a string holds a lone surrogate",
        ),
        (
            {"operation": "push", "status": 503, "body": {"records": ["\udfff"]}},
            ValueError,
            "body.records[0]: a string holds a lone surrogate",
        ),
        (
            {"operation": "push", "status": 503, "path_params": {"indexName": "\ud800"}},
            ValueError,
            "path_params.indexName: a string holds a lone surrogate",
        ),
        (
            {"operation": "listSources", "status": 503, "query": {"type": ["json", "\ud800"]}},
            ValueError,
            "query.type: a string holds a lone surrogate",
        ),
        (
            {"operation": "listSources", "status": 503, "app": "A\ud800"},
            ValueError,
            "app: a string holds a lone surrogate",
        ),
    ],
)
def test_a_bad_stub_is_refused_naming_the_field(
    control: MockControl, rule: dict[str, Any], kind: type[Exception], message: str
) -> None:
    with pytest.raises(kind) as excinfo:
        control.add_stub(**rule)
    assert str(excinfo.value).startswith(message)
    assert control.stubs() == {"stubs": []}


def test_check_false_answers_what_the_spec_does_not_document(control: MockControl, engine: Engine) -> None:
    control.add_stub(
        operation="listSources", status=418, response={"teapot": True}, check=False, headers={"X-Why": "tea"}
    )
    answer = call(engine, "listSources")  # (the engine checks its answers here: not this one)
    assert (answer.status, answer.body, dict(answer.headers)) == (418, {"teapot": True}, {"X-Why": "tea"})


def test_a_settings_stub_is_checked_and_replaces_the_server_wide_ones() -> None:
    control = open_mock(stubs=[{"operation": "listSources", "status": 503}])
    assert [s["app"] for s in control.stubs()["stubs"]] == [None]
    control.add_stub(operation="getSource", status=404, app=APP)
    control.change_settings({"stubs": [{"operation": "listTasks", "status": 503}]})
    assert [s["operation"] for s in control.stubs()["stubs"]] == ["getSource", "listTasks"]
    with pytest.raises(ValueError, match="did you mean listTasks"):
        open_mock(stubs=[{"operation": "listTask", "status": 503}])


# --- fault rules match like stubs ----------------------------------------------------------------


class Seen:
    def __init__(self, body: Any = None, query: dict[str, list[str]] | None = None, **path: str) -> None:
        self.body = body
        self.query = query or {}
        self.path_params = dict(path)


def test_fault_rules_match_path_params_and_query_before_the_body_is_read(control: MockControl) -> None:
    control.add_fault(operation="push", status=503, path_params={"indexName": "products"})
    control.add_fault(operation="listRuns", status=500, query={"status": "failed"})
    faults: Faults = control.engine.faults
    assert faults.decide("push", "ip", APP, Seen(indexName="products")).status == 503
    assert faults.decide("push", "ip", APP, Seen(indexName="orders")).status is None
    assert faults.decide("listRuns", "ip", APP, Seen(query={"status": ["failed"]})).status == 500
    assert faults.decide("listRuns", "ip", APP, Seen(query={"status": ["finished"]})).status is None
    assert not faults.on_body


def test_a_fault_rule_matching_a_body_waits_for_the_body(control: MockControl) -> None:
    control.add_fault(operation="push", status=500, body={"action": "deleteObject"}, times=1)
    faults = control.engine.faults
    assert faults.on_body
    assert faults.decide("push", "ip", APP, Seen(indexName="x")).status is None  # (not decided yet)
    assert faults.decide_on_body("push", APP, Seen({"action": "addObject"}, indexName="x")).status is None
    assert faults.decide_on_body("push", APP, Seen({"action": "deleteObject"}, indexName="x")).status == 500
    assert not faults.on_body  # times=1: retired


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"status": 503, "path_params": {"indexName": "x"}},
            "fault: path_params, query and body match the requests of one operation: name it with operation",
        ),
        (
            {"operation": "push", "status": 503, "path_params": {"index": "x"}},
            "path_params.index: push has no such parameter; did you mean indexName?",
        ),
        ({"operation": "listSources", "status": 503, "body": {}}, "body: listSources takes no body"),
        (
            {"operation": "listSource", "status": 503},
            "operation: 'listSource' is not an operation of Ingestion and Search APIs; "
            "did you mean listSources?",
        ),
        (
            {"operation": "push", "status": 503, "query": {"watch": True}},
            "query: a mapping of query parameter names to a string or a list of strings",
        ),
        # a lone surrogate cannot be UTF-8: every matching request would be a 500, none journaled
        (
            {"operation": "listSources", "status": 503, "message": "\ud800"},
            "message: a string holds a lone surrogate ('\\ud800')",
        ),
        (
            {"operation": "listSources", "status": 503, "app": "\ud800"},
            "app: a string holds a lone surrogate",
        ),
        (
            {"operation": "push", "status": 503, "path_params": {"indexName": "\udc00"}},
            "path_params.indexName: a string holds a lone surrogate",
        ),
        (
            {"operation": "listSources", "status": 503, "query": {"\udc00": "x"}},
            "query: the key '\\udc00' holds a lone surrogate",
        ),
        (
            {"operation": "push", "status": 503, "body": {"action": "\udc00"}},
            "body.action: a string holds a lone surrogate",
        ),
    ],
)
def test_a_bad_fault_matcher_is_refused_naming_the_field(
    control: MockControl, rule: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError) as excinfo:
        control.add_fault(**rule)
    assert str(excinfo.value).startswith(message)
    assert control.faults()["rules"] == []
