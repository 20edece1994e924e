"""Tasks over HTTP: one store, two shapes (/2/tasks with ``cron``, deprecated /1/tasks with ``trigger``)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from mockserver import Clock, MockApp
from mockserver.http.inprocess import InProcessClient
from tests.conftest import CREDENTIALS
from tests.helpers import make_destination, make_source, make_task, ok, refused

T0 = datetime(2026, 1, 1, 0, 3, tzinfo=UTC)
T0_TEXT = "2026-01-01T00:03:00Z"

STREAMING_INPUT: dict[str, Any] = {"mapping": {"format": "mappingkit/v1", "actions": []}}
DOCKER_INPUT: dict[str, Any] = {"streams": [{"name": "s", "syncMode": "fullTable"}]}
SHOPIFY_INPUT: dict[str, Any] = {
    "metafields": [{"namespace": "ns", "key": "k", "value": "v"}],
    "market": {"countries": ["US"], "currencies": ["USD"], "locales": ["en"]},
}


# ----------------------------------------------------------------------------------------- helpers


def make_task_v1(
    client: InProcessClient,
    source_id: str,
    destination_id: str,
    trigger: dict[str, Any],
    action: str = "save",
    **extra: Any,
) -> str:
    body = {"sourceID": source_id, "destinationID": destination_id, "trigger": trigger, "action": action}
    task_id: str = ok(client.post("/1/tasks", json={**body, **extra}))["taskID"]
    return task_id


def get_task(client: InProcessClient, task_id: str, version: int = 2) -> dict[str, Any]:
    task: dict[str, Any] = ok(client.get(f"/{version}/tasks/{task_id}"))
    return task


def listed(client: InProcessClient, version: int = 2, **params: Any) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = ok(client.get(f"/{version}/tasks", params={"itemsPerPage": 100, **params}))[
        "tasks"
    ]
    return tasks


@pytest.fixture
def clock(app: MockApp) -> Clock:
    app.store.clock.freeze(T0)
    return app.store.clock


@pytest.fixture
def pair(client: InProcessClient, clock: Clock) -> tuple[str, str]:
    """A json source and a destination, ready for tasks."""
    return make_source(client, name="src"), make_destination(client)


# ------------------------------------------------------------------------- one store, two shapes


def test_v1_scheduled_task_reads_in_v2_with_cron_and_next_run(
    client: InProcessClient, pair: tuple[str, str]
) -> None:
    source_id, destination_id = pair
    task_id = make_task_v1(client, source_id, destination_id, {"type": "schedule", "cron": "*/5 * * * *"})
    task = get_task(client, task_id, 2)
    assert task["cron"] == "*/5 * * * *"
    assert task["nextRun"] == "2026-01-01T00:05:00Z"
    assert task["sourceID"] == source_id
    assert task["destinationID"] == destination_id
    assert "trigger" not in task


def test_v1_on_demand_task_reads_in_v2_without_cron(client: InProcessClient, pair: tuple[str, str]) -> None:
    task_id = make_task_v1(client, *pair, {"type": "onDemand"})
    task = get_task(client, task_id, 2)
    assert "cron" not in task
    assert "nextRun" not in task
    assert "trigger" not in task


def test_v2_task_with_cron_reads_in_v1_as_schedule_trigger(
    client: InProcessClient, pair: tuple[str, str]
) -> None:
    task_id = make_task(client, *pair, cron="*/5 * * * *")
    task = get_task(client, task_id, 1)
    assert task["trigger"] == {"type": "schedule", "cron": "*/5 * * * *", "nextRun": "2026-01-01T00:05:00Z"}
    assert "cron" not in task
    assert "nextRun" not in task


def test_v2_task_without_cron_reads_in_v1_as_on_demand(
    client: InProcessClient, pair: tuple[str, str]
) -> None:
    task_id = make_task(client, *pair)
    assert get_task(client, task_id, 1)["trigger"] == {"type": "onDemand"}


@pytest.mark.parametrize("kind", ["subscription", "streaming"])
def test_v1_event_driven_triggers_round_trip(client: InProcessClient, clock: Clock, kind: str) -> None:
    task_id = make_task_v1(
        client, make_source(client, "push", "src"), make_destination(client), {"type": kind}
    )
    assert get_task(client, task_id, 1)["trigger"] == {"type": kind}
    assert "cron" not in get_task(client, task_id, 2)


def test_create_returns_id_and_date_and_stores_the_fields(
    client: InProcessClient, pair: tuple[str, str]
) -> None:
    source_id, destination_id = pair
    body = {
        "sourceID": source_id,
        "destinationID": destination_id,
        "action": "partial",
        "failureThreshold": 20,
        "input": STREAMING_INPUT,
        "notifications": {"email": {"enabled": True}},
        "policies": {"criticalThreshold": 3},
    }
    created = ok(client.post("/2/tasks", json=body))
    assert set(created) == {"taskID", "createdAt"}
    assert created["createdAt"] == T0_TEXT
    task = get_task(client, created["taskID"])
    assert task == {
        **body,
        "taskID": created["taskID"],
        "enabled": True,
        "createdAt": T0_TEXT,
        "updatedAt": T0_TEXT,
    }


def test_create_disabled(client: InProcessClient, pair: tuple[str, str]) -> None:
    assert get_task(client, make_task(client, *pair, enabled=False))["enabled"] is False
    assert (
        get_task(client, make_task_v1(client, *pair, {"type": "onDemand"}, enabled=False), 1)["enabled"]
        is False
    )


@pytest.mark.parametrize("version", [1, 2])
def test_get_unknown_task_is_404(client: InProcessClient, version: int) -> None:
    assert "nope" in refused(client.get(f"/{version}/tasks/nope"), 404)


# ------------------------------------------------------------------------------ list: filters


@dataclass
class Fleet:
    """Four tasks with distinct enough values to tell every filter and sort key apart."""

    ids: dict[str, str]  # A..D -> taskID, plus S1, S2 (sources) and D1, D2 (destinations)

    def names(self, tasks: list[dict[str, Any]]) -> list[str]:
        by_id = {v: k for k, v in self.ids.items()}
        return [by_id[t["taskID"]] for t in tasks]


@pytest.fixture
def fleet(client: InProcessClient, clock: Clock) -> Fleet:
    s1 = make_source(client, "json", "s1")
    s2 = make_source(client, "push", "s2")
    d1 = make_destination(client, "idx1", "d1")
    d2 = make_destination(client, "idx2", "d2")
    # A: t0, schedule, replace, enabled, email on
    a = make_task(client, s1, d1, "replace", cron="0 * * * *", notifications={"email": {"enabled": True}})
    clock.advance(1)
    # B: t0+1, onDemand, save, disabled, email off
    b = make_task(client, s1, d2, "save", enabled=False, notifications={"email": {"enabled": False}})
    clock.advance(1)
    # C: t0+2, subscription, append, enabled
    c = make_task_v1(client, s2, d1, {"type": "subscription"}, "append")
    clock.advance(1)
    # D: t0+3, streaming, partial, enabled
    d = make_task_v1(client, s1, d2, {"type": "streaming"}, "partial")
    clock.advance(7)
    ok(client.patch(f"/2/tasks/{a}", json={"failureThreshold": 5}))  # A updated last, at t0+10
    return Fleet({"A": a, "B": b, "C": c, "D": d, "S1": s1, "S2": s2, "D1": d1, "D2": d2})


FILTER_CASES: list[tuple[dict[str, str], set[str]]] = [
    ({}, {"A", "B", "C", "D"}),
    ({"action": "replace"}, {"A"}),
    ({"action": "save,append"}, {"B", "C"}),
    ({"enabled": "false"}, {"B"}),
    ({"enabled": "true"}, {"A", "C", "D"}),
    ({"sourceID": "{S1}"}, {"A", "B", "D"}),
    ({"sourceID": "{S1},{S2}"}, {"A", "B", "C", "D"}),
    ({"sourceType": "push"}, {"C"}),
    ({"sourceType": "json"}, {"A", "B", "D"}),
    ({"sourceType": "docker"}, set()),
    ({"destinationID": "{D2}"}, {"B", "D"}),
    ({"destinationID": "{D1}"}, {"A", "C"}),
    ({"triggerType": "schedule"}, {"A"}),
    ({"triggerType": "onDemand"}, {"B"}),
    ({"triggerType": "subscription,streaming"}, {"C", "D"}),
    ({"withEmailNotifications": "true"}, {"A"}),
    ({"withEmailNotifications": "false"}, {"B", "C", "D"}),
    ({"sourceID": "{S1}", "enabled": "true", "destinationID": "{D1}"}, {"A"}),
]


def _format(params: dict[str, str], fleet: Fleet) -> dict[str, str]:
    return {k: v.format(**fleet.ids) for k, v in params.items()}


@pytest.mark.parametrize(("params", "expected"), FILTER_CASES, ids=[str(p) for p, _ in FILTER_CASES])
def test_list_v2_filters(
    client: InProcessClient, fleet: Fleet, params: dict[str, str], expected: set[str]
) -> None:
    tasks = listed(client, 2, **_format(params, fleet))
    assert set(fleet.names(tasks)) == expected


V1_FILTER_CASES = [(p, e) for p, e in FILTER_CASES if not {"sourceType", "withEmailNotifications"} & set(p)]


@pytest.mark.parametrize(("params", "expected"), V1_FILTER_CASES, ids=[str(p) for p, _ in V1_FILTER_CASES])
def test_list_v1_filters(
    client: InProcessClient, fleet: Fleet, params: dict[str, str], expected: set[str]
) -> None:
    tasks = listed(client, 1, **_format(params, fleet))
    assert set(fleet.names(tasks)) == expected
    assert all("trigger" in t for t in tasks)


def test_list_rejects_an_unknown_filter_value(client: InProcessClient, fleet: Fleet) -> None:
    assert "action" in refused(client.get("/2/tasks", params={"action": "explode"}))
    assert "enabled" in refused(client.get("/2/tasks", params={"enabled": "maybe"}))


# -------------------------------------------------------------------------------- list: sorting

SORT_ASC = {
    "enabled": ["B", "A", "C", "D"],  # false first; ties in creation order
    "triggerType": ["B", "A", "D", "C"],  # onDemand < schedule < streaming < subscription
    "action": ["C", "D", "A", "B"],  # append < partial < replace < save
    "updatedAt": ["B", "C", "D", "A"],
    "createdAt": ["A", "B", "C", "D"],
}


def _sort_value(task_v2: dict[str, Any], task_v1: dict[str, Any], key: str) -> Any:
    if key == "triggerType":
        return task_v1["trigger"]["type"]
    return task_v2[key]


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("key", list(SORT_ASC))
def test_list_sorted_ascending(client: InProcessClient, fleet: Fleet, key: str, version: int) -> None:
    tasks = listed(client, version, sort=key, order="asc")
    assert fleet.names(tasks) == SORT_ASC[key]


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("key", list(SORT_ASC))
def test_list_sorted_descending(client: InProcessClient, fleet: Fleet, key: str, version: int) -> None:
    tasks = listed(client, version, sort=key, order="desc")
    names = fleet.names(tasks)
    assert sorted(names) == ["A", "B", "C", "D"]
    values = [
        _sort_value(get_task(client, fleet.ids[n], 2), get_task(client, fleet.ids[n], 1), key) for n in names
    ]
    assert values == sorted(values, reverse=True)
    assert names != SORT_ASC[key]


def test_list_default_order_is_newest_first(client: InProcessClient, fleet: Fleet) -> None:
    assert fleet.names(listed(client, 2)) == ["D", "C", "B", "A"]
    assert fleet.names(listed(client, 1)) == ["D", "C", "B", "A"]


def test_list_unknown_sort_key_is_400(client: InProcessClient, fleet: Fleet) -> None:
    assert "sort" in refused(client.get("/2/tasks", params={"sort": "name"}))


# ----------------------------------------------------------------------------- list: pagination


@pytest.mark.parametrize("version", [1, 2])
def test_list_pagination(client: InProcessClient, pair: tuple[str, str], version: int) -> None:
    created = [make_task(client, *pair) for _ in range(5)]
    seen: list[str] = []
    for page in (1, 2, 3):
        body = ok(client.get(f"/{version}/tasks", params={"itemsPerPage": 2, "page": page, "order": "asc"}))
        assert body["pagination"] == {"nbPages": 3, "page": page, "nbItems": 5, "itemsPerPage": 2}
        assert len(body["tasks"]) == (2 if page < 3 else 1)
        seen += [t["taskID"] for t in body["tasks"]]
    assert seen == created
    beyond = ok(client.get(f"/{version}/tasks", params={"itemsPerPage": 2, "page": 4}))
    assert beyond["tasks"] == []
    assert beyond["pagination"]["nbItems"] == 5


def test_list_default_page_size_is_10(client: InProcessClient, pair: tuple[str, str]) -> None:
    for _ in range(11):
        make_task(client, *pair)
    body = ok(client.get("/2/tasks"))
    assert len(body["tasks"]) == 10
    assert body["pagination"] == {"nbPages": 2, "page": 1, "nbItems": 11, "itemsPerPage": 10}


def test_list_empty(client: InProcessClient) -> None:
    body = ok(client.get("/2/tasks"))
    assert body["tasks"] == []
    assert body["pagination"]["nbItems"] == 0


# ------------------------------------------------------------------------------------- search


@pytest.mark.parametrize("version", [1, 2])
def test_search_by_ids(client: InProcessClient, fleet: Fleet, version: int) -> None:
    ids = [fleet.ids["C"], "unknown", fleet.ids["A"], fleet.ids["C"]]
    found = ok(client.post(f"/{version}/tasks/search", json={"taskIDs": ids}))
    assert [t["taskID"] for t in found] == [fleet.ids["C"], fleet.ids["A"]]
    for task in found:
        assert task == get_task(client, task["taskID"], version)
    if version == 1:
        assert found[1]["trigger"]["type"] == "schedule"
    else:
        assert found[1]["cron"] == "0 * * * *"


def test_search_nothing_found(client: InProcessClient, fleet: Fleet) -> None:
    assert ok(client.post("/2/tasks/search", json={"taskIDs": ["x", "y"]})) == []


# ------------------------------------------------------------------------ replace vs update


@pytest.fixture
def rich_task(client: InProcessClient, pair: tuple[str, str]) -> str:
    return make_task(
        client,
        *pair,
        "replace",
        cron="*/5 * * * *",
        enabled=False,
        failureThreshold=10,
        input=STREAMING_INPUT,
        notifications={"email": {"enabled": True}},
        policies={"criticalThreshold": 3},
        cursor="c-1",
        subscriptionAction="save",
    )


def test_put_replaces_every_writable_field_but_keeps_the_source(
    client: InProcessClient, clock: Clock, pair: tuple[str, str], rich_task: str
) -> None:
    source_id, _ = pair
    other_destination = make_destination(client, "other")
    clock.advance(60)
    answer = ok(
        client.put(f"/2/tasks/{rich_task}", json={"destinationID": other_destination, "action": "append"})
    )
    assert answer == {"taskID": rich_task, "updatedAt": "2026-01-01T00:04:00Z"}
    task = get_task(client, rich_task)
    assert task == {
        "taskID": rich_task,
        "sourceID": source_id,
        "destinationID": other_destination,
        "action": "append",
        "enabled": True,
        "failureThreshold": 0,
        "createdAt": T0_TEXT,
        "updatedAt": "2026-01-01T00:04:00Z",
    }
    assert get_task(client, rich_task, 1)["trigger"] == {"type": "onDemand"}


def test_put_with_cron_sets_the_schedule(
    client: InProcessClient, pair: tuple[str, str], rich_task: str
) -> None:
    _, destination_id = pair
    ok(
        client.put(
            f"/2/tasks/{rich_task}",
            json={"destinationID": destination_id, "action": "save", "cron": "0 0 * * *"},
        )
    )
    task = get_task(client, rich_task)
    assert task["cron"] == "0 0 * * *"
    assert task["nextRun"] == "2026-01-02T00:00:00Z"
    assert task["failureThreshold"] == 0  # a replacement that leaves it out sets it back to 0


@pytest.mark.parametrize("version", [1, 2])
def test_a_task_never_given_a_failure_threshold_answers_0(
    client: InProcessClient, pair: tuple[str, str], version: int
) -> None:
    """Observed: the service answers failureThreshold 0 for a task created without one."""
    source_id, destination_id = pair
    if version == 2:
        task_id = make_task(client, source_id, destination_id)
    else:
        task_id = make_task_v1(client, source_id, destination_id, {"type": "onDemand"})
    assert get_task(client, task_id, version)["failureThreshold"] == 0
    listed = ok(client.post("/2/tasks/search", json={"taskIDs": [task_id]}))
    assert [t["failureThreshold"] for t in listed] == [0]


def test_patch_changes_only_the_given_fields(
    client: InProcessClient, clock: Clock, pair: tuple[str, str], rich_task: str
) -> None:
    before = get_task(client, rich_task)
    clock.advance(60)
    answer = ok(client.patch(f"/2/tasks/{rich_task}", json={"failureThreshold": 50}))
    assert answer == {"taskID": rich_task, "updatedAt": "2026-01-01T00:04:00Z"}
    after = get_task(client, rich_task)
    assert after == {**before, "failureThreshold": 50, "updatedAt": "2026-01-01T00:04:00Z"}


def test_patch_destination_and_enabled(client: InProcessClient, rich_task: str) -> None:
    other_destination = make_destination(client, "other")
    ok(client.patch(f"/2/tasks/{rich_task}", json={"destinationID": other_destination, "enabled": True}))
    task = get_task(client, rich_task)
    assert task["destinationID"] == other_destination
    assert task["enabled"] is True
    assert task["cron"] == "*/5 * * * *"


def test_patch_cron_recomputes_next_run(client: InProcessClient, rich_task: str) -> None:
    ok(client.patch(f"/2/tasks/{rich_task}", json={"cron": "0 * * * *"}))
    task = get_task(client, rich_task)
    assert (task["cron"], task["nextRun"]) == ("0 * * * *", "2026-01-01T01:00:00Z")


def test_patch_cron_on_an_on_demand_task_schedules_it(client: InProcessClient, pair: tuple[str, str]) -> None:
    task_id = make_task(client, *pair)
    ok(client.patch(f"/2/tasks/{task_id}", json={"cron": "*/5 * * * *"}))
    assert get_task(client, task_id, 1)["trigger"] == {
        "type": "schedule",
        "cron": "*/5 * * * *",
        "nextRun": "2026-01-01T00:05:00Z",
    }


def test_patch_v1_trigger_cron(client: InProcessClient, clock: Clock, pair: tuple[str, str]) -> None:
    task_id = make_task_v1(client, *pair, {"type": "onDemand"})
    clock.advance(60)
    answer = ok(
        client.patch(f"/1/tasks/{task_id}", json={"trigger": {"cron": "*/5 * * * *"}, "failureThreshold": 7})
    )
    assert answer == {"taskID": task_id, "updatedAt": "2026-01-01T00:04:00Z"}
    v1 = get_task(client, task_id, 1)
    assert v1["trigger"] == {"type": "schedule", "cron": "*/5 * * * *", "nextRun": "2026-01-01T00:05:00Z"}
    assert v1["failureThreshold"] == 7
    v2 = get_task(client, task_id, 2)
    assert (v2["cron"], v2["nextRun"]) == ("*/5 * * * *", "2026-01-01T00:05:00Z")


def test_patch_v1_without_trigger_keeps_the_schedule(client: InProcessClient, pair: tuple[str, str]) -> None:
    task_id = make_task_v1(client, *pair, {"type": "schedule", "cron": "0 * * * *"})
    ok(client.patch(f"/1/tasks/{task_id}", json={"enabled": False}))
    task = get_task(client, task_id, 1)
    assert task["enabled"] is False
    assert task["trigger"]["cron"] == "0 * * * *"


@pytest.mark.parametrize(("method", "version"), [("put", 2), ("patch", 2), ("patch", 1)])
def test_update_unknown_task_is_404(
    client: InProcessClient, pair: tuple[str, str], method: str, version: int
) -> None:
    body = {"destinationID": pair[1], "action": "save"} if method == "put" else {"enabled": True}
    assert "nope" in refused(client.request(method.upper(), f"/{version}/tasks/nope", json=body), 404)


# ------------------------------------------------------------------------ delete, enable, disable


@pytest.mark.parametrize("version", [1, 2])
def test_delete(client: InProcessClient, pair: tuple[str, str], version: int) -> None:
    keep = make_task(client, *pair)
    gone = make_task(client, *pair)
    answer = ok(client.delete(f"/{version}/tasks/{gone}"))
    assert answer == {"deletedAt": T0_TEXT}
    refused(client.get(f"/1/tasks/{gone}"), 404)
    refused(client.get(f"/2/tasks/{gone}"), 404)
    assert [t["taskID"] for t in listed(client)] == [keep]
    refused(client.delete(f"/{version}/tasks/{gone}"), 404)


@pytest.mark.parametrize("version", [1, 2])
def test_disable_then_enable(
    client: InProcessClient, clock: Clock, pair: tuple[str, str], version: int
) -> None:
    task_id = make_task(client, *pair)
    clock.advance(30)
    answer = ok(client.put(f"/{version}/tasks/{task_id}/disable"))
    assert answer == {"taskID": task_id, "updatedAt": "2026-01-01T00:03:30Z"}
    assert get_task(client, task_id, 1)["enabled"] is False
    assert get_task(client, task_id, 2)["enabled"] is False
    assert get_task(client, task_id, 2)["updatedAt"] == "2026-01-01T00:03:30Z"
    clock.advance(30)
    ok(client.put(f"/{version}/tasks/{task_id}/enable"))
    assert get_task(client, task_id, 1)["enabled"] is True
    assert get_task(client, task_id, 2)["enabled"] is True
    assert get_task(client, task_id, 2)["updatedAt"] == "2026-01-01T00:04:00Z"


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("what", ["enable", "disable"])
def test_enable_disable_unknown_task_is_404(client: InProcessClient, version: int, what: str) -> None:
    refused(client.put(f"/{version}/tasks/nope/{what}"), 404)


# ----------------------------------------------------------------------------- references


def test_create_needs_an_existing_source(client: InProcessClient, pair: tuple[str, str]) -> None:
    body = {"sourceID": "ghost", "destinationID": pair[1], "action": "save"}
    assert "body.sourceID" in refused(client.post("/2/tasks", json=body), 400)
    assert "body.sourceID" in refused(
        client.post("/1/tasks", json={**body, "trigger": {"type": "onDemand"}}), 400
    )
    assert listed(client) == []


def test_create_needs_an_existing_destination(client: InProcessClient, pair: tuple[str, str]) -> None:
    body = {"sourceID": pair[0], "destinationID": "ghost", "action": "save"}
    assert "body.destinationID" in refused(client.post("/2/tasks", json=body), 400)
    assert "body.destinationID" in refused(
        client.post("/1/tasks", json={**body, "trigger": {"type": "onDemand"}}), 400
    )
    assert listed(client) == []


@pytest.mark.parametrize(("method", "version"), [("put", 2), ("patch", 2), ("patch", 1)])
def test_update_needs_an_existing_destination(
    client: InProcessClient, pair: tuple[str, str], method: str, version: int
) -> None:
    task_id = make_task(client, *pair)
    body: dict[str, Any] = {"destinationID": "ghost"}
    if method == "put":
        body["action"] = "save"
    message = refused(client.request(method.upper(), f"/{version}/tasks/{task_id}", json=body), 400)
    assert "body.destinationID" in message
    assert get_task(client, task_id)["destinationID"] == pair[1]


def test_source_used_by_a_task_cannot_be_deleted_until_the_task_is_gone(
    client: InProcessClient, pair: tuple[str, str]
) -> None:
    source_id, _ = pair
    task_id = make_task(client, *pair)
    message = refused(client.delete(f"/1/sources/{source_id}"), 400)
    assert task_id in message
    ok(client.get(f"/1/sources/{source_id}"))
    ok(client.delete(f"/2/tasks/{task_id}"))
    ok(client.delete(f"/1/sources/{source_id}"))
    refused(client.get(f"/1/sources/{source_id}"), 404)


def test_destination_used_by_a_task_cannot_be_deleted_until_the_task_is_gone(
    client: InProcessClient, pair: tuple[str, str]
) -> None:
    _, destination_id = pair
    task_id = make_task_v1(client, *pair, {"type": "onDemand"})
    message = refused(client.delete(f"/1/destinations/{destination_id}"), 400)
    assert task_id in message
    ok(client.get(f"/1/destinations/{destination_id}"))
    ok(client.delete(f"/1/tasks/{task_id}"))
    ok(client.delete(f"/1/destinations/{destination_id}"))


def test_destination_left_by_a_patch_can_be_deleted(client: InProcessClient, pair: tuple[str, str]) -> None:
    task_id = make_task(client, *pair)
    other = make_destination(client, "other")
    ok(client.patch(f"/2/tasks/{task_id}", json={"destinationID": other}))
    ok(client.delete(f"/1/destinations/{pair[1]}"))
    assert task_id in refused(client.delete(f"/1/destinations/{other}"), 400)


# ----------------------------------------------------------------------------------- cron

BAD_CRONS = ["bad", "* * * *", "* * * * * *", "61 * * * *", "* 25 * * *", ""]


@pytest.mark.parametrize("cron", BAD_CRONS)
def test_bad_cron_on_create_v2(client: InProcessClient, pair: tuple[str, str], cron: str) -> None:
    body = {"sourceID": pair[0], "destinationID": pair[1], "action": "save", "cron": cron}
    assert "body.cron" in refused(client.post("/2/tasks", json=body))
    assert listed(client) == []


@pytest.mark.parametrize("cron", BAD_CRONS)
def test_bad_cron_on_create_v1(client: InProcessClient, pair: tuple[str, str], cron: str) -> None:
    body = {
        "sourceID": pair[0],
        "destinationID": pair[1],
        "action": "save",
        "trigger": {"type": "schedule", "cron": cron},
    }
    assert "body.trigger.cron" in refused(client.post("/1/tasks", json=body))
    assert listed(client) == []


@pytest.mark.parametrize("cron", ["bad", "* * * *"])
def test_bad_cron_on_update(client: InProcessClient, pair: tuple[str, str], cron: str) -> None:
    task_id = make_task(client, *pair, cron="0 * * * *")
    before = get_task(client, task_id)
    assert "body.cron" in refused(client.patch(f"/2/tasks/{task_id}", json={"cron": cron}))
    put_body = {"destinationID": pair[1], "action": "save", "cron": cron}
    assert "body.cron" in refused(client.put(f"/2/tasks/{task_id}", json=put_body))
    assert "body.trigger.cron" in refused(
        client.patch(f"/1/tasks/{task_id}", json={"trigger": {"cron": cron}})
    )
    assert get_task(client, task_id) == before


def test_schedule_trigger_needs_a_cron(client: InProcessClient, pair: tuple[str, str]) -> None:
    body = {"sourceID": pair[0], "destinationID": pair[1], "action": "save", "trigger": {"type": "schedule"}}
    assert "body.trigger" in refused(client.post("/1/tasks", json=body))
    assert listed(client) == []


@pytest.mark.parametrize(
    ("cron", "next_run"),
    [
        ("*/5 * * * *", "2026-01-01T00:05:00Z"),
        ("0 0 * * *", "2026-01-02T00:00:00Z"),
        ("30 2 * * 1", "2026-01-05T02:30:00Z"),  # 2026-01-01 is a Thursday
        ("0 12 15 * *", "2026-01-15T12:00:00Z"),
    ],
)
def test_next_run_follows_from_cron_on_the_mock_clock(
    client: InProcessClient, pair: tuple[str, str], cron: str, next_run: str
) -> None:
    task_id = make_task(client, *pair, cron=cron)
    assert get_task(client, task_id)["nextRun"] == next_run
    assert get_task(client, task_id, 1)["trigger"]["nextRun"] == next_run


def test_next_run_is_computed_from_the_clock_at_update_time(
    client: InProcessClient, clock: Clock, pair: tuple[str, str]
) -> None:
    task_id = make_task(client, *pair, cron="*/5 * * * *")
    clock.advance(10 * 60)  # 00:13
    ok(client.patch(f"/2/tasks/{task_id}", json={"cron": "*/5 * * * *"}))
    assert get_task(client, task_id)["nextRun"] == "2026-01-01T00:15:00Z"


@pytest.mark.parametrize("cron", ["0 0 31 2 *", "0 0 30 2 *"])
def test_cron_that_never_fires_is_400_not_a_crash(app: MockApp, pair: tuple[str, str], cron: str) -> None:
    """Five valid fields that name no real day (February 31st): refused like any other bad cron."""
    body = {"sourceID": pair[0], "destinationID": pair[1], "action": "save", "cron": cron}
    with InProcessClient(app, base_url="http://mock", headers=CREDENTIALS, raise_app_exceptions=False) as c:
        response = c.post("/2/tasks", json=body)
        assert response.status_code == 400, response.text
        assert "body.cron" in response.json()["message"]
        assert c.get("/2/tasks").json()["tasks"] == []


def test_next_run_is_never_in_the_past(client: InProcessClient, clock: Clock, pair: tuple[str, str]) -> None:
    """A schedule's next run, read after the clock passed the planned one, is the next one to come."""
    task_id = make_task(client, *pair, cron="*/5 * * * *")
    clock.advance(4 * 60)  # 00:07: the 00:05 run is behind us
    assert get_task(client, task_id)["nextRun"] == "2026-01-01T00:10:00Z"


