"""Stubs over HTTP (/__mock__/stubs) and fault rules that match one index, one query, one body."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mockserver import MockApp, create_app
from mockserver.http.inprocess import InProcessClient
from tests.conftest import APP_ID, CREDENTIALS
from tests.helpers import make_destination, make_task, ok
from tests.helpers import refused as error
from tests.http.test_control_plane import ControlPlane

RECORDS = {"action": "addObject", "records": [{"objectID": "1", "name": "shoe"}]}
FAILED_EVENT = {
    "eventID": "0b1b2c3d-0000-4000-8000-0000000000e1",
    "runID": "0b1b2c3d-0000-4000-8000-0000000000a1",
    "status": "failed",
    "type": "record",
    "batchSize": 1,
    "publishedAt": "2026-01-01T00:00:00Z",
}
WATCHED_FAILURE = {"runID": FAILED_EVENT["runID"], "events": [FAILED_EVENT], "message": "1 record failed"}


@pytest.fixture
def control(app: MockApp) -> Iterator[ControlPlane]:
    """The control plane as the test application's own tooling calls it (scoped to APP_ID)."""
    with InProcessClient(app, base_url="http://mock", headers={"x-algolia-application-id": APP_ID}) as scoped:
        yield ControlPlane(scoped)


def push_pipeline(client: InProcessClient, index: str) -> str:
    source = ok(client.post("/1/sources", json={"type": "push", "name": f"{index} push"}))["sourceID"]
    return make_task(client, source, make_destination(client, index))


def test_a_watched_push_to_one_index_answers_failed_events(
    app: MockApp, client: InProcessClient, control: ControlPlane
) -> None:
    push_pipeline(client, "products")
    push_pipeline(client, "orders")
    stub = ok(
        control.post(
            "/stubs",
            json={
                "operation": "push",
                "path_params": {"indexName": "products"},
                "query": {"watch": "true"},
                "response": WATCHED_FAILURE,
                "headers": {"X-Stubbed": "yes"},
            },
        )
    )
    assert (stub["id"], stub["app"], stub["hits"], stub["times"]) == ("stub-1", APP_ID, 0, None)
    answer = client.post("/1/push/products", params={"watch": "true"}, json=RECORDS)
    assert (answer.status_code, answer.json(), answer.headers["x-stubbed"]) == (200, WATCHED_FAILURE, "yes")
    assert app.store.account(APP_ID).indexes.get("products") is None  # the mock did not act on it
    assert app.store.account(APP_ID).runs == {}
    # Other indexes, and the same index unwatched, are the mock's
    assert ok(client.post("/1/push/orders", params={"watch": "true"}, json=RECORDS))["runID"]
    assert ok(client.post("/1/push/products", json=RECORDS))["runID"] != FAILED_EVENT["runID"]
    journal = ok(control.get("/journal", params={"stubbed": "true"}))["calls"]
    assert [(c["path"], c["stubbed"], c["stub_id"]) for c in journal] == [
        ("/1/push/products", True, "stub-1")
    ]
    assert ok(control.get("/stubs"))["stubs"][0]["hits"] == 1


def test_stubs_are_listed_removed_and_cleared_over_http(
    client: InProcessClient, control: ControlPlane
) -> None:
    assert ok(control.get("/stubs")) == {"stubs": []}
    ok(control.post("/stubs", json={"operation": "listSources", "status": 503}))
    ok(control.post("/stubs", json={"operation": "listTasks", "status": 503, "times": 2}))
    assert client.get("/1/sources").status_code == 503
    left = ok(control.delete("/stubs/stub-1"))["stubs"]
    assert [s["id"] for s in left] == ["stub-2"]
    assert client.get("/1/sources").status_code == 200
    assert "No stub of application 'TESTAPP' with ID 'stub-1'" in error(control.delete("/stubs/stub-1"), 404)
    assert ok(control.delete("/stubs")) == {"stubs": []}
    assert client.get("/2/tasks").status_code == 200


