"""In-process cost of the mock: ASGI calls with no socket, next to a bare Starlette JSON endpoint.

Run: ``python -m benchmarks.bench_inprocess [--requests N] [--repeats R]``

Every ASGI call is driven by a minimal hand-made scope/receive/send loop inside one asyncio loop,
so the numbers are the application's own cost (routing, credentials, body parsing, validation,
the handler, serialisation), with no HTTP client or server in the way. Each bare endpoint answers
the same JSON as the mock operation it is compared with, measured the same way in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Scope

from mockserver.engine import indexes
from mockserver.http.app import MockApp, create_app
from mockserver.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
APP_ID = "BENCHAPP"
HEADERS = [
    (b"host", b"mock"),
    (b"x-algolia-application-id", APP_ID.encode()),
    (b"x-algolia-api-key", b"bench-key"),
    (b"user-agent", b"bench"),
]
SOURCE_BODY = json.dumps(
    {"type": "json", "name": "feed", "input": {"url": "https://example.com/feed.json"}}
).encode()
LISTED_SOURCES = 25  # the store listSources pages through (10 per page, the default)
PUSH_BODY = json.dumps(
    {
        "action": "addObject",
        "records": [{"objectID": f"sku-{i}", "name": f"Product {i}", "price": i} for i in range(1000)],
    }
).encode()
PUSH_SHARE = 40  # pushes are slow: they run requests // PUSH_SHARE times per repeat
SEARCH_RECORDS = 10_000  # the index searchSingleIndex and getObject read (issue 23)
SEARCH_BODY = json.dumps({"query": "wireless pho", "filters": "brand:Sony AND price < 500"}).encode()
SEARCH_SHARE = 10  # a search over 10,000 records runs requests // SEARCH_SHARE times per repeat
SEARCH_TARGET_MS = 5.0
_WORDS = ("red", "blue", "smart", "fast", "wireless", "premium", "compact", "portable")
_NOUNS = ("phone", "laptop", "tablet", "headphones", "camera", "speaker", "watch", "television")
_BRANDS = ("Apple", "Samsung", "Sony", "LG", "Bose", "Dell", "Lenovo")


async def asgi_call(
    app: ASGIApp, method: str, path: str, body: bytes = b"", query: str = ""
) -> tuple[int, bytes]:
    """One request through ``app`` (``query``: the query string, no ``?``): its status and body."""
    headers = list(HEADERS)
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("mock", 80),
    }
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    status = 0
    chunks: list[bytes] = []

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


Call = Callable[[], Awaitable[tuple[int, bytes]]]


@dataclass
class Row:
    operation: str
    micros: float
    bare: str | None  # the row it is compared with


async def measure(
    call: Call, requests: int, repeats: int, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Median over ``repeats`` runs of ``requests`` calls, in µs per request.

    ``clock``: ``time.perf_counter`` (wall time, the default) or ``time.process_time`` (this
    process's CPU time: steadier on a machine other processes keep busy; there is no I/O here).
    """
    status, body = await call()
    assert status == 200, (status, body[:300])
    for _ in range(max(50, requests // 10)):  # warm-up: caches, compiled validators
        await call()
    samples = []
    for _ in range(repeats):
        start = clock()
        for _ in range(requests):
            await call()
        samples.append((clock() - start) / requests * 1e6)
    return statistics.median(samples)


async def measure_together(
    calls: list[tuple[Call, int]], repeats: int, clock: Callable[[], float] = time.perf_counter
) -> list[float]:
    """As ``measure`` for each ``(call, requests)``, with the repeats taken round-robin, so that
    whatever else the machine does meanwhile hits every call alike."""
    for call, requests in calls:
        status, body = await call()
        assert status == 200, (status, body[:300])
        for _ in range(max(50, requests // 10)):
            await call()
    samples: list[list[float]] = [[] for _ in calls]
    for _ in range(repeats):
        for (call, requests), taken in zip(calls, samples, strict=True):
            start = clock()
            for _ in range(requests):
                await call()
            taken.append((clock() - start) / requests * 1e6)
    return [statistics.median(taken) for taken in samples]


def bare_app(
    source: dict[str, Any], listing: dict[str, Any], created: dict[str, Any], pushed: dict[str, Any]
) -> Starlette:
    """Plain Starlette endpoints answering the same JSON as the mock operations they stand in for."""

    async def get_source(request: Request) -> Response:
        return JSONResponse(source)

    async def list_sources(request: Request) -> Response:
        return JSONResponse(listing)

    async def create_source(request: Request) -> Response:
        await request.json()
        return JSONResponse(created)

    async def push(request: Request) -> Response:
        await request.json()
        return JSONResponse(pushed)

    return Starlette(
        routes=[
            Route("/1/sources", list_sources, methods=["GET"]),
            Route("/1/sources", create_source, methods=["POST"]),
            Route("/1/sources/{sourceID}", get_source, methods=["GET"]),
            Route("/1/push/{indexName}", push, methods=["POST"]),
        ]
    )


def seeded_mock(count: int = LISTED_SOURCES, **options: Any) -> tuple[MockApp, list[str]]:
    """A mock holding ``count`` json sources, put straight into its store; their IDs, oldest first."""
    app = create_app(seed=1, **options)
    account = app.store.account(APP_ID)
    now = app.store.clock.timestamp()
    ids = []
    for i in range(count):
        source_id = app.store.ids.new()
        account.sources[source_id] = {
            "sourceID": source_id,
            "type": "json",
            "name": f"feed {i}",
            "input": {"url": f"https://example.com/{i}.json"},
            "createdAt": now,
            "updatedAt": now,
        }
        ids.append(source_id)
    return app, ids


async def push_ready_mock() -> MockApp:
    """A mock with a push source, a destination on index "products" and the task between them."""
    app = create_app(seed=4)

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        status, answer = await asgi_call(app, "POST", path, json.dumps(body).encode())
        assert status == 200, answer
        created: dict[str, Any] = json.loads(answer)
        return created

    source = await post("/1/sources", {"type": "push", "name": "push"})
    destination = await post(
        "/1/destinations", {"type": "search", "name": "products", "input": {"indexName": "products"}}
    )
    await post(
        "/2/tasks",
        {"sourceID": source["sourceID"], "destinationID": destination["destinationID"], "action": "save"},
    )
    return app


def catalog_records(count: int) -> list[dict[str, Any]]:
    """``count`` product records, the same every run (no randomness): every combination of two
    words and a noun comes round, brands and prices cycle at other strides."""
    return [
        {
            "objectID": f"sku-{i}",
            "name": f"{_WORDS[i % 8]} {_WORDS[(i // 8) % 8]} {_NOUNS[(i // 64) % 8]} model {i}",
            "brand": _BRANDS[i % 7],
            "price": (i * 37) % 2000,
            "popularity": (i * 53) % 1000,
        }
        for i in range(count)
    ]


def search_ready_mock() -> MockApp:
    """A mock whose index "catalog" holds SEARCH_RECORDS records and search settings, put straight
    into its store (the records as a push leaves them: a packed Index)."""
    app = create_app(seed=5)
    account = app.store.account(APP_ID)
    indexes.apply(account.indexes, "catalog", "addObject", catalog_records(SEARCH_RECORDS))
    account.index_settings["catalog"] = {
        "searchableAttributes": ["name", "brand"],
        "attributesForFaceting": ["brand"],
        "customRanking": ["desc(popularity)"],
    }
    return app


async def inprocess_rows(
    requests: int, repeats: int, clock: Callable[[], float] = time.perf_counter
) -> list[Row]:
    mock, listed_ids = seeded_mock()
    checked, checked_ids = seeded_mock(check_responses=True)
    source_id, checked_id = listed_ids[-1], checked_ids[-1]
    creating = create_app(seed=2)  # createSource grows its store; kept apart from the listed one
    source_path = f"/1/sources/{source_id}"

    _, source = await asgi_call(mock, "GET", source_path)
    _, listing = await asgi_call(mock, "GET", "/1/sources")
    _, created = await asgi_call(create_app(seed=3), "POST", "/1/sources", SOURCE_BODY)
    pushing = await push_ready_mock()
    _, pushed = await asgi_call(pushing, "POST", "/1/push/products", PUSH_BODY)
    bare = bare_app(json.loads(source), json.loads(listing), json.loads(created), json.loads(pushed))
    few = max(20, requests // PUSH_SHARE)
    searching = search_ready_mock()
    _, found = await asgi_call(searching, "POST", "/1/indexes/catalog/query", SEARCH_BODY)
    assert json.loads(found)["nbHits"] > 0, found[:300]
    searches = max(20, requests // SEARCH_SHARE)

    cases: list[tuple[str, Call, str | None, int]] = [
        ("bare GET (source JSON)", lambda: asgi_call(bare, "GET", source_path), None, requests),
        ("bare GET (list JSON)", lambda: asgi_call(bare, "GET", "/1/sources"), None, requests),
        (
            "bare POST (parse + JSON)",
            lambda: asgi_call(bare, "POST", "/1/sources", SOURCE_BODY),
            None,
            requests,
        ),
        (
            "bare POST (1,000 records)",
            lambda: asgi_call(bare, "POST", "/1/push/products", PUSH_BODY),
            None,
            few,
        ),
        ("getSource", lambda: asgi_call(mock, "GET", source_path), "bare GET (source JSON)", requests),
        (
            "listSources (10 of 25)",
            lambda: asgi_call(mock, "GET", "/1/sources"),
            "bare GET (list JSON)",
            requests,
        ),
        (
            "createSource",
            lambda: asgi_call(creating, "POST", "/1/sources", SOURCE_BODY),
            "bare POST (parse + JSON)",
            requests,
        ),
        (
            "push (1,000 records)",
            lambda: asgi_call(pushing, "POST", "/1/push/products", PUSH_BODY),
            "bare POST (1,000 records)",
            few,
        ),
        (
            "getObject (10,000 records)",
            lambda: asgi_call(searching, "GET", "/1/indexes/catalog/sku-5000"),
            "bare GET (source JSON)",
            requests,
        ),
        (
            "searchSingleIndex (query + filter, 10,000 records)",
            lambda: asgi_call(searching, "POST", "/1/indexes/catalog/query", SEARCH_BODY),
            "getObject (10,000 records)",
            searches,
        ),
        (
            "getSource, check_responses=True",
            lambda: asgi_call(checked, "GET", f"/1/sources/{checked_id}"),
            "bare GET (source JSON)",
            requests,
        ),
        (
            "listSources, check_responses=True",
            lambda: asgi_call(checked, "GET", "/1/sources"),
            "bare GET (list JSON)",
            requests,
        ),
    ]
    micros = await measure_together([(call, count) for _, call, _, count in cases], repeats, clock)
    return [Row(name, us, compared) for (name, _, compared, _), us in zip(cases, micros, strict=True)]


def fresh_process_values(code: str, runs: int) -> list[float]:
    """Medians of the numbers ``code`` prints on its last line, each run in a new interpreter."""
    samples: list[list[float]] = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True, timeout=120
        ).stdout
        samples.append([float(value) for value in out.strip().splitlines()[-1].split()])
    return [statistics.median(column) for column in zip(*samples, strict=True)]


def fresh_process_seconds(code: str, runs: int) -> float:
    """Median of what ``code`` prints (a duration in seconds), each run in a new interpreter."""
    return fresh_process_values(code, runs)[-1]


IMPORT_CODE = """
import time
t = time.perf_counter()
import mockserver
print(time.perf_counter() - t)
"""

IMPORT_APP_CODE = """
import time
t = time.perf_counter()
import mockserver.http.app, mockserver.spec
print(time.perf_counter() - t)
"""

FIRST_APP_CODE = """
import time
import mockserver.http.app, mockserver.spec
t = time.perf_counter()
mockserver.http.app.create_app(mockserver.spec.load_spec())
print(time.perf_counter() - t)
"""

BARE_IMPORT_CODE = """
import time
t = time.perf_counter()
import starlette.applications, starlette.responses
print(time.perf_counter() - t)
"""


def startup_rows(runs: int) -> list[tuple[str, float]]:
    spec = load_spec()
    samples = []
    for _ in range(20):
        start = time.perf_counter()
        create_app(spec)
        samples.append(time.perf_counter() - start)
    return [
        ("import starlette (for scale)", fresh_process_seconds(BARE_IMPORT_CODE, runs)),
        ("import mockserver", fresh_process_seconds(IMPORT_CODE, runs)),
        ("import mockserver.http.app + mockserver.spec", fresh_process_seconds(IMPORT_APP_CODE, runs)),
        ("then load_spec() + create_app(), first time", fresh_process_seconds(FIRST_APP_CODE, runs)),
        ("create_app(spec) again, spec cached (in-process)", statistics.median(samples)),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=500, help="requests per repeat (default 500)")
    parser.add_argument("--repeats", type=int, default=7, help="repeats; the median is shown (default 7)")
    parser.add_argument("--startup-runs", type=int, default=5, help="fresh processes per startup timing")
    parser.add_argument(
        "--cpu-time", action="store_true", help="time with process CPU time instead of wall time"
    )
    args = parser.parse_args(argv)

    clock = time.process_time if args.cpu_time else time.perf_counter
    rows = asyncio.run(inprocess_rows(args.requests, args.repeats, clock))
    by_name = {row.operation: row for row in rows}
    print(
        f"In-process ASGI, no socket: median of {args.repeats} repeats of {args.requests} requests "
        f"({max(20, args.requests // PUSH_SHARE)} for the 1,000-record POSTs), "
        f"{'CPU' if args.cpu_time else 'wall'} time"
    )
    print()
    print(f"| {'operation':<52} | {'µs/request':>10} | {'ratio vs bare':>13} |")
    print(f"| {'-' * 52} | {'-' * 10}:| {'-' * 13}:|")
    for row in rows:
        ratio = f"{row.micros / by_name[row.bare].micros:.1f}x" if row.bare else "1.0x"
        print(f"| {row.operation:<52} | {row.micros:>10.1f} | {ratio:>13} |")
    print()
    print(f"Startup: median of {args.startup_runs} fresh interpreters (last row: of 20 in this process)")
    print()
    print(f"| {'step':<50} | {'ms':>8} |")
    print(f"| {'-' * 50} | {'-' * 8}:|")
    for name, seconds in startup_rows(args.startup_runs):
        print(f"| {name:<50} | {seconds * 1000:>8.1f} |")


if __name__ == "__main__":
    main()
