"""Push over HTTP: /1/push/{indexName} via the index's one push task, /2/tasks/{taskID}/push, the actions."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from httpx import Response

from mockserver import Clock, MockApp, create_app
from mockserver.engine.store import Account, RunPolicy
from mockserver.http.inprocess import InProcessClient
from tests.conftest import APP_ID, CREDENTIALS
from tests.helpers import T0, make_destination, make_source, make_task, ok, push_task_for, refused

# ----------------------------------------------------------------------------------------- helpers


def push(
    client: InProcessClient, index: str, action: str, records: list[dict[str, Any]], **params: Any
) -> Response:
    return client.post(f"/1/push/{index}", params=params, json={"action": action, "records": records})


@pytest.fixture
def task_id(client: InProcessClient, clock: Clock) -> str:
    """The one push task on index ``products``."""
    return push_task_for(client, "products")


# ------------------------------------------------------------------------ which task carries a push


def test_push_goes_through_the_push_task_of_the_index(
    client: InProcessClient, account: Account, task_id: str
) -> None:
    answer = ok(push(client, "products", "addObject", [{"objectID": "1", "name": "shoe"}]))
    assert set(answer) == {"runID", "eventID", "createdAt", "message"}
    assert account.indexes["products"] == {"1": {"objectID": "1", "name": "shoe"}}
    found = ok(client.get(f"/1/runs/{answer['runID']}"))
    assert found["taskID"] == task_id
    assert found["type"] == "push"


def test_push_without_any_task_is_404_with_an_explanation(
    client: InProcessClient, account: Account, clock: Clock
) -> None:
    response = push(client, "products", "addObject", [{"objectID": "1"}])
    assert response.status_code == 404
    body = response.json()
    # The service's answer, word for word (observed); the mock's diagnosis rides in error.detail.
    assert body["message"] == "cannot find task products"
    assert body["status"] == 404
    assert body["error"]["code"] == "resource_not_found"
    assert "no push task targets index 'products'" in body["error"]["detail"]
    assert "products" not in account.indexes
    assert account.runs == {}


def test_a_task_on_a_non_push_source_does_not_count(
    client: InProcessClient, account: Account, clock: Clock
) -> None:
    make_task(client, make_source(client, "json"), make_destination(client, "products"))
    refused(push(client, "products", "addObject", [{"objectID": "1"}]), 404)
    assert "products" not in account.indexes


def test_a_push_task_on_another_index_does_not_count(
    client: InProcessClient, account: Account, clock: Clock
) -> None:
    push_task_for(client, "other")
    refused(push(client, "products", "addObject", [{"objectID": "1"}]), 404)
    assert "products" not in account.indexes


def test_two_push_tasks_on_the_index_is_400_naming_them(
    client: InProcessClient, account: Account, task_id: str
) -> None:
    second = push_task_for(client, "products")
    response = push(client, "products", "addObject", [{"objectID": "1"}])
    assert response.status_code == 400
    body = response.json()
    detail = body["error"].pop("detail")
    assert body == {
        "error": {"code": "invalid_payload"},
        "message": f"multiple tasks ({task_id}, {second}) found for the Push connector with indexName "
        "products, please use /2/tasks/:id/push instead",  # the service's wording, as observed
        "status": 400,
    }
    assert detail.startswith("path.indexName: 2 push tasks target index 'products': "), detail
    assert "products" not in account.indexes


def _detail(response: Response) -> str:
    assert response.status_code == 400, response.text
    detail = response.json()["error"]["detail"]
    assert isinstance(detail, str)
    return detail


def _described(account: Account, task_id: str) -> str:
    task = account.tasks[task_id]
    source, destination = account.sources[task["sourceID"]], account.destinations[task["destinationID"]]
    return (
        f"{task_id} (created {task['createdAt']}: push source {source['name']!r} {source['sourceID']} "
        f"-> destination {destination['name']!r} {destination['destinationID']})"
    )


def test_a_repeated_setup_is_diagnosed_with_the_tasks_their_times_and_the_ways_out(
    client: InProcessClient, account: Account, clock: Clock
) -> None:
    """What README's first snippet meets when it runs twice on one server: the same source,
    destination and task made again. ``message`` keeps the service's wording; ``detail`` says why."""
    first = push_task_for(client, "products")
    clock.advance(60)
    second = push_task_for(client, "products")
    detail = _detail(push(client, "products", "addObject", [{"objectID": "1"}]))
    assert account.tasks[first]["createdAt"] != account.tasks[second]["createdAt"]
    assert detail == (
        "path.indexName: 2 push tasks target index 'products': "
        f"{_described(account, first)}; {_described(account, second)}. "
        f"{second} repeats {first} (same source name, destination and action): the same setup ran "
        "again against this mock, which keeps its state between runs, and made another task. "
        "Reuse the existing task instead of creating another (GET /2/tasks?sourceType=push lists "
        "them), delete the extra ones (DELETE /2/tasks/{taskID}), or reset the mock before each "
        "run (POST /__mock__/reset)"
    )


