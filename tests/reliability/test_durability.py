"""Why (issue 21, "Acknowledged data lost"): writes on seeded data vanished after a restart without
``--fixtures``; one damaged field of an image emptied every application; a torn, BLOB or deeply
nested row stopped start-up; source records, run-time keys and fault rules were not durable;
control-plane writes that could not be made durable answered 500 and were applied anyway; a state
file deleted while serving lost every later write; a full disk refused start-up; an API key sent in
the query string was stored in clear. Each is reproduced here against ``mockserver serve``, and the
restart matrix holds every acknowledged write across restarts with and without ``--fixtures``."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver import create_app
from mockserver.http.inprocess import InProcessClient

from ..serve.conftest import STOP_TIMEOUT, Served, ServeFactory, mockserver_command, wait_until_healthy
from .conftest import headers, ok

SOURCE = "0a1b2c3d-0000-4000-8000-000000000201"  # seeded by the catalog data set
DESTINATION = "0a1b2c3d-0000-4000-8000-000000000301"
CATALOG = ("--fixtures", "catalog")


def client(served: Served, app_id: str, key: str = "some-key") -> httpx.Client:
    return served.client(app_id, key)


def add_row(path: Path, value: Any) -> None:
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO writes (entry) VALUES (?)", (value,))


def rows(path: Path) -> list[Any]:
    with sqlite3.connect(path) as db:
        return [text for (text,) in db.execute("SELECT entry FROM writes ORDER BY seq")]


def change_image(path: Path, change: Any) -> None:
    """Change the image row of a compacted state file (its first row) in place."""
    with sqlite3.connect(path) as db:
        seq, text = db.execute("SELECT seq, entry FROM writes ORDER BY seq LIMIT 1").fetchone()
        image = json.loads(text)
        assert image["action"] == "image"
        change(image)
        db.execute("UPDATE writes SET entry = ? WHERE seq = ?", (json.dumps(image), seq))


ORDERS = [(True, False, True, False), (False, True, False, True), (True, True, False, False)]


@pytest.mark.parametrize("order", ORDERS, ids=["on-off-on-off", "off-on-off-on", "on-on-off-off"])
def test_restart_matrix(serve: ServeFactory, tmp_path: Path, order: tuple[bool, ...]) -> None:
    """Writes on seeded and unseeded data, restarts with and without --fixtures, kill -9 and
    SIGTERM, a torn last row, a damaged image record: every acknowledged write comes back, and
    the one loss (the damaged record) is named in a warning."""
    state = tmp_path / "state.db"
    expected: dict[tuple[str, str], str] = {}  # (app, path) -> the name it must show
    tasks: dict[tuple[str, str], str] = {}  # (app, task path) -> its destinationID
    shared_first = ""  # the path of the source SHARED's first phase made
    for phase, fixtures in enumerate(order):
        served = serve("--state-file", str(state), *(CATALOG if fixtures else ()))
        for (app_id, path), name in expected.items():
            with client(served, app_id) as c:
                answer = c.get(path)
                assert answer.status_code == 200 and answer.json()["name"] == name, (phase, path, answer.text)
        for (app_id, path), destination in tasks.items():
            with client(served, app_id) as c:
                assert ok(c.get(path))["destinationID"] == destination
        if phase == 2:  # the first phase's source was damaged in the image: lost, and named
            assert "application 'P0': sources[" in served.stderr()
            assert "is damaged (not an [ID, record] pair): that record is lost" in served.stderr()
        if phase == 1:
            assert "is not valid JSON (a torn write?)" in served.stderr()
        with client(served, f"P{phase}") as c:  # a new application (seeded when fixtures are on)
            created = ok(c.post("/1/sources", json={"type": "push", "name": f"p{phase}"}))["sourceID"]
            expected[(f"P{phase}", f"/1/sources/{created}")] = f"p{phase}"
            if fixtures:  # writes on seeded data
                ok(c.patch(f"/1/sources/{SOURCE}", json={"name": f"renamed{phase}"}))
                expected[(f"P{phase}", f"/1/sources/{SOURCE}")] = f"renamed{phase}"
                task = ok(
                    c.post(
                        "/2/tasks", json={"sourceID": created, "destinationID": DESTINATION, "action": "save"}
                    )
                )["taskID"]
                tasks[(f"P{phase}", f"/2/tasks/{task}")] = DESTINATION
        with client(served, "SHARED") as c:  # one application written in every phase
            created = ok(c.post("/1/sources", json={"type": "push", "name": f"shared{phase}"}))["sourceID"]
            expected[("SHARED", f"/1/sources/{created}")] = f"shared{phase}"
            if phase:  # and a change to what an earlier phase wrote
                ok(c.patch(shared_first, json={"name": f"shared0-{phase}"}))
                expected[("SHARED", shared_first)] = f"shared0-{phase}"
            else:
                shared_first = f"/1/sources/{created}"
        if phase % 2:
            served.kill()
        else:
            assert served.stop() == 0
        if phase == 0:  # a torn last row: not an acknowledged write
            add_row(state, '{"kind": "change", "apps": {"SHARED": {"diff": {"sources": {"se')
        if phase == 1:  # damage the first phase's source in the image

            def damage(image: dict[str, Any]) -> None:
                image["accounts"]["P0"]["sources"] = [
                    "damaged" if pair[1]["name"] == "p0" else pair
                    for pair in image["accounts"]["P0"]["sources"]
                ]

            change_image(state, damage)
            del expected[next(key for key, name in expected.items() if name == "p0")]
    served = serve("--state-file", str(state))
    for (app_id, path), name in expected.items():
        with client(served, app_id) as c:
            assert ok(c.get(path))["name"] == name


def test_a_write_on_seeded_data_survives_a_restart_without_fixtures(
    serve: ServeFactory, tmp_path: Path
) -> None:
    state = tmp_path / "state.db"
    first = serve("--state-file", str(state), *CATALOG)
    with client(first, "CAT") as c:
        ok(c.patch(f"/1/sources/{SOURCE}", json={"name": "renamed"}))
        push = ok(c.post("/1/sources", json={"type": "push", "name": "p"}))["sourceID"]
        task = ok(c.post("/2/tasks", json={"sourceID": push, "destinationID": DESTINATION, "action": "save"}))
    assert first.stop() == 0
    for args in ((), CATALOG):
        again = serve("--state-file", str(state), *args)
        with client(again, "CAT") as c:
            assert ok(c.get(f"/1/sources/{SOURCE}"))["name"] == "renamed"
            assert ok(c.get(f"/2/tasks/{task['taskID']}"))["destinationID"] == DESTINATION
        assert "skipped" not in again.stderr() and "lost" not in again.stderr()
        assert again.stop() == 0


def two_applications(serve: ServeFactory, state: Path) -> None:
    first = serve("--state-file", str(state))
    for app_id in ("GOOD", "BAD"):
        with client(first, app_id) as c:
            for name in ("a", "b"):
                ok(c.post("/1/sources", json={"type": "push", "name": name}))
    assert first.stop() == 0
    assert serve("--state-file", str(state)).stop() == 0  # compacts to one image


def names(served: Served, app_id: str) -> list[str]:
    with client(served, app_id) as c:
        return sorted(s["name"] for s in ok(c.get("/1/sources"))["sources"])


def test_damage_in_an_image_costs_only_what_is_damaged(serve: ServeFactory, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    two_applications(serve, state)

    def damage(image: dict[str, Any]) -> None:
        image["clock"] = "a bad clock"
        image["accounts"]["BAD"]["sources"][0][1] = "a bad source record"

    change_image(state, damage)
    served = serve("--state-file", str(state))
    stderr = served.stderr()
    assert "the server's clock is damaged" in stderr and "application 'BAD'" in stderr
    assert names(served, "GOOD") == ["a", "b"] and len(names(served, "BAD")) == 1
    assert list(tmp_path.glob("state.db.damaged-*"))  # the original is kept beside the file


def test_a_file_of_a_newer_release_is_refused_and_left_as_it_is(serve: ServeFactory, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    two_applications(serve, state)
    change_image(state, lambda image: image.update(version=99))
    before = rows(state)
    refused = serve("--state-file", str(state), wait=False)
    assert refused.wait() == 1
    assert (
        "written by a newer mockserver" in refused.stderr() and "cannot load the spec" not in refused.stderr()
    )
    assert rows(state) == before


def test_torn_blob_and_deep_rows_are_skipped_and_named(serve: ServeFactory, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    first = serve("--state-file", str(state))
    with client(first, "ROWS") as c:
        ok(c.post("/1/sources", json={"type": "push", "name": "kept"}))
    first.kill()
    add_row(state, b"\x00binary")
    add_row(state, "[" * 200_000 + "]" * 200_000)
    add_row(state, '{"kind": "change", "apps": {"ROWS": {"diff": {"sources": {"se')
    served = serve("--state-file", str(state))
    stderr = served.stderr()
    assert f"{state}: row 2 skipped: it holds a BLOB" in stderr
    assert f"{state}: row 3 skipped" in stderr and f"{state}: row 4 skipped" in stderr
    assert "AttributeError" not in stderr and "RecursionError" not in stderr
    assert names(served, "ROWS") == ["kept"]


def test_source_records_keys_and_faults_are_durable(serve: ServeFactory, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    first = serve("--state-file", str(state))
    with client(first, "STEER") as c:
        source = ok(
            c.post("/1/sources", json={"type": "json", "name": "j", "input": {"url": "https://x/y.json"}})
        )
        destination = ok(
            c.post("/1/destinations", json={"type": "search", "name": "d", "input": {"indexName": "i"}})
        )
        link = {"sourceID": source["sourceID"], "destinationID": destination["destinationID"]}
        task = ok(c.post("/2/tasks", json={**link, "action": "replace"}))["taskID"]
        ok(c.put(f"/__mock__/sources/{source['sourceID']}/records", json={"records": [{"objectID": "1"}]}))
        ok(c.post("/__mock__/keys", json={"apiKey": "SEARCH-ONLY", "acl": ["search"]}))
        ok(c.post("/__mock__/faults", json={"operation": "listTasks", "status": 502}))
    first.kill()
    again = serve("--state-file", str(state))
    with client(again, "STEER") as c:
        run = ok(c.post(f"/2/tasks/{task}/run"))["runID"]
        assert ok(c.get(f"/1/runs/{run}"))["outcome"] == "success"  # it fetched the records
        assert c.get("/2/tasks").status_code == 502
    with client(again, "STEER", "SEARCH-ONLY") as c:
        assert c.post("/1/sources", json={"type": "push", "name": "x"}).status_code == 403


def test_control_writes_on_a_locked_file_are_503_and_not_applied(serve: ServeFactory, tmp_path: Path) -> None:
    """A reset while another process holds the file's write lock: it waits the default
    ``BUSY_TIMEOUT`` (5 s) for the lock, then answers 503 and changes nothing, here or after a
    restart. Every control write on a locked file (and on a full disk) is checked in process, with
    a short wait: tests/http/test_durability.py."""
    state = tmp_path / "state.db"
    served = serve("--state-file", str(state))
    with client(served, "LOCKED") as c:
        ok(c.post("/1/sources", json={"type": "push", "name": "kept"}))
        blocker = sqlite3.connect(state, timeout=1, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            answer = c.post("/__mock__/reset", json={})
            assert answer.status_code == 503, answer.text
            assert answer.json()["error"]["code"] == "state_file_unavailable"
            assert "database is locked" in answer.json()["message"]
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert names(served, "LOCKED") == ["kept"]
    served.kill()
    again = serve("--state-file", str(state))
    assert names(again, "LOCKED") == ["kept"]


def test_a_state_file_deleted_while_serving_refuses_writes(serve: ServeFactory, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    served = serve("--state-file", str(state))
    with client(served, "GONE") as c:
        ok(c.post("/1/sources", json={"type": "push", "name": "a"}))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{state}{suffix}").unlink(missing_ok=True)
        answer = c.post("/1/sources", json={"type": "push", "name": "b"})
        assert answer.status_code == 503 and "was deleted while the server ran" in answer.json()["message"]
        assert c.post("/__mock__/clock", json={"advance": 1}).status_code == 503
        assert names(served, "GONE") == ["a"]


def test_a_full_disk_at_start_up_serves_what_is_there_and_refuses_writes(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    limit = 200_000
    # Write more than the limit, then start under a file-size limit: the start-up compaction (an
    # image as big as the state) cannot be written, nor can a big write.
    app = create_app(state_file=str(state))
    with InProcessClient(app, headers=headers("FULL")) as c:
        for i in range(8):
            ok(c.post("/1/sources", json={"type": "push", "name": f"{i}" + "x" * 40_000}))
    app.engine.close()
    stderr_path = tmp_path / "full.stderr"
    argv = [f"--fsize={limit}", *mockserver_command(), "serve", "--port", "0", "--state-file", str(state)]
    with stderr_path.open("wb") as stderr_file:
        process = subprocess.Popen(["prlimit", *argv], stderr=stderr_file, stdout=subprocess.DEVNULL)
        served = Served(process, stderr_path, argv)
        try:
            wait_until_healthy(served)
            assert "serving the state read from it" in served.stderr()
            with client(served, "FULL") as c:
                assert len(ok(c.get("/1/sources"))["sources"]) == 8
                answer = c.post("/1/sources", json={"type": "push", "name": "y" * 300_000})
                assert (
                    answer.status_code == 503 and answer.json()["error"]["code"] == "state_file_unavailable"
                )
                assert len(ok(c.get("/1/sources"))["sources"]) == 8
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(STOP_TIMEOUT)


def test_an_api_key_in_the_query_string_is_not_stored(serve: ServeFactory, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    served = serve("--state-file", str(state))
    with httpx.Client(base_url=served.url, timeout=30) as c:
        answer = c.post(
            "/1/sources",
            params={"x-algolia-api-key": "QUERY-SECRET-KEY", "x-algolia-application-id": "QS"},
            json={"type": "push", "name": "s"},
        )
        assert answer.status_code == 200, answer.text
    served.kill()
    with open(state, "rb") as f:
        content = f.read()
    wal = Path(f"{state}-wal")
    if wal.exists():
        content += wal.read_bytes()
    assert b"QUERY-SECRET-KEY" not in content and os.path.getsize(state) > 0
