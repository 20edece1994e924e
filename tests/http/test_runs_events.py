"""Runs and their events over HTTP: runTask, the RunPolicy timeline on the mock's clock, listRuns & co."""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from mockserver import Clock, MockApp
from mockserver.durability import image
from mockserver.engine.clock import rfc3339
from mockserver.engine.store import Account, RunPolicy
from mockserver.http.inprocess import InProcessClient
from mockserver.resources import runs as runs_module
from tests.conftest import APP_ID
from tests.helpers import T0, get_run, make_destination, make_source, make_task, ok, refused


def at(seconds: float = 0, **delta: float) -> str:
    return rfc3339(T0 + timedelta(seconds=seconds, **delta))


# ----------------------------------------------------------------------------------------- helpers


def run(client: InProcessClient, task_id: str, version: int = 2) -> str:
    run_id: str = ok(client.post(f"/{version}/tasks/{task_id}/run"))["runID"]
    return run_id


def run_ids(client: InProcessClient, **params: Any) -> list[str]:
    body = ok(client.get("/1/runs", params={"itemsPerPage": 100, **params}))
    return [r["runID"] for r in body["runs"]]


def events(client: InProcessClient, run_id: str, **params: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ok(
        client.get(f"/1/runs/{run_id}/events", params={"itemsPerPage": 100, **params})
    )["events"]
    return found


def products(n: int, start: int = 0, **extra: Any) -> list[dict[str, Any]]:
    return [{"objectID": f"p{i}", "name": f"product {i}", **extra} for i in range(start, start + n)]


@pytest.fixture
def source_id(client: InProcessClient, clock: Clock, account: Account) -> str:
    """A JSON source whose URL serves one record (a test may register others)."""
    source_id = make_source(client, name="feed")
    account.source_records[source_id] = products(1)
    return source_id


@pytest.fixture
def destination_id(client: InProcessClient, clock: Clock) -> str:
    return make_destination(client)


@pytest.fixture
def task_id(client: InProcessClient, source_id: str, destination_id: str) -> str:
    return make_task(client, source_id, destination_id, "save")


# ------------------------------------------------------------------------------------- runTask


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize(
    ("action", "run_type"),
    [
        ("replace", "reindex"),
        ("save", "update"),
        ("partial", "update"),
        ("partialNoCreate", "update"),
        ("append", "update"),
    ],
)
def test_run_task_finishes_successfully_by_default(
    client: InProcessClient, source_id: str, destination_id: str, version: int, action: str, run_type: str
) -> None:
    task_id = make_task(client, source_id, destination_id, action)
    answer = ok(client.post(f"/{version}/tasks/{task_id}/run"))
    assert set(answer) == {"runID", "createdAt"}
    assert answer["createdAt"] == at()
    found = get_run(client, answer["runID"])
    assert found["runID"] == answer["runID"]
    assert found["appID"] == APP_ID
    assert found["taskID"] == task_id
    assert found["type"] == run_type
    assert found["status"] == "finished"
    assert found["outcome"] == "success"
    assert found["reasonCode"] == "ok"
    assert found["createdAt"] == found["startedAt"] == found["finishedAt"] == at()
    progress = found["progress"]
    assert progress["receivedNbOfEvents"] == progress["expectedNbOfEvents"]


def test_run_task_accepts_run_metadata(client: InProcessClient, task_id: str) -> None:
    answer = ok(client.post(f"/2/tasks/{task_id}/run", json={"runMetadata": {"by": "test"}}))
    assert get_run(client, answer["runID"])["status"] == "finished"


@pytest.mark.parametrize("version", [1, 2])
def test_run_unknown_task_is_404(client: InProcessClient, clock: Clock, version: int) -> None:
    refused(client.post(f"/{version}/tasks/ghost/run"), 404)
    assert ok(client.get("/1/runs"))["runs"] == []


def test_run_task_records_last_run(client: InProcessClient, clock: Clock, task_id: str) -> None:
    clock.advance(90)
    run(client, task_id)
    assert ok(client.get(f"/2/tasks/{task_id}"))["lastRun"] == at(90)
    assert ok(client.get(f"/1/tasks/{task_id}"))["trigger"]["lastRun"] == at(90)


def test_run_carries_the_task_failure_threshold(
    client: InProcessClient, source_id: str, destination_id: str
) -> None:
    task_id = make_task(client, source_id, destination_id, failureThreshold=20)
    assert get_run(client, run(client, task_id))["failureThreshold"] == 20


# --------------------------------------------------------------------------------- the timeline


def test_deferred_run_goes_created_started_finished(
    app: MockApp, client: InProcessClient, clock: Clock, task_id: str
) -> None:
    app.store.run_policy = RunPolicy(mode="deferred", start_after=1, finish_after=5)
    run_id = run(client, task_id)

    first = get_run(client, run_id)
    assert first["status"] == "created"
    for key in ("outcome", "reasonCode", "startedAt", "finishedAt"):
        assert key not in first
    assert first["progress"]["receivedNbOfEvents"] == 0
    assert events(client, run_id) == []
    assert run_ids(client, status="created") == [run_id]

    clock.advance(1)
    second = get_run(client, run_id)
    assert second["status"] == "started"
    assert second["startedAt"] == at(1)
    assert "outcome" not in second
    assert "finishedAt" not in second
    assert events(client, run_id) == []
    assert run_ids(client, status="started") == [run_id]

    clock.advance(3.5)  # 4.5 s: still working
    assert get_run(client, run_id)["status"] == "started"
    assert events(client, run_id) == []

    clock.advance(0.5)  # 5 s
    done = get_run(client, run_id)
    assert done["status"] == "finished"
    assert done["finishedAt"] == at(5)
    assert done["outcome"] == "success"
    assert done["reasonCode"] == "ok"
    assert done["progress"]["receivedNbOfEvents"] == done["progress"]["expectedNbOfEvents"]
    assert len(events(client, run_id)) == done["progress"]["expectedNbOfEvents"] >= 1
    assert run_ids(client, status="finished") == [run_id]


def test_events_of_a_deferred_run_are_404_until_it_finishes(
    app: MockApp, client: InProcessClient, clock: Clock, account: Account, task_id: str
) -> None:
    app.store.run_policy = RunPolicy(mode="deferred", start_after=1, finish_after=5)
    run_id = run(client, task_id)
    planned = list(account.events[run_id])  # the IDs the run will publish
    assert planned
    for step in (0, 1, 3):
        clock.advance(step)
        for event_id in planned:
            refused(client.get(f"/1/runs/{run_id}/events/{event_id}"), 404)
    clock.advance(1)  # 5 s
    for event_id in planned:
        event = ok(client.get(f"/1/runs/{run_id}/events/{event_id}"))
        assert event["eventID"] == event_id
        assert event["runID"] == run_id
        assert event["publishedAt"] == at(5)


def test_a_poll_for_an_event_not_published_yet_is_journaled_as_not_ready(
    app: MockApp, client: InProcessClient, clock: Clock, account: Account, task_id: str
) -> None:
    """The 404 a poller expects (its client polls again) is no rejection; an unknown event is one."""
    app.store.run_policy = RunPolicy(mode="deferred", finish_after=5)
    run_id = run(client, task_id)
    planned = next(iter(account.events[run_id]))
    refused(client.get(f"/1/runs/{run_id}/events/{planned}"), 404)
    unknown = "00000000-0000-4000-8000-000000000000"
    refused(client.get(f"/1/runs/{run_id}/events/{unknown}"), 404)
    polled, wrong = app.journal.filter("getEvent")
    assert (polled.not_ready, wrong.not_ready) == (True, False)
    assert app.journal.rejections() == [wrong]
    clock.advance(5)
    ok(client.get(f"/1/runs/{run_id}/events/{planned}"))
    assert not app.journal.last("getEvent").not_ready


@pytest.mark.parametrize("poll", ["getEvent", "getRun", "listRuns", "getTask", "getTaskV1"])
def test_polling_a_run_a_frozen_clock_never_finishes_is_answered_why_within_seconds(
    app: MockApp,
    client: InProcessClient,
    clock: Clock,
    account: Account,
    task_id: str,
    monkeypatch: pytest.MonkeyPatch,
    poll: str,
) -> None:
    """A poller is told after three polls over three seconds at one reading of the frozen clock."""
    app.store.run_policy = RunPolicy(mode="deferred", start_after=1, finish_after=5)
    run_id = run(client, task_id)
    url = {
        "getEvent": f"/1/runs/{run_id}/events/{next(iter(account.events[run_id]))}",
        "getRun": f"/1/runs/{run_id}",
        "listRuns": "/1/runs",
        "getTask": f"/2/tasks/{task_id}",
        "getTaskV1": f"/1/tasks/{task_id}",
    }[poll]
    waiting = 404 if poll == "getEvent" else 200
    seconds = [0.0]
    monkeypatch.setattr(runs_module, "time", SimpleNamespace(monotonic=lambda: seconds[0]))

    def poll_at(moment: float) -> Any:
        seconds[0] = moment
        return client.get(url)

    # Polls within three seconds (a test reading state) are answered as ever...
    assert [poll_at(t).status_code for t in (0, 1.5, 2.9)] == [waiting] * 3
    refusal = poll_at(4.5)  # ... a poll three seconds on is told why (the official client's third)
    assert refusal.status_code == 400
    message = refusal.json()["message"]
    assert "cannot appear" in message if poll == "getEvent" else "cannot finish" in message
    assert f"{run_id!r}" in message
    assert "the mock's clock is frozen at 2026-01-01T12:00:00Z" in message
    assert "set_clock(advance=5)" in message
    clock.advance(2)  # the clock moved: counting starts over, with what is left to wait
    assert [poll_at(t).status_code for t in (20, 40)] == [waiting] * 2  # two polls, however far apart
    assert "set_clock(advance=3)" in poll_at(41).json()["message"]
    clock.unfreeze()  # a running clock gets there by itself
    assert {poll_at(t).status_code for t in (30, 40, 50)} == {waiting}
    clock.advance(10)
    assert poll_at(60).status_code == 200


@pytest.mark.parametrize(
    ("policy", "reason_code", "reason"),
    [
        (RunPolicy(outcome="failure", reason_code="critical", reason="boom"), "critical", "boom"),
        (
            RunPolicy(outcome="failure", reason_code="too_many_errors", reason="too many"),
            "too_many_errors",
            "too many",
        ),
        (RunPolicy(outcome="failure"), "critical", None),
    ],
)
def test_failing_run_policy(
    app: MockApp,
    client: InProcessClient,
    account: Account,
    source_id: str,
    task_id: str,
    policy: RunPolicy,
    reason_code: str,
    reason: str | None,
) -> None:
    account.source_records[source_id] = products(3)
    app.store.run_policy = policy
    found = get_run(client, run(client, task_id))
    assert found["status"] == "finished"
    assert found["outcome"] == "failure"
    assert found["reasonCode"] == reason_code
    if reason is not None:
        assert found["reason"] == reason
    assert not account.indexes.get("products")
    assert all(e["status"] != "succeeded" for e in events(client, found["runID"]))


def test_deferred_failure_shows_only_when_finished(
    app: MockApp, client: InProcessClient, clock: Clock, task_id: str
) -> None:
    app.store.run_policy = RunPolicy(
        mode="deferred",
        start_after=1,
        finish_after=5,
        outcome="failure",
        reason_code="critical",
        reason="boom",
    )
    run_id = run(client, task_id)
    clock.advance(2)
    assert "outcome" not in get_run(client, run_id)
    clock.advance(3)
    found = get_run(client, run_id)
    assert (found["outcome"], found["reasonCode"], found["reason"]) == ("failure", "critical", "boom")


def test_policy_change_does_not_rewrite_planned_runs(
    app: MockApp, client: InProcessClient, clock: Clock, task_id: str
) -> None:
    app.store.run_policy = RunPolicy(mode="deferred", start_after=1, finish_after=5)
    slow = run(client, task_id)
    app.store.run_policy = RunPolicy()
    fast = run(client, task_id)
    assert get_run(client, slow)["status"] == "created"
    assert get_run(client, fast)["status"] == "finished"


def test_runs_finishing_together_land_their_writes_in_the_order_they_were_made(
    app: MockApp, client: InProcessClient, clock: Clock, destination_id: str
) -> None:
    """The clock frozen, twelve deferred pushes of one record finish at one moment: the last made
    wins, and a state image keeps that order."""
    push_source = ok(client.post("/1/sources", json={"type": "push", "name": "p"}))["sourceID"]
    task_id = make_task(client, push_source, destination_id)
    app.store.run_policy = RunPolicy(mode="deferred", finish_after=5)
    for n in range(12):
        body = {"action": "addObject", "records": [{"objectID": "x", "n": n}]}
        ok(client.post(f"/2/tasks/{task_id}/push", json=body))
    account = app.store.account(APP_ID)
    assert list(account.unsettled_runs) == list(account.runs)
    reloaded = image.account_from_json(json.loads(json.dumps(image.account_to_json(account))))
    assert list(reloaded.unsettled_runs) == list(account.runs)
    clock.advance(5)
    assert app.control.index("products", APP_ID) == [{"objectID": "x", "n": 11}]


# ---------------------------------------------------------------------- records from the source


@pytest.mark.parametrize(
    ("count", "batches"), [(0, []), (1, [1]), (1000, [1000]), (1001, [1000, 1]), (2500, [1000, 1000, 500])]
)
def test_run_moves_source_records_into_the_index_with_events_per_thousand(
    client: InProcessClient, account: Account, source_id: str, task_id: str, count: int, batches: list[int]
) -> None:
    records = products(count)
    account.source_records[source_id] = records
    run_id = run(client, task_id)
    index = account.indexes.get("products", {})
    assert len(index) == count
    assert all(index[r["objectID"]] == r for r in records)

    found = events(client, run_id, sort="type", order="asc")
    fetches = [e for e in found if e["type"] == "fetch"]
    record_events = [e for e in found if e["type"] == "record"]
    assert len(fetches) == 1
    assert sorted(e["batchSize"] for e in record_events) == sorted(batches)
    assert len(found) == 1 + len(batches)
    assert get_run(client, run_id)["progress"]["expectedNbOfEvents"] == len(found)
    assert all(e["status"] == "succeeded" and e["runID"] == run_id for e in found)


def test_run_leaves_the_source_records_in_place(
    client: InProcessClient, account: Account, source_id: str, task_id: str
) -> None:
    account.source_records[source_id] = products(2)
    run(client, task_id)
    account.indexes["products"].clear()
    run(client, task_id)
    assert len(account.indexes["products"]) == 2


def test_run_writes_only_into_the_destination_index(
    client: InProcessClient, account: Account, source_id: str
) -> None:
    account.indexes["elsewhere"] = {"x": {"objectID": "x"}}
    task_id = make_task(client, source_id, make_destination(client, "target"))
    account.source_records[source_id] = products(2)
    run(client, task_id)
    assert set(account.indexes["target"]) == {"p0", "p1"}
    assert account.indexes["elsewhere"] == {"x": {"objectID": "x"}}


STALE = {"objectID": "stale", "name": "left over"}
P0_OLD = {"objectID": "p0", "name": "old name", "color": "red"}


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        (
            "replace",
            {"p0": {"objectID": "p0", "name": "product 0"}, "p1": {"objectID": "p1", "name": "product 1"}},
        ),
        (
            "save",
            {
                "stale": STALE,
                "p0": {"objectID": "p0", "name": "product 0"},
                "p1": {"objectID": "p1", "name": "product 1"},
            },
        ),
        (
            "append",
            {
                "stale": STALE,
                "p0": {"objectID": "p0", "name": "product 0"},
                "p1": {"objectID": "p1", "name": "product 1"},
            },
        ),
        (
            "partial",
            {
                "stale": STALE,
                "p0": {"objectID": "p0", "name": "product 0", "color": "red"},
                "p1": {"objectID": "p1", "name": "product 1"},
            },
        ),
        ("partialNoCreate", {"stale": STALE, "p0": {"objectID": "p0", "name": "product 0", "color": "red"}}),
    ],
)
def test_task_action_decides_how_records_land(
    client: InProcessClient,
    account: Account,
    source_id: str,
    destination_id: str,
    action: str,
    expected: dict[str, Any],
) -> None:
    account.indexes["products"] = {"stale": dict(STALE), "p0": dict(P0_OLD)}
    account.source_records[source_id] = products(2)
    run(client, make_task(client, source_id, destination_id, action))
    assert account.indexes["products"] == expected