def test_different_push_tasks_on_one_index_are_listed_without_calling_them_a_repeat(
    client: InProcessClient, account: Account, clock: Clock
) -> None:
    destination = make_destination(client, "products")
    feeds = [
        ok(client.post("/1/sources", json={"type": "push", "name": name}))["sourceID"]
        for name in ("feed a", "feed b")
    ]
    tasks = [make_task(client, feed, destination) for feed in feeds]
    detail = _detail(push(client, "products", "addObject", [{"objectID": "1"}]))
    assert detail == (
        "path.indexName: 2 push tasks target index 'products': "
        f"{_described(account, tasks[0])}; {_described(account, tasks[1])}. "
        "Push through one of them (POST /2/tasks/{taskID}/push), delete the ones not meant for this "
        "index (DELETE /2/tasks/{taskID}), or reset the mock (POST /__mock__/reset)"
    )
    assert "repeats" not in detail


def test_deleting_a_task_can_make_the_push_unambiguous(
    client: InProcessClient, account: Account, task_id: str
) -> None:
    second = push_task_for(client, "products")
    refused(push(client, "products", "addObject", [{"objectID": "1"}]))
    ok(client.delete(f"/2/tasks/{second}"))
    answer = ok(push(client, "products", "addObject", [{"objectID": "1"}]))
    assert ok(client.get(f"/1/runs/{answer['runID']}"))["taskID"] == task_id


def test_reference_index_name_borrows_the_task_but_writes_into_the_path_index(
    client: InProcessClient, account: Account, clock: Clock
) -> None:
    reference_task = push_task_for(client, "reference")
    answer = ok(push(client, "target", "addObject", [{"objectID": "1"}], referenceIndexName="reference"))
    assert account.indexes["target"] == {"1": {"objectID": "1"}}
    assert not account.indexes.get("reference")
    assert ok(client.get(f"/1/runs/{answer['runID']}"))["taskID"] == reference_task


def test_reference_index_name_wins_over_the_path_index_task(
    client: InProcessClient, account: Account, task_id: str
) -> None:
    reference_task = push_task_for(client, "reference")
    answer = ok(push(client, "products", "addObject", [{"objectID": "1"}], referenceIndexName="reference"))
    assert ok(client.get(f"/1/runs/{answer['runID']}"))["taskID"] == reference_task
    assert account.indexes["products"] == {"1": {"objectID": "1"}}


def test_reference_index_without_a_push_task_is_404(
    client: InProcessClient, account: Account, task_id: str
) -> None:
    response = push(client, "products", "addObject", [{"objectID": "1"}], referenceIndexName="nowhere")
    assert refused(response, 404) == "cannot find task nowhere"
    assert response.json()["error"]["detail"].startswith("query.referenceIndexName: ")
    assert "products" not in account.indexes


