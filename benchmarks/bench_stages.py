"""Where a request's time goes, stage by stage: ``push`` of 1,000 records, ``getSource``,
``listSources`` and ``createSource``.

Run: ``python -m benchmarks.bench_stages [--requests 400] [--repeats 7]``

Each stage is the very call the served path makes -- ``HeaderSizeLimit`` (which ``mockserver serve``
wraps the app in), then ``MockApp.__call__`` -> ``MockApp._serve`` -> ``MockApp._answer`` in
``mockserver/http/app.py``, and ``Engine.execute`` / ``Engine.record`` in
``mockserver/engine/core.py`` -- timed alone in a loop (CPU time of this process, median of
``--repeats``), on a request taken apart exactly as ``_serve`` takes it apart (the ``ApiRequest`` a
real call through ``MockApp._answer`` filled in):

- head-size limit: ``HeaderSizeLimit`` around an app that does nothing;
- reading the scope: ``route_path`` and ``WireRequest.of``;
- routing: ``route_table.match``;
- credential checks: ``WireRequest.credential`` (both headers) and ``engine.authenticate``;
- body reading: ``wire.read_body`` (receive, size checks);
- body decoding: ``MockApp._decode`` (content type and encoding, JSON within ``max_depth``);
- off-loop checks: ``engine.may_run_long`` and ``_busy`` (whether to run in a thread);
- ``engine.execute(request, record=False)``: validation, the caps, the handler under the locks;
  its parts are shown indented (and not added up): ``validators[op].validate`` and the handler
  called with ``engine.context`` under the two locks, as ``Engine._answer`` calls it;
- response encoding: ``wire.encode_body`` (``jsonio.dumps``);
- journal recording: ``engine.record`` with the encoded answer, as ``_serve`` calls it with no
  listener (masking, the call packed by ``kept_call``, ``journal.record_kept``; response checking
  when it is on);
- sending: ``wire.send_answer`` into a send that does nothing.

``whole request`` is one call through ``HeaderSizeLimit(app)``; ``the rest`` is what the stages
leave of it (the coroutine calls between them, ``ApiRequest``, the bench's own scope, receive and
send). The push stages run on a mock whose index already holds the records (each push replaces
them), so every repeat does the same work; ``createSource`` adds a source on every call.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from mockserver.engine.core import ApiRequest
from mockserver.http.app import MockApp, _busy
from mockserver.http.head_limit import HeaderSizeLimit
from mockserver.http.wire import (
    API_KEY_HEADER,
    APP_ID_HEADER,
    Message,
    Receive,
    Scope,
    Send,
    WireRequest,
    encode_body,
    read_body,
    route_path,
    send_answer,
)

from . import bench_inprocess as inproc

CLOCK = time.process_time


def _scope(method: str, path: str, query: str, body: bytes) -> dict[str, Any]:
    headers = list(inproc.HEADERS)
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("mock", 80),
    }


Stage = Callable[[], Awaitable[Any]]


async def stages(app: MockApp, method: str, path: str, query: str, body: bytes) -> dict[str, Stage]:
    """One awaitable per stage of ``method path?query`` on ``app``, each the call the server makes."""
    engine = app.engine
    settings = engine.settings
    scope = _scope(method, path, query, body)

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        return None

    async def nothing(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    # The request as _serve takes it apart: MockApp._answer fills in the ApiRequest.
    wire = WireRequest.of(scope, route_path(scope))
    request = ApiRequest(None, None, wire.method, wire.path, {}, wire.query)
    answer, dropped = await app._answer(scope, receive, wire, request)
    assert not dropped and answer.status == 200, answer
    operation = request.operation
    assert operation is not None and request.app_id is not None
    app_id = request.app_id
    encoded = encode_body(answer.body)
    assert encoded is not None
    validator = engine.validators[operation.operation_id]
    handler = engine.handlers[operation.operation_id]
    store = engine.store
    limited = HeaderSizeLimit(nothing)

    def credentials() -> Any:
        return engine.authenticate(wire.credential(APP_ID_HEADER), wire.credential(API_KEY_HEADER), operation)

    def handle() -> Any:  # as Engine._answer calls it, caps left out
        valid = validator.validate(request.path_params, request.query, request.body)
        with store.app_lock(app_id), store.lock:
            return handler(engine.context(app_id, operation, valid))

    def decode() -> None:
        copy = ApiRequest(operation, app_id, method, path, request.path_params, request.query)
        app._decode(body, wire.headers, copy)

    async def sync(fn: Callable[[], Any]) -> Any:
        return fn()

    found: dict[str, Stage] = {
        "head-size limit": lambda: limited(scope, receive, send),
        "reading the scope": lambda: sync(lambda: WireRequest.of(scope, route_path(scope))),
        "routing": lambda: sync(lambda: app.route_table.match(method, path)),
        "credential checks": lambda: sync(credentials),
    }
    if body:
        limit, timeout = settings.max_body_bytes, settings.body_timeout
        found["body reading"] = lambda: read_body(receive, wire.headers, limit, timeout, app.deadlines)
        found["body decoding"] = lambda: sync(decode)
    found["off-loop checks"] = lambda: sync(
        lambda: engine.may_run_long(request) or _busy(engine, request.app_id)
    )
    found["engine.execute"] = lambda: sync(lambda: engine.execute(request, record=False))
    found["  of which validation"] = lambda: sync(
        lambda: validator.validate(request.path_params, request.query, request.body)
    )
    found["  of which validation + the handler"] = lambda: sync(handle)
    found["response encoding"] = lambda: sync(lambda: encode_body(answer.body))
    found["journal recording"] = lambda: sync(
        lambda: engine.record(request, answer, answer_json=encoded, made=False)
    )
    found["sending"] = lambda: send_answer(send, answer.status, encoded, answer.headers)
    whole = HeaderSizeLimit(app)
    found["whole request"] = lambda: inproc.asgi_call(whole, method, path, body, query)
    return found


async def _time(step: Stage, requests: int) -> float:
    started = CLOCK()
    for _ in range(requests):
        await step()
    return (CLOCK() - started) / requests * 1e6


async def profile(
    app: MockApp, method: str, path: str, query: str, body: bytes, requests: int, repeats: int
) -> dict[str, float]:
    """µs per call of each stage (medians over ``repeats``, the stages taken round-robin)."""
    steps = await stages(app, method, path, query, body)
    for step in steps.values():  # warm-up
        await _time(step, max(3, requests // 10))
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            samples[name].append(await _time(step, requests))
        app.journal.clear()
    return {name: statistics.median(values) for name, values in samples.items()}


async def all_profiles(requests: int, repeats: int) -> dict[str, dict[str, float]]:
    pushing = await inproc.push_ready_mock()
    path = "/1/push/products"
    status, answer = await inproc.asgi_call(pushing, "POST", path, inproc.PUSH_BODY)
    assert status == 200, answer[:300]
    listed, ids = inproc.seeded_mock(51)
    creating, _ = inproc.seeded_mock(51)
    few = max(3, requests // inproc.PUSH_SHARE)
    return {
        "push of 1,000 records": await profile(pushing, "POST", path, "", inproc.PUSH_BODY, few, repeats),
        "getSource": await profile(listed, "GET", f"/1/sources/{ids[0]}", "", b"", requests, repeats),
        "listSources (10 of 51)": await profile(
            listed, "GET", "/1/sources", "itemsPerPage=10", b"", requests, repeats
        ),
        "createSource": await profile(
            creating, "POST", "/1/sources", "", inproc.SOURCE_BODY, requests, repeats
        ),
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
    profiles = asyncio.run(all_profiles(args.requests, args.repeats))
    print("\n".join(render(profiles)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