# -------------------------------------------------------------------------------- listRuns


@pytest.fixture
def three_runs(app: MockApp, client: InProcessClient, source_id: str, destination_id: str) -> dict[str, str]:
    """R1: reindex finished; R2: update finished; R3: update, still created. Plus their tasks A, B."""
    a = make_task(client, source_id, destination_id, "replace")
    b = make_task(client, source_id, destination_id, "save")
    r1 = run(client, a)
    r2 = run(client, b)
    app.store.run_policy = RunPolicy(mode="deferred", start_after=100, finish_after=200)
    r3 = run(client, b)
    app.store.run_policy = RunPolicy()
    return {"A": a, "B": b, "R1": r1, "R2": r2, "R3": r3}


RUN_FILTERS: list[tuple[dict[str, str], set[str]]] = [
    ({}, {"R1", "R2", "R3"}),
    ({"status": "finished"}, {"R1", "R2"}),
    ({"status": "created"}, {"R3"}),
    ({"status": "created,finished"}, {"R1", "R2", "R3"}),
    ({"status": "started"}, set()),
    ({"type": "reindex"}, {"R1"}),
    ({"type": "update"}, {"R2", "R3"}),
    ({"type": "push,discover"}, set()),
    ({"taskID": "{A}"}, {"R1"}),
    ({"taskID": "{B}"}, {"R2", "R3"}),
    ({"taskID": "{B}", "status": "finished"}, {"R2"}),
    ({"taskID": "ghost"}, set()),
]


