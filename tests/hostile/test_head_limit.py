"""The 431 limit on a request's head (target and headers over 16 KiB), with either HTTP parser.

uvicorn's h11 has a limit of its own, answered 400 in plain text when a head over it arrives in
pieces; httptools has none. The mock answers both the same: 431, in the API's JSON shape, and the
request never reaches the app. Just under the limit is served.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest

from mockserver import MockApp, create_app
from mockserver.http.head_limit import HeaderSizeLimit
from mockserver.http.live_server import LiveServer
from tests.conftest import APP_ID
from tests.hostile import HEAD_LIMIT as LIMIT
from tests.hostile import Answer, assert_refused_431, exchange, head_of_size, unchanged

PARSERS = [
    pytest.param("h11", id="h11"),
    pytest.param(
        "httptools",
        id="httptools",
        marks=pytest.mark.skipif(
            importlib.util.find_spec("httptools") is None,
            reason="httptools (the speed extra) is not installed",
        ),
    ),
]


def send(server: LiveServer, data: bytes) -> Answer:
    return exchange(server.host, server.port, data)


# --- the ASGI wrapper: exactly what it counts ---------------------------------------------------


def _run_limited(scope: dict[str, Any]) -> tuple[bool, list[MutableMapping[str, Any]]]:
    """Call HeaderSizeLimit (its default limit) around an app that only notes it was reached."""
    reached: list[bool] = []
    sent: list[MutableMapping[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append(True)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    asyncio.run(HeaderSizeLimit(app)(scope, receive, send))
    return bool(reached), sent


def _scope_of(size: int) -> dict[str, Any]:
    """A scope whose path, query string and headers count ``size`` bytes."""
    path, query = b"/1/sources", b"itemsPerPage=10"
    fixed = [(b"host", b"mock"), (b"x-algolia-application-id", APP_ID.encode())]
    counted = len(path) + len(query) + sum(len(n) + len(v) + 4 for n, v in fixed) + len(b"x-pad") + 4
    headers = [*fixed, (b"x-pad", b"p" * (size - counted))]
    return {
        "type": "http",
        "method": "GET",
        "path": "/1/sources",
        "raw_path": path,
        "query_string": query,
        "headers": headers,
    }


def test_the_wrapper_passes_a_head_of_exactly_the_limit() -> None:
    reached, sent = _run_limited(_scope_of(LIMIT))
    assert reached
    assert sent == []


def test_the_wrapper_refuses_a_head_one_byte_over_the_limit_with_a_json_431() -> None:
    reached, sent = _run_limited(_scope_of(LIMIT + 1))
    assert not reached
    start, body = sent
    assert start["status"] == 431
    headers = dict(start["headers"])
    assert headers[b"content-type"] == b"application/json"
    assert headers[b"connection"] == b"close"
    assert int(headers[b"content-length"]) == len(body["body"])
    assert json.loads(body["body"]) == {
        "error": {"code": "request_header_fields_too_large"},
        "message": (
            f"header: the request's target and headers are {LIMIT + 1} bytes, more than the {LIMIT} accepted"
        ),
        "status": 431,
    }


def test_the_wrapper_lets_other_scopes_through() -> None:
    reached, sent = _run_limited({"type": "lifespan", "headers": [(b"x-pad", b"p" * (2 * LIMIT))]})
    assert reached and sent == []


# --- over a socket, with each parser ------------------------------------------------------------


@pytest.fixture(scope="module")
def limited_app() -> MockApp:
    return create_app(check_responses=True)


@pytest.fixture(scope="module", params=PARSERS)
def served(request: pytest.FixtureRequest, limited_app: MockApp) -> Iterator[LiveServer]:
    with LiveServer(limited_app, parser=request.param) as server:
        yield server


def test_a_head_of_exactly_the_limit_is_served(served: LiveServer, limited_app: MockApp) -> None:
    calls = len(limited_app.journal)
    answer = send(served, head_of_size(LIMIT))
    assert answer.status == 200, answer.text[:300]
    assert len(limited_app.journal) == calls + 1


def test_a_head_one_byte_over_the_limit_is_refused_431(served: LiveServer, limited_app: MockApp) -> None:
    calls = len(limited_app.journal)
    with unchanged(limited_app):
        message = assert_refused_431(send(served, head_of_size(LIMIT + 1)))
    assert f"are {LIMIT + 1} bytes" in message
    assert len(limited_app.journal) == calls  # it never reached the app


def test_an_unfinished_head_over_the_limit_is_refused_before_it_ends(
    served: LiveServer, limited_app: MockApp
) -> None:
    """The head is never ended: the server must answer once it holds more than the limit, not wait
    for the rest (httptools would buffer it without end) nor answer h11's plain 400."""
    calls = len(limited_app.journal)
    with unchanged(limited_app):
        assert_refused_431(send(served, head_of_size(2 * LIMIT, end=False)))
    assert len(limited_app.journal) == calls


def test_a_head_of_a_megabyte_is_refused_431(served: LiveServer, limited_app: MockApp) -> None:
    calls = len(limited_app.journal)
    with unchanged(limited_app):
        assert_refused_431(send(served, head_of_size(1024 * 1024)))
    assert len(limited_app.journal) == calls


def test_the_server_serves_on_after_refusing(served: LiveServer) -> None:
    assert_refused_431(send(served, head_of_size(LIMIT + 1)))
    answer = send(served, head_of_size(LIMIT - 1000))
    assert answer.status == 200, answer.text[:300]


def test_an_unknown_parser_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown HTTP parser 'picohttp'"):
        LiveServer(create_app(), parser="picohttp")
