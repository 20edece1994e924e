"""Where a request's time goes, stage by stage: a push of 1,000 records and a ``getSource``.

Run: ``python -m benchmarks.bench_stages [--requests 300] [--repeats 7]``

Each stage is the very call the HTTP face (``mockserver/http/app.py``, ``mockserver/http/wire.py``)
or the engine makes, timed alone in a loop (CPU time of this process, median of ``--repeats``):
reading the scope (``WireRequest.of``: path, query string, the headers the API reads), routing
(``route_table.match``), credential checks (``credential`` and ``engine.authenticate``), body
reading (``wire.read_body``: receive, size checks), body decoding (``decode_json_body``: content
type and encoding, JSON, its depth within ``max_depth``), validation
(``validators[op].validate``), the handler (under the store lock, through ``engine.context``),
journal recording (``engine.record`` with the body's size and JSON text and the answer's size, as
the face calls it: masking, ``Call``, ``journal.record``), response encoding (``encode_body``:
``jsonio.dumps``) and
sending (``send_answer`` into a send that does nothing). ``whole request`` is one call through the
ASGI app; ``the rest`` is what the stages leave of it (the engine's dispatch: locks, caps, the
context; the ASGI plumbing; the bench's own scope and receive).

The push stages run on a mock whose index already holds the records (each push replaces them), so
every repeat does the same work.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from mockserver.engine.core import Answer, ApiRequest
from mockserver.http.app import MockApp
from mockserver.http.bodies import decode_json_body
from mockserver.http.wire import (
    API_KEY_HEADER,
    APP_ID_HEADER,
    WireRequest,
    encode_body,
    read_body,
    route_path,
    send_answer,
)

from . import bench_inprocess as inproc

CLOCK = time.process_time


def _scope(method: str, path: str, body: bytes) -> dict[str, Any]:
    headers = list(inproc.HEADERS)
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("mock", 80),
    }


Stage = Callable[[], Awaitable[Any]]


async def stages(app: MockApp, method: str, path: str, body: bytes) -> dict[str, Stage]:
    """One awaitable per stage of ``method path`` on ``app``, each doing what the face does."""
    engine = app.engine
    settings = engine.settings
    scope = _scope(method, path, body)
    wire = WireRequest.of(scope, path)
    match = app.route_table.match(method, path)
    operation = match.operation

    def credentials() -> Any:
        return engine.authenticate(wire.credential(APP_ID_HEADER), wire.credential(API_KEY_HEADER), operation)

    principal = credentials()
    assert isinstance(principal, str)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Any) -> None:
        return None

    def decode() -> Any:
        return decode_json_body(body, wire.headers, settings.max_body_bytes, settings.max_depth)

    parsed = decode()
    valid = engine.validators[operation.operation_id].validate(match.path_params, {}, parsed)
    handler = engine.handlers[operation.operation_id]
    store = engine.store

    def run_handler() -> Any:
        with store.app_lock(principal), store.lock:
            return handler(engine.context(principal, operation, valid))

    result = run_handler()
    request = ApiRequest(operation, principal, method, path, match.path_params, {}, parsed)
    if body:
        request.body_bytes, request.body_json = len(body), body
    answer = Answer(200, result)
    encoded = encode_body(result)
    assert encoded is not None

    async def sync(fn: Callable[[], Any]) -> Any:
        return fn()

    found: dict[str, Callable[[], Awaitable[Any]]] = {
        "reading the scope": lambda: sync(lambda: WireRequest.of(scope, route_path(scope))),
        "routing": lambda: sync(lambda: app.route_table.match(method, path)),
        "credential checks": lambda: sync(credentials),
    }
    if body:
        limit, timeout = settings.max_body_bytes, settings.body_timeout
        found["body reading"] = lambda: read_body(receive, wire.headers, limit, timeout, app.deadlines)
        found["body decoding"] = lambda: sync(decode)
    found["validation"] = lambda: sync(
        lambda: engine.validators[operation.operation_id].validate(match.path_params, {}, parsed)
    )
    found["handler"] = lambda: sync(run_handler)
    found["journal recording"] = lambda: sync(
        lambda: engine.record(request, answer, answer_bytes=len(encoded))
    )
    found["response encoding"] = lambda: sync(lambda: encode_body(result))
    found["sending"] = lambda: send_answer(send, 200, encoded, {})
    found["whole request"] = lambda: inproc.asgi_call(app, method, path, body)
    return found


async def _time(step: Callable[[], Awaitable[Any]], requests: int) -> float:
    started = CLOCK()
    for _ in range(requests):
        await step()
    return (CLOCK() - started) / requests * 1e6


async def profile(
    app: MockApp, method: str, path: str, body: bytes, requests: int, repeats: int
) -> dict[str, float]:
    """µs per call of each stage (medians over ``repeats``, the stages taken round-robin)."""
    steps = await stages(app, method, path, body)
    for step in steps.values():  # warm-up
        await _time(step, max(3, requests // 10))
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            samples[name].append(await _time(step, requests))
        app.journal.clear()
    return {name: statistics.median(values) for name, values in samples.items()}


async def push_and_get(requests: int, repeats: int) -> dict[str, dict[str, float]]:
    pushing = await inproc.push_ready_mock()
    path = "/1/push/products"
    status, answer = await inproc.asgi_call(pushing, "POST", path, inproc.PUSH_BODY)
    assert status == 200, answer[:300]
    getting, ids = inproc.seeded_mock()
    return {
        "push of 1,000 records": await profile(
            pushing, "POST", path, inproc.PUSH_BODY, max(3, requests // inproc.PUSH_SHARE), repeats
        ),
        "getSource": await profile(getting, "GET", f"/1/sources/{ids[0]}", b"", requests, repeats),
    }


def render(profiles: dict[str, dict[str, float]]) -> list[str]:
    lines = []
    for title, costs in profiles.items():
        whole = costs["whole request"]
        staged = sum(
            value for name, value in costs.items() if name != "whole request" and not name.startswith(" ")
        )
        lines += [f"{title}:", "", "| stage | µs | share of the request |", "| --- | ---: | ---: |"]
        for name, value in costs.items():
            if name != "whole request":
                lines.append(f"| {name} | {value:,.1f} | {value / whole:.0%} |")
        rest = whole - staged
        lines.append(f"| the rest | {rest:,.1f} | {rest / whole:.0%} |")
        lines += [f"| **whole request** | {whole:,.1f} | 100% |", ""]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    profiles = asyncio.run(push_and_get(args.requests, args.repeats))
    print("\n".join(render(profiles)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