@pytest.mark.parametrize(("params", "expected"), RUN_FILTERS, ids=[str(p) for p, _ in RUN_FILTERS])
def test_list_runs_filters(
    client: InProcessClient, three_runs: dict[str, str], params: dict[str, str], expected: set[str]
) -> None:
    names = {v: k for k, v in three_runs.items()}
    found = run_ids(client, **{k: v.format(**three_runs) for k, v in params.items()})
    assert {names[r] for r in found} == expected


def test_list_runs_rejects_unknown_status(client: InProcessClient, three_runs: dict[str, str]) -> None:
    assert "status" in refused(client.get("/1/runs", params={"status": "exploded"}))


def test_list_runs_shows_runs_as_get_run_does(client: InProcessClient, three_runs: dict[str, str]) -> None:
    listed = ok(client.get("/1/runs"))["runs"]
    for item in listed:
        assert item == get_run(client, item["runID"])


@pytest.fixture
def timed_runs(app: MockApp, client: InProcessClient, clock: Clock, task_id: str) -> dict[str, str]:
    """R1 created t0, finished t0+5; R2 t0+1; R3 t0+2; R4 created t0+3 and not started; now t0+10."""
    app.store.run_policy = RunPolicy(mode="deferred", start_after=1, finish_after=5)
    r1 = run(client, task_id)
    app.store.run_policy = RunPolicy()
    clock.advance(1)
    r2 = run(client, task_id)
    clock.advance(1)
    r3 = run(client, task_id)
    clock.advance(1)
    app.store.run_policy = RunPolicy(mode="deferred", start_after=100, finish_after=200)
    r4 = run(client, task_id)
    app.store.run_policy = RunPolicy()
    clock.advance(7)
    return {"R1": r1, "R2": r2, "R3": r3, "R4": r4}


