"""The API's error paths no client asks for: a client gone before its body arrived, and a handler
that crashes. Straight through the ASGI interface, and over a real socket to a live server."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from mockserver import MockApp, create_app
from mockserver.http.live_server import LiveServer
from mockserver.resources import Context
from tests.conftest import API_KEY, APP_ID
from tests.hostile import Message, asgi_exchange, seed_catalog, unchanged

CREDENTIALS = [(b"x-algolia-application-id", APP_ID.encode()), (b"x-algolia-api-key", API_KEY.encode())]
# A whole, valid body: taken as the request's body, it would create a source.
BODY = b'{"type": "push", "name": "sent by a client that left"}'


def asgi_request(
    app: MockApp, method: str, path: str, messages: list[Message], headers: list[tuple[bytes, bytes]]
) -> tuple[list[Message], Exception | None]:
    """One request with credentials through ``app``'s ASGI interface: what it sent, what it raised."""
    return asgi_exchange(app, method, path, [*CREDENTIALS, *headers], messages)


def answer_of(sent: list[Message]) -> tuple[int, dict[bytes, bytes], bytes]:
    """The status, headers and body the app sent."""
    start, *bodies = sent
    assert start["type"] == "http.response.start"
    assert all(m["type"] == "http.response.body" for m in bodies)
    return start["status"], dict(start["headers"]), b"".join(m["body"] for m in bodies)


DISCONNECT: Message = {"type": "http.disconnect"}
JSON_HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY) + 10).encode())]

GONE = {
    # nothing of the body arrived
    "before-its-body": [DISCONNECT],
    # the whole of BODY arrived, but more was announced (content-length) and never came
    "while-sending-its-body": [{"type": "http.request", "body": BODY, "more_body": True}, DISCONNECT],
    "after-an-empty-chunk": [{"type": "http.request", "body": b"", "more_body": True}, DISCONNECT],
}


# --- a client gone before its body arrived ------------------------------------------------------


@pytest.mark.parametrize("messages", list(GONE.values()), ids=list(GONE))
def test_a_client_gone_before_its_body_changes_nothing_and_gets_no_answer(
    app: MockApp, messages: list[Message]
) -> None:
    seed_catalog(app)
    calls = len(app.journal)
    with unchanged(app):
        sent, raised = asgi_request(app, "POST", "/1/sources", messages, JSON_HEADERS)
    assert raised is None  # nothing for the server to log: the client simply left
    assert sent == []  # nobody to answer
    assert len(app.journal) == calls


def test_the_same_body_sent_whole_is_taken(app: MockApp) -> None:
    """The control for the table above: BODY, when it is the whole body, creates a source."""
    complete = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
    sent, raised = asgi_request(
        app, "POST", "/1/sources", [{"type": "http.request", "body": BODY, "more_body": False}], complete
    )
    assert raised is None
    status, _, body = answer_of(sent)
    assert status == 200, body
    assert [s["name"] for s in app.store.accounts[APP_ID].sources.values()] == ["sent by a client that left"]
    assert len(app.journal) == 1


# --- a handler that crashes ---------------------------------------------------------------------


class HandlerCrash(Exception):
    """What the replaced handler raises: no error the mock knows."""


def crash(ctx: Context) -> Any:
    raise HandlerCrash("the handler broke")


def test_a_crashing_handler_is_answered_500_internal_error_and_the_crash_reaches_the_server(
    app: MockApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.engine.handlers, "listSources", crash)
    sent, raised = asgi_request(app, "GET", "/1/sources", [], [])
    assert isinstance(raised, HandlerCrash)  # re-raised, for the server to log
    status, headers, body = answer_of(sent)
    assert status == 500
    assert headers[b"content-type"] == b"application/json"
    assert int(headers[b"content-length"]) == len(body)
    assert json.loads(body) == {
        "error": {"code": "internal_error"},
        "message": "Internal error",
        "status": 500,
    }


def test_a_crash_tells_nothing_of_the_exception(app: MockApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.engine.handlers, "listSources", crash)
    sent, _ = asgi_request(app, "GET", "/1/sources", [], [])
    text = b"".join(m.get("body", b"") for m in sent).decode()
    assert "broke" not in text and "HandlerCrash" not in text and "Traceback" not in text


def test_other_operations_are_served_after_a_crash(app: MockApp, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.engine.handlers, "listSources", crash)
    asgi_request(app, "GET", "/1/sources", [], [])
    sent, raised = asgi_request(app, "GET", "/1/destinations", [], [])
    assert raised is None
    assert answer_of(sent)[0] == 200


# --- the same, over a socket ----------------------------------------------------------------------


class Watched:
    """The app as the server calls it, noting when an API request's call ended, what the app sent and
    what it raised (re-raised: the server sees what it would have seen)."""

    def __init__(self, app: MockApp) -> None:
        self.app = app
        self.done = threading.Event()
        self.sent: list[str] = []
        self.raised: BaseException | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/__mock__/"):
            await self.app(scope, receive, send)
            return

        async def noted(message: Message) -> None:
            self.sent.append(message["type"])
            await send(message)

        try:
            await self.app(scope, receive, noted)
        except BaseException as exc:
            self.raised = exc
            raise
        finally:
            self.done.set()

    def wait(self) -> None:
        assert self.done.wait(60), "the request never ended"


@pytest.fixture
def watched() -> Iterator[tuple[Watched, LiveServer]]:
    app = create_app(check_responses=True)
    seed_catalog(app)
    watched = Watched(app)
    with LiveServer(watched) as server:
        yield watched, server


HEAD = (
    f"POST /1/sources HTTP/1.1\r\nhost: mock\r\ncontent-type: application/json\r\n"
    f"x-algolia-application-id: {APP_ID}\r\nx-algolia-api-key: {API_KEY}\r\n"
    f"content-length: {len(BODY) + 10}\r\n\r\n"
).encode()


@pytest.mark.parametrize("sent", [b"", BODY], ids=["before-its-body", "while-sending-its-body"])
def test_a_client_that_hangs_up_before_its_body_is_whole_changes_nothing(
    watched: tuple[Watched, LiveServer], sent: bytes
) -> None:
    observer, server = watched
    app = observer.app
    with unchanged(app):
        with socket.create_connection((server.host, server.port), timeout=30) as sock:
            sock.sendall(HEAD + sent)
        observer.wait()
    assert observer.raised is None
    assert observer.sent == []
    assert len(app.journal) == 0


def test_a_crash_over_a_socket_is_a_json_500_and_reaches_the_server(
    watched: tuple[Watched, LiveServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    observer, server = watched
    monkeypatch.setitem(observer.app.engine.handlers, "listSources", crash)
    request = (
        f"GET /1/sources HTTP/1.1\r\nhost: mock\r\nconnection: close\r\n"
        f"x-algolia-application-id: {APP_ID}\r\nx-algolia-api-key: {API_KEY}\r\n\r\n"
    ).encode()
    received = b""
    with socket.create_connection((server.host, server.port), timeout=30) as sock:
        sock.sendall(request)
        while chunk := sock.recv(65536):
            received += chunk
    observer.wait()
    assert isinstance(observer.raised, HandlerCrash)
    assert received.startswith(b"HTTP/1.1 500 "), received[:300]
    body = json.loads(received.partition(b"\r\n\r\n")[2])
    assert body == {"error": {"code": "internal_error"}, "message": "Internal error", "status": 500}
