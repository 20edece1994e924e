"""State is kept per ``x-algolia-application-id``; ``/__mock__/reset`` resets one application or all."""

from __future__ import annotations

import httpx

from tests.helpers import ok_2xx as ok

from .conftest import Served

APP_A = "APPLICATION_A"
APP_B = "APPLICATION_B"


def build(client: httpx.Client, label: str) -> dict[str, str]:
    """A push pipeline: source, destination, task, a run, and records pushed into an index."""
    source = ok(client.post("/1/sources", json={"type": "push", "name": f"{label} feed"}))["sourceID"]
    destination = ok(
        client.post(
            "/1/destinations",
            json={"type": "search", "name": f"{label} dest", "input": {"indexName": f"{label}-products"}},
        )
    )["destinationID"]
    task = ok(
        client.post("/2/tasks", json={"sourceID": source, "destinationID": destination, "action": "replace"})
    )["taskID"]
    run = ok(client.post(f"/2/tasks/{task}/run"))["runID"]
    pushed = ok(
        client.post(
            f"/2/tasks/{task}/push",
            json={"action": "addObject", "records": [{"objectID": f"{label}-1", "name": label}]},
        )
    )
    return {"source": source, "destination": destination, "task": task, "run": run, "push": pushed["runID"]}


def visible(client: httpx.Client) -> dict[str, list[str]]:
    return {
        "sources": [s["sourceID"] for s in ok(client.get("/1/sources"))["sources"]],
        "destinations": [d["destinationID"] for d in ok(client.get("/1/destinations"))["destinations"]],
        "tasks": [t["taskID"] for t in ok(client.get("/2/tasks"))["tasks"]],
        "runs": sorted(r["runID"] for r in ok(client.get("/1/runs"))["runs"]),
    }


def index_status(server: Served, name: str, app_id: str) -> int:
    with server.control() as control:
        return control.get(f"/__mock__/indexes/{name}", params={"appID": app_id}).status_code


def test_two_applications_do_not_see_each_other(server: Served) -> None:
    with server.client(app_id=APP_A) as a, server.client(app_id=APP_B) as b:
        built_a = build(a, "a")
        built_b = build(b, "b")
        seen_a, seen_b = visible(a), visible(b)
        assert seen_a["sources"] == [built_a["source"]]
        assert seen_b["sources"] == [built_b["source"]]
        assert seen_a["destinations"] == [built_a["destination"]]
        assert seen_b["destinations"] == [built_b["destination"]]
        assert seen_a["tasks"] == [built_a["task"]]
        assert seen_b["tasks"] == [built_b["task"]]
        assert built_a["run"] in seen_a["runs"]
        assert not set(seen_a["runs"]) & set(seen_b["runs"])
        # Reads, updates and deletes by ID cannot cross applications either.
        assert b.get(f"/1/sources/{built_a['source']}").status_code == 404
        assert b.get(f"/1/destinations/{built_a['destination']}").status_code == 404
        assert b.get(f"/2/tasks/{built_a['task']}").status_code == 404
        assert b.get(f"/1/runs/{built_a['run']}").status_code == 404
        assert b.patch(f"/1/sources/{built_a['source']}", json={"name": "hijacked"}).status_code == 404
        assert b.delete(f"/1/destinations/{built_a['destination']}").status_code == 404
        assert b.post(f"/2/tasks/{built_a['task']}/run").status_code == 404
        assert ok(a.get(f"/1/sources/{built_a['source']}"))["name"] == "a feed"
    # Fake indexes too.
    assert index_status(server, "a-products", APP_A) == 200
    assert index_status(server, "a-products", APP_B) == 404
    assert index_status(server, "b-products", APP_B) == 200
    assert index_status(server, "b-products", APP_A) == 404


def test_same_names_in_two_applications_are_independent(server: Served) -> None:
    with server.client(app_id=APP_A) as a, server.client(app_id=APP_B) as b:
        first = ok(a.post("/1/sources", json={"type": "push", "name": "shared name"}))["sourceID"]
        second = ok(b.post("/1/sources", json={"type": "push", "name": "shared name"}))["sourceID"]
        assert first != second
        ok(a.delete(f"/1/sources/{first}"))
        assert ok(b.get(f"/1/sources/{second}"))["name"] == "shared name"


def test_state_endpoint_is_per_application(server: Served) -> None:
    with server.client(app_id=APP_A) as a, server.client(app_id=APP_B) as b:
        ok(a.post("/1/sources", json={"type": "push", "name": "a feed"}))
        ok(b.post("/1/sources", json={"type": "push", "name": "b feed"}))
    with server.control() as control:
        state_a = ok(control.get("/__mock__/state", params={"appID": APP_A}))["applications"]
        everything = ok(control.get("/__mock__/state"))["applications"]
    assert list(state_a) == [APP_A]
    assert [s["name"] for s in state_a[APP_A]["sources"]] == ["a feed"]
    assert {APP_A, APP_B} <= set(everything)


def test_reset_of_one_application_keeps_the_others(server: Served) -> None:
    with server.client(app_id=APP_A) as a, server.client(app_id=APP_B) as b:
        build(a, "a")
        built_b = build(b, "b")
        with server.control() as control:
            answer = control.post("/__mock__/reset", json={"appID": APP_A})
            assert answer.status_code == 200, answer.text
            assert answer.json()["reset"] == APP_A
        assert visible(a) == {"sources": [], "destinations": [], "tasks": [], "runs": []}
        seen_b = visible(b)
        assert seen_b["sources"] == [built_b["source"]]
        assert seen_b["tasks"] == [built_b["task"]]
        assert built_b["run"] in seen_b["runs"]
    assert index_status(server, "a-products", APP_A) == 404
    assert index_status(server, "b-products", APP_B) == 200


def test_reset_without_a_body_resets_every_application(server: Served) -> None:
    with server.client(app_id=APP_A) as a, server.client(app_id=APP_B) as b:
        build(a, "a")
        build(b, "b")
        with server.control() as control:
            answer = control.post("/__mock__/reset")
            assert answer.status_code == 200, answer.text
            assert answer.json()["reset"] == "all"
            assert control.get("/__mock__/journal").json()["calls"] == []
        empty: dict[str, list[str]] = {"sources": [], "destinations": [], "tasks": [], "runs": []}
        assert visible(a) == empty
        assert visible(b) == empty
    assert index_status(server, "a-products", APP_A) == 404
    assert index_status(server, "b-products", APP_B) == 404


def test_journal_can_be_filtered_by_application(server: Served) -> None:
    with server.client(app_id=APP_A) as a, server.client(app_id=APP_B) as b:
        a.get("/1/sources")
        b.get("/1/sources")
        b.get("/1/destinations")
    with server.control() as control:
        calls_b = control.get("/__mock__/journal", params={"appID": APP_B}).json()["calls"]
    assert [c["operation_id"] for c in calls_b] == ["listSources", "listDestinations"]
    assert {c["app_id"] for c in calls_b} == {APP_B}