def test_reference_index_with_two_push_tasks_is_400(
    client: InProcessClient, account: Account, clock: Clock
) -> None:
    first = push_task_for(client, "reference")
    second = push_task_for(client, "reference")
    message = refused(
        push(client, "target", "addObject", [{"objectID": "1"}], referenceIndexName="reference")
    )
    assert first in message
    assert second in message
    assert "target" not in account.indexes


# -------------------------------------------------------------------------------- seven actions


@pytest.fixture
def stocked(account: Account, task_id: str) -> dict[str, dict[str, Any]]:
    stock: dict[str, dict[str, Any]] = {
        "1": {"objectID": "1", "name": "shoe", "price": 10},
        "2": {"objectID": "2", "name": "hat", "price": 5},
    }
    account.indexes["products"] = stock
    return stock


@pytest.mark.parametrize("action", ["addObject", "updateObject"])
def test_add_and_update_replace_whole_records(
    client: InProcessClient, account: Account, stocked: dict[str, Any], action: str
) -> None:
    ok(
        push(
            client, "products", action, [{"objectID": "1", "name": "boot"}, {"objectID": "3", "name": "sock"}]
        )
    )
    assert account.indexes["products"] == {
        "1": {"objectID": "1", "name": "boot"},
        "2": {"objectID": "2", "name": "hat", "price": 5},
        "3": {"objectID": "3", "name": "sock"},
    }


def test_partial_update_merges_and_creates(
    client: InProcessClient, account: Account, stocked: dict[str, Any]
) -> None:
    ok(
        push(
            client,
            "products",
            "partialUpdateObject",
            [{"objectID": "1", "price": 12}, {"objectID": "3", "price": 1}],
        )
    )
    assert account.indexes["products"] == {
        "1": {"objectID": "1", "name": "shoe", "price": 12},
        "2": {"objectID": "2", "name": "hat", "price": 5},
        "3": {"objectID": "3", "price": 1},
    }


def test_partial_update_no_create_merges_but_does_not_create(
    client: InProcessClient, account: Account, stocked: dict[str, Any]
) -> None:
    records = [{"objectID": "2", "price": 6}, {"objectID": "3", "price": 1}]
    ok(push(client, "products", "partialUpdateObjectNoCreate", records))
    assert account.indexes["products"] == {
        "1": {"objectID": "1", "name": "shoe", "price": 10},
        "2": {"objectID": "2", "name": "hat", "price": 6},
    }


def test_delete_object(client: InProcessClient, account: Account, stocked: dict[str, Any]) -> None:
    ok(push(client, "products", "deleteObject", [{"objectID": "1"}, {"objectID": "9"}]))
    assert account.indexes["products"] == {"2": {"objectID": "2", "name": "hat", "price": 5}}


def test_clear_empties_the_index(client: InProcessClient, account: Account, stocked: dict[str, Any]) -> None:
    account.indexes["bystander"] = {"x": {"objectID": "x"}}
    ok(push(client, "products", "clear", []))
    assert account.indexes["products"] == {}
    assert account.indexes["bystander"] == {"x": {"objectID": "x"}}


def test_delete_removes_the_index(client: InProcessClient, account: Account, stocked: dict[str, Any]) -> None:
    account.indexes["bystander"] = {"x": {"objectID": "x"}}
    ok(push(client, "products", "delete", []))
    assert "products" not in account.indexes
    assert account.indexes["bystander"] == {"x": {"objectID": "x"}}


def test_pushes_accumulate(client: InProcessClient, account: Account, task_id: str) -> None:
    ok(push(client, "products", "addObject", [{"objectID": "1", "a": 1}]))
    ok(push(client, "products", "partialUpdateObject", [{"objectID": "1", "b": 2}]))
    ok(push(client, "products", "addObject", [{"objectID": "2"}]))
    ok(push(client, "products", "deleteObject", [{"objectID": "2"}]))
    assert account.indexes["products"] == {"1": {"objectID": "1", "a": 1, "b": 2}}


def test_unknown_action_is_400(client: InProcessClient, account: Account, task_id: str) -> None:
    assert "action" in refused(push(client, "products", "upsert", [{"objectID": "1"}]))
    assert "products" not in account.indexes