def test_a_stub_added_by_one_application_answers_only_its_calls() -> None:
    app = create_app(
        check_responses=True,
        app_id="APP_A",
        api_key="key-a",
        keys=[{"apiKey": "key-b", "acl": ["addObject", "deleteIndex", "editSettings"], "appID": "APP_B"}],
    )
    a = {"x-algolia-application-id": "APP_A", "x-algolia-api-key": "key-a"}
    b = {"x-algolia-application-id": "APP_B", "x-algolia-api-key": "key-b"}
    with InProcessClient(app, base_url="http://mock") as http:
        added = http.post("/__mock__/stubs", json={"operation": "listSources", "status": 503}, headers=a)
        assert ok(added)["app"] == "APP_A"
        other = http.post(
            "/__mock__/stubs", json={"operation": "listSources", "status": 503, "app": "APP_B"}, headers=a
        )
        assert other.status_code == 403 and "APP_A" in other.json()["message"]
        assert http.get("/1/sources", headers=a).status_code == 503
        assert http.get("/1/sources", headers=b).status_code == 200
        assert ok(http.get("/__mock__/stubs", headers=b)) == {"stubs": []}
        assert http.delete("/__mock__/stubs/stub-1", headers=b).status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"operation": "pushh"},
            "operation: 'pushh' is not an operation of Ingestion and Search APIs; did you mean push?",
        ),
        ({"status": 503}, "body: 'operation' is a required property"),
        ({"operation": "push", "status": 100}, "body.status: 100 is less than the minimum of 200"),
        ({"operation": "push", "status": 201}, "status: the spec documents no 201 answer for push"),
        ({"operation": "push", "response": {"events": []}}, "response: 'runID' is a required property"),
        (
            {"operation": "push", "path_params": {"indexname": "x"}},
            "path_params.indexname: push has no such parameter; did you mean indexName?",
        ),
        (
            {"operation": "push", "status": 503, "extra": 1},
            "body: Additional properties are not allowed ('extra' was unexpected)",
        ),
    ],
)
def test_a_bad_stub_is_a_400_naming_the_field(
    client: InProcessClient, control: ControlPlane, body: dict[str, Any], message: str
) -> None:
    answer = control.post("/stubs", json=body)
    assert message in error(answer, 400)
    assert answer.json()["error"]["code"] == "invalid_payload"
    assert ok(control.get("/stubs")) == {"stubs": []}


def test_server_wide_stubs_are_a_setting(app: MockApp, client: InProcessClient) -> None:
    with InProcessClient(app, base_url="http://mock") as wide:
        changed = ok(
            wide.post("/__mock__/settings", json={"stubs": [{"operation": "listSources", "status": 503}]})
        )
        assert changed["stubs"] == [{"operation": "listSources", "status": 503}]
        assert client.get("/1/sources").status_code == 503
        refused = wide.post(
            "/__mock__/settings", json={"stubs": [{"operation": "listSource", "status": 503}]}
        )
        assert "did you mean listSources?" in error(refused, 400)
        assert client.get("/1/sources").status_code == 503  # the refused settings changed nothing


# --- fault rules with the same matchers --------------------------------------------------------


def test_a_fault_fails_the_push_to_one_index_alone(client: InProcessClient, control: ControlPlane) -> None:
    push_pipeline(client, "products")
    push_pipeline(client, "orders")
    ok(
        control.post(
            "/faults", json={"operation": "push", "status": 503, "path_params": {"indexName": "products"}}
        )
    )
    assert client.post("/1/push/products", json=RECORDS).status_code == 503
    assert client.post("/1/push/orders", json=RECORDS).status_code == 200


def test_a_fault_matching_a_body_fires_once_the_body_is_read(
    app: MockApp, client: InProcessClient, control: ControlPlane
) -> None:
    push_pipeline(client, "products")
    rule = {"operation": "push", "status": 500, "body": {"action": "deleteObject"}, "times": 1}
    listed = ok(control.post("/faults", json=rule))["rules"][0]
    assert (listed["body"], listed["app"]) == ({"action": "deleteObject"}, APP_ID)
    deleting = {"action": "deleteObject", "records": [{"objectID": "1"}]}
    assert client.post("/1/push/products", json=RECORDS).status_code == 200
    assert client.post("/1/push/products", json=deleting).status_code == 500
    assert len(app.store.account(APP_ID).indexes["products"]) == 1  # the refused delete did nothing
    assert client.post("/1/push/products", json=deleting).status_code == 200  # times=1: retired
    # A request the spec refuses, with the body matched: the fault answers first (before validation)
    ok(control.post("/faults", json={**rule, "body": {"records": "oops"}}))
    assert client.post("/1/push/products", json={"action": "addObject", "records": "oops"}).status_code == 500


def test_a_fault_matching_one_query_value(client: InProcessClient, control: ControlPlane) -> None:
    ok(control.post("/faults", json={"operation": "listSources", "status": 503, "query": {"type": "csv"}}))
    assert client.get("/1/sources", params={"type": "csv"}).status_code == 503
    assert client.get("/1/sources", params={"type": "json"}).status_code == 200
    assert client.get("/1/sources").status_code == 200


def test_on_an_open_server_a_stub_goes_to_the_application_named(client: InProcessClient) -> None:
    answer = client.post(
        "/__mock__/stubs", json={"operation": "listTasks", "status": 503}, headers=CREDENTIALS
    )
    assert ok(answer)["app"] == APP_ID
