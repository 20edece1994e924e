"""A shared server under a careless or hostile client (issue 14): ``python -m benchmarks.bench_shared``.

Rows (each against a real ``mockserver serve`` process on 127.0.0.1, except the start-up rows):

- another application's p99 latency (``GET /1/sources``, one request after another) while a push of
  20 records goes through a ``while (true) {}`` transformation (target < 100 ms);
- the same while a 10 MB push body is parsed and applied (target < 100 ms);
- RSS growth after six rejected 10 MB bodies (target: idle + 50 MB at most);
- start-up with a state file of 300,000 historical writes and no live resource: the first start
  (replays the history once, then compacts) and every later one (target < 0.5 s), measured as
  ``create_app(state_file=...)`` in-process, next to ``create_app()`` without a state file;
- the cost of a durable write (``createSource`` with a state file, the undo copy included) next to
  the same write without one, for an application holding 1,000 sources;
- cheap requests (issue 21): the server CPU time to refuse a 9.9 MB object of 1M keys the schema
  refuses (target < 1 s), and a normal client's success rate while 510 sockets that never send a byte
  are held open, renewed every second (target 100 %).

Register in ``benchmarks/__main__.py`` as a section (see :func:`rows`).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mockserver.http.app import create_app
from tests.reliability.conftest import headers, ok, pipeline, rss_bytes

SPIN = "async function transform(record, helper) { while (true) {} }"


@dataclass(frozen=True)
class Row:
    name: str
    value: float
    unit: str
    target: str  # e.g. "< 100"
    limit: float

    @property
    def met(self) -> bool:
        if self.target.startswith(">="):
            return self.value >= self.limit
        return self.value < self.limit if self.target.startswith("<") else self.value <= self.limit


@contextmanager
def _served(*args: str) -> Iterator[Any]:
    from tests.serve.conftest import start_mockserver

    folder = Path(tempfile.mkdtemp(prefix="bench-shared-"))
    served = start_mockserver(["--access-log", "off", *args], folder / "stderr")
    try:
        yield served
    finally:
        served.stop()


def _p99_while(url: str, work: Callable[[], None]) -> tuple[float, int]:
    """p99 (ms) and count of a bystander's sequential requests while ``work`` runs in a thread."""
    thread = threading.Thread(target=work, daemon=True)
    samples: list[float] = []
    with httpx.Client(base_url=url, headers=headers("BYSTANDER"), timeout=60) as other:
        other.get("/1/sources")
        thread.start()
        while thread.is_alive():
            started = time.perf_counter()
            other.get("/1/sources").raise_for_status()
            samples.append((time.perf_counter() - started) * 1000)
    thread.join()
    if len(samples) < 2:
        return (max(samples) if samples else float("nan")), len(samples)
    return statistics.quantiles(samples, n=100)[98], len(samples)


def latency_rows(quick: bool) -> list[Row]:
    rows = []
    with _served() as served, httpx.Client(base_url=served.url, headers=headers("SPIN"), timeout=120) as c:
        pipeline(c, "spin", SPIN)
        pipeline(c, "bulk", None)
        records = [{"objectID": str(i)} for i in range(20)]
        p99, n = _p99_while(
            served.url, lambda: ok(c.post("/1/push/spin", json={"action": "addObject", "records": records}))
        )
        rows.append(
            Row(f"p99 of another app during a spinning-transform push (n={n})", p99, "ms", "< 100", 100)
        )
        big = json.dumps(
            {"action": "addObject", "records": [{"objectID": str(i), "t": "x" * 180} for i in range(47_000)]}
        ).encode()

        def pushes() -> None:
            for _ in range(1 if quick else 3):
                ok(c.post("/1/push/bulk", content=big, headers={"content-type": "application/json"}))

        p99, n = _p99_while(served.url, pushes)
        rows.append(
            Row(
                f"p99 of another app while a {len(big) / 1e6:.1f} MB body is parsed (n={n})",
                p99,
                "ms",
                "< 100",
                100,
            )
        )
    return rows


def memory_rows() -> list[Row]:
    junk = json.dumps({"type": "push", "name": "big", "junk": ["y" * 1000] * 10_000}).encode()
    with _served() as served, httpx.Client(base_url=served.url, headers=headers("MEM"), timeout=120) as c:
        c.get("/1/sources")
        # One small refusal first: the first one loads the validator that explains refusals (about
        # 30 MB of modules, once); the row measures what the large bodies leave behind.
        c.post("/1/sources", json={"type": "push", "name": "warm-up", "junk": 1})
        idle = rss_bytes(served.pid)
        for _ in range(6):
            answer = c.post("/1/sources", content=junk, headers={"content-type": "application/json"})
            if answer.status_code != 400:
                raise RuntimeError(f"expected 400, got {answer.status_code}")
        grown = (rss_bytes(served.pid) - idle) / 2**20
    return [Row(f"RSS growth after six rejected {len(junk) / 1e6:.0f} MB bodies", grown, "MB", "<= 50", 50)]