# --------------------------------------------------------------------------- input by source type


def _source_of_kind(client: InProcessClient, app: MockApp, kind: str) -> str:
    return make_source(client, kind, "src")


INPUT_CASES = [
    ("docker", DOCKER_INPUT, True),
    ("docker", STREAMING_INPUT, False),
    ("docker", SHOPIFY_INPUT, False),
    ("shopify", SHOPIFY_INPUT, True),
    ("shopify", STREAMING_INPUT, False),
    ("shopify", DOCKER_INPUT, False),
    ("json", STREAMING_INPUT, True),
    ("json", DOCKER_INPUT, False),
    ("json", SHOPIFY_INPUT, False),
    ("push", STREAMING_INPUT, True),
    ("push", DOCKER_INPUT, False),
]


def _case_id(case: tuple[str, dict[str, Any], bool]) -> str:
    kind, task_input, fits = case
    return f"{kind}-{next(iter(task_input))}-{'ok' if fits else 'bad'}"


@pytest.mark.parametrize(("kind", "task_input", "fits"), INPUT_CASES, ids=[_case_id(c) for c in INPUT_CASES])
@pytest.mark.parametrize("version", [1, 2])
def test_task_input_must_fit_the_source_type_on_create(
    client: InProcessClient,
    app: MockApp,
    clock: Clock,
    kind: str,
    task_input: dict[str, Any],
    fits: bool,
    version: int,
) -> None:
    source_id = _source_of_kind(client, app, kind)
    body: dict[str, Any] = {
        "sourceID": source_id,
        "destinationID": make_destination(client),
        "action": "save",
        "input": task_input,
    }
    if version == 1:
        body["trigger"] = {"type": "onDemand"}
    response = client.post(f"/{version}/tasks", json=body)
    if fits:
        task_id = ok(response)["taskID"]
        assert get_task(client, task_id, version)["input"] == task_input
    else:
        assert "body.input" in refused(response, 400)
        assert listed(client) == []


