"""How runs end, as the service ends them: fetching what a source points at, failureThreshold,
policies.criticalThreshold (blocking), and the reason codes of runs that write nothing."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver import Clock, MockApp
from mockserver.engine.store import Account, RunPolicy
from mockserver.http.inprocess import InProcessClient
from tests.helpers import OMIT, make_destination, make_source, make_task, ok

URL = "https://example.com/feed"
FEED = {"url": URL}  # the input of the sources made here
FAILS_ON_BAD = (
    "async function transform(record) { if (record.bad) { throw new Error('bad record'); } return record; }"
)


def run(client: InProcessClient, task_id: str) -> dict[str, Any]:
    run_id = ok(client.post(f"/2/tasks/{task_id}/run"))["runID"]
    found: dict[str, Any] = ok(client.get(f"/1/runs/{run_id}"))
    return found


def events(client: InProcessClient, run_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(
        client.get(f"/1/runs/{run_id}/events", params={"itemsPerPage": 100, "sort": "type", "order": "asc"})
    )["events"]
    return found


@pytest.fixture
def destination_id(client: InProcessClient, clock: Clock) -> str:
    return make_destination(client, "products")


# ------------------------------------------------------------------ what a URL source fetches


def test_a_url_nothing_is_registered_for_fails_the_run_at_fetch(
    client: InProcessClient, account: Account, destination_id: str
) -> None:
    source_id = make_source(client, input=FEED)
    found = run(client, make_task(client, source_id, destination_id))
    assert (found["status"], found["outcome"], found["reasonCode"]) == ("finished", "failure", "critical")
    reason = found["reason"]
    assert f"cannot fetch {URL}" in reason
    # The message says every way to register what the URL serves.
    for way in (
        f"ingestion_mock.account.source_records[{source_id!r}]",
        f"ingestion_mock.account.url_contents[{URL!r}]",
        "source_records:",
        f"PUT /__mock__/sources/{source_id}/records",
        "mockserver serve --fixtures",
    ):
        assert way in reason
    [fetch] = events(client, found["runID"])
    assert (fetch["type"], fetch["status"]) == ("fetch", "failed")
    assert fetch["data"]["url"] == URL
    assert "products" not in account.indexes


def test_json_content_at_the_url_is_fetched_parsed_and_written(
    client: InProcessClient, account: Account, destination_id: str
) -> None:
    account.url_contents[URL] = '[{"sku": "a", "name": "shoe"}, {"sku": "b", "name": "hat"}]'
    task_id = make_task(client, make_source(client, input={**FEED, "uniqueIDColumn": "sku"}), destination_id)
    found = run(client, task_id)
    assert (found["outcome"], found["reasonCode"]) == ("success", "ok")
    assert account.indexes["products"] == {
        "a": {"objectID": "a", "sku": "a", "name": "shoe"},
        "b": {"objectID": "b", "sku": "b", "name": "hat"},
    }
    fetch = next(e for e in events(client, found["runID"]) if e["type"] == "fetch")
    assert fetch["data"] == {"nbRecords": 2, "url": URL}


def test_csv_content_is_split_by_the_sources_delimiter_and_typed_by_its_mapping(
    client: InProcessClient, account: Account, destination_id: str
) -> None:
    account.url_contents[URL] = 'id;price;stock;live;tags\n1;9.5;3;true;["x"]\n2;1;0;false;[]\n'
    source_id = make_source(
        client,
        "csv",
        input={
            **FEED,
            "delimiter": ";",
            "uniqueIDColumn": "id",
            "mapping": {"price": "float", "stock": "integer", "live": "boolean", "tags": "json"},
        },
    )
    found = run(client, make_task(client, source_id, destination_id))
    assert found["outcome"] == "success"
    assert account.indexes["products"]["1"] == {
        "objectID": "1",
        "id": "1",
        "price": 9.5,
        "stock": 3,
        "live": True,
        "tags": ["x"],
    }
    assert account.indexes["products"]["2"]["live"] is False


def test_content_that_is_not_the_sources_format_fails_the_fetch(
    client: InProcessClient, account: Account, destination_id: str
) -> None:
    account.url_contents[URL] = '{"records": []}'
    found = run(client, make_task(client, make_source(client, input=FEED), destination_id))
    assert (found["outcome"], found["reasonCode"]) == ("failure", "critical")
    assert found["reason"] == f"cannot read {URL} as JSON: expected an array of records, got a JSON dict"


def test_registered_records_win_over_the_url(
    client: InProcessClient, account: Account, destination_id: str
) -> None:
    source_id = make_source(client, input=FEED)
    account.url_contents[URL] = '[{"objectID": "from-url"}]'
    account.source_records[source_id] = [{"objectID": "registered"}]
    run(client, make_task(client, source_id, destination_id))
    assert set(account.indexes["products"]) == {"registered"}


def test_sources_without_a_url_keep_their_registered_records(
    client: InProcessClient, account: Account, destination_id: str
) -> None:
    body = {"type": "bigquery", "name": "bq", "input": {"projectID": "p", "datasetID": "d"}}
    source_id = ok(client.post("/1/sources", json=body))["sourceID"]
    task_id = make_task(client, source_id, destination_id)
    assert run(client, task_id)["reasonCode"] == "no_events"
    account.source_records[source_id] = [{"objectID": "1"}]
    assert run(client, task_id)["reasonCode"] == "ok"
    assert set(account.indexes["products"]) == {"1"}


def test_validate_reports_an_unreachable_url(client: InProcessClient, account: Account, clock: Clock) -> None:
    body = {"type": "json", "name": "feed", "input": {"url": URL}}
    answer = ok(client.post("/1/sources/validate", json=body))
    assert answer["message"].startswith(
        f"The json source is not valid: cannot fetch {URL}: the URL cannot be reached"
    )
    assert [(e["type"], e["status"]) for e in answer["events"]] == [("fetch", "failed")]
    assert answer["data"] == []
    assert ok(client.get(f"/1/runs/{answer['runID']}"))["outcome"] == "failure"
    account.url_contents[URL] = '[{"objectID": "1"}]'
    answer = ok(client.post("/1/sources/validate", json=body))
    assert answer["message"] == "The json source is valid"
    assert answer["data"] == [{"objectID": "1"}]


# ------------------------------------------------------------- runs that write nothing


def test_a_run_that_finds_nothing_ends_no_events(
    client: InProcessClient, account: Account, destination_id: str
) -> None:
    source_id = make_source(client, input=FEED)
    account.source_records[source_id] = []
    found = run(client, make_task(client, source_id, destination_id))
    assert (found["outcome"], found["reasonCode"]) == ("success", "no_events")
    assert [e["type"] for e in events(client, found["runID"])] == ["fetch"]


def test_a_run_whose_records_are_all_dropped_ends_lacking_events(
    client: InProcessClient, account: Account, destination_id: str
) -> None:
    source_id = make_source(client, input=FEED)
    account.source_records[source_id] = [{"name": "no id"}, {"name": "none either"}]
    found = run(client, make_task(client, source_id, destination_id, failureThreshold=100))
    assert (found["outcome"], found["reasonCode"]) == ("success", "lacking_events")
    failed = [e for e in events(client, found["runID"]) if e["status"] == "failed"]
    assert [(e["type"], e["data"]["index"]) for e in failed] == [("record", 0), ("record", 1)]
    assert "no objectID" in failed[0]["data"]["error"]["message"]
    assert not account.indexes.get("products")


# ------------------------------------------------------------------------- failureThreshold


@pytest.mark.parametrize(
    ("threshold", "outcome"), [(24, "failure"), (25, "success"), (0, "failure"), (OMIT, "failure")]
)
def test_failure_threshold_decides_the_outcome(
    client: InProcessClient, account: Account, destination_id: str, threshold: Any, outcome: str
) -> None:
    """A task never given a threshold has 0 (observed), which accepts no failed record (published)."""
    source_id = make_source(client, input=FEED)
    account.source_records[source_id] = [
        {"objectID": "1"},
        {"objectID": "2"},
        {"objectID": "3"},
        {"name": "x"},
    ]
    found = run(client, make_task(client, source_id, destination_id, failureThreshold=threshold))
    threshold = 0 if threshold is OMIT else threshold
    assert found["outcome"] == outcome
    if outcome == "failure":
        assert found["reasonCode"] == "too_many_errors"
        assert found["reason"] == (
            f"1 of 4 records failed (25%), more than the task's failureThreshold of {threshold}%"
        )
        logged = [e for e in events(client, found["runID"]) if e["type"] == "log"]
        assert [(e["status"], e["data"]["failed"], e["data"]["total"]) for e in logged] == [("failed", 1, 4)]
        assert not account.indexes.get("products")
    else:
        assert found["reasonCode"] == "ok"
        assert set(account.indexes["products"]) == {"1", "2", "3"}


def test_failure_threshold_counts_a_pushs_transform_failures(
    client: InProcessClient, account: Account, clock: Clock
) -> None:
    transformation = ok(client.post("/1/transformations", json={"name": "t", "code": FAILS_ON_BAD}))
    destination = {
        "type": "search",
        "name": "d",
        "input": {"indexName": "products"},
        "transformationIDs": [transformation["transformationID"]],
    }
    destination_id = ok(client.post("/1/destinations", json=destination))["destinationID"]
    push_source = ok(client.post("/1/sources", json={"type": "push", "name": "p"}))["sourceID"]
    task_id = make_task(client, push_source, destination_id, failureThreshold=40)
    records = [{"objectID": "1"}, {"objectID": "2", "bad": True}, {"objectID": "3", "bad": True}]
    answer = ok(
        client.post(
            f"/2/tasks/{task_id}/push",
            params={"watch": "true"},
            json={"action": "addObject", "records": records},
        )
    )
    found = ok(client.get(f"/1/runs/{answer['runID']}"))
    assert (found["outcome"], found["reasonCode"]) == ("failure", "too_many_errors")
    assert answer["message"].startswith("2 of 3 records failed")
    assert not account.indexes.get("products")


# ------------------------------------------------------------- policies.criticalThreshold


@pytest.fixture
def fragile_task(client: InProcessClient, destination_id: str) -> str:
    """A task on a URL nothing is registered for (every run fails critically), blocked after 2."""
    return make_task(
        client,
        make_source(client, input=FEED),
        destination_id,
        policies={"criticalThreshold": 2},
        notifications={"email": {"enabled": True}},
    )


def test_critical_failures_in_a_row_block_the_task_until_it_is_enabled(
    client: InProcessClient, account: Account, fragile_task: str
) -> None:
    first = run(client, fragile_task)
    assert ok(client.get(f"/2/tasks/{fragile_task}"))["enabled"] is True
    assert account.notifications == []
    second = run(client, fragile_task)
    assert second["reasonCode"] == "critical"
    # The second critical failure in a row blocks the task, says so in a log event, and notifies.
    blocked_log = [e for e in events(client, second["runID"]) if e["type"] == "log"]
    assert [e["status"] for e in blocked_log] == ["critical"]
    assert second["progress"]["expectedNbOfEvents"] == 2
    assert ok(client.get(f"/2/tasks/{fragile_task}"))["enabled"] is False
    [notification] = account.notifications
    assert notification["taskID"] == fragile_task
    assert notification["runID"] == second["runID"]
    assert notification["reason"] == "blocking"
    assert notification["criticalFailures"] == 2
    assert notification["email"] is True
    assert notification["createdAt"] == second["finishedAt"]
    assert first["runID"] != second["runID"]

    # A blocked task's runs do no work, even once its data is there.
    account.source_records[account.tasks[fragile_task]["sourceID"]] = [{"objectID": "1"}]
    skipped = run(client, fragile_task)
    assert (skipped["status"], skipped["reasonCode"]) == ("skipped", "blocking")
    assert "outcome" not in skipped
    assert "enable it again" in skipped["reason"]
    assert events(client, skipped["runID"]) == []
    assert not account.indexes.get("products")
    listed = ok(client.get("/1/runs", params={"status": "skipped"}))["runs"]
    assert [r["runID"] for r in listed] == [skipped["runID"]]

    ok(client.put(f"/2/tasks/{fragile_task}/enable"))
    again = run(client, fragile_task)
    assert (again["status"], again["outcome"], again["reasonCode"]) == ("finished", "success", "ok")
    assert set(account.indexes["products"]) == {"1"}
    assert len(account.notifications) == 1


def test_a_success_between_critical_failures_starts_the_count_again(
    client: InProcessClient, account: Account, fragile_task: str
) -> None:
    source_id = account.tasks[fragile_task]["sourceID"]
    run(client, fragile_task)
    account.source_records[source_id] = [{"objectID": "1"}]
    run(client, fragile_task)
    del account.source_records[source_id]
    run(client, fragile_task)
    assert ok(client.get(f"/2/tasks/{fragile_task}"))["enabled"] is True
    assert account.notifications == []


def test_without_a_critical_threshold_no_task_is_blocked(
    client: InProcessClient, account: Account, destination_id: str
) -> None:
    task_id = make_task(client, make_source(client, input=FEED), destination_id)
    for _ in range(12):
        assert run(client, task_id)["reasonCode"] == "critical"
    assert ok(client.get(f"/2/tasks/{task_id}"))["enabled"] is True


def test_a_deferred_failure_blocks_when_it_finishes(
    app: MockApp, client: InProcessClient, clock: Clock, account: Account, fragile_task: str
) -> None:
    app.store.run_policy = RunPolicy(mode="deferred", start_after=1, finish_after=5)
    run(client, fragile_task)
    run(client, fragile_task)
    assert ok(client.get(f"/2/tasks/{fragile_task}"))["enabled"] is True  # neither has finished
    clock.advance(5)
    skipped = run(client, fragile_task)  # the two finished first: the task is blocked now
    assert skipped["status"] == "skipped"
    assert len(account.notifications) == 1


def test_a_blocked_tasks_push_is_skipped(
    app: MockApp, client: InProcessClient, account: Account, clock: Clock
) -> None:
    destination_id = make_destination(client, "pushed")
    push_source = ok(client.post("/1/sources", json={"type": "push", "name": "p"}))["sourceID"]
    task_id = make_task(client, push_source, destination_id, policies={"criticalThreshold": 1})
    app.store.run_policy = RunPolicy(outcome="failure")
    body = {"action": "addObject", "records": [{"objectID": "1"}]}
    ok(client.post(f"/2/tasks/{task_id}/push", json=body))
    app.store.run_policy = RunPolicy()
    answer = ok(client.post(f"/2/tasks/{task_id}/push", params={"watch": "true"}, json=body))
    assert "eventID" not in answer
    assert answer["events"] == []
    assert ok(client.get(f"/1/runs/{answer['runID']}"))["status"] == "skipped"
    assert not account.indexes.get("pushed")


def test_a_csv_value_that_does_not_convert_makes_its_row_a_failed_record(
    client: InProcessClient, account: Account, destination_id: str
) -> None:
    account.url_contents[URL] = "id,stock\n1,3\n2,many\n3,4\n"
    source_id = make_source(
        client, "csv", input={**FEED, "uniqueIDColumn": "id", "mapping": {"stock": "integer"}}
    )
    found = run(client, make_task(client, source_id, destination_id, failureThreshold=50))
    assert (found["outcome"], found["reasonCode"]) == ("success", "ok")
    assert set(account.indexes["products"]) == {"1", "3"}
    [failed] = [e for e in events(client, found["runID"]) if e["status"] == "failed"]
    assert failed["type"] == "record"
    assert failed["data"]["index"] == 1
    assert "column 'stock' is not a valid integer" in failed["data"]["error"]["message"]


def test_a_replace_run_with_nothing_to_write_leaves_the_index_as_it_was(
    app: MockApp, client: InProcessClient, account: Account
) -> None:
    """Found by the state-machine test: a reindex of a source holding no records said "nothing was
    written" (no_events) yet emptied the index."""
    destination = ok(
        client.post("/1/destinations", json={"type": "search", "name": "d", "input": {"indexName": "kept"}})
    )["destinationID"]
    source = ok(client.post("/1/sources", json={"type": "push", "name": "p"}))["sourceID"]
    task = ok(
        client.post("/2/tasks", json={"action": "replace", "destinationID": destination, "sourceID": source})
    )
    ok(
        client.post(
            f"/2/tasks/{task['taskID']}/push", json={"action": "addObject", "records": [{"objectID": "1"}]}
        )
    )
    run_id = ok(client.post(f"/2/tasks/{task['taskID']}/run"))["runID"]
    run = ok(client.get(f"/1/runs/{run_id}"))
    assert (run["outcome"], run["reasonCode"]) == ("success", "no_events")
    assert list(account.indexes["kept"]) == ["1"]
