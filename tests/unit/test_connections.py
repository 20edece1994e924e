"""Which uvicorn protocol ``mockserver serve`` runs on, and that its idle-connection timer holds on it."""

from __future__ import annotations

import importlib.util
import socket
import threading
import time

import pytest
import uvicorn
from starlette.applications import Starlette

from mockserver.connections import protocol_class

PARSERS = ["h11", "httptools"]


def test_auto_is_the_parser_uvicorn_would_pick() -> None:
    expected = "HttpToolsProtocol" if importlib.util.find_spec("httptools") else "H11Protocol"
    assert protocol_class(5.0).__name__ == f"Timely{expected}"


def test_an_unknown_parser_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unknown HTTP parser 'picohttp'"):
        protocol_class(5.0, "picohttp")


@pytest.mark.parametrize("parser", PARSERS)
def test_a_connection_that_sends_no_request_is_closed_on_either_parser(parser: str) -> None:
    if parser == "httptools":
        pytest.importorskip("httptools", reason="the speed extra is not installed")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        Starlette(), log_level="warning", lifespan="off", http=protocol_class(0.3, parser), loop="asyncio"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.01)
        with socket.create_connection(sock.getsockname(), timeout=10) as idle:
            started = time.monotonic()
            assert idle.recv(1024) == b""  # closed by the server, having sent nothing
            assert time.monotonic() - started < 5
    finally:
        server.should_exit = True
        thread.join(10)
