"""Durability as one design (issue 21): every acknowledged write, of the API and of the control
plane, comes back after a restart, with or without the data sets; damage costs only what is
damaged; a write that cannot be made durable answers 503 and changes nothing. In process (the
served-process versions are in tests/reliability/test_durability.py)."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mockserver import MockApp
from mockserver.durability import log as log_module
from mockserver.durability.log import StateFileError
from mockserver.http.inprocess import InProcessClient

SOURCE = "0a1b2c3d-0000-4000-8000-000000000201"  # seeded by the catalog data set
DESTINATION = "0a1b2c3d-0000-4000-8000-000000000301"


EMPTY_LIST_STUB = {
    "operation": "listSources",
    "status": 200,
    "response": {"sources": [], "pagination": {"nbPages": 1, "page": 1, "nbItems": 0, "itemsPerPage": 10}},
}


def creds(app_id: str, key: str = "k") -> dict[str, str]:
    return {"x-algolia-application-id": app_id, "x-algolia-api-key": key}


def rows(path: Path) -> list[str]:
    """The rows' texts (a row that is not UTF-8 with its bad bytes replaced)."""
    with sqlite3.connect(path) as db:
        db.text_factory = lambda raw: raw.decode("utf-8", "replace")
        return [str(text) for (text,) in db.execute("SELECT entry FROM writes ORDER BY seq")]


def test_writes_on_seeded_data_come_back_without_the_data_set(
    opened: Callable[..., MockApp], tmp_path: Path
) -> None:
    state = tmp_path / "state.db"
    app = opened(state, fixtures=("catalog",))
    with InProcessClient(app, headers=creds("CAT")) as client:
        assert client.patch(f"/1/sources/{SOURCE}", json={"name": "renamed"}).status_code == 200
        push = client.post("/1/sources", json={"type": "push", "name": "p"}).json()["sourceID"]
        task = client.post(
            "/2/tasks", json={"sourceID": push, "destinationID": DESTINATION, "action": "save"}
        ).json()["taskID"]
    for options in ({}, {"fixtures": ("catalog",)}, {}):
        app = opened(state, **options)
        assert app.control.replay_warnings == []
        with InProcessClient(app, headers=creds("CAT")) as client:
            assert client.get(f"/1/sources/{SOURCE}").json()["name"] == "renamed"
            assert client.get(f"/2/tasks/{task}").json()["destinationID"] == DESTINATION
            assert client.get(f"/1/destinations/{DESTINATION}").status_code == 200  # seeded, kept


def test_every_control_plane_write_survives_a_restart(opened: Callable[..., MockApp], tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    app = opened(state)
    with InProcessClient(app, headers=creds("CTL")) as client:
        source = client.post(
            "/1/sources", json={"type": "json", "name": "j", "input": {"url": "https://x/y.json"}}
        )
        source_id = source.json()["sourceID"]
        put = client.put(f"/__mock__/sources/{source_id}/records", json={"records": [{"objectID": "1"}]})
        assert put.status_code == 200
        assert client.post("/__mock__/keys", json={"apiKey": "ESC", "acl": ["search"]}).status_code == 200
        assert (
            client.post("/__mock__/faults", json={"operation": "listTasks", "status": 502}).status_code == 200
        )
        assert (
            client.post("/__mock__/clock", json={"now": "2030-01-02T03:04:05Z", "freeze": True}).status_code
            == 200
        )
        assert client.post("/__mock__/runs", json={"mode": "deferred"}).status_code == 200
        snapshot = client.post("/__mock__/snapshots").json()["snapshotID"]
        assert client.post("/__mock__/stubs", json=EMPTY_LIST_STUB).status_code == 200
    app = opened(state)
    assert app.control.replay_warnings == []
    with InProcessClient(app, headers=creds("CTL")) as client:
        dumped = client.get("/__mock__/state").json()["applications"]["CTL"]
        assert dumped["source_records"] == {source_id: [{"objectID": "1"}]}
        assert (
            client.post(
                "/1/sources", json={"type": "push", "name": "x"}, headers=creds("CTL", "ESC")
            ).status_code
            == 403
        )
        assert client.get("/2/tasks").status_code == 502
        assert client.get("/__mock__/clock").json() == {"now": "2030-01-02T03:04:05Z", "frozen": True}
        assert client.get("/__mock__/runs").json()["mode"] == "deferred"
        assert client.get("/1/sources").json()["sources"] == []  # the stub answers
        assert client.post(f"/__mock__/snapshots/{snapshot}/restore").status_code == 200


def fail_appends(app: MockApp) -> None:
    log = app.engine.state_log
    assert log is not None

    def fail(entry: dict[str, Any]) -> None:
        raise StateFileError(f"{log.path}: the write could not be made durable (database or disk is full)")

    log.append = fail  # type: ignore[method-assign]


CONTROL_WRITES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/__mock__/reset", {}),
    ("POST", "/__mock__/seed", {"fixtures": "catalog"}),
    ("POST", "/__mock__/clock", {"advance": 60}),
    ("POST", "/__mock__/runs", {"mode": "deferred"}),
    ("POST", "/__mock__/snapshots", {}),
    ("POST", "/__mock__/keys", {"apiKey": "NEW", "acl": ["search"]}),
    ("POST", "/__mock__/faults", {"operation": "listTasks", "status": 500}),
    ("DELETE", "/__mock__/faults", {}),
    ("POST", "/__mock__/stubs", EMPTY_LIST_STUB),
    ("PUT", "/__mock__/sources/{source}/records", {"records": [{"objectID": "2"}]}),
]