# ------------------------------------------------------------------------------------ pushTask


def test_push_task_writes_into_its_destination_index(
    client: InProcessClient, account: Account, task_id: str
) -> None:
    answer = ok(
        client.post(f"/2/tasks/{task_id}/push", json={"action": "addObject", "records": [{"objectID": "7"}]})
    )
    assert account.indexes["products"] == {"7": {"objectID": "7"}}
    found = ok(client.get(f"/1/runs/{answer['runID']}"))
    assert (found["taskID"], found["type"], found["status"]) == (task_id, "push", "finished")


def test_push_task_needs_no_unique_task_per_index(
    client: InProcessClient, account: Account, task_id: str
) -> None:
    second = push_task_for(client, "products")
    ok(client.post(f"/2/tasks/{second}/push", json={"action": "addObject", "records": [{"objectID": "1"}]}))
    assert account.indexes["products"] == {"1": {"objectID": "1"}}


def test_push_task_follows_a_changed_destination(
    client: InProcessClient, account: Account, task_id: str
) -> None:
    ok(client.patch(f"/2/tasks/{task_id}", json={"destinationID": make_destination(client, "moved")}))
    ok(client.post(f"/2/tasks/{task_id}/push", json={"action": "addObject", "records": [{"objectID": "1"}]}))
    assert account.indexes["moved"] == {"1": {"objectID": "1"}}
    assert "products" not in account.indexes


def test_push_task_unknown_task_is_404(client: InProcessClient, account: Account, clock: Clock) -> None:
    response = client.post(
        "/2/tasks/ghost/push", json={"action": "addObject", "records": [{"objectID": "1"}]}
    )
    assert "ghost" in refused(response, 404)
    assert account.indexes == {}


@pytest.mark.parametrize("watch", [True, False])
def test_push_task_watch(client: InProcessClient, task_id: str, watch: bool) -> None:
    response = client.post(
        f"/2/tasks/{task_id}/push",
        params={"watch": str(watch).lower()},
        json={"action": "addObject", "records": [{"objectID": "1"}]},
    )
    answer = ok(response)
    # Published (WatchResponse.data): "always null when used with the Push endpoint".
    assert ("data" in answer) is watch
    if watch:
        assert answer["data"] is None
    assert ("events" in answer) is watch


# ----------------------------------------------------------------------- runs and events of a push


@pytest.mark.parametrize("route", ["index", "task"])
def test_push_run_and_event_resolve(client: InProcessClient, task_id: str, route: str) -> None:
    body = {"action": "updateObject", "records": [{"objectID": str(i)} for i in range(3)]}
    path = "/1/push/products" if route == "index" else f"/2/tasks/{task_id}/push"
    answer = ok(client.post(path, json=body))
    assert answer["createdAt"] == "2026-01-01T12:00:00Z"
    found = ok(client.get(f"/1/runs/{answer['runID']}"))
    assert found["runID"] == answer["runID"]
    assert found["type"] == "push"
    assert found["status"] == "finished"
    assert found["outcome"] == "success"
    assert found["appID"] == APP_ID
    event = ok(client.get(f"/1/runs/{answer['runID']}/events/{answer['eventID']}"))
    assert event["eventID"] == answer["eventID"]
    assert event["runID"] == answer["runID"]
    assert event["type"] == "record"
    assert event["batchSize"] == 3
    assert event["status"] == "succeeded"
    listed = ok(client.get(f"/1/runs/{answer['runID']}/events"))["events"]
    assert [e["eventID"] for e in listed] == [answer["eventID"]]
    assert [r["runID"] for r in ok(client.get("/1/runs", params={"type": "push"}))["runs"]] == [
        answer["runID"]
    ]


def test_every_push_is_its_own_run(client: InProcessClient, task_id: str) -> None:
    first = ok(push(client, "products", "addObject", [{"objectID": "1"}]))
    second = ok(push(client, "products", "addObject", [{"objectID": "2"}]))
    assert first["runID"] != second["runID"]
    assert first["eventID"] != second["eventID"]


