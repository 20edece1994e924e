"""Each assumed rule: with the defaults its refusal says it is assumed (ledger id, the switch);
with ``assumed_rules=False`` the same request is not refused (issue 22, item 4)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mockserver import MockApp, create_app
from mockserver.http.inprocess import InProcessClient
from mockserver.ledger import load_ledger
from tests.conftest import CREDENTIALS
from tests.helpers import make_authentication, make_destination, make_source, make_transformation, ok

Send = Callable[[InProcessClient], Any]


def _task_with_cron(cron: str) -> Send:
    def send(client: InProcessClient) -> Any:
        source, destination = make_source(client, "json"), make_destination(client)
        return client.post(
            "/2/tasks",
            json={"sourceID": source, "destinationID": destination, "action": "save", "cron": cron},
        )

    return send


def _patch_source_input(client: InProcessClient) -> Any:
    source = make_source(client, "json")
    return client.patch(f"/1/sources/{source}", json={"input": {"storeKeys": ["a"]}})


# A task input the published TaskInput accepts, but not the one a json source's task takes.
DOCKER_TASK_INPUT: dict[str, Any] = {"streams": []}


def _task_input_of_another_type(operation: str) -> Send:
    """A task of a json source sent a docker source's task input, by ``operation``."""

    def send(client: InProcessClient) -> Any:
        source, destination = make_source(client, "json"), make_destination(client)
        link = {"sourceID": source, "destinationID": destination, "action": "save"}
        if operation == "createTask":
            return client.post("/2/tasks", json={**link, "input": DOCKER_TASK_INPUT})
        if operation == "createTaskV1":
            trigger = {"type": "onDemand"}
            return client.post("/1/tasks", json={**link, "trigger": trigger, "input": DOCKER_TASK_INPUT})
        task = ok(client.post("/2/tasks", json=link))["taskID"]
        if operation == "updateTask":
            return client.patch(f"/2/tasks/{task}", json={"input": DOCKER_TASK_INPUT})
        if operation == "replaceTask":
            body = {"destinationID": destination, "action": "save", "input": DOCKER_TASK_INPUT}
            return client.put(f"/2/tasks/{task}", json=body)
        return client.patch(f"/1/tasks/{task}", json={"input": DOCKER_TASK_INPUT})

    return send


def _delete_transformation_in_use(client: InProcessClient) -> Any:
    transformation = make_transformation(client)
    make_destination(client, transformationIDs=[transformation])
    return client.delete(f"/1/transformations/{transformation}")


# (ledger id, the request, its status with the rule off)
CASES: list[tuple[str, Send, int]] = [
    ("search-list-indices-page-size", lambda c: c.get("/1/indexes?hitsPerPage=0"), 200),
    ("search-list-indices-page-size", lambda c: c.get("/1/indexes?hitsPerPage=0&page=0"), 200),
    ("cron-syntax", _task_with_cron("@daily"), 200),
    ("cron-syntax", _task_with_cron("0 0 * * MON"), 200),
    ("cron-syntax", _task_with_cron("0 0 0 * * *"), 200),
    ("ids-non-empty-in-requests", lambda c: c.post("/2/tasks/search", json={"taskIDs": [""]}), 200),
    ("query-lists-non-empty", lambda c: c.get("/1/authentications?type="), 200),
    ("query-lists-non-empty", lambda c: c.get("/2/tasks?sourceID="), 200),
    (
        "query-strings-non-empty",
        lambda c: c.post(
            "/1/push/products?referenceIndexName=",
            json={"action": "addObject", "records": [{"objectID": "1"}]},
        ),
        404,
    ),  # no push task: the state's 404
    (
        "window-start-after-end",
        lambda c: c.get("/1/runs?startDate=2026-01-02T00:00:00Z&endDate=2026-01-01T00:00:00Z"),
        200,
    ),
    ("source-input-follows-type", lambda c: c.post("/1/sources", json={"type": "json", "name": "s"}), 200),
    (
        "source-input-follows-type",
        lambda c: c.post("/1/sources", json={"type": "json", "name": "s", "input": {"indexName": "i"}}),
        200,
    ),
    ("source-input-follows-type", _patch_source_input, 200),
    ("transformation-input-follows-type", lambda c: c.post("/1/transformations", json={"name": "t"}), 200),
    (
        "transformation-input-follows-type",
        lambda c: c.post("/1/transformations/try", json={"sampleRecord": {"a": 1}}),
        200,
    ),
    ("task-input-follows-source-type", _task_input_of_another_type("createTask"), 200),
    ("task-input-follows-source-type", _task_input_of_another_type("createTaskV1"), 200),
    ("task-input-follows-source-type", _task_input_of_another_type("updateTask"), 200),
    ("task-input-follows-source-type", _task_input_of_another_type("replaceTask"), 200),
    ("task-input-follows-source-type", _task_input_of_another_type("updateTaskV1"), 200),
    ("transformation-in-use", _delete_transformation_in_use, 200),
    ("query-items-not-null", lambda c: c.get("/1/authentications?platform=null"), 200),
    ("query-items-not-null", lambda c: c.get("/1/authentications?platform=shopify,null"), 200),
    ("query-items-not-null", lambda c: c.get("/1/runs/ghost/events?status=null"), 404),  # no such run
    ("validate-source-body-required", lambda c: c.post("/1/sources/validate"), 200),
    (
        "validate-url-source",
        lambda c: c.post(
            "/1/sources/validate", json={"type": "json", "name": "s", "input": {"url": "ftp://x"}}
        ),
        200,
    ),
]
IDS = [f"{rule}-{i}" for i, (rule, _, _) in enumerate(CASES)]


