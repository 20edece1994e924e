"""Which uvicorn protocol ``mockserver serve`` runs on, and that its idle-connection timer holds on it."""

from __future__ import annotations

import importlib.util
import signal
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from mockserver import create_app
from mockserver.http import prompt_stop
from mockserver.http.connections import protocol_class
from mockserver.http.live_server import LiveServer

PARSERS = ["h11", "httptools"]


def test_auto_is_the_parser_uvicorn_would_pick() -> None:
    expected = "HttpToolsProtocol" if importlib.util.find_spec("httptools") else "H11Protocol"
    assert protocol_class(5.0).__name__ == f"TimelyHeadLimited{expected}"


def test_an_unknown_parser_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown HTTP parser 'picohttp'"):
        protocol_class(5.0, "picohttp")


@contextmanager
def _served(parser: str, head_timeout: float) -> Iterator[tuple[str, int]]:
    if parser == "httptools":
        pytest.importorskip("httptools", reason="the speed extra is not installed")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("ok"))])
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="off",
        http=protocol_class(head_timeout, parser),
        loop="asyncio",
        timeout_keep_alive=60,  # (uvicorn's own idle timer out of the way)
    )
    with _running(uvicorn.Server(config), sock):
        yield sock.getsockname()


@contextmanager
def _running(server: uvicorn.Server, sock: socket.socket) -> Iterator[threading.Thread]:
    """``server`` serving ``sock`` in a thread, started; asked to stop (and woken, a PromptServer)
    and joined on the way out."""
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.started, "the server did not start within 10 s"
        yield thread
    finally:
        server.should_exit = True
        if isinstance(server, prompt_stop.PromptServer):
            server.wake()
        thread.join(10)


@pytest.mark.parametrize("parser", PARSERS)
def test_a_connection_that_sends_no_request_is_closed_on_either_parser(parser: str) -> None:
    with _served(parser, 0.3) as address, socket.create_connection(address, timeout=10) as idle:
        started = time.monotonic()
        assert idle.recv(1024) == b""  # closed by the server, having sent nothing
        assert time.monotonic() - started < 5


@pytest.mark.parametrize("parser", PARSERS)
def test_a_busy_connection_stays_open_and_is_closed_once_idle(parser: str) -> None:
    with _served(parser, 0.5) as address, socket.create_connection(address, timeout=10) as busy:
        started = time.monotonic()
        while time.monotonic() - started < 1.5:  # three timeouts' worth of requests
            busy.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
            answer = busy.recv(4096)
            while not answer.endswith(b"ok"):  # (httptools sends the head and the body apart)
                more = busy.recv(4096)
                assert more, f"closed while busy, after {answer!r}"
                answer += more
            assert answer.startswith(b"HTTP/1.1 200"), answer
            time.sleep(0.1)
        last = time.monotonic()
        assert busy.recv(1024) == b""  # closed, once idle for the timeout
        assert 0.3 < time.monotonic() - last < 5


# --- stopping at once (mockserver/http/prompt_stop.py) ------------------------------------------


@contextmanager
def _stoppable(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[uvicorn.Server, threading.Thread, int]]:
    """``mockserver serve``'s server class in a thread, on a free port, whose ticks never come
    (TICK an hour): a stop is seen only if it wakes the server."""
    from mockserver.cli import _stoppable_server_class

    monkeypatch.setattr(prompt_stop, "TICK", 3600.0)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = Starlette(routes=[Route("/", lambda request: PlainTextResponse("ok"))])
    config = uvicorn.Config(app, log_level="warning", lifespan="off", loop="asyncio")
    server = _stoppable_server_class()(config)
    with _running(server, sock) as thread:
        try:
            yield server, thread, port
        finally:
            server.force_exit = True  # (whatever a test left open: no graceful wait on the way out)


def test_a_signal_stops_the_server_without_waiting_for_its_next_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    with _stoppable(monkeypatch) as (server, thread, port):
        server.handle_exit(signal.SIGTERM, None)  # as the signal handler calls it
        thread.join(10)
        assert not thread.is_alive()
        assert not server.force_exit  # a graceful stop
        with pytest.raises(ConnectionRefusedError):  # it no longer listens
            socket.create_connection(("127.0.0.1", port), timeout=10).close()


def test_a_stop_with_a_connection_open_closes_it_gracefully(monkeypatch: pytest.MonkeyPatch) -> None:
    with (
        _stoppable(monkeypatch) as (server, thread, port),
        socket.create_connection(("127.0.0.1", port), timeout=10) as kept,
    ):
        kept.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")  # answered, then kept alive
        answer = kept.recv(4096)
        while not answer.endswith(b"ok"):
            answer += kept.recv(4096)
        server.handle_exit(signal.SIGTERM, None)
        thread.join(10)
        assert not thread.is_alive()
        assert kept.recv(1024) == b""  # closed by uvicorn's graceful shutdown


def test_a_live_server_stops_without_waiting_for_its_next_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prompt_stop, "TICK", 3600.0)
    server = LiveServer(create_app()).start()
    thread = server._thread
    assert thread is not None
    server.stop()
    assert not thread.is_alive()