def test_watch_answers_data_null_and_the_events(
    client: InProcessClient, account: Account, task_id: str
) -> None:
    account.indexes["products"] = {"1": {"objectID": "1", "name": "shoe"}}
    records = [{"objectID": "1", "price": 3}, {"objectID": "2", "price": 4}]
    answer = ok(push(client, "products", "partialUpdateObjectNoCreate", records, watch="true"))
    assert answer["data"] is None  # published: always null for a push
    assert account.indexes["products"] == {"1": {"objectID": "1", "name": "shoe", "price": 3}}
    assert len(answer["events"]) == 1
    event = answer["events"][0]
    assert event["eventID"] == answer["eventID"]
    assert event["runID"] == answer["runID"]
    assert event["batchSize"] == 2
    assert event == ok(client.get(f"/1/runs/{answer['runID']}/events/{answer['eventID']}"))
    assert answer["message"]
    assert ok(client.get(f"/1/runs/{answer['runID']}"))["status"] == "finished"


def test_watch_false_returns_no_results(client: InProcessClient, task_id: str) -> None:
    answer = ok(push(client, "products", "addObject", [{"objectID": "1"}], watch="false"))
    assert "data" not in answer
    assert "events" not in answer


def test_deferred_push_event_is_404_until_the_run_finishes(
    app: MockApp, client: InProcessClient, clock: Clock, task_id: str
) -> None:
    """What chunked_push's polling relies on: 404 means "not yet", then the event."""
    app.store.run_policy = RunPolicy(mode="deferred", start_after=1, finish_after=3)
    answer = ok(push(client, "products", "addObject", [{"objectID": "1"}]))
    event_path = f"/1/runs/{answer['runID']}/events/{answer['eventID']}"
    refused(client.get(event_path), 404)
    clock.advance(2)
    refused(client.get(event_path), 404)
    clock.advance(1)
    assert ok(client.get(event_path))["eventID"] == answer["eventID"]


def test_watched_push_is_finished_even_when_runs_are_deferred(
    app: MockApp, client: InProcessClient, clock: Clock, task_id: str
) -> None:
    app.store.run_policy = RunPolicy(mode="deferred", start_after=1, finish_after=3)
    answer = ok(push(client, "products", "addObject", [{"objectID": "1"}], watch="true"))
    assert ok(client.get(f"/1/runs/{answer['runID']}"))["status"] == "finished"
    ok(client.get(f"/1/runs/{answer['runID']}/events/{answer['eventID']}"))


@pytest.mark.parametrize("watch", ["true", "false"])
def test_failing_runs_do_not_land_pushed_records(
    app: MockApp, client: InProcessClient, account: Account, task_id: str, watch: str
) -> None:
    account.indexes["products"] = {"1": {"objectID": "1", "name": "shoe"}}
    app.store.run_policy = RunPolicy(outcome="failure", reason_code="critical", reason="boom")
    answer = ok(
        push(
            client,
            "products",
            "addObject",
            [{"objectID": "1", "name": "boot"}, {"objectID": "2"}],
            watch=watch,
        )
    )
    assert account.indexes["products"] == {"1": {"objectID": "1", "name": "shoe"}}
    found = ok(client.get(f"/1/runs/{answer['runID']}"))
    assert (found["status"], found["outcome"], found["reasonCode"], found["reason"]) == (
        "finished",
        "failure",
        "critical",
        "boom",
    )
    if watch == "true":
        assert answer["data"] is None
        assert "boom" in answer["message"]


def test_failing_clear_leaves_the_index(
    app: MockApp, client: InProcessClient, account: Account, task_id: str
) -> None:
    account.indexes["products"] = {"1": {"objectID": "1"}}
    app.store.run_policy = RunPolicy(outcome="failure")
    ok(push(client, "products", "clear", []))
    ok(push(client, "products", "delete", []))
    assert account.indexes["products"] == {"1": {"objectID": "1"}}


# ----------------------------------------------------------------------------------- bad payloads


