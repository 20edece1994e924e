"""One ``getSource`` from a test's point of view: through the in-process client, Starlette's
TestClient and a real socket.

Run: ``python -m benchmarks.bench_client [--requests 300] [--repeats 7]``

- ``InProcessClient`` (``mockserver.http.inprocess``): the httpx API straight into the ASGI app on a loop
  the client owns (when this tree has it);
- Starlette's ``TestClient``: what the ``ingestion_http`` fixture used (a thread portal per request);
- ``httpx.Client`` over a socket to the same app on ``LiveServer`` (uvicorn in a thread of this
  process, the ``ingestion_server`` fixture's path).

All three share one mock holding 25 sources, in alternation (round-robin repeats), in wall time
per request (what a test waits), median over ``--repeats``; also this process's CPU time per request.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.testclient import TestClient

from mockserver.http.live_server import LiveServer

from . import bench_inprocess as inproc

HEADERS = {"x-algolia-application-id": inproc.APP_ID, "x-algolia-api-key": "bench-key"}
INPROCESS = "InProcessClient"
TESTCLIENT = "Starlette TestClient"
SOCKET = "httpx over a socket (LiveServer)"


@dataclass(frozen=True)
class ClientCost:
    path: str
    wall_ms: float
    cpu_ms: float


def _time(get: Callable[[], Any], requests: int) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(requests):
        get()
    return (time.perf_counter() - wall) / requests * 1e3, (time.process_time() - cpu) / requests * 1e3


def client_costs(requests: int = 300, repeats: int = 7) -> list[ClientCost]:
    app, ids = inproc.seeded_mock()
    path = f"/1/sources/{ids[len(ids) // 2]}"
    clients: dict[str, Any] = {}
    closers: list[Callable[[], None]] = []
    server = LiveServer(app).start()
    closers.append(server.stop)
    try:
        if importlib.util.find_spec("mockserver.http.inprocess") is not None:
            from mockserver.http.inprocess import InProcessClient

            in_process = InProcessClient(app, base_url="http://ingestion.mock", headers=HEADERS)
            closers.append(in_process.close)
            clients[INPROCESS] = in_process
        test_client = TestClient(app, base_url="http://ingestion.mock", headers=HEADERS)
        test_client.__enter__()
        closers.append(lambda: test_client.__exit__(None, None, None))
        clients[TESTCLIENT] = test_client
        socket_client = httpx.Client(base_url=server.url, headers=HEADERS)
        closers.append(socket_client.close)
        clients[SOCKET] = socket_client
        gets: dict[str, Callable[[], Any]] = {
            name: functools.partial(client.get, path) for name, client in clients.items()
        }
        for name, get in gets.items():
            answer = get()
            assert answer.status_code == 200, (name, answer.text[:300])
            _time(get, max(20, requests // 10))
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in gets}
        for _ in range(repeats):
            for name, get in gets.items():
                samples[name].append(_time(get, requests))
            app.journal.clear()
        return [
            ClientCost(
                name,
                statistics.median(wall for wall, _ in values),
                statistics.median(cpu for _, cpu in values),
            )
            for name, values in samples.items()
        ]
    finally:
        for close in reversed(closers):
            close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    print("| path | ms per getSource (wall) | ms CPU of this process |")
    print("| --- | ---: | ---: |")
    for cost in client_costs(args.requests, args.repeats):
        print(f"| {cost.path} | {cost.wall_ms:.3f} | {cost.cpu_ms:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
