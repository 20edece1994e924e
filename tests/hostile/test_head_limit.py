"""The 431 limit on a request's head (target and headers over 16 KiB), with either HTTP parser.

uvicorn's h11 has a limit of its own, answered 400 in plain text when a head over it arrives in
pieces; httptools has none. The mock answers both the same: 431, in the API's JSON shape, and the
request never reaches the app. Just under the limit is served.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
import uvicorn
from uvicorn.server import ServerState

from mockserver import MockApp, create_app
from mockserver.http.head_limit import HeaderSizeLimit, limited_protocol
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
            reason="httptools is not installed (the speed and test extras bring it)",
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


# --- the protocols, read by read ------------------------------------------------------------------


class Transport(asyncio.Transport):
    """What uvicorn's protocol writes, and whether it closed the connection: the test decides how
    the bytes are cut into reads, which a socket does not let it do."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def statuses_for(parser: str, reads: list[bytes]) -> tuple[list[int], bool]:
    """Feed ``reads`` one by one to the head-limited protocol for ``parser`` in front of a mock, each
    once the requests it completed were answered; the statuses answered, and whether it closed."""

    async def drive() -> tuple[list[int], bool]:
        state = ServerState()
        protocol_class = limited_protocol(parser)
        config = uvicorn.Config(HeaderSizeLimit(create_app()), lifespan="off", log_level="warning")
        protocol = protocol_class(config=config, server_state=state, app_state={})
        transport = Transport()
        protocol.connection_made(transport)
        for data in reads:
            if transport.closed:
                break
            protocol.data_received(data)
            while state.tasks:
                await asyncio.wait(set(state.tasks))
        closed = transport.closed
        protocol.connection_lost(None)
        return [int(m) for m in re.findall(rb"HTTP/1.1 (\d{3}) ", bytes(transport.written))], closed

    return asyncio.run(drive())


def keep_alive(data: bytes) -> bytes:
    return data.replace(b"connection: close\r\n", b"connection: keep-alive\r\n")


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("parser", PARSERS)
def test_a_head_at_the_limit_cut_in_small_reads_is_served(parser: str) -> None:
    """The request line and separators (not counted by the limit) do not tip a head at the limit
    over the wire-level bound, however it is cut: here all of it but its last byte, in reads of
    512 bytes, then that byte."""
    data = head_of_size(LIMIT)
    assert statuses_for(parser, [*pieces(data[:-1], 512), data[-1:]]) == ([200], True)


@pytest.mark.parametrize("parser", PARSERS)
def test_an_unfinished_head_is_refused_once_past_the_limit_read_by_read(parser: str) -> None:
    statuses, closed = statuses_for(parser, pieces(head_of_size(4 * LIMIT, end=False), 1024))
    assert (statuses, closed) == ([431], True)


@pytest.mark.parametrize("parser", PARSERS)
def test_heads_of_one_kept_alive_connection_are_counted_each_on_its_own(parser: str) -> None:
    """Three heads of 12 KiB on one connection, the later ones cut in two reads: together they pass
    the limit, each on its own does not."""
    one = keep_alive(head_of_size(12 * 1024))
    half = len(one) // 2
    reads = [one, one[:half], one[half:], one[:half], one[half:]]
    assert statuses_for(parser, reads) == ([200, 200, 200], False)


@pytest.mark.parametrize("parser", PARSERS)
def test_a_later_head_on_a_kept_alive_connection_is_limited_too(parser: str) -> None:
    first = keep_alive(head_of_size(1024))
    reads = [first, *pieces(head_of_size(4 * LIMIT, end=False), 1024)]
    assert statuses_for(parser, reads) == ([200, 431], True)