RUN_SORT_ASC = {
    "createdAt": ["R1", "R2", "R3", "R4"],
    "updatedAt": ["R2", "R3", "R4", "R1"],  # R1 finished last (t0+5), R4 is still as created (t0+3)
    "status": ["R4", "R1", "R2", "R3"],  # created < finished; ties in creation order
}


@pytest.mark.parametrize("key", list(RUN_SORT_ASC))
def test_list_runs_sorted(client: InProcessClient, timed_runs: dict[str, str], key: str) -> None:
    names = {v: k for k, v in timed_runs.items()}
    ascending = [names[r] for r in run_ids(client, sort=key, order="asc")]
    assert ascending == RUN_SORT_ASC[key]
    descending = [names[r] for r in run_ids(client, sort=key, order="desc")]
    assert sorted(descending) == ["R1", "R2", "R3", "R4"]
    listed = {r["runID"]: r for r in ok(client.get("/1/runs", params={"sort": key, "order": "desc"}))["runs"]}

    def value(name: str) -> str:
        found = listed[timed_runs[name]]
        if key == "updatedAt":
            return str(found.get("finishedAt") or found.get("startedAt") or found["createdAt"])
        return str(found[key])

    values = [value(n) for n in descending]
    assert values == sorted(values, reverse=True)