@pytest.mark.parametrize("cause", ["disk full", "locked"])
@pytest.mark.parametrize(
    ("method", "path", "body"), CONTROL_WRITES, ids=[f"{m} {p}" for m, p, _ in CONTROL_WRITES]
)
def test_a_control_write_that_cannot_be_made_durable_is_a_503_and_changes_nothing(
    opened: Callable[..., MockApp],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    path: str,
    body: dict[str, Any],
    cause: str,
) -> None:
    """``disk full``: the append fails. ``locked``: another process holds the file's write lock
    (SQLite's); the write waits ``BUSY_TIMEOUT`` for it, shortened here (tests/reliability's
    test_control_writes_on_a_locked_file_are_503_and_not_applied waits the default, served)."""
    state = tmp_path / "state.db"
    monkeypatch.setattr(log_module, "BUSY_TIMEOUT", 0.05)  # read when the file is opened
    app = opened(state, clock="frozen")  # a moving clock would tick between the two observations
    with InProcessClient(app, headers=creds("FULL")) as client:
        source = client.post(
            "/1/sources", json={"type": "json", "name": "j", "input": {"url": "https://x/y.json"}}
        )
        source_id = source.json()["sourceID"]
        assert (
            client.post("/__mock__/faults", json={"operation": "getTask", "status": 500}).status_code == 200
        )
        before = observe(client, app)
        if cause == "disk full":
            fail_appends(app)
            answer = client.request(method, path.format(source=source_id), json=body)
        else:
            blocker = sqlite3.connect(state, timeout=1, isolation_level=None)
            try:
                blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
                answer = client.request(method, path.format(source=source_id), json=body)
            finally:
                blocker.execute("ROLLBACK")
                blocker.close()
        assert answer.status_code == 503, answer.text
        assert answer.headers["content-type"].startswith("application/json")
        assert answer.json()["error"]["code"] == "state_file_unavailable"
        assert str(state) in answer.json()["message"]
        assert ("database is locked" in answer.json()["message"]) == (cause == "locked")
        after = observe(client, app)
    assert app.store.accounts["FULL"].clock is None  # no application clock of its own was made
    assert after == before


def observe(client: InProcessClient, app: MockApp) -> dict[str, Any]:
    """Everything a control write may change, as the control plane and the engine show it."""
    seen = {
        name: client.get(f"/__mock__/{name}").json() for name in ("state", "clock", "runs", "faults", "stubs")
    }
    return {**seen, "keys": list(app.engine.settings.keys), "snapshots": dict(app.control.snapshots())}


def test_a_failed_api_write_on_a_big_application_is_undone_exactly(
    opened: Callable[..., MockApp], tmp_path: Path
) -> None:
    state = tmp_path / "state.db"
    app = opened(state)
    with InProcessClient(app, headers=creds("BIG")) as client:
        task = _pipeline(client)
        for i in range(3):
            push = client.post(f"/2/tasks/{task}/push", json={"action": "addObject",
                               "records": [{"objectID": str(i), "n": i}]})  # fmt: skip
            assert push.status_code == 200
        before = client.get("/__mock__/state").json()
        fail_appends(app)
        assert client.post(f"/2/tasks/{task}/push", json={"action": "deleteObject",
                           "records": [{"objectID": "1"}]}).status_code == 503  # fmt: skip
        assert client.patch(f"/2/tasks/{task}", json={"enabled": False}).status_code == 503
        after = client.get("/__mock__/state").json()
    for state_ in (before, after):  # a record put back goes to the end of the index's order
        state_["applications"]["BIG"]["indexes"]["idx"].sort(key=lambda r: r["objectID"])
    assert after == before


