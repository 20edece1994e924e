"""Caps, depth, budgets and failed durable writes of a mock shared by many clients (issue 14)."""

from __future__ import annotations

import gc
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from mockserver import create_app
from mockserver.durability.log import StateFileError
from mockserver.engine.journal import Call, Journal
from mockserver.http.inprocess import InProcessClient


def creds(app_id: str) -> dict[str, str]:
    return {"x-algolia-application-id": app_id, "x-algolia-api-key": "k"}


def test_max_applications_refuses_a_new_application_naming_the_limit() -> None:
    with InProcessClient(create_app(max_applications=2)) as client:
        for app_id in ("ONE", "TWO"):
            assert client.get("/1/sources", headers=creds(app_id)).status_code == 200
        refused = client.get("/1/sources", headers=creds("THREE"))
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "limit_exceeded"
        assert "max_applications" in refused.json()["message"]
        assert client.get("/1/sources", headers=creds("ONE")).status_code == 200  # known ones go on


def test_a_refused_application_leaves_nothing_behind() -> None:
    """Issue 21: 50,000 refused application IDs left 50,000 locks (RSS 44 -> 87 MB)."""
    app = create_app(max_applications=1)
    store = app.engine.store
    with InProcessClient(app) as client:
        assert client.get("/1/sources", headers=creds("ONE")).status_code == 200
        for n in range(300):
            refused = client.post("/1/sources", headers=creds(f"NEW{n}"), json={"type": "push", "name": "s"})
            assert refused.status_code == 429
            assert client.get("/1/sources", headers=creds(f"GET{n}")).status_code == 429
    assert list(store.accounts) == ["ONE"]
    assert store.app_locks == {}  # a lock lives while a request holds or waits for it


def test_max_resources_refuses_one_more_of_a_family() -> None:
    with InProcessClient(create_app(max_resources=2), headers=creds("CAPPED")) as client:
        for name in ("a", "b"):
            assert client.post("/1/sources", json={"type": "push", "name": name}).status_code == 200
        refused = client.post("/1/sources", json={"type": "push", "name": "c"})
        assert refused.status_code == 429 and "max_resources" in refused.json()["message"]
        assert "sources" in refused.json()["message"]
        body = {"type": "search", "name": "d", "input": {"indexName": "i"}}
        assert client.post("/1/destinations", json=body).status_code == 200  # another family


def test_a_failed_durable_write_answers_503_and_leaves_memory_unchanged(tmp_path: Path) -> None:
    app = create_app(state_file=str(tmp_path / "state.db"))
    with InProcessClient(app, headers=creds("DURABLE")) as client:
        assert client.post("/1/sources", json={"type": "push", "name": "kept"}).status_code == 200
        log = app.engine.state_log
        assert log is not None

        def fail(entry: dict[str, Any]) -> None:
            raise StateFileError(f"{log.path}: the write could not be made durable (disk is full)")

        log.append = fail  # type: ignore[method-assign]
        answer = client.post("/1/sources", json={"type": "push", "name": "phantom"})
        assert answer.status_code == 503
        assert answer.json()["error"]["code"] == "state_file_unavailable"
        assert str(log.path) in answer.json()["message"]
        names = [s["name"] for s in client.get("/1/sources").json()["sources"]]
    assert names == ["kept"]
    app.engine.close()


def test_replay_skips_an_entry_it_cannot_apply_and_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    app = create_app(state_file=str(path))
    with InProcessClient(app, headers=creds("DURABLE")) as client:
        client.post("/1/sources", json={"type": "push", "name": "one"})
    app.engine.close()
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO writes (entry) VALUES (?)", (json.dumps({"kind": "control", "action": "?"}),))
    again = create_app(state_file=str(path))
    skipped, kept = again.control.replay_warnings
    assert skipped.startswith(f"{path}: row 2 skipped")
    copies = list(tmp_path.glob("state.db.damaged-*"))
    assert len(copies) == 1 and str(copies[0]) in kept  # the file held more than it now does
    with InProcessClient(again, headers=creds("DURABLE")) as client:
        assert [s["name"] for s in client.get("/1/sources").json()["sources"]] == ["one"]
    again.engine.close()


