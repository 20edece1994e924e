"""How the mock scales: cost per request as the store grows, a 100,000-record push, and memory.

Run: ``python -m benchmarks.bench_scale [--quick] [--sizes 100,10000,100000] [--records N]``

- **get / list / paginate** (in-process ASGI, no socket, as ``bench_inprocess``): ``getSource`` of a
  source in the middle of the store, and ``listSources?itemsPerPage=10`` at page 1, a middle page
  and the last page, with 10,000 and 100,000 json sources stored, each timed in alternation with a
  mock holding 100 (so that whatever else the machine does hits both alike). The sources are put
  straight into ``app.store.account(...).sources`` (the shape ``createSource`` stores), one fresh
  mock per size. Medians over repeats, in µs of this process's CPU time per request.
- **push of 100,000 records** (in-process): 100 ``POST /1/push/products`` of 1,000 new records each
  (``{"objectID", "name", "price"}``) through one push task, bodies serialised beforehand; next to
  the same 100 bodies posted to a bare Starlette endpoint that parses them (CPU time). Also the
  second 50 pushes (index from 50,000 to 100,000 records) against the first 50 (from empty).
- **RSS**: ``VmRSS`` of a freshly started ``mockserver serve`` (after one health check), next to the
  bare Starlette app of ``bench_serve`` on a plain uvicorn server (importing nothing of mockserver,
  whose serving code brings the whole package along); then of another fresh
  ``mockserver serve`` after 1,000,000 records were pushed **through the HTTP API** in 1,000-record
  ``POST /1/push/products`` (same record shape), which also leaves the 1,000 push bodies in the
  mock's journal; and once more after ``DELETE /__mock__/journal`` (what Python gives back).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

from . import bench_inprocess as inproc
from . import bench_serve as serve

SIZES = (100, 10_000, 100_000)
# In-process timings count this process's CPU time: steadier than wall time on a machine other
# processes keep busy, and the same thing here (one thread, no I/O).
CLOCK = time.process_time
PER_PAGE = 10
INDEX = "products"


def record(i: int) -> dict[str, object]:
    return {"objectID": f"sku-{i:07d}", "name": f"Product {i}", "price": i}


def push_body(first: int, count: int) -> bytes:
    return json.dumps(
        {"action": "addObject", "records": [record(i) for i in range(first, first + count)]}
    ).encode()


# --- get / list / paginate as the store grows ----------------------------------------------------


@dataclass(frozen=True)
class ScaleCost:
    operation: str  # "getSource", "listSources page 1", "listSources middle page", "listSources last page"
    stored: int
    micros: float
    baseline_stored: int  # the small store it was measured against, in alternation
    baseline_micros: float


OPERATIONS = ("getSource", "listSources page 1", "listSources middle page", "listSources last page")


def _calls(size: int) -> dict[str, inproc.Call]:
    """A fresh mock holding ``size`` sources, and a call for each of OPERATIONS against it."""
    app, ids = inproc.seeded_mock(size)
    last_page = -(-size // PER_PAGE)
    pages = {
        "listSources page 1": 1,
        "listSources middle page": max(1, last_page // 2),
        "listSources last page": last_page,
    }
    middle_id = ids[size // 2]

    def listing(page: int) -> inproc.Call:
        query = f"itemsPerPage={PER_PAGE}&page={page}"
        return lambda: inproc.asgi_call(app, "GET", "/1/sources", query=query)

    return {
        "getSource": lambda: inproc.asgi_call(app, "GET", f"/1/sources/{middle_id}"),
        **{name: listing(page) for name, page in pages.items()},
    }


async def _timed(call: inproc.Call, requests: int) -> float:
    """µs per request of ``requests`` calls (CLOCK)."""
    started = CLOCK()
    for _ in range(requests):
        await call()
    return (CLOCK() - started) / requests * 1e6


async def _compare(small: int, sizes: tuple[int, ...], requests: int, repeats: int) -> list[ScaleCost]:
    small_calls = _calls(small)
    costs: list[ScaleCost] = []
    for size in sizes:
        calls = _calls(size)
        status, answer = await calls["listSources last page"]()
        assert status == 200 and json.loads(answer)["pagination"]["nbItems"] == size, answer[:300]
        for name in OPERATIONS:
            for call in (small_calls[name], calls[name]):  # warm-up
                assert (await call())[0] == 200
                await _timed(call, max(20, requests // 10))
            # Alternate the two stores, so that whatever else the machine does hits both alike.
            pairs = [
                (await _timed(small_calls[name], requests), await _timed(calls[name], requests))
                for _ in range(repeats)
            ]
            costs.append(
                ScaleCost(
                    name,
                    size,
                    statistics.median(big for _, big in pairs),
                    small,
                    statistics.median(little for little, _ in pairs),
                )
            )
        del calls
        gc.collect()
    return costs


def scale_costs(
    sizes: tuple[int, ...] = SIZES[1:], small: int = SIZES[0], requests: int = 300, repeats: int = 7
) -> list[ScaleCost]:
    """Each size in a fresh mock holding that many sources, timed in alternation with a mock holding
    ``small``: µs per request (CPU time) of each operation at both, medians over ``repeats``."""
    return asyncio.run(_compare(small, sizes, requests, repeats))


# --- push of 100,000 records ---------------------------------------------------------------------


@dataclass(frozen=True)
class PushMany:
    records: int
    pushes: int
    mock_seconds: float
    bare_seconds: float
    first_half_seconds: float  # the first half of the pushes (index from empty)
    second_half_seconds: float  # the second half (index half full to full)


async def _push_many(records: int, batch: int) -> PushMany:
    bodies = [push_body(first, min(batch, records - first)) for first in range(0, records, batch)]
    app = await inproc.push_ready_mock()
    path = f"/1/push/{INDEX}"
    _, answer = await inproc.asgi_call(await inproc.push_ready_mock(), "POST", path, bodies[0])
    bare = inproc.bare_app({}, {}, {}, json.loads(answer))
    for _ in range(3):  # warm-up: a throwaway mock
        await inproc.asgi_call(await inproc.push_ready_mock(), "POST", path, bodies[0])
        await inproc.asgi_call(bare, "POST", path, bodies[0])
    gc.collect()
    each: list[float] = []
    for body in bodies:
        started = CLOCK()
        status, answer = await inproc.asgi_call(app, "POST", path, body)
        each.append(CLOCK() - started)
        assert status == 200, answer[:300]
    stored = len(app.store.account(inproc.APP_ID).indexes[INDEX])
    assert stored == records, f"{stored} records indexed, not {records}"
    gc.collect()
    started = CLOCK()
    for body in bodies:
        status, answer = await inproc.asgi_call(bare, "POST", path, body)
        assert status == 200, answer[:300]
    bare_seconds = CLOCK() - started
    half = len(each) // 2
    return PushMany(records, len(bodies), sum(each), bare_seconds, sum(each[:half]), sum(each[half:]))


def push_many(records: int = 100_000, batch: int = 1000) -> PushMany:
    """``records`` new records in ``batch``-record pushes into one index, in-process."""
    return asyncio.run(_push_many(records, batch))


# --- memory --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Memory:
    idle_kib: int  # mockserver serve, just started
    bare_idle_kib: int  # bare Starlette on uvicorn, just started
    records: int  # pushed into the second mockserver serve
    fill_seconds: float
    loaded_kib: int  # after the pushes (index + the journal keeping the push bodies)
    journal_cleared_kib: int  # after DELETE /__mock__/journal


def idle_rss(folder: Path) -> tuple[int, int]:
    """VmRSS (KiB) of a fresh ``mockserver serve`` and a fresh bare Starlette app, both idle."""
    answers = folder / "answers.json"
    answers.write_text(json.dumps({"listSources": {}, "getSource": {}, "createSource": {}, "push": {}}))
    servers: list[serve.Server] = []
    try:
        mock = serve.start("mockserver serve (idle)", serve.mockserver_command(), folder)
        servers.append(mock)
        bare = serve.start("bare Starlette (idle)", serve.baseline_command(answers, plain=True), folder)
        servers.append(bare)
        time.sleep(0.2)
        return mock.rss_kib(), bare.rss_kib()
    finally:
        for server in servers:
            server.stop()


def loaded_rss(folder: Path, records: int, batch: int = 1000) -> tuple[float, int, int]:
    """Push ``records`` records through the HTTP API of a fresh ``mockserver serve``; return the fill
    time and VmRSS (KiB) after it, then after the journal is emptied."""
    mock = serve.start("mockserver serve (loaded)", serve.mockserver_command(), folder)
    try:
        headers = {**serve.HEADERS, "content-type": "application/json"}
        with httpx.Client(base_url=mock.url, headers=headers, timeout=60) as client:
            serve.make_push_pipeline(serve.poster(client), INDEX)

            def send(first: int) -> None:
                response = client.post(
                    f"/1/push/{INDEX}", content=push_body(first, min(batch, records - first))
                )
                response.raise_for_status()

            started = time.perf_counter()
            # Two at a time: one body is serialised here while the server parses the other.
            with ThreadPoolExecutor(max_workers=2) as pool:
                for future in [pool.submit(send, first) for first in range(0, records, batch)]:
                    future.result()
            fill_seconds = time.perf_counter() - started
            time.sleep(0.2)
            loaded = mock.rss_kib()
            client.delete("/__mock__/journal").raise_for_status()
            time.sleep(0.2)
            cleared = mock.rss_kib()
        return fill_seconds, loaded, cleared
    finally:
        mock.stop()


def memory(records: int = 1_000_000, batch: int = 1000) -> Memory:
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        folder = Path(tmp)
        idle, bare_idle = idle_rss(folder)
        fill_seconds, loaded, cleared = loaded_rss(folder, records, batch)
    return Memory(idle, bare_idle, records, fill_seconds, loaded, cleared)


# --- standalone ----------------------------------------------------------------------------------


def mib(kib: int) -> str:
    return f"{kib / 1024:,.1f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer repeats, a 100,000-record index for RSS")
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES), help="stored sources per run")
    parser.add_argument("--records", type=int, default=None, help="records pushed before the loaded RSS")
    args = parser.parse_args(argv)
    sizes = tuple(int(size) for size in args.sizes.split(","))
    requests, repeats = (100, 3) if args.quick else (300, 7)
    records = args.records or (100_000 if args.quick else 1_000_000)
    rows: list[tuple[str, str]] = []

    def add(name: str, value: str) -> None:
        rows.append((name, value))

    for cost in scale_costs(sizes[1:], sizes[0], requests, repeats):
        ratio = cost.micros / cost.baseline_micros
        add(
            f"{cost.operation}, {cost.stored:,} stored",
            f"{cost.micros:9.1f} µs vs {cost.baseline_micros:7.1f} µs at {cost.baseline_stored:,}: "
            f"{ratio:5.2f}x",
        )
    pushed = push_many()
    add(f"push {pushed.records:,} records ({pushed.pushes} x 1,000), mock", f"{pushed.mock_seconds:9.2f} s")
    add("  the same bodies, bare Starlette", f"{pushed.bare_seconds:9.2f} s")
    add(
        "  second half of the pushes / first half",
        f"{pushed.second_half_seconds / pushed.first_half_seconds:9.2f}x",
    )
    mem = memory(records)
    add("RSS idle, mockserver serve", mib(mem.idle_kib))
    add("RSS idle, bare Starlette", mib(mem.bare_idle_kib))
    add(f"RSS after {mem.records:,} records pushed over HTTP", mib(mem.loaded_kib))
    add("  then after DELETE /__mock__/journal", mib(mem.journal_cleared_kib))
    add(f"  time to push the {mem.records:,} records", f"{mem.fill_seconds:9.1f} s")
    width = max(len(name) for name, _ in rows)
    print(f"{'measure':<{width}}  value")
    print("-" * (width + 30))
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
