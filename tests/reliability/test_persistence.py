"""Why: "Persistence holes" — two servers shared one state file, one bad entry stopped start-up, a
full disk answered 500 and left phantom resources, every state-file error said "cannot load the
spec", and start-up time followed the whole history."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import httpx

from ..serve.conftest import STOP_TIMEOUT, Served, ServeFactory, mockserver_command, wait_until_healthy
from .conftest import headers, ok


def rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        (count,) = db.execute("SELECT COUNT(*) FROM writes").fetchone()
    return int(count)


def source_names(served: Served, app_id: str = "DURABLE") -> list[str]:
    with httpx.Client(base_url=served.url, headers=headers(app_id), timeout=30) as client:
        return sorted(
            s["name"] for s in ok(client.get("/1/sources", params={"itemsPerPage": 100}))["sources"]
        )


def test_one_server_per_state_file(serve: ServeFactory, tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    serve("--state-file", str(state))
    second = serve("--state-file", str(state), wait=False)
    assert second.wait() == 1
    assert f"{state}: in use by another mockserver" in second.stderr()


def test_a_bad_entry_is_skipped_with_a_warning_and_the_rest_comes_back(
    serve: ServeFactory, tmp_path: Path
) -> None:
    state = tmp_path / "state.db"
    first = serve("--state-file", str(state))
    with httpx.Client(base_url=first.url, headers=headers("DURABLE"), timeout=30) as client:
        ok(client.post("/1/sources", json={"type": "push", "name": "one"}))
    assert first.stop() == 0
    with sqlite3.connect(state) as db:  # an entry this version cannot replay, then a good write after it
        db.execute(
            "INSERT INTO writes (entry) VALUES (?)", (json.dumps({"kind": "control", "action": "gone"}),)
        )
    again = serve("--state-file", str(state))
    with httpx.Client(base_url=again.url, headers=headers("DURABLE"), timeout=30) as client:
        ok(client.post("/1/sources", json={"type": "push", "name": "two"}))
    assert f"{state}: row 2 skipped" in again.stderr()
    assert source_names(again) == ["one", "two"]


def test_empty_and_unreadable_state_files(serve: ServeFactory, tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    assert source_names(serve("--state-file", str(empty))) == []
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    refused = serve("--state-file", str(garbage), wait=False)
    assert refused.wait() == 1
    message = refused.stderr()
    assert str(garbage) in message and "cannot load the spec" not in message


def test_the_state_file_compacts_so_start_up_follows_the_live_state(
    serve: ServeFactory, tmp_path: Path
) -> None:
    state = tmp_path / "state.db"
    first = serve("--state-file", str(state), "--access-log", "off")
    with httpx.Client(base_url=first.url, headers=headers("DURABLE"), timeout=30) as client:
        for i in range(100):
            source_id = ok(client.post("/1/sources", json={"type": "push", "name": f"s{i}"}))["sourceID"]
            if i:
                ok(client.request("DELETE", f"/1/sources/{source_id}"))
    assert first.stop() == 0
    assert rows(state) == 199
    second = serve("--state-file", str(state))
    assert rows(state) == 1  # one image of the live state
    assert source_names(second) == ["s0"]


def test_a_failed_write_answers_503_and_changes_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    stderr_path = tmp_path / "full.stderr"
    # A file-size limit makes the disk "full" for the state file (and its WAL) after a few writes.
    argv = ["prlimit", "--fsize=400000", *mockserver_command(), "serve", "--port", "0", "--access-log", "off"]
    with stderr_path.open("wb") as stderr_file:
        process = subprocess.Popen(
            [*argv, "--state-file", str(state)], stderr=stderr_file, stdout=subprocess.DEVNULL
        )
        served = Served(process, stderr_path, argv)
        try:
            wait_until_healthy(served)
            statuses = []
            with httpx.Client(base_url=served.url, headers=headers("DURABLE"), timeout=30) as client:
                for i in range(40):
                    answer = client.post(
                        "/1/sources", json={"type": "push", "name": f"{i:02d}" + "p" * 60_000}
                    )
                    statuses.append(answer.status_code)
                    if answer.status_code != 200:
                        assert answer.status_code == 503, answer.text
                        body = answer.json()
                        assert body["error"]["code"] == "state_file_unavailable"
                        assert str(state) in body["message"]
                        break
                names = [
                    s["name"][:2]
                    for s in ok(client.get("/1/sources", params={"itemsPerPage": 100}))["sources"]
                ]
            acknowledged = statuses.count(200)
            assert 503 in statuses
            assert sorted(names) == [f"{i:02d}" for i in range(acknowledged)]  # no phantom
        finally:
            process.terminate()
            process.wait(STOP_TIMEOUT)