def test_list_runs_default_order_is_newest_first(client: InProcessClient, timed_runs: dict[str, str]) -> None:
    names = {v: k for k, v in timed_runs.items()}
    assert [names[r] for r in run_ids(client)] == ["R4", "R3", "R2", "R1"]


def test_list_runs_pagination(client: InProcessClient, task_id: str) -> None:
    created = [run(client, task_id) for _ in range(5)]
    seen: list[str] = []
    for page in (1, 2, 3):
        body = ok(client.get("/1/runs", params={"itemsPerPage": 2, "page": page, "order": "asc"}))
        assert body["pagination"] == {"nbPages": 3, "page": page, "nbItems": 5, "itemsPerPage": 2}
        seen += [r["runID"] for r in body["runs"]]
    assert seen == created
    assert ok(client.get("/1/runs", params={"itemsPerPage": 2, "page": 9}))["runs"] == []


def test_list_runs_default_window_is_the_last_seven_days(
    client: InProcessClient, clock: Clock, task_id: str
) -> None:
    run_id = run(client, task_id)
    body = ok(client.get("/1/runs"))
    assert body["window"] == {"startDate": at(days=-7), "endDate": at()}
    assert [r["runID"] for r in body["runs"]] == [run_id]

    clock.advance(6 * 86400)
    assert run_ids(client) == [run_id]

    clock.advance(2 * 86400)  # 8 days later: out of the default window
    body = ok(client.get("/1/runs"))
    assert body["runs"] == []
    assert body["pagination"]["nbItems"] == 0
    assert body["window"] == {"startDate": at(days=1), "endDate": at(days=8)}
    assert run_ids(client, startDate=at(days=-1)) == [run_id]
    ok(client.get(f"/1/runs/{run_id}"))  # still there, only outside the window