@pytest.mark.parametrize("depth", [65, 600])
def test_bodies_nested_past_max_depth_are_refused_at_the_door(depth: int) -> None:
    text = '{"type":"push","name":"x","input":' + '{"a":' * (depth - 1) + "1" + "}" * (depth - 1) + "}"
    app = create_app()
    with InProcessClient(app, headers=creds("DEEP")) as client:
        refused = client.post("/1/sources", content=text, headers={"content-type": "application/json"})
        assert refused.status_code == 400 and "max_depth" in refused.json()["message"]
        assert client.get("/__mock__/journal").status_code == 200


def test_the_journal_drops_its_oldest_calls_beyond_its_byte_budget() -> None:
    journal = Journal(maxlen=None, max_bytes=1000)
    for i in range(10):
        journal.record(Call(f"op{i}", "GET", "/", "A"), size=300)
    assert [c.operation_id for c in journal.calls] == ["op7", "op8", "op9"]
    assert journal.bytes == 900


def test_a_large_rejected_body_is_journaled_as_its_size() -> None:
    app = create_app()
    body = {"type": "push", "name": "x", "junk": "y" * 100_000}
    with InProcessClient(app, headers=creds("BIG")) as client:
        assert client.post("/1/sources", json=body).status_code == 400
    (call,) = app.journal.calls
    assert call.body["truncated"] is True and call.body["bytes"] > 100_000


def test_bodies_the_journal_does_not_keep_do_not_count_against_its_budget() -> None:
    # A 1 MB body that is not JSON is journaled without it; counted at its size, a few of them
    # pushed every other application's calls out of a 4 MB journal.
    app = create_app(journal_bytes=4_000_000)
    with InProcessClient(app) as client:
        assert client.get("/1/sources", headers=creds("BYSTANDER")).status_code == 200
        for _ in range(5):
            broken = client.post("/1/sources", content=b"{" + b"x" * 1_000_000, headers=creds("BROKEN"))
            assert broken.status_code == 400
    assert [c.app_id for c in app.journal.calls] == ["BYSTANDER"] + ["BROKEN"] * 5
    assert app.journal.bytes < 100_000


def test_a_running_server_compacts_its_state_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mockserver.durability import log as persistence

    monkeypatch.setattr(persistence, "COMPACT_AFTER", 5)
    path = tmp_path / "state.db"
    app = create_app(state_file=str(path))
    with InProcessClient(app, headers=creds("DURABLE")) as client:
        for i in range(12):
            assert client.post("/1/sources", json={"type": "push", "name": f"s{i}"}).status_code == 200
        before = client.get("/__mock__/state").json()
    app.engine.close()
    with sqlite3.connect(path) as db:
        (count,) = db.execute("SELECT COUNT(*) FROM writes").fetchone()
    assert count < 12  # compacted on the way: one image, then the writes since
    again = create_app(state_file=str(path))
    with InProcessClient(again) as client:
        assert client.get("/__mock__/state").json() == before
    again.engine.close()


@pytest.mark.parametrize(
    "body",
    [
        b"{" + b"x" * 300_000,  # not JSON: refused while decoding, off the event loop
        json.dumps({"type": "push", "name": "big", "junk": ["y" * 1000] * 300}).encode(),  # not valid
        json.dumps({"action": "addObject", "records": [{"n": "y" * 1000}] * 300}).encode(),
    ],
    ids=["invalid-json", "invalid-source", "records-without-objectID"],
)
@pytest.mark.parametrize("validation", ["fast", "openapi-core"])
def test_a_large_refused_body_is_freed_at_once_not_by_a_later_garbage_collection(
    body: bytes, validation: str
) -> None:
    # Found by trying the product: posting 10 MB of broken JSON grew the served process by 10 MB a
    # request, kept until the cyclic collector happened to run. A refusal raised in the worker
    # thread formed a cycle (its traceback -> the worker's frame -> the future -> the refusal).
    from mockserver.http.inprocess import InProcessClient

    path = "/1/push/products" if b"records" in body else "/1/sources"
    app = create_app(validation=validation)
    client = InProcessClient(app, base_url="http://mock", headers=creds("FREED"))
    post = {"content": body, "headers": {"content-type": "application/json"}}
    assert client.post(path, **post).status_code in (400, 404)  # warm-up: builds the explaining parts
    gc.collect()
    gc.disable()
    try:
        assert client.post(path, **post).status_code in (400, 404)
        left = gc.collect()
    finally:
        gc.enable()
        client.close()
    assert left == 0, f"{left} objects freed only by the garbage collector"