@pytest.mark.parametrize(("kind", "task_input", "fits"), INPUT_CASES, ids=[_case_id(c) for c in INPUT_CASES])
def test_task_input_must_fit_the_source_type_on_update(
    client: InProcessClient, app: MockApp, clock: Clock, kind: str, task_input: dict[str, Any], fits: bool
) -> None:
    destination_id = make_destination(client)
    task_id = make_task(client, _source_of_kind(client, app, kind), destination_id)
    put_body = {"destinationID": destination_id, "action": "save", "input": task_input}
    for method, path, body in [
        ("PATCH", f"/2/tasks/{task_id}", {"input": task_input}),
        ("PATCH", f"/1/tasks/{task_id}", {"input": task_input}),
        ("PUT", f"/2/tasks/{task_id}", put_body),
    ]:
        response = client.request(method, path, json=body)
        if fits:
            ok(response)
            assert get_task(client, task_id)["input"] == task_input
        else:
            assert "body.input" in refused(response, 400), (method, path)
            assert "input" not in get_task(client, task_id)


# ------------------------------------------------------------------ rejected requests change nothing


def test_rejected_task_requests_change_nothing(
    app: MockApp, client: InProcessClient, pair: tuple[str, str]
) -> None:
    source_id, destination_id = pair
    docker_id = make_source(client, "docker", "src")
    task_id = make_task(client, source_id, destination_id, cron="0 * * * *", failureThreshold=3)
    docker_task = make_task(client, docker_id, destination_id, input=DOCKER_INPUT)
    bad_requests: list[tuple[str, str, Any]] = [
        ("POST", "/2/tasks", {"sourceID": "ghost", "destinationID": destination_id, "action": "save"}),
        ("POST", "/2/tasks", {"sourceID": source_id, "destinationID": "ghost", "action": "save"}),
        (
            "POST",
            "/2/tasks",
            {"sourceID": source_id, "destinationID": destination_id, "action": "save", "cron": "x"},
        ),
        ("POST", "/2/tasks", {"sourceID": source_id, "destinationID": destination_id, "action": "nope"}),
        (
            "POST",
            "/1/tasks",
            {
                "sourceID": source_id,
                "destinationID": destination_id,
                "action": "save",
                "trigger": {"type": "x"},
            },
        ),
        (
            "POST",
            "/2/tasks",
            {
                "sourceID": docker_id,
                "destinationID": destination_id,
                "action": "save",
                "input": STREAMING_INPUT,
            },
        ),
        ("PATCH", f"/2/tasks/{task_id}", {"cron": "61 * * * *", "failureThreshold": 9}),
        ("PATCH", f"/2/tasks/{task_id}", {"destinationID": "ghost", "enabled": False}),
        ("PATCH", f"/2/tasks/{task_id}", {"input": DOCKER_INPUT, "enabled": False}),
        ("PATCH", f"/2/tasks/{task_id}", {"failureThreshold": 101}),
        ("PATCH", f"/1/tasks/{task_id}", {"trigger": {"cron": "nope"}, "enabled": False}),
        ("PATCH", f"/2/tasks/{docker_task}", {"input": STREAMING_INPUT, "enabled": False}),
        ("PUT", f"/2/tasks/{task_id}", {"destinationID": destination_id, "action": "save", "cron": "bad"}),
        ("PUT", f"/2/tasks/{task_id}", {"destinationID": "ghost", "action": "save"}),
        ("PUT", f"/2/tasks/{task_id}", {"action": "save"}),
        ("DELETE", f"/1/sources/{source_id}", None),
        ("DELETE", f"/1/destinations/{destination_id}", None),
        ("DELETE", "/2/tasks/ghost", None),
        ("PUT", "/2/tasks/ghost/disable", None),
        ("POST", "/2/tasks/ghost/run", None),
    ]
    for method, path, body in bad_requests:
        before = copy.deepcopy(app.store.accounts)
        response = (
            client.request(method, path, json=body) if body is not None else client.request(method, path)
        )
        assert response.status_code in (400, 404, 400), (method, path, response.text)
        assert app.store.accounts == before, (method, path)