def test_list_runs_explicit_window(client: InProcessClient, clock: Clock, task_id: str) -> None:
    early = run(client, task_id)
    clock.advance(3600)
    late = run(client, task_id)
    clock.advance(3600)

    body = ok(client.get("/1/runs", params={"startDate": at(-60), "endDate": at(60)}))
    assert [r["runID"] for r in body["runs"]] == [early]
    assert body["window"] == {"startDate": at(-60), "endDate": at(60)}

    assert run_ids(client, startDate=at(1800)) == [late]
    assert run_ids(client, endDate=at(1800)) == [early]
    assert run_ids(client, startDate=at(-60), endDate=at(3660), order="asc") == [early, late]
    assert run_ids(client, startDate=at(days=-30), endDate=at(days=-20)) == []


def test_list_runs_window_accepts_offsets_and_reports_utc(client: InProcessClient, task_id: str) -> None:
    run_id = run(client, task_id)
    body = ok(
        client.get(
            "/1/runs", params={"startDate": "2026-01-01T13:00:00+02:00", "endDate": "2026-01-01T12:30:00Z"}
        )
    )
    assert body["window"] == {"startDate": "2026-01-01T11:00:00Z", "endDate": "2026-01-01T12:30:00Z"}
    assert [r["runID"] for r in body["runs"]] == [run_id]


@pytest.mark.parametrize("name", ["startDate", "endDate"])
@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", "12:00"])
def test_list_runs_bad_date_is_400(client: InProcessClient, clock: Clock, name: str, value: str) -> None:
    assert f"query.{name}" in refused(client.get("/1/runs", params={name: value}))


def test_list_runs_start_after_end_is_400(client: InProcessClient, clock: Clock) -> None:
    message = refused(client.get("/1/runs", params={"startDate": at(60), "endDate": at()}), 400)
    assert "startDate" in message


# ------------------------------------------------------------------------------ getRun & 404s


def test_unknown_run_is_404_everywhere(client: InProcessClient, task_id: str) -> None:
    run_id = run(client, task_id)
    event_id = events(client, run_id)[0]["eventID"]
    assert "ghost" in refused(client.get("/1/runs/ghost"), 404)
    assert "ghost" in refused(client.get("/1/runs/ghost/events"), 404)
    refused(client.get(f"/1/runs/ghost/events/{event_id}"), 404)


def test_unknown_event_is_404(client: InProcessClient, task_id: str) -> None:
    run_id = run(client, task_id)
    assert "ghost" in refused(client.get(f"/1/runs/{run_id}/events/ghost"), 404)


def test_event_of_another_run_is_404(client: InProcessClient, task_id: str) -> None:
    first = run(client, task_id)
    second = run(client, task_id)
    foreign = events(client, first)[0]["eventID"]
    refused(client.get(f"/1/runs/{second}/events/{foreign}"), 404)
    assert ok(client.get(f"/1/runs/{first}/events/{foreign}"))["eventID"] == foreign