@pytest.fixture
def small_app() -> MockApp:
    return create_app(check_responses=True, seed=1, max_body_bytes=2048)


@pytest.fixture
def small_client(small_app: MockApp) -> Iterator[InProcessClient]:
    with InProcessClient(small_app, base_url="http://mock", headers=CREDENTIALS) as c:
        yield c


def test_oversized_push_is_413_and_applies_nothing(small_app: MockApp, small_client: InProcessClient) -> None:
    small_app.store.clock.freeze(T0)
    push_task_for(small_client, "products")
    accounts_before = copy.deepcopy(small_app.store.accounts)
    big = [{"objectID": str(i), "text": "x" * 100} for i in range(50)]
    assert len(json.dumps({"action": "addObject", "records": big})) > 2048
    response = push(small_client, "products", "addObject", big)
    assert response.status_code == 413, response.text
    assert "2048" in response.json()["message"]
    assert small_app.store.accounts == accounts_before
    assert "products" not in small_app.store.account(APP_ID).indexes
    # a push under the limit still goes through
    ok(push(small_client, "products", "addObject", big[:3]))
    assert len(small_app.store.account(APP_ID).indexes["products"]) == 3


def test_oversized_push_task_is_413(small_app: MockApp, small_client: InProcessClient) -> None:
    task = push_task_for(small_client, "products")
    big = {"action": "addObject", "records": [{"objectID": str(i), "text": "x" * 100} for i in range(50)]}
    before = copy.deepcopy(small_app.store.accounts)
    assert small_client.post(f"/2/tasks/{task}/push", json=big).status_code == 413
    assert small_app.store.accounts == before


@pytest.mark.parametrize(
    ("records", "where"),
    [
        ([{"name": "no id"}], "body.records[0]"),
        ([{"objectID": "1"}, {"name": "no id"}], "body.records[1]"),
    ],
)
def test_records_need_an_object_id(
    client: InProcessClient, account: Account, task_id: str, records: list[dict[str, Any]], where: str
) -> None:
    message = refused(push(client, "products", "addObject", records))
    assert where in message
    assert "objectID" in message
    assert "products" not in account.indexes
    assert account.runs == {}


def test_object_id_must_be_a_string(client: InProcessClient, account: Account, task_id: str) -> None:
    assert "body.records[0].objectID" in refused(push(client, "products", "addObject", [{"objectID": 1}]))
    assert "products" not in account.indexes


@pytest.mark.parametrize(
    "body",
    [
        {"action": "addObject"},
        {"records": [{"objectID": "1"}]},
        {"action": "addObject", "records": {"objectID": "1"}},
    ],
)
def test_payload_needs_action_and_records(
    client: InProcessClient, task_id: str, body: dict[str, Any]
) -> None:
    assert "body" in refused(client.post("/1/push/products", json=body))


def test_rejected_push_requests_change_nothing(
    app: MockApp, client: InProcessClient, account: Account, task_id: str
) -> None:
    account.indexes["products"] = {"1": {"objectID": "1", "name": "shoe"}}
    ok(push(client, "products", "addObject", [{"objectID": "2"}]))
    push_task_for(client, "twice")
    push_task_for(client, "twice")
    bad: list[tuple[str, Any]] = [
        ("/1/push/products", {"action": "addObject", "records": [{"objectID": "3"}, {"no": "id"}]}),
        ("/1/push/products", {"action": "deleteObject", "records": [{"objectID": 1}]}),
        ("/1/push/products", {"action": "wipe", "records": []}),
        ("/1/push/products", {"action": "clear"}),
        ("/1/push/nowhere", {"action": "addObject", "records": [{"objectID": "3"}]}),
        ("/1/push/twice", {"action": "clear", "records": []}),
        ("/1/push/products?referenceIndexName=nowhere", {"action": "delete", "records": []}),
        ("/1/push/products?referenceIndexName=twice", {"action": "delete", "records": []}),
        ("/1/push/products?watch=perhaps", {"action": "delete", "records": []}),
        ("/2/tasks/ghost/push", {"action": "delete", "records": []}),
        (f"/2/tasks/{task_id}/push", {"action": "partialUpdateObject", "records": [{"price": 1}]}),
    ]
    for path, body in bad:
        before = copy.deepcopy(app.store.accounts)
        response = client.post(path, json=body)
        assert response.status_code in (400, 404), (path, response.text)
        assert app.store.accounts == before, path
    not_json = client.post("/1/push/products", content=b"{nope", headers={"content-type": "application/json"})
    assert not_json.status_code == 400
    assert account.indexes["products"] == {"1": {"objectID": "1", "name": "shoe"}, "2": {"objectID": "2"}}


