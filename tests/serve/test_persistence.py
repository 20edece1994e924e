"""``--state-file``: what a client was told survives a restart, and a ``kill -9`` in the middle of writes."""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest

from tests.helpers import ok_2xx as ok

from .conftest import Served, ServeFactory

SECRET = "persisted-secret-never-served"


def list_all(client: httpx.Client, path: str, key: str) -> list[dict[str, Any]]:
    """Every item of a paginated listing (100 per page)."""
    items: list[dict[str, Any]] = []
    page = 1
    while True:
        response = client.get(path, params={"itemsPerPage": 100, "page": page})
        assert response.status_code == 200, response.text
        body = response.json()
        items.extend(body[key])
        if page >= body["pagination"]["nbPages"]:
            return items
        page += 1


def build_pipeline(client: httpx.Client) -> dict[str, str]:
    auth = ok(
        client.post(
            "/1/authentications",
            json={"type": "basic", "name": "feed login", "input": {"username": "feeds", "password": SECRET}},
        )
    )["authenticationID"]
    source = ok(
        client.post(
            "/1/sources",
            json={
                "type": "json",
                "name": "products feed",
                "input": {"url": "https://example.com/feed.json"},
                "authenticationID": auth,
            },
        )
    )["sourceID"]
    push_source = ok(client.post("/1/sources", json={"type": "push", "name": "push feed"}))["sourceID"]
    destination = ok(
        client.post(
            "/1/destinations", json={"type": "search", "name": "products", "input": {"indexName": "products"}}
        )
    )["destinationID"]
    task = ok(
        client.post("/2/tasks", json={"sourceID": source, "destinationID": destination, "action": "replace"})
    )["taskID"]
    run = ok(client.post(f"/2/tasks/{task}/run"))["runID"]
    ok(client.patch(f"/1/sources/{push_source}", json={"name": "push feed, renamed"}))
    return {
        "authentication": auth,
        "source": source,
        "push_source": push_source,
        "destination": destination,
        "task": task,
        "run": run,
    }


def observe(client: httpx.Client, ids: dict[str, str]) -> dict[str, Any]:
    """What a client sees: the listings and each resource read by ID."""
    return {
        "authentications": list_all(client, "/1/authentications", "authentications"),
        "sources": list_all(client, "/1/sources", "sources"),
        "destinations": list_all(client, "/1/destinations", "destinations"),
        "tasks": list_all(client, "/2/tasks", "tasks"),
        "runs": list_all(client, "/1/runs", "runs"),
        "get_authentication": ok(client.get(f"/1/authentications/{ids['authentication']}")),
        "get_source": ok(client.get(f"/1/sources/{ids['source']}")),
        "get_push_source": ok(client.get(f"/1/sources/{ids['push_source']}")),
        "get_destination": ok(client.get(f"/1/destinations/{ids['destination']}")),
        "get_task": ok(client.get(f"/2/tasks/{ids['task']}")),
        "get_run": ok(client.get(f"/1/runs/{ids['run']}")),
    }