def write_history(path: Path, writes: int) -> None:
    """A state file of ``writes`` acknowledged writes (sources created and deleted), nothing live."""
    policy = dict(mode="immediate", start_after=0.0, finish_after=1.0, outcome="success")
    policy.update(reason_code=None, reason=None)
    app = create_app(state_file=str(path))  # the file's schema, made by the mock itself
    app.engine.close()
    base = {
        "kind": "api",
        "app": "HISTORY",
        "query": {},
        "now": "2026-01-01T00:00:00+00:00",
        "policy": policy,
    }
    entries = []
    for _ in range(writes // 2):
        source_id = str(uuid.uuid4())
        body = {"type": "push", "name": "gone"}
        entries.append(
            {**base, "op": "createSource", "path": {}, "body": body, "missing": False, "ids": [source_id]}
        )
        gone = {"sourceID": source_id}
        entries.append({**base, "op": "deleteSource", "path": gone, "body": None, "missing": True, "ids": []})
    with sqlite3.connect(path) as db:
        db.executemany("INSERT INTO writes (entry) VALUES (?)", [(json.dumps(e),) for e in entries])


def _seconds(make: Callable[[], Any]) -> float:
    started = time.perf_counter()
    app = make()
    elapsed = time.perf_counter() - started
    app.engine.close()
    return elapsed


def startup_rows(writes: int) -> list[Row]:
    path = Path(tempfile.mkdtemp(prefix="bench-shared-")) / "history.db"
    write_history(path, writes)
    bare = min(_seconds(create_app) for _ in range(3))
    first = _seconds(lambda: create_app(state_file=str(path)))
    later = min(_seconds(lambda: create_app(state_file=str(path))) for _ in range(3))
    return [
        Row("create_app() without a state file", bare, "s", "< 0.5", 0.5),
        Row(
            f"start-up, {writes:,} historical writes, first start (replay + compact)", first, "s", "< 60", 60
        ),
        Row(f"start-up, {writes:,} historical writes, every later start", later, "s", "< 0.5", 0.5),
    ]


def durable_write_rows(sources: int = 1000, writes: int = 200) -> list[Row]:
    from starlette.testclient import TestClient

    rows = []
    state_file = str(Path(tempfile.mkdtemp()) / "s.db")
    for label, path in (("without", None), ("with", state_file)):
        app = create_app(state_file=path)
        with TestClient(app, headers=headers("DURABLE")) as client:
            for i in range(sources):
                client.post("/1/sources", json={"type": "push", "name": f"s{i}"})
            started = time.perf_counter()
            for i in range(writes):
                client.post("/1/sources", json={"type": "push", "name": f"w{i}"})
            per_write = (time.perf_counter() - started) / writes * 1000
        app.engine.close()
        rows.append(
            Row(f"createSource {label} a state file ({sources:,} sources held)", per_write, "ms", "< 50", 50)
        )
    return rows


def _cpu_seconds(pid: int) -> float:
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cheap_request_rows(quick: bool) -> list[Row]:
    import socket

    wide = {f"{i:x}": 0 for i in range(1_000_000)}
    body = json.dumps({"type": "json", "name": "wide", "input": wide}, separators=(",", ":")).encode()
    rows: list[Row] = []
    with _served() as served, httpx.Client(base_url=served.url, headers=headers("WIDE"), timeout=120) as c:
        c.post("/1/sources", json={"type": "json", "name": "x"})  # the refusal path warmed up
        before = _cpu_seconds(served.pid)
        answer = c.post("/1/sources", content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 400, answer.text[:200]
        spent = _cpu_seconds(served.pid) - before
        rows.append(
            Row(f"refuse a {len(body) / 1e6:.1f} MB body of 1M keys: server CPU", spent, "s", "< 1", 1)
        )
    with _served() as served:
        stop = threading.Event()

        def hold_silent() -> None:  # 510 sockets that never send a byte, renewed every second
            held: list[socket.socket] = []
            while not stop.is_set():
                fresh = [socket.create_connection(("127.0.0.1", served.port)) for _ in range(510)]
                for sock in held:
                    sock.close()
                held = fresh
                stop.wait(1.0)
            for sock in held:
                sock.close()

        holder = threading.Thread(target=hold_silent, daemon=True)
        holder.start()
        time.sleep(1.5)
        statuses: list[int] = []
        deadline = time.monotonic() + (3 if quick else 8)
        with httpx.Client(base_url=served.url, headers=headers("NORMAL"), timeout=30) as client:
            while time.monotonic() < deadline:
                try:
                    statuses.append(client.get("/1/sources").status_code)
                except httpx.HTTPError:
                    statuses.append(0)
        stop.set()
        holder.join(30)
        rate = 100.0 * statuses.count(200) / max(1, len(statuses))
        rows.append(
            Row(
                f"normal client's success rate, 510 silent sockets held (n={len(statuses)})",
                rate,
                "%",
                ">= 100",
                100,
            )
        )
    return rows


def rows(quick: bool = False) -> list[Row]:
    return [
        *cheap_request_rows(quick),
        *latency_rows(quick),
        *memory_rows(),
        *startup_rows(30_000 if quick else 300_000),
        *durable_write_rows(200 if quick else 1000, 50 if quick else 200),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="smaller runs (30,000 historical writes)")
    args = parser.parse_args()
    for row in rows(args.quick):
        verdict = "met" if row.met else "NOT met"
        print(f"{row.name:<75} {row.value:>10.3f} {row.unit:<3} target {row.target:<6} {verdict}")


if __name__ == "__main__":
    main()