def test_deferred_runs_write_their_records_when_they_finish(
    app: MockApp, client: InProcessClient, clock: Clock, task_id: str
) -> None:
    app.store.run_policy = RunPolicy(mode="deferred", finish_after=5)
    answer = ok(push(client, "products", "addObject", [{"objectID": "late", "n": 1}]))
    assert app.control.index("products", APP_ID) in (None, [])
    assert client.get(f"/1/runs/{answer['runID']}/events/{answer['eventID']}").status_code == 404
    clock.advance(5)
    assert app.control.index("products", APP_ID) == [{"objectID": "late", "n": 1}]
    assert ok(client.get(f"/1/runs/{answer['runID']}"))["status"] == "finished"


def test_deferred_failing_runs_never_write(
    app: MockApp, client: InProcessClient, clock: Clock, task_id: str
) -> None:
    app.store.run_policy = RunPolicy(mode="deferred", finish_after=5, outcome="failure")
    ok(push(client, "products", "addObject", [{"objectID": "never"}]))
    clock.advance(10)
    assert app.control.index("products", APP_ID) in (None, [])


# ------------------------------------------------------------------------------ what the journal keeps


@pytest.mark.parametrize("compress", [False, True])
def test_the_journal_keeps_the_push_body_the_mock_acted_on(
    client: InProcessClient, app: MockApp, task_id: str, compress: bool
) -> None:
    """Whatever the text looked like (spaces, a key given twice, gzip), the journal gives back the
    body as parsed: the last value of a repeated key, nothing of the wire encoding."""
    import gzip

    text = b'{ "action": "addObject",\n  "records": [ {"objectID": "1", "price": 1, "price": 2} ] }'
    headers = {"content-type": "application/json"}
    if compress:
        text, headers["content-encoding"] = gzip.compress(text), "gzip"
    ok(client.post("/1/push/products", content=text, headers=headers))
    call = app.journal.calls[-1]
    assert call.operation_id == "push"
    assert call.body == {"action": "addObject", "records": [{"objectID": "1", "price": 2}]}
    assert app.store.account(APP_ID).indexes["products"]["1"] == {"objectID": "1", "price": 2}


def test_the_journal_never_keeps_the_text_of_a_body_with_secrets(
    client: InProcessClient, app: MockApp
) -> None:
    """A body the mock masks is journaled masked, never as the text the client sent."""
    text = json.dumps(
        {"type": "basic", "name": "login", "input": {"username": "me", "password": "hunter2"}}
    ).encode()
    ok(client.post("/1/authentications", content=text, headers={"content-type": "application/json"}))
    call = app.journal.calls[-1]
    assert call.body["input"]["password"] != "hunter2"
    assert "hunter2" not in json.dumps(call.to_json())


def test_a_push_is_one_record_event_whatever_its_size(
    client: InProcessClient, account: Account, task_id: str
) -> None:
    """README (ledger record-event-sizes): the 1,000-record batches are chunked_push's pushes."""
    records = [{"objectID": str(i)} for i in range(2500)]
    answer = ok(push(client, "products", "addObject", records))
    listed = ok(client.get(f"/1/runs/{answer['runID']}/events"))["events"]
    assert [(e["type"], e["batchSize"]) for e in listed] == [("record", 2500)]
    assert len(account.indexes["products"]) == 2500
