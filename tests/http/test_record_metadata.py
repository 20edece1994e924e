"""Records hold API fields only; what the engine keeps about them (``Account.meta``) is apart, never
shown, and goes wherever the records go: snapshots, a failed durable write's undo, resets, seeding."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

import mockserver.strategies as ms
from mockserver import Clock, MockApp, create_app
from mockserver.durability.log import StateFileError
from mockserver.engine.store import Account, RunPolicy
from mockserver.http.inprocess import InProcessClient
from tests.conftest import APP_ID, CREDENTIALS
from tests.helpers import make_destination, make_task, ok

URL = "https://example.com/feed.json"


def internal_keys(value: Any, where: str = "") -> list[str]:
    """Where ``value`` (JSON) holds a key starting with ``_``, at any depth."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).startswith("_"):
                found.append(f"{where}.{key}")
            found += internal_keys(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found += internal_keys(item, f"{where}[{i}]")
    return found


def stored_records(account: Account) -> list[dict[str, Any]]:
    records = [r for name in ("authentications", "sources", "destinations", "tasks", "transformations")
               for r in account.family(name).values()]  # fmt: skip
    records += account.runs.values()
    return records + [e for events in account.events.values() for e in events.values()]


def make_source(client: InProcessClient, type_: str = "json", url: str = URL) -> str:
    body: dict[str, Any] = {"type": type_, "name": type_}
    if type_ == "json":
        body["input"] = {"url": url}
    source_id: str = ok(client.post("/1/sources", json=body))["sourceID"]
    return source_id


def drive_the_pipeline(app: MockApp, client: InProcessClient, account: Account) -> dict[str, str]:
    """Every kind of record and every piece of metadata the engine keeps, made through the API."""
    code = "async function transform(record) { return {...record, seen: true}; }"
    made = ok(client.post("/1/transformations", json={"name": "t", "code": code}))
    search = {"type": "search", "name": "products", "input": {"indexName": "products"}}
    search["transformationIDs"] = [made["transformationID"]]
    destination: str = ok(client.post("/1/destinations", json=search))["destinationID"]
    push_source = make_source(client, "push")
    feed = make_source(client)
    broken = make_source(client, url=URL + "?x")
    account.url_contents[URL] = '[{"objectID": "f1", "name": "feed"}, {"objectID": "f2"}]'
    docker = {"type": "docker", "name": "d", "input": {"image": "airbyte/source-x", "configuration": {}}}
    ok(client.post(f"/1/sources/{ok(client.post('/1/sources', json=docker))['sourceID']}/discover"))
    ok(client.post("/1/sources/validate", json={"type": "json", "name": "v", "input": {"url": URL}}))

    def v1_task(source_id: str, action: str, trigger: dict[str, str], index: str = "products") -> str:
        destination_id = make_destination(client, index)
        body = {"sourceID": source_id, "destinationID": destination_id, "action": action, "trigger": trigger}
        task_id: str = ok(client.post("/1/tasks", json=body))["taskID"]
        return task_id

    tasks = {
        "push": make_task(client, push_source, destination, failureThreshold=50),
        "fragile": make_task(client, broken, destination, policies={"criticalThreshold": 2}),
        "schedule": v1_task(feed, "replace", {"type": "schedule", "cron": "0 * * * *"}),
        "streaming": v1_task(push_source, "partial", {"type": "streaming"}, "streamed"),
    }
    # Immediate runs: a push, a fetch, critical failures until the task is blocked, a skipped run.
    records = {"action": "addObject", "records": [{"objectID": "p1"}, {"objectID": "p2"}]}
    ok(client.post(f"/2/tasks/{tasks['push']}/push", params={"watch": "true"}, json=records))
    ok(
        client.post(
            "/1/push/products", params={"watch": "true", "referenceIndexName": "products"}, json=records
        )
    )
    ok(client.post(f"/1/tasks/{tasks['schedule']}/run"))
    for _ in range(3):
        ok(client.post(f"/2/tasks/{tasks['fragile']}/run"))
    # Deferred runs, polled while they have not finished (the one replacing the index finishes first).
    app.store.run_policy = RunPolicy(mode="deferred", start_after=5, finish_after=20)
    ok(client.post(f"/2/tasks/{tasks['schedule']}/run"))
    app.store.clock.advance(1)
    pushed = ok(client.post(f"/2/tasks/{tasks['push']}/push", json=records))
    assert client.get(f"/1/runs/{pushed['runID']}/events/{pushed['eventID']}").status_code == 404
    ok(client.post(f"/2/tasks/{tasks['push']}/push", params={"watch": "true"}, json=records))
    tasks["deferred run"] = pushed["runID"]
    return tasks


def read_everything(client: InProcessClient, tasks: dict[str, str]) -> None:
    """Every listing, search and read of tasks, runs and events, in their several shapes."""
    for version in (1, 2):
        ok(client.get(f"/{version}/tasks", params={"itemsPerPage": 100}))
        ok(client.get(f"/{version}/tasks", params={"triggerType": "schedule,streaming,onDemand"}))
        ok(client.get(f"/{version}/tasks", params={"sort": "triggerType", "order": "asc"}))
        ok(client.post(f"/{version}/tasks/search", json={"taskIDs": list(tasks.values())}))
        for task_id in list(tasks.values())[:4]:
            ok(client.get(f"/{version}/tasks/{task_id}"))
    runs = ok(client.get("/1/runs", params={"itemsPerPage": 100}))["runs"]
    ok(client.get("/1/runs", params={"sort": "updatedAt", "status": "skipped,finished,started,created"}))
    for run in runs:
        ok(client.get(f"/1/runs/{run['runID']}"))
        events = ok(client.get(f"/1/runs/{run['runID']}/events", params={"sort": "publishedAt"}))["events"]
        for event in events:
            ok(client.get(f"/1/runs/{run['runID']}/events/{event['eventID']}"))


def test_no_answer_dump_or_state_ever_holds_an_internal_key(
    app: MockApp, client: InProcessClient, account: Account, clock: Clock
) -> None:
    tasks = drive_the_pipeline(app, client, account)
    read_everything(client, tasks)
    clock.advance(10)  # the deferred runs have started
    read_everything(client, tasks)
    assert ok(client.get(f"/1/runs/{tasks['deferred run']}"))["status"] == "started"
    clock.advance(30)  # and finished
    read_everything(client, tasks)
    assert ok(client.get(f"/1/runs/{tasks['deferred run']}"))["status"] == "finished"
    written = app.control.index("products", APP_ID) or []
    assert [r["objectID"] for r in written if r.get("seen")] == ["p1", "p2"]  # pushed, transformed
    assert {r["objectID"] for r in written} == {"f1", "f2", "p1", "p2"}  # and fetched
    # Enabling the blocked task again, changing the others, deleting one.
    ok(client.put(f"/2/tasks/{tasks['fragile']}/enable"))
    ok(client.patch(f"/1/tasks/{tasks['schedule']}", json={"trigger": {"cron": "30 * * * *"}}))
    ok(client.patch(f"/2/tasks/{tasks['streaming']}", json={"cron": "15 * * * *"}))
    put = {"destinationID": ok(client.get(f"/2/tasks/{tasks['push']}"))["destinationID"], "action": "save"}
    ok(client.put(f"/2/tasks/{tasks['push']}", json=put))
    ok(client.delete(f"/2/tasks/{tasks['streaming']}"))
    read_everything(client, tasks | {"streaming": tasks["push"]})
    app.control.seed("run_history", APP_ID)

    calls = list(app.journal)
    assert len(calls) > 150 and all(c.status == 200 or c.operation_id == "getEvent" for c in calls)
    for call in calls:
        assert internal_keys(call.response) == [], call.operation_id
    dumped = app.control.dump()
    assert dumped["applications"][APP_ID]["runs"] and dumped["applications"][APP_ID]["events"]
    assert internal_keys(dumped) == []
    assert internal_keys(ok(client.get("/__mock__/state"))) == []  # what the inspector shows
    state = ms.State.from_app(app, APP_ID)
    assert state.tasks and state.runs
    assert internal_keys([*state.tasks, *state.runs, *state.sources]) == []
    assert internal_keys(stored_records(account)) == []  # the records themselves hold API fields only
    assert len(account.meta.runs) == len(account.runs)
    assert set(account.meta.tasks) == set(account.tasks)  # the deleted task's metadata went with it


# --- the metadata goes where the records go --------------------------------------------------


@pytest.fixture
def fragile(client: InProcessClient, clock: Clock) -> str:
    """A task on a URL nothing is registered for: each run fails critically; blocked after 2."""
    return make_task(client, make_source(client, url=URL + "?x"), make_destination(client),
                     policies={"criticalThreshold": 2})  # fmt: skip


def run_status(client: InProcessClient, task_id: str) -> str:
    run_id = ok(client.post(f"/2/tasks/{task_id}/run"))["runID"]
    status: str = ok(client.get(f"/1/runs/{run_id}"))["status"]
    return status


def test_a_snapshot_keeps_the_metadata_and_restoring_it_brings_it_back(
    app: MockApp, client: InProcessClient, account: Account, fragile: str
) -> None:
    assert run_status(client, fragile) == "finished"
    snapshot = app.control.snapshot()
    assert run_status(client, fragile) == "finished"  # the second critical failure: blocked
    assert run_status(client, fragile) == "skipped"
    app.control.restore(snapshot)
    account = app.store.account(APP_ID)
    assert (account.meta.tasks[fragile].critical_streak, account.meta.tasks[fragile].blocked) == (1, False)
    assert run_status(client, fragile) == "finished"  # its streak came back too: 2 now, blocked
    assert run_status(client, fragile) == "skipped"


def test_a_write_the_state_file_cannot_take_leaves_the_metadata_as_it_was(tmp_path: Path) -> None:
    app = create_app(state_file=str(tmp_path / "state.db"), check_responses=True)
    with InProcessClient(app, base_url="http://mock", headers=CREDENTIALS) as client:
        app.store.clock.freeze()
        task_id = make_task(client, make_source(client, url=URL + "?x"), make_destination(client),
                            policies={"criticalThreshold": 2})  # fmt: skip
        for _ in range(2):
            run_status(client, task_id)
        account = app.store.account(APP_ID)
        before = copy.deepcopy(account.meta)
        assert before.tasks[task_id].blocked
        log = app.engine.state_log
        assert log is not None

        def fail(entry: dict[str, Any]) -> None:
            raise StateFileError(f"{log.path}: the disk is full")

        log.append = fail  # type: ignore[method-assign]
        assert client.put(f"/2/tasks/{task_id}/enable").status_code == 503  # it would have unblocked it
        assert client.post(f"/2/tasks/{task_id}/run").status_code == 503
        assert app.store.account(APP_ID).meta == before
    app.engine.close()


def test_a_reset_forgets_the_metadata(app: MockApp, client: InProcessClient, fragile: str) -> None:
    run_status(client, fragile)
    app.control.reset(APP_ID)
    assert app.store.account(APP_ID).meta.tasks == {}
    assert app.store.account(APP_ID).meta.runs == {}


def test_seeded_tasks_and_runs_have_their_metadata(app: MockApp, client: InProcessClient) -> None:
    data = {
        "sources": [{"sourceID": "s1", "type": "push", "name": "s"}],
        "destinations": [{"destinationID": "d1", "type": "search", "name": "d", "input": {"indexName": "i"}}],
        "tasks": [
            {"taskID": "t1", "sourceID": "s1", "destinationID": "d1", "action": "save",
             "trigger": {"type": "streaming"}},
            {"taskID": "t2", "sourceID": "s1", "destinationID": "d1", "action": "save",
             "policies": {"criticalThreshold": 1}},
        ],
        "runs": [{"taskID": "t1", "records": 3}, {"taskID": "t2", "outcome": "failure", "reason": "503"}],
    }  # fmt: skip
    app.control.seed(data, APP_ID)
    account = app.store.account(APP_ID)
    assert account.meta.trigger_type("t1") == "streaming"
    assert ok(client.get("/1/tasks/t1"))["trigger"] == {"type": "streaming"}
    outcomes = sorted((m.outcome, m.reason_code, m.reason) for m in account.meta.runs.values())
    assert outcomes == [("failure", "critical", "503"), ("success", "ok", "")]
    assert account.meta.tasks["t2"].blocked  # its seeded critical failure reached its threshold
    assert ok(client.get("/2/tasks/t2"))["enabled"] is False
    # A seed refused half way leaves no metadata behind.
    bad = {"runs": [{"taskID": "t1"}, {"taskID": "t1", "reasonCode": "not-a-code", "outcome": "failure"}]}
    before = copy.deepcopy(account.meta)
    with pytest.raises(ValueError, match="reasonCode"):
        app.control.seed(bad, APP_ID)
    assert app.store.account(APP_ID).meta == before