def _client(app: MockApp) -> Iterator[InProcessClient]:
    with InProcessClient(app, base_url="http://mock", headers=CREDENTIALS) as client:
        yield client


@pytest.fixture
def strict() -> Iterator[InProcessClient]:
    yield from _client(create_app())


@pytest.fixture
def relaxed() -> Iterator[InProcessClient]:
    yield from _client(create_app(assumed_rules=False))


@pytest.mark.parametrize(("rule", "send", "status"), CASES, ids=IDS)
def test_a_refusal_by_an_assumed_rule_says_so(
    strict: InProcessClient, rule: str, send: Send, status: int
) -> None:
    response = send(strict)
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert re.search(
        rf"\[assumed rule ([a-z0-9-]+, )*{rule}(, [a-z0-9-]+)* of the deviation ledger", message
    ), message
    assert "--no-assumed-rules" in message and "assumed_rules=False" in message, message
    assert load_ledger().entry(rule).evidence == "assumption"


@pytest.mark.parametrize(("rule", "send", "status"), CASES, ids=IDS)
def test_with_the_assumed_rules_off_the_request_is_not_refused(
    relaxed: InProcessClient, rule: str, send: Send, status: int
) -> None:
    response = send(relaxed)
    assert response.status_code == status, (rule, response.text)


def test_a_cron_the_mock_cannot_read_has_no_next_run_when_the_rules_are_off(relaxed: InProcessClient) -> None:
    task = ok(_task_with_cron("@daily")(relaxed))
    shown = ok(relaxed.get(f"/2/tasks/{task['taskID']}"))
    assert shown["cron"] == "@daily" and "nextRun" not in shown
    v1 = ok(relaxed.get(f"/1/tasks/{task['taskID']}"))
    assert v1["trigger"] == {"type": "schedule", "cron": "@daily"}


def test_the_switch_is_a_runtime_setting(app: MockApp, client: InProcessClient) -> None:
    assert client.get("/1/authentications?type=").status_code == 400
    assert ok(client.post("/__mock__/settings?scope=all", json={"assumed_rules": False}))
    assert client.get("/1/authentications?type=").status_code == 200
    app.engine.apply_settings(app.engine.settings.replace(assumed_rules=True))
    assert client.get("/1/authentications?type=").status_code == 400


def test_deleting_a_resource_the_published_spec_protects_is_refused_with_the_rules_off(
    relaxed: InProcessClient,
) -> None:
    """Sources and destinations a task uses, authentications a source or destination uses: the
    published descriptions say they cannot be deleted, so the refusal is not an assumed rule."""
    auth = make_authentication(relaxed, "basic", {"username": "u", "password": "p"})
    source = make_source(relaxed, "json", authenticationID=auth)
    destination = make_destination(relaxed)
    ok(relaxed.post("/2/tasks", json={"sourceID": source, "destinationID": destination, "action": "save"}))
    for path in (f"/1/sources/{source}", f"/1/destinations/{destination}", f"/1/authentications/{auth}"):
        response = relaxed.delete(path)
        assert response.status_code == 400, (path, response.text)
        assert response.json()["error"]["code"] == "resource_in_use"
        assert "assumed rule" not in response.json()["message"]


def test_a_transformation_deleted_with_the_rules_off_is_gone_and_runs_skip_it(
    relaxed: InProcessClient,
) -> None:
    transformation = make_transformation(relaxed)
    destination = make_destination(relaxed, transformationIDs=[transformation])
    ok(relaxed.delete(f"/1/transformations/{transformation}"))
    assert relaxed.get(f"/1/transformations/{transformation}").status_code == 404
    assert relaxed.get(f"/1/destinations/{destination}").status_code == 200


def test_a_query_item_spelled_null_is_ignored_with_the_rules_off(relaxed: InProcessClient) -> None:
    """The published items of listAuthentications' platform may be null, a null item selects
    nothing of its own: `platform=null` lists as no filter, `platform=shopify,null` as `shopify`."""
    make_authentication(relaxed, "basic", {"username": "u", "password": "p"})
    every = ok(relaxed.get("/1/authentications"))
    assert ok(relaxed.get("/1/authentications?platform=null")) == every
    assert ok(relaxed.get("/1/authentications?platform=shopify,null")) == ok(
        relaxed.get("/1/authentications?platform=shopify")
    )


def test_the_cron_refusal_says_the_rule_in_words(strict: InProcessClient) -> None:
    message = _task_with_cron("@daily")(strict).json()["message"]
    assert "(?:" not in message and "minute hour day-of-month month day-of-week" in message, message
    assert "'@daily'" in message and "[assumed rule cron-syntax" in message
    assert len(message) < 500, message
