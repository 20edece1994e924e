"""The 10,000-record push pipeline through the real client, next to bare Starlette round trips.

Run: ``python -m benchmarks.bench_pipeline [--records N] [--batch-size B] [--repeats R]``

Three ways to make the same HTTP round trips (N/B POSTs of B-record payloads, then N/B GETs),
each against a server run the same way (uvicorn in a thread, ``mockserver.http.live_server.LiveServer``):

1. ``chunked_push(wait_for_tasks=True)`` of the real ``IngestionClientSync`` against the mock;
2. the same ``chunked_push`` against bare Starlette endpoints that parse the body and answer fixed
   JSON of the right shape (same client cost, so the difference is the mock's server-side work);
3. plain ``httpx`` round trips to those bare endpoints, with the payloads serialised beforehand
   (the floor: HTTP on loopback and nothing else; TCP_NODELAY on the client side, like requests).

Everything runs twice: with the servers' sockets as ``LiveServer`` makes them, and with TCP_NODELAY
set on them (see ``set_nodelay``: as is, each kept-alive request waits ~40 ms on Nagle + delayed ACK).
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx
from algoliasearch.http.hosts import Host, HostsCollection
from algoliasearch.ingestion.client import IngestionClientSync
from algoliasearch.ingestion.config import IngestionConfig
from algoliasearch.ingestion.models.action import Action
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver.http.app import MockApp, create_app
from mockserver.http.live_server import LiveServer

APP_ID = "BENCHAPP"
API_KEY = "bench-key"
INDEX = "products"
CREATED_AT = "2026-01-01T00:00:00Z"


def product(i: int) -> dict[str, Any]:
    return {
        "objectID": f"sku-{i:05d}",
        "name": f"Product {i}",
        "price": round(i * 1.25, 2),
        "inStock": i % 3 != 0,
        "tags": [f"t{i % 7}", f"t{i % 11}"],
        "dimensions": {"w": i % 100, "h": (i * 7) % 100},
    }


def bare_app() -> Starlette:
    """The two endpoints chunked_push uses, with no logic: parse the body, answer fixed JSON."""
    counter = 0

    async def push(request: Request) -> Response:
        nonlocal counter
        payload = await request.json()
        counter += 1
        assert len(payload["records"]) > 0
        return JSONResponse(
            {
                "runID": f"run-{counter}",
                "eventID": f"event-{counter}",
                "message": "OK",
                "createdAt": CREATED_AT,
            }
        )

    async def get_event(request: Request) -> Response:
        return JSONResponse(
            {
                "eventID": request.path_params["eventID"],
                "runID": request.path_params["runID"],
                "status": "succeeded",
                "type": "record",
                "batchSize": 1000,
                "publishedAt": CREATED_AT,
            }
        )

    return Starlette(
        routes=[
            Route("/1/push/{indexName}", push, methods=["POST"]),
            Route("/1/runs/{runID}/events/{eventID}", get_event, methods=["GET"]),
        ]
    )


def client_for(server: LiveServer) -> IngestionClientSync:
    config = IngestionConfig(APP_ID, API_KEY, "us")
    config.hosts = HostsCollection([Host(server.host, scheme="http", port=server.port)])
    return IngestionClientSync.create_with_config(config)


def prepare_mock(app: MockApp, client: IngestionClientSync) -> None:
    """An empty store with a push source, a destination on INDEX and their task (not timed)."""
    app.store.reset()
    source_id = client.create_source({"type": "push", "name": "push"}).source_id
    destination_id = client.create_destination(
        {"type": "search", "name": INDEX, "input": {"indexName": INDEX}}
    ).destination_id
    client.create_task({"sourceID": source_id, "destinationID": destination_id, "action": "save"})


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def set_nodelay(server: LiveServer) -> None:
    """TCP_NODELAY on the listening socket (Linux passes it on to accepted connections).

    LiveServer binds a ``socket.socket(AF_INET, SOCK_STREAM)`` (proto 0) and hands it to uvicorn;
    asyncio only sets TCP_NODELAY on connections whose socket says proto IPPROTO_TCP, so uvicorn's
    two writes per response (head, then body) meet Nagle plus the client's delayed ACK: about
    40 ms per request on a kept-alive connection. This shows what the pipeline costs without that.
    """
    assert server._server is not None
    for listener in server._server.servers:
        for sock in listener.sockets:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def run_mode(nodelay: bool, records: list[dict[str, Any]], batch_size: int, repeats: int) -> dict[str, float]:
    """Median seconds of each way, both servers started for this mode."""
    batches = [records[i : i + batch_size] for i in range(0, len(records), batch_size)]
    bodies = [json.dumps({"action": "addObject", "records": batch}).encode() for batch in batches]
    headers = {
        "x-algolia-application-id": APP_ID,
        "x-algolia-api-key": API_KEY,
        "content-type": "application/json",
    }
    mock = create_app()
    samples: dict[str, list[float]] = {"mock": [], "bare-client": [], "bare-httpx": []}
    with LiveServer(mock) as mock_server, LiveServer(bare_app()) as bare_server:
        if nodelay:
            set_nodelay(mock_server)
            set_nodelay(bare_server)
        mock_client = client_for(mock_server)
        bare_client = client_for(bare_server)
        # The client side always sends without Nagle delays (as the algoliasearch client does).
        nodelay_transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
        raw = httpx.Client(base_url=bare_server.url, headers=headers, transport=nodelay_transport)

        def push_to(client: IngestionClientSync) -> object:
            return client.chunked_push(
                INDEX, records, action=Action.ADDOBJECT, wait_for_tasks=True, batch_size=batch_size
            )

        def raw_round_trips() -> None:
            answers = []
            for body in bodies:
                response = raw.post(f"/1/push/{INDEX}", content=body)
                response.raise_for_status()
                answers.append(response.json())
            for answer in answers:
                raw.get(f"/1/runs/{answer['runID']}/events/{answer['eventID']}").raise_for_status()

        # Warm-up (connections, caches, compiled validators), then interleaved repeats.
        prepare_mock(mock, mock_client)
        push_to(mock_client)
        push_to(bare_client)
        raw_round_trips()
        for _ in range(repeats):
            prepare_mock(mock, mock_client)
            samples["mock"].append(timed(lambda: push_to(mock_client)))
            index = mock.store.account(APP_ID).indexes[INDEX]
            assert len(index) == len(records), "the mock did not index every record"
            samples["bare-client"].append(timed(lambda: push_to(bare_client)))
            samples["bare-httpx"].append(timed(raw_round_trips))
        mock_client.close()
        bare_client.close()
        raw.close()
    return {name: statistics.median(values) for name, values in samples.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=5, help="runs of each; the median is shown")
    args = parser.parse_args(argv)

    records = [product(i) for i in range(args.records)]
    nb_batches = -(-args.records // args.batch_size)
    print(
        f"{args.records:,} records in batches of {args.batch_size} "
        f"({nb_batches} POST + {nb_batches} GET round trips), median of {args.repeats} runs"
    )
    print()
    print(
        f"| {'server sockets':<22} | {'scenario':<38} | {'seconds':>8} "
        f"| {'vs bare + client':>16} | {'vs bare httpx':>13} |"
    )
    print(f"| {'-' * 22} | {'-' * 38} | {'-' * 8}:| {'-' * 16}:| {'-' * 13}:|")
    own_work = {}
    for nodelay in (False, True):
        mode = "TCP_NODELAY set" if nodelay else "LiveServer as is"
        median = run_mode(nodelay, records, args.batch_size, args.repeats)
        rows = [
            ("chunked_push -> mock", median["mock"]),
            ("chunked_push -> bare Starlette", median["bare-client"]),
            ("httpx round trips -> bare Starlette", median["bare-httpx"]),
        ]
        for name, seconds in rows:
            vs_client = seconds / median["bare-client"]
            vs_raw = seconds / median["bare-httpx"]
            print(f"| {mode:<22} | {name:<38} | {seconds:>8.3f} | {vs_client:>15.1f}x | {vs_raw:>12.1f}x |")
        own_work[mode] = median["mock"] - median["bare-client"]
    print()
    for mode, extra in own_work.items():
        if extra <= 0:
            print(f"The mock's own work ({mode}): none measurable (the bare run was not faster)")
        else:
            per_record = extra / args.records * 1e6
            print(f"The mock's own work ({mode}): {extra:.3f} s, {per_record:.0f} µs/record")


if __name__ == "__main__":
    main()