def test_runs_belong_to_their_application(app: MockApp, client: InProcessClient, task_id: str) -> None:
    run_id = run(client, task_id)
    other = {"x-algolia-application-id": "OTHERAPP", "x-algolia-api-key": "k"}
    refused(client.get(f"/1/runs/{run_id}", headers=other), 404)
    assert ok(client.get("/1/runs", headers=other))["runs"] == []


# ------------------------------------------------------------------------------ listEvents


@pytest.fixture
def busy_run(client: InProcessClient, account: Account, source_id: str, task_id: str) -> str:
    """A finished run with one fetch and three record events (2,500 records)."""
    account.source_records[source_id] = products(2500)
    return run(client, task_id)


def test_get_event_matches_the_listing(client: InProcessClient, busy_run: str) -> None:
    listed = events(client, busy_run)
    assert len(listed) == 4
    for event in listed:
        assert ok(client.get(f"/1/runs/{busy_run}/events/{event['eventID']}")) == event
        assert event["publishedAt"] == at()


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({}, 4),
        ({"type": "fetch"}, 1),
        ({"type": "record"}, 3),
        ({"type": "fetch,record"}, 4),
        ({"type": "log,transform"}, 0),
        ({"status": "succeeded"}, 4),
        ({"status": "failed,critical"}, 0),
        ({"status": "succeeded", "type": "fetch"}, 1),
    ],
)
def test_list_events_filters(
    client: InProcessClient, busy_run: str, params: dict[str, str], count: int
) -> None:
    found = events(client, busy_run, **params)
    assert len(found) == count
    for key, wanted in params.items():
        assert all(e[key] in wanted.split(",") for e in found)


def test_list_events_rejects_unknown_type(client: InProcessClient, busy_run: str) -> None:
    assert "type" in refused(client.get(f"/1/runs/{busy_run}/events", params={"type": "explosion"}))


def test_list_events_sorted_by_type(client: InProcessClient, busy_run: str) -> None:
    ascending = [e["type"] for e in events(client, busy_run, sort="type", order="asc")]
    assert ascending == ["fetch", "record", "record", "record"]
    descending = [e["type"] for e in events(client, busy_run, sort="type", order="desc")]
    assert descending == ["record", "record", "record", "fetch"]


@pytest.mark.parametrize("key", ["status", "publishedAt"])
def test_list_events_other_sort_keys(client: InProcessClient, busy_run: str, key: str) -> None:
    for order in ("asc", "desc"):
        found = events(client, busy_run, sort=key, order=order)
        assert len(found) == 4
        values = [e[key] for e in found]
        assert values == sorted(values, reverse=order == "desc")


def test_list_events_pagination(client: InProcessClient, busy_run: str) -> None:
    seen: list[str] = []
    for page in (1, 2):
        body = ok(client.get(f"/1/runs/{busy_run}/events", params={"itemsPerPage": 3, "page": page}))
        assert body["pagination"] == {"nbPages": 2, "page": page, "nbItems": 4, "itemsPerPage": 3}
        seen += [e["eventID"] for e in body["events"]]
    assert sorted(seen) == sorted(e["eventID"] for e in events(client, busy_run))


def test_list_events_default_window_is_the_last_three_hours(
    client: InProcessClient, clock: Clock, busy_run: str
) -> None:
    body = ok(client.get(f"/1/runs/{busy_run}/events"))
    assert body["window"] == {"startDate": at(hours=-3), "endDate": at()}
    assert len(body["events"]) == 4

    clock.advance(2 * 3600)
    assert len(events(client, busy_run)) == 4

    clock.advance(2 * 3600)  # 4 h after: outside the default window
    body = ok(client.get(f"/1/runs/{busy_run}/events"))
    assert body["events"] == []
    assert body["window"] == {"startDate": at(hours=1), "endDate": at(hours=4)}
    assert len(events(client, busy_run, startDate=at(-60))) == 4
    assert events(client, busy_run, startDate=at(60)) == []
    assert events(client, busy_run, startDate=at(-3600), endDate=at(-60)) == []


@pytest.mark.parametrize("name", ["startDate", "endDate"])
def test_list_events_bad_date_is_400(client: InProcessClient, busy_run: str, name: str) -> None:
    assert f"query.{name}" in refused(client.get(f"/1/runs/{busy_run}/events", params={name: "soon"}))