def _pipeline(client: InProcessClient) -> str:
    source = client.post("/1/sources", json={"type": "push", "name": "s"}).json()["sourceID"]
    destination = client.post(
        "/1/destinations", json={"type": "search", "name": "d", "input": {"indexName": "idx"}}
    ).json()["destinationID"]
    task: str = client.post(
        "/2/tasks", json={"sourceID": source, "destinationID": destination, "action": "save"}
    ).json()["taskID"]
    return task


def test_a_write_logs_what_it_changed_and_no_credentials(
    opened: Callable[..., MockApp], tmp_path: Path
) -> None:
    state = tmp_path / "state.db"
    app = opened(state)
    with InProcessClient(app) as client:
        for i in range(3):
            answer = client.post(
                "/1/sources?x-algolia-api-key=QUERY-SECRET&x-algolia-application-id=QS",
                json={"type": "push", "name": f"s{i}"},
            )
            assert answer.status_code == 200, answer.text
    written = rows(state)
    assert len(written) == 3 and not any("QUERY-SECRET" in row for row in written)
    last = json.loads(written[-1])
    assert last["kind"] == "change" and set(last["apps"]) == {"QS"}
    assert [name for name, _ in last["apps"]["QS"]["diff"]["sources"]["set"]] != []
    assert "s0" not in written[-1]  # only what that write changed


def add_row(path: Path, value: Any) -> None:
    with sqlite3.connect(path) as db:
        if isinstance(value, bytes) and value.startswith(b"{"):  # text that is not UTF-8
            db.execute("INSERT INTO writes (entry) VALUES (CAST(? AS TEXT))", (value,))
        else:
            db.execute("INSERT INTO writes (entry) VALUES (?)", (value,))


@pytest.mark.parametrize(
    ("row", "said"),
    [
        ('{"kind": "change", "apps": {"A": {"diff": {"sources": {"set": [["x", {"na', "is not valid JSON"),
        (b"\x00\x01binary", "holds a BLOB"),
        (
            b'{"kind": "change", "apps": {"A": {"diff": {"sources": {"set": [["\xff", 1]]}}}}}',
            "cannot be read",
        ),
        ("[" * 100_000 + "]" * 100_000, "skipped"),
        ('{"kind": "change", "apps": {"A": {"diff": {"sources": {"set": 5}}}}}', "cannot be applied"),
        ('"just text"', "is not a JSON object"),
    ],
    ids=["torn", "blob", "not-utf-8", "deep", "bad-change", "not-an-object"],
)
def test_a_damaged_row_costs_only_itself(
    opened: Callable[..., MockApp], tmp_path: Path, row: Any, said: str
) -> None:
    state = tmp_path / "state.db"
    app = opened(state)
    with InProcessClient(app, headers=creds("A")) as client:
        client.post("/1/sources", json={"type": "push", "name": "one"})
    app.engine.close()
    add_row(state, row)
    app = opened(state)
    warnings = app.control.replay_warnings
    assert warnings[0].startswith(f"{state}: row 2") and said in warnings[0], warnings
    assert any("the original is kept as" in w for w in warnings)
    (kept,) = tmp_path.glob("state.db.damaged-*")
    assert len(rows(kept)) == 2  # the original, damaged row included
    with InProcessClient(app, headers=creds("A")) as client:
        assert [s["name"] for s in client.get("/1/sources").json()["sources"]] == ["one"]
        assert client.post("/1/sources", json={"type": "push", "name": "two"}).status_code == 200