def test_state_survives_a_restart(serve: ServeFactory, tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    first = serve("--state-file", str(state))
    with first.client() as client:
        ids = build_pipeline(client)
        before = observe(client, ids)
    assert SECRET not in str(before)
    assert before["get_push_source"]["name"] == "push feed, renamed"
    assert len(before["sources"]) == 2
    assert first.stop() is not None

    second = serve("--state-file", str(state))
    with second.client() as client:
        after = observe(client, ids)
        assert after == before
        assert SECRET not in client.get(f"/1/authentications/{ids['authentication']}").text
    # A secret that was given is still known to the mock (it is only ever shown as null).
    assert after["get_authentication"]["input"]["password"] is None


def test_every_application_is_restored(serve: ServeFactory, tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    first = serve("--state-file", str(state))
    names = {"APP_ONE": "one's feed", "APP_TWO": "two's feed"}
    for app_id, name in names.items():
        with first.client(app_id=app_id) as client:
            ok(client.post("/1/sources", json={"type": "push", "name": name}))
    first.stop()
    second = serve("--state-file", str(state))
    for app_id, name in names.items():
        with second.client(app_id=app_id) as client:
            assert [s["name"] for s in list_all(client, "/1/sources", "sources")] == [name]


def test_deletions_and_resets_survive_a_restart(serve: ServeFactory, tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    first = serve("--state-file", str(state))
    with first.client(app_id="KEEP") as keep, first.client(app_id="WIPE") as wipe:
        kept = ok(keep.post("/1/sources", json={"type": "push", "name": "kept"}))["sourceID"]
        gone = ok(keep.post("/1/sources", json={"type": "push", "name": "deleted"}))["sourceID"]
        ok(keep.delete(f"/1/sources/{gone}"))
        ok(wipe.post("/1/sources", json={"type": "push", "name": "wiped"}))
    with first.control() as control:
        ok(control.post("/__mock__/reset", json={"appID": "WIPE"}))
    first.stop()
    second = serve("--state-file", str(state))
    with second.client(app_id="KEEP") as keep, second.client(app_id="WIPE") as wipe:
        assert [s["sourceID"] for s in list_all(keep, "/1/sources", "sources")] == [kept]
        assert keep.get(f"/1/sources/{gone}").status_code == 404
        assert list_all(wipe, "/1/sources", "sources") == []


def test_control_plane_changes_survive_a_restart(serve: ServeFactory, tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    first = serve("--state-file", str(state))
    with first.control() as control:
        clock = ok(control.post("/__mock__/clock", json={"now": "2030-05-06T07:08:09Z", "freeze": True}))
        assert clock == {"now": "2030-05-06T07:08:09Z", "frozen": True}
        policy = ok(control.post("/__mock__/runs", json={"mode": "deferred", "finish_after": 30}))
        assert policy["mode"] == "deferred"
    with first.client() as client:
        created = ok(client.post("/1/sources", json={"type": "push", "name": "frozen in time"}))
        assert created["createdAt"] == "2030-05-06T07:08:09Z"
    first.stop()

    second = serve("--state-file", str(state))
    with second.control() as control:
        assert ok(control.get("/__mock__/clock")) == {"now": "2030-05-06T07:08:09Z", "frozen": True}
        runs = ok(control.get("/__mock__/runs"))
        assert runs["mode"] == "deferred"
        assert runs["finish_after"] == 30
    with second.client() as client:
        (source,) = list_all(client, "/1/sources", "sources")
        assert source["createdAt"] == "2030-05-06T07:08:09Z"
        again = ok(client.post("/1/sources", json={"type": "push", "name": "still frozen"}))
        assert again["createdAt"] == "2030-05-06T07:08:09Z"


def test_restart_without_a_state_file_starts_empty(serve: ServeFactory) -> None:
    first = serve()
    with first.client() as client:
        ok(client.post("/1/sources", json={"type": "push", "name": "ephemeral"}))
    first.stop()
    second = serve()
    with second.client() as client:
        assert list_all(client, "/1/sources", "sources") == []


@dataclass
class Burst:
    """A client creating sources as fast as it can, remembering what the server acknowledged."""

    url: str
    total: int
    acknowledged: dict[str, str] = field(default_factory=dict)  # name -> sourceID, answered 2xx
    unanswered: list[str] = field(default_factory=list)  # names sent without a complete answer
    rejected: list[tuple[str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self) -> None:
        headers = {"x-algolia-application-id": "BURSTAPP", "x-algolia-api-key": "burst-key"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=30.0) as client:
            for i in range(self.total):
                name = f"burst-{i:04d}"
                try:
                    response = client.post("/1/sources", json={"type": "push", "name": name})
                except (httpx.HTTPError, httpcore.NetworkError):  # a kill mid-read may surface unmapped
                    with self.lock:
                        self.unanswered.append(name)
                    return  # the server is gone
                with self.lock:
                    if 200 <= response.status_code < 300:
                        self.acknowledged[name] = response.json()["sourceID"]
                    else:
                        self.rejected.append((name, response.status_code))

    def count(self) -> int:
        with self.lock:
            return len(self.acknowledged)


def kill_mid_burst(server: Served, total: int, kill_after: int) -> Burst:
    burst = Burst(server.url, total)
    thread = threading.Thread(target=burst.run, name="burst", daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while burst.count() < kill_after and thread.is_alive():
        if time.monotonic() > deadline:
            pytest.fail(f"only {burst.count()} creates acknowledged in 120 s: {server.describe()}")
        time.sleep(0.001)
    server.kill()
    thread.join(60)
    assert not thread.is_alive(), "the client thread is stuck after the server was killed"
    return burst


def test_kill_9_mid_burst_loses_no_acknowledged_write(serve: ServeFactory, tmp_path: Path) -> None:
    state = tmp_path / "state.sqlite"
    total = 300
    first = serve("--state-file", str(state), "--access-log", "off")
    burst = kill_mid_burst(first, total, kill_after=total // 3)
    assert first.process.returncode == -signal.SIGKILL
    assert burst.rejected == []
    assert burst.acknowledged, "no create was acknowledged before the kill"
    if len(burst.acknowledged) == total:
        pytest.fail("the burst finished before the kill; the test did not exercise a crash")

    second = serve("--state-file", str(state), "--access-log", "off")
    headers = {"x-algolia-application-id": "BURSTAPP", "x-algolia-api-key": "burst-key"}
    with httpx.Client(base_url=second.url, headers=headers, timeout=30.0) as client:
        stored = list_all(client, "/1/sources", "sources")
        stored_ids = [s["sourceID"] for s in stored]
        stored_names = [s["name"] for s in stored]
        # Every acknowledged create is there, with the ID the client was given.
        missing = {n: i for n, i in burst.acknowledged.items() if i not in stored_ids}
        assert missing == {}, f"{len(missing)} acknowledged creates were lost"
        for name, source_id in burst.acknowledged.items():
            assert ok(client.get(f"/1/sources/{source_id}"))["name"] == name
        # Nothing appears twice; only what the client sent (at most the one in flight) may be extra.
        assert len(stored_ids) == len(set(stored_ids))
        assert len(stored_names) == len(set(stored_names))
        extra = set(stored_names) - set(burst.acknowledged)
        assert extra <= set(burst.unanswered), extra
        # The restarted server keeps working, and keeps persisting.
        created = ok(client.post("/1/sources", json={"type": "push", "name": "after the crash"}))
        assert ok(client.get(f"/1/sources/{created['sourceID']}"))["name"] == "after the crash"
    second.stop()

    third = serve("--state-file", str(state), "--access-log", "off")
    with httpx.Client(base_url=third.url, headers=headers, timeout=30.0) as client:
        names = {s["name"] for s in list_all(client, "/1/sources", "sources")}
        assert "after the crash" in names
        assert set(burst.acknowledged) <= names


def test_a_restart_with_fixtures_restores_what_was_created_with_the_same_ids(
    serve: ServeFactory, tmp_path: Path
) -> None:
    """A state file written with --fixtures replays: references between created resources hold."""
    state = str(tmp_path / "state.sqlite")
    args = ("--fixtures", "catalog", "--state-file", state, "--access-log", "off")
    headers = {"x-algolia-application-id": "FIXAPP", "x-algolia-api-key": "key"}
    first = serve(*args)
    with httpx.Client(base_url=first.url, headers=headers, timeout=30.0) as client:
        auth = ok(
            client.post(
                "/1/authentications",
                json={"type": "algolia", "name": "a", "input": {"appID": "X", "apiKey": "k"}},
            )
        )
        destination = ok(
            client.post(
                "/1/destinations",
                json={
                    "type": "search",
                    "name": "d",
                    "input": {"indexName": "i"},
                    "authenticationID": auth["authenticationID"],
                },
            )
        )
        before = sorted(s["sourceID"] for s in list_all(client, "/1/sources", "sources"))
    first.stop()
    second = serve(*args)
    with httpx.Client(base_url=second.url, headers=headers, timeout=30.0) as client:
        assert ok(client.get(f"/1/authentications/{auth['authenticationID']}"))["name"] == "a"
        got = ok(client.get(f"/1/destinations/{destination['destinationID']}"))
        assert got["authenticationID"] == auth["authenticationID"]
        assert sorted(s["sourceID"] for s in list_all(client, "/1/sources", "sources")) == before