def write_image(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Replace the state file's rows by its compacted image, changed by ``change``."""
    with sqlite3.connect(path) as db:
        texts = [text for (text,) in db.execute("SELECT entry FROM writes ORDER BY seq")]
        assert len(texts) == 1
        image = json.loads(texts[0])
        change(image)
        db.execute("DELETE FROM writes")
        db.execute("INSERT INTO writes (entry) VALUES (?)", (json.dumps(image),))


def two_applications(opened: Callable[..., MockApp], state: Path) -> None:
    app = opened(state)
    for app_id in ("GOOD", "BAD"):
        with InProcessClient(app, headers=creds(app_id)) as client:
            for name in ("a", "b"):
                assert client.post("/1/sources", json={"type": "push", "name": name}).status_code == 200
    app.control.compact()
    app.engine.close()


def test_a_damaged_application_in_an_image_is_lost_alone(
    opened: Callable[..., MockApp], tmp_path: Path
) -> None:
    state = tmp_path / "state.db"
    two_applications(opened, state)
    write_image(state, lambda image: image["accounts"]["BAD"].pop("app_id"))
    app = opened(state)
    assert any("application 'BAD'" in w and "is lost" in w for w in app.control.replay_warnings)
    assert set(app.store.accounts) == {"GOOD"}
    assert len(app.store.accounts["GOOD"].sources) == 2


def test_a_damaged_record_or_clock_in_an_image_is_lost_alone(
    opened: Callable[..., MockApp], tmp_path: Path
) -> None:
    state = tmp_path / "state.db"
    two_applications(opened, state)

    def damage(image: dict[str, Any]) -> None:
        image["accounts"]["BAD"]["sources"][0] = "not a pair"
        image["accounts"]["BAD"]["clock"] = ["not a time", "x"]
        image["clock"] = "nonsense"

    write_image(state, damage)
    app = opened(state)
    warnings = " | ".join(app.control.replay_warnings)
    assert "sources[0] is damaged" in warnings and "field clock is damaged" in warnings
    assert "the server's clock is damaged" in warnings
    assert len(app.store.accounts["BAD"].sources) == 1 and len(app.store.accounts["GOOD"].sources) == 2


def test_a_byte_that_is_not_utf8_in_an_image_costs_only_the_record_holding_it(
    opened: Callable[..., MockApp], tmp_path: Path
) -> None:
    """The whole state is one row once compacted: a damaged byte in one record's text must not take
    every application with it."""
    state = tmp_path / "state.db"
    two_applications(opened, state)
    write_image(state, lambda image: None)
    with sqlite3.connect(state) as db:
        (text,) = db.execute("SELECT entry FROM writes").fetchone()
        marker = '"name": "b"'
        at = text.index(marker, text.index('"BAD"')) + len(marker) - 2
        damaged = text.encode()[:at] + b"\xff" + text.encode()[at + 1 :]
        db.execute("UPDATE writes SET entry = CAST(? AS TEXT)", (damaged,))
    app = opened(state)
    warnings = " | ".join(app.control.replay_warnings)
    assert "application 'BAD'" in warnings and "is damaged" in warnings, warnings
    assert len(app.store.accounts["GOOD"].sources) == 2
    assert [s["name"] for s in app.store.accounts["BAD"].sources.values()] == ["a"]


def test_a_file_of_a_newer_release_is_refused(opened: Callable[..., MockApp], tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    two_applications(opened, state)
    write_image(state, lambda image: image.update(version=99))
    with pytest.raises(StateFileError, match="version 99, written by a newer mockserver"):
        opened(state)
    with sqlite3.connect(state) as db:
        db.execute("UPDATE meta SET value = '7' WHERE key = 'schema'")
    with pytest.raises(StateFileError, match="written by a newer mockserver"):
        opened(state)


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_a_state_file_deleted_or_replaced_while_serving_refuses_writes(
    opened: Callable[..., MockApp], tmp_path: Path, how: str
) -> None:
    state = tmp_path / "state.db"
    app = opened(state)
    with InProcessClient(app, headers=creds("GONE")) as client:
        assert client.post("/1/sources", json={"type": "push", "name": "a"}).status_code == 200
        os.rename(state, tmp_path / "moved.db")
        if how == "replaced":
            state.write_bytes(b"")
        answer = client.post("/1/sources", json={"type": "push", "name": "b"})
        assert answer.status_code == 503 and f"was {how} while the server ran" in answer.json()["message"]
        assert client.post("/__mock__/clock", json={"advance": 5}).status_code == 503
        assert [s["name"] for s in client.get("/1/sources").json()["sources"]] == ["a"]


def test_a_run_settled_by_a_read_is_as_durable_as_a_write(
    opened: Callable[..., MockApp], tmp_path: Path
) -> None:
    """A deferred run's index write lands when a read finds its time has come; a later write over
    the same record must still win after a restart (the settled run must not land again)."""
    state = tmp_path / "state.db"
    app = opened(state)
    with InProcessClient(app, headers=creds("LATE")) as client:
        task = _pipeline(client)
        assert client.post("/__mock__/clock", json={"freeze": True}).status_code == 200
        assert client.post("/__mock__/runs", json={"mode": "deferred", "finish_after": 1}).status_code == 200
        push = {"action": "addObject", "records": [{"objectID": "x", "v": 1}]}
        assert client.post(f"/2/tasks/{task}/push", json=push).status_code == 200
        assert client.post("/__mock__/clock", json={"advance": 5}).status_code == 200
        assert index_records(client) == [{"objectID": "x", "v": 1}]
        assert client.post("/__mock__/runs", json={"mode": "immediate"}).status_code == 200
        push = {"action": "addObject", "records": [{"objectID": "x", "v": 2}]}
        assert client.post(f"/2/tasks/{task}/push", json=push).status_code == 200
    app = opened(state)
    with InProcessClient(app, headers=creds("LATE")) as client:
        assert index_records(client) == [{"objectID": "x", "v": 2}]


def index_records(client: InProcessClient) -> Any:
    answer = client.get("/__mock__/indexes/idx", params={"appID": "LATE"})
    assert answer.status_code == 200, answer.text
    return answer.json()["records"]


def test_a_schema_1_file_of_requests_loads_and_becomes_schema_2(
    opened: Callable[..., MockApp], tmp_path: Path
) -> None:
    """A file of an earlier release logged requests: they are replayed once (one that now fails is
    named), then the file is compacted to the after-state form."""
    state = tmp_path / "state.db"
    policy = {"mode": "immediate", "start_after": 0.0, "finish_after": 1.0, "outcome": "success",
              "reason_code": None, "reason": None}  # fmt: skip
    made = "6f3a5c1e-0000-4000-8000-000000000001"

    def api(op: str, body: Any, path: dict[str, str] | None = None, ids: list[str] | None = None) -> str:
        return json.dumps({"kind": "api", "op": op, "app": "OLD", "path": path or {}, "query": {},
                           "body": body, "missing": False, "now": "2026-01-02T03:04:05+00:00",
                           "ids": ids or [], "policy": policy})  # fmt: skip

    with sqlite3.connect(state) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("CREATE TABLE writes (seq INTEGER PRIMARY KEY AUTOINCREMENT, entry TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('schema', '1')")
        for row in (
            api("createSource", {"type": "push", "name": "old"}, ids=[made]),
            api("updateSource", {"name": "older"}, {"sourceID": "0a1b2c3d-0000-4000-8000-00000000dead"}),
            json.dumps({"kind": "control", "action": "clock", "state": ["2030-01-01T00:00:00+00:00", 0.0]}),
        ):
            db.execute("INSERT INTO writes (entry) VALUES (?)", (row,))
    app = opened(state)
    (lost, kept) = app.control.replay_warnings
    assert f"{state}: row 2: the write updateSource of application 'OLD' is lost" in lost and "404" in lost
    assert "the original is kept as" in kept
    with InProcessClient(app, headers=creds("OLD")) as client:
        assert client.get(f"/1/sources/{made}").json()["name"] == "old"
        assert client.get("/__mock__/clock", params={"scope": "all"}).json()["now"] == "2030-01-01T00:00:00Z"
    with sqlite3.connect(state) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone() == ("2",)
    app = opened(state)
    assert app.control.replay_warnings == []
    assert app.store.accounts["OLD"].sources[made]["name"] == "old"


def test_control_writes_and_api_writes_on_one_application_do_not_deadlock(
    opened: Callable[..., MockApp], tmp_path: Path
) -> None:
    """A control-plane change takes the application's lock before the store's, as the engine does:
    seeding (which executes requests) beside API writes of the same application finishes."""
    app = opened(tmp_path / "state.db")
    errors: list[BaseException] = []

    def api_writes() -> None:
        try:
            with InProcessClient(app, headers=creds("BOTH")) as client:
                for i in range(30):
                    assert (
                        client.post("/1/sources", json={"type": "push", "name": f"a{i}"}).status_code == 200
                    )
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    def seeds() -> None:
        try:
            for i in range(10):
                data = {"sources": [{"sourceID": f"seeded-{i}", "type": "push", "name": f"s{i}"}]}
                app.control.seed(data, "BOTH")
                app.control.reset("OTHER")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=api_writes), threading.Thread(target=seeds)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "deadlocked"
    assert errors == []
    assert len(app.store.accounts["BOTH"].sources) == 40


def test_a_damaged_record_of_a_change_row_is_lost_alone_and_the_original_kept(
    opened: Callable[..., MockApp], tmp_path: Path
) -> None:
    state = tmp_path / "state.db"
    app = opened(state)
    with InProcessClient(app, headers=creds("A")) as client:
        for name in ("one", "two"):
            assert client.post("/1/sources", json={"type": "push", "name": name}).status_code == 200
    app.engine.close()
    with sqlite3.connect(state) as db:
        seq, text = db.execute("SELECT seq, entry FROM writes ORDER BY seq DESC LIMIT 1").fetchone()
        entry = json.loads(text)
        source_id = entry["apps"]["A"]["diff"]["sources"]["set"][0][0]
        entry["apps"]["A"]["diff"]["sources"]["set"][0][1] = None
        db.execute("UPDATE writes SET entry = ? WHERE seq = ?", (json.dumps(entry), seq))
    app = opened(state)
    warnings = " | ".join(app.control.replay_warnings)
    assert f"{state}: row {seq}" in warnings and "application 'A'" in warnings, warnings
    assert f"sources record {source_id!r}" in warnings, warnings
    assert "the original is kept as" in warnings
    (kept,) = tmp_path.glob("state.db.damaged-*")
    assert "null" in rows(kept)[-1]  # the original, damaged record included
    with InProcessClient(app, headers=creds("A")) as client:
        assert [s["name"] for s in client.get("/1/sources").json()["sources"]] == ["one"]
        assert client.get("/__mock__/state", params={"appID": "A"}).status_code == 200


@pytest.mark.parametrize(
    "damage",
    [
        lambda source_id, record: {**record, "sourceID": "another"},  # not the ID it is stored under
        lambda source_id, record: ["a", "list"],
        lambda source_id, record: {k: v for k, v in record.items() if k != "sourceID"},
    ],
)
def test_a_record_of_a_change_row_is_checked_against_its_id(
    opened: Callable[..., MockApp], tmp_path: Path, damage: Callable[[str, Any], Any]
) -> None:
    state = tmp_path / "state.db"
    app = opened(state)
    with InProcessClient(app, headers=creds("A")) as client:
        for name in ("zero", "one"):  # (the second write is a change row, the first the whole account)
            assert client.post("/1/sources", json={"type": "push", "name": name}).status_code == 200
    app.engine.close()
    with sqlite3.connect(state) as db:
        seq, text = db.execute("SELECT seq, entry FROM writes ORDER BY seq DESC LIMIT 1").fetchone()
        entry = json.loads(text)
        pair = entry["apps"]["A"]["diff"]["sources"]["set"][0]
        pair[1] = damage(pair[0], pair[1])
        db.execute("UPDATE writes SET entry = ? WHERE seq = ?", (json.dumps(entry), seq))
    app = opened(state)
    assert any(f"sources record {pair[0]!r}" in w for w in app.control.replay_warnings)
    with InProcessClient(app, headers=creds("A")) as client:
        assert [s["name"] for s in client.get("/1/sources").json()["sources"]] == ["zero"]


# A value of valid JSON syntax the fast decoder refuses (its kind: words the warning says), put in
# place of one field of one record. A row holding one must cost that record only, not the row.
UNREADABLE_VALUES = {
    "out-of-range-float": ("1e400", "out of range"),
    "huge-integer": ("9" * 5000, "out of range"),
    "nan-token": ("NaN", "NaN"),
    "lone-surrogate": ('"\\ud800"', "lone surrogate"),
}
PLACEHOLDER = "@@unreadable@@"


def put_unreadable(path: Path, seq: int, token: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Row ``seq``'s JSON, changed by ``change`` (which puts PLACEHOLDER where the damage goes), with
    the placeholder replaced by ``token`` as raw JSON text."""
    with sqlite3.connect(path) as db:
        (text,) = db.execute("SELECT entry FROM writes WHERE seq = ?", (seq,)).fetchone()
        entry = json.loads(text)
        change(entry)
        damaged = json.dumps(entry).replace(json.dumps(PLACEHOLDER), token)
        assert token in damaged
        db.execute("UPDATE writes SET entry = ? WHERE seq = ?", (damaged, seq))


def sources_and_products(app: MockApp, app_id: str) -> None:
    with InProcessClient(app, headers=creds(app_id)) as client:
        for name in ("a", "b"):
            assert client.post("/1/sources", json={"type": "push", "name": name}).status_code == 200
            record = {"name": name, "price": 1.5}
            assert client.put(f"/1/indexes/products/{name}", json=record).status_code == 200


def names_and_products(app: MockApp, app_id: str) -> tuple[list[str], list[str]]:
    with InProcessClient(app, headers=creds(app_id)) as client:
        sources = sorted(s["name"] for s in client.get("/1/sources").json()["sources"])
        hits = client.post("/1/indexes/products/query", json={}).json()["hits"]
        assert client.get("/__mock__/state", params={"appID": app_id}).status_code == 200
    return sources, sorted(hit["objectID"] for hit in hits)


@pytest.mark.parametrize(("token", "said"), UNREADABLE_VALUES.values(), ids=UNREADABLE_VALUES.keys())
def test_an_unreadable_number_or_string_in_an_image_costs_only_its_record(
    opened: Callable[..., MockApp], tmp_path: Path, token: str, said: str
) -> None:
    state = tmp_path / "state.db"
    app = opened(state)
    for app_id in ("GOOD", "BAD"):
        sources_and_products(app, app_id)
    app.control.compact()
    app.engine.close()

    def damage(image: dict[str, Any]) -> None:
        bad = image["accounts"]["BAD"]
        bad["sources"][0][1]["name"] = PLACEHOLDER
        (record,) = [r for key, r in bad["indexes"]["products"] if key == "a"]
        record["price"] = PLACEHOLDER

    (seq,) = [i for (i,) in sqlite3.connect(state).execute("SELECT seq FROM writes")]
    put_unreadable(state, seq, token, damage)
    app = opened(state)
    warnings = app.control.replay_warnings
    damaged = [w for w in warnings if "is damaged" in w]
    assert len(damaged) == 2, warnings
    assert all(f"{state}: row {seq}" in w and "application 'BAD'" in w and said in w for w in damaged)
    assert any("sources[0]" in w for w in damaged) and any("'a'" in w for w in damaged), damaged
    assert any("the original is kept as" in w for w in warnings)
    assert names_and_products(app, "GOOD") == (["a", "b"], ["a", "b"])
    assert names_and_products(app, "BAD") == (["b"], ["b"])
    app = opened(state)  # compacted without the damage: nothing more is lost
    assert app.control.replay_warnings == []
    assert names_and_products(app, "BAD") == (["b"], ["b"])


@pytest.mark.parametrize(("token", "said"), UNREADABLE_VALUES.values(), ids=UNREADABLE_VALUES.keys())
def test_an_unreadable_number_or_string_in_a_change_row_costs_only_its_record(
    opened: Callable[..., MockApp], tmp_path: Path, token: str, said: str
) -> None:
    state = tmp_path / "state.db"
    app = opened(state)
    sources_and_products(app, "A")
    app.engine.close()
    with sqlite3.connect(state) as db:
        texts = dict(db.execute("SELECT seq, entry FROM writes ORDER BY seq").fetchall())
    *_, source_row, product_row = texts  # the writes of "b": a source, then a product

    def damage_source(entry: dict[str, Any]) -> None:
        entry["apps"]["A"]["diff"]["sources"]["set"][0][1]["name"] = PLACEHOLDER

    def damage_product(entry: dict[str, Any]) -> None:
        entry["apps"]["A"]["diff"]["indexes"]["set"]["products"]["set"][0][1]["price"] = PLACEHOLDER

    put_unreadable(state, source_row, token, damage_source)
    put_unreadable(state, product_row, token, damage_product)
    app = opened(state)
    warnings = app.control.replay_warnings
    damaged = [w for w in warnings if "is damaged" in w]
    assert len(damaged) == 2, warnings
    assert all("application 'A'" in w and said in w for w in damaged), damaged
    assert any(f"row {source_row}" in w and "sources" in w for w in damaged), damaged
    assert any(f"row {product_row}" in w and "'b'" in w for w in damaged), damaged
    assert names_and_products(app, "A") == (["a"], ["a"])
    with InProcessClient(app, headers=creds("A")) as client:  # later writes still land
        assert client.post("/1/sources", json={"type": "push", "name": "c"}).status_code == 200
    app = opened(state)
    assert app.control.replay_warnings == []
    assert names_and_products(app, "A") == (["a", "c"], ["a"])


def test_unreadable_values_elsewhere_in_an_image_cost_only_their_part(
    opened: Callable[..., MockApp], tmp_path: Path
) -> None:
    """A key holding a lone surrogate, and unreadable values in the server's parts and a snapshot:
    each costs its part, named; the applications' records all come back."""
    state = tmp_path / "state.db"
    app = opened(state)
    for app_id in ("GOOD", "BAD"):
        sources_and_products(app, app_id)
    with InProcessClient(app, headers=creds("GOOD")) as client:
        assert client.post("/__mock__/stubs", json=EMPTY_LIST_STUB).status_code == 200
        snapshot_id = client.post("/__mock__/snapshots").json()["snapshotID"]
    app.control.compact()
    app.engine.close()

    def damage(image: dict[str, Any]) -> None:
        record = image["accounts"]["BAD"]["sources"][0][1]
        record["@@key@@"] = 1  # a field name holding a lone surrogate
        image["accounts"]["@@key@@"] = image["accounts"]["GOOD"]  # an application ID holding one
        image["stubs"]["stubs"][0]["status"] = PLACEHOLDER
        (snapshot,) = image["snapshots"].values()
        snapshot["clock"][1] = PLACEHOLDER

    (seq,) = [i for (i,) in sqlite3.connect(state).execute("SELECT seq FROM writes")]
    put_unreadable(state, seq, "1e400", damage)
    with sqlite3.connect(state) as db:
        db.execute("UPDATE writes SET entry = replace(entry, '\"@@key@@\"', '\"x\\udc00\"')")
    app = opened(state)
    warnings = " | ".join(app.control.replay_warnings)
    assert "application 'BAD': sources[0]" in warnings and "a key holds a lone surrogate" in warnings
    assert "the server's stubs is damaged (the number 1e400 is out of range" in warnings, warnings
    assert "snapshot" in warnings and "its clock: the number 1e400 is out of range" in warnings
    assert "at ['accounts']['x\\udc00']" in warnings  # the application taken out with its key
    assert set(app.store.accounts) == {"GOOD", "BAD"}
    assert names_and_products(app, "GOOD") == (["a", "b"], ["a", "b"])
    assert names_and_products(app, "BAD") == (["b"], ["a", "b"])
    with InProcessClient(app, headers=creds("GOOD")) as client:  # the stub and the snapshot are lost
        assert client.get("/__mock__/stubs").json()["stubs"] == []
        assert client.post(f"/__mock__/snapshots/{snapshot_id}/restore").status_code == 404
    app = opened(state)
    assert app.control.replay_warnings == []


@pytest.mark.parametrize("kept_in", ["image", "change row"])
def test_an_unreadable_value_in_a_sources_records_costs_only_that_record(
    opened: Callable[..., MockApp], tmp_path: Path, kept_in: str
) -> None:
    state = tmp_path / "state.db"
    app = opened(state)
    with InProcessClient(app, headers=creds("A")) as client:
        source_id = client.post("/1/sources", json={"type": "push", "name": "feed"}).json()["sourceID"]
        records = [{"objectID": "1", "price": 1.5}, {"objectID": "2", "price": 2.5}]
        put = client.put(f"/__mock__/sources/{source_id}/records", json={"records": records})
        assert put.status_code == 200
    if kept_in == "image":
        app.control.compact()
    app.engine.close()
    with sqlite3.connect(state) as db:
        (seq,) = db.execute("SELECT max(seq) FROM writes").fetchone()

    def damage(entry: dict[str, Any]) -> None:
        if kept_in == "image":
            held = entry["accounts"]["A"]["source_records"][source_id]
        else:
            ((_, held),) = entry["apps"]["A"]["diff"]["source_records"]["set"]
        held[1]["price"] = PLACEHOLDER

    put_unreadable(state, seq, "1e400", damage)
    app = opened(state)
    damaged = [w for w in app.control.replay_warnings if "is damaged" in w]
    assert len(damaged) == 1, app.control.replay_warnings
    assert f"source_records[{source_id!r}][1]" in damaged[0] and "out of range" in damaged[0], damaged
    with InProcessClient(app, headers=creds("A")) as client:
        dumped = client.get("/__mock__/state").json()["applications"]["A"]
    assert dumped["source_records"] == {source_id: [{"objectID": "1", "price": 1.5}]}


def test_an_unreadable_value_in_one_event_of_a_change_row_costs_only_that_event(
    opened: Callable[..., MockApp], tmp_path: Path
) -> None:
    state = tmp_path / "state.db"
    app = opened(state)
    with InProcessClient(app, headers=creds("A")) as client:
        assert client.post("/1/sources", json={"type": "push", "name": "first"}).status_code == 200
        assert client.post("/__mock__/seed", json={"fixtures": "run_history"}).status_code == 200
    app.engine.close()
    with sqlite3.connect(state) as db:
        (seq,) = db.execute("SELECT max(seq) FROM writes").fetchone()
    run_id, kept_id, lost_id = "", "", ""

    def damage(entry: dict[str, Any]) -> None:
        nonlocal run_id, kept_id, lost_id
        run_id, events = entry["apps"]["A"]["diff"]["events"]["set"][0]
        kept_id, lost_id = list(events)[:2]
        events[lost_id]["batchSize"] = PLACEHOLDER

    put_unreadable(state, seq, "1e400", damage)
    app = opened(state)
    damaged = [w for w in app.control.replay_warnings if "is damaged" in w]
    assert len(damaged) == 1 and f"event {lost_id!r}" in damaged[0], app.control.replay_warnings
    with InProcessClient(app, headers=creds("A")) as client:
        events = client.get(f"/1/runs/{run_id}/events").json()["events"]
    assert [event["eventID"] for event in events] == [kept_id]


def test_a_kept_copy_never_replaces_an_earlier_one(tmp_path: Path) -> None:
    """Two damaged starts within one second each keep their original: the second copy takes
    another name instead of writing over the first (the names carry the second only)."""
    from mockserver.durability.log import StateLog

    log = StateLog(tmp_path / "state.db")
    try:
        now = time.time()
        earlier = [
            tmp_path / f"state.db.damaged-{time.strftime('%Y%m%dT%H%M%S', time.localtime(now + s))}"
            for s in (0, 1, 2)
        ]
        for path in earlier:
            path.write_bytes(b"an earlier original")
        kept = log.keep_copy()
    finally:
        log.close()
    assert all(path.read_bytes() == b"an earlier original" for path in earlier)
    assert kept not in earlier and kept.exists() and kept.name.startswith("state.db.damaged-")
