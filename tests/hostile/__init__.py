"""Hostile input: whatever a client sends, the mock answers a clean 4xx and keeps its state.

Shared helpers of the hostile suites: a guard that proves the state did not move, the check of a
clean refusal (JSON, a readable message, no traceback), and a raw ASGI caller for requests no
well-behaved HTTP client would send (CR/LF in headers, paths that are never normalised).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import difflib
import json
import socket
from collections.abc import Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from httpx import Response

from mockserver import MockApp
from mockserver.engine.store import Account
from tests.conftest import API_KEY, APP_ID

# IDs of the bundled "catalog" data set (fixtures/catalog.yaml).
CATALOG_BASIC_AUTH = "0a1b2c3d-0000-4000-8000-000000000002"
CATALOG_JSON_SOURCE = "0a1b2c3d-0000-4000-8000-000000000201"
CATALOG_PUSH_SOURCE = "0a1b2c3d-0000-4000-8000-000000000205"
CATALOG_DESTINATION = "0a1b2c3d-0000-4000-8000-000000000301"
CATALOG_TASK = "0a1b2c3d-0000-4000-8000-000000000401"
CATALOG_PUSH_TASK = "0a1b2c3d-0000-4000-8000-000000000403"  # push source -> destination on "stock"
CATALOG_PUSH_INDEX = "stock"

MAX_MESSAGE = 4096  # validation messages are capped well below this; an echo of the input is not


def seed_catalog(app: MockApp) -> None:
    """Give the mock some state, so that "unchanged" means something."""
    app.control.seed("catalog", APP_ID)


@dataclass(frozen=True)
class Answer:
    """What the mock answered, whichever way the request was sent."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    @classmethod
    def of(cls, response: Response) -> Answer:
        return cls(response.status_code, list(response.headers.multi_items()), response.content)


def assert_clean_refusal(answer: Answer | Response, status: int | Sequence[int] | None = None) -> str:
    """A 4xx (``status`` when given) whose JSON body has a clear ``message``; returns the message."""
    if isinstance(answer, Response):
        answer = Answer.of(answer)
    text = answer.text
    assert answer.status < 500, f"server error {answer.status}: {text[:500]}"
    assert 400 <= answer.status < 500, f"expected a refusal, got {answer.status}: {text[:500]}"
    if status is not None:
        wanted = [status] if isinstance(status, int) else list(status)
        assert answer.status in wanted, f"expected {wanted}, got {answer.status}: {text[:500]}"
    assert "Traceback" not in text and 'File "' not in text, f"a traceback leaked: {text[:500]}"
    content_type = answer.header("content-type") or ""
    assert content_type.startswith("application/json"), f"not JSON ({content_type!r}): {text[:200]}"
    body = json.loads(text)
    assert isinstance(body, dict), body
    message = body.get("message")
    assert isinstance(message, str), body
    assert message.strip(), body
    assert body.get("status") == answer.status, body
    return message


def assert_no_server_error(answer: Answer | Response) -> None:
    if isinstance(answer, Response):
        answer = Answer.of(answer)
    text = answer.text
    assert answer.status < 500, f"server error {answer.status}: {text[:500]}"
    assert "Traceback" not in text and 'File "' not in text, f"a traceback leaked: {text[:500]}"


class StateGuard:
    """The mock's state at one moment: its JSON dump and a deep copy of the store's accounts."""

    def __init__(self, app: MockApp) -> None:
        self.app = app
        self.dump, self.accounts = self._take()

    def _take(self) -> tuple[str, dict[str, Account]]:
        dump = json.dumps(self.app.control.dump(), sort_keys=True, indent=1)
        return dump, copy.deepcopy(self.app.store.accounts)

    def assert_unchanged(self) -> None:
        dump, accounts = self._take()
        if dump != self.dump:
            diff = difflib.unified_diff(
                self.dump.splitlines(), dump.splitlines(), "before", "after", lineterm=""
            )
            raise AssertionError("the state dump changed:\n" + "\n".join(list(diff)[:60]))
        assert sorted(accounts) == sorted(self.accounts), "applications appeared or vanished in the store"
        assert accounts == self.accounts, "the store's accounts changed (internal fields included)"


@contextmanager
def unchanged(app: MockApp) -> Iterator[StateGuard]:
    """``with unchanged(app): ...`` fails if the block moved the state."""
    guard = StateGuard(app)
    yield guard
    guard.assert_unchanged()


def call_asgi(
    app: MockApp,
    method: str,
    path: str,
    headers: Sequence[tuple[bytes, bytes]] = (),
    body: bytes | Sequence[bytes] = b"",
    query_string: bytes = b"",
) -> Answer:
    """One request straight through the ASGI interface: nothing between us and the app normalises it.

    ``body`` given as a sequence of chunks arrives in that many ``http.request`` messages.
    """
    chunks = [body] if isinstance(body, bytes) else list(body)
    chunks = chunks or [b""]
    messages: list[Message] = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent, raised = asgi_exchange(app, method, path, headers, messages, query_string)
    if raised is not None:  # what a server would turn into a 500
        return Answer(500, [("content-type", "text/plain")], f"unhandled {raised!r}".encode())
    start = next(m for m in sent if m["type"] == "http.response.start")
    response_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start.get("headers", [])]
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(int(start["status"]), response_headers, payload)


Message = MutableMapping[str, Any]


def asgi_exchange(
    app: MockApp,
    method: str,
    path: str,
    headers: Sequence[tuple[bytes, bytes]],
    messages: Sequence[Message],
    query_string: bytes = b"",
) -> tuple[list[Message], Exception | None]:
    """One request through ``app``'s ASGI interface, its ``receive`` handing out ``messages`` in turn
    (then ``http.disconnect``, as a server does once the client left): every message the app sent,
    and the exception it raised, if any."""
    return asyncio.run(_exchange(app, method, path, list(headers), list(messages), query_string))


async def _exchange(
    app: MockApp,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    pending: list[Message],
    query_string: bytes,
) -> tuple[list[Message], Exception | None]:
    sent: list[Message] = []

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(dict(message))

    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode("utf-8", "surrogateescape"),
        "query_string": query_string,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("mock", 80),
    }
    try:
        await app(scope, receive, send)
    except Exception as exc:
        return sent, exc
    return sent, None


# --- raw HTTP over a socket ---------------------------------------------------------------------

HEAD_LIMIT = 16 * 1024  # the documented bound on a request's target and headers, written out here
# (not read from the code under test, so that a changed constant fails the tests)
HEAD_TARGET = "/1/sources"
HEAD_HEADERS = [
    ("host", "mock"),
    ("connection", "close"),
    ("x-algolia-application-id", APP_ID),
    ("x-algolia-api-key", API_KEY),
]


def head_of_size(size: int, *, end: bool = True) -> bytes:
    """A GET of /1/sources with credentials whose target and headers count ``size`` bytes as the
    limit counts them (a header: its name, its value and 4 bytes for ": " and CRLF), padded by one
    ``x-pad`` header. ``end=False`` leaves out the blank line that ends the head."""
    counted = len(HEAD_TARGET) + sum(len(n) + len(v) + 4 for n, v in HEAD_HEADERS) + len("x-pad") + 4
    assert size >= counted
    lines = [f"GET {HEAD_TARGET} HTTP/1.1", *(f"{n}: {v}" for n, v in HEAD_HEADERS)]
    lines.append("x-pad: " + "p" * (size - counted))
    return ("\r\n".join(lines) + ("\r\n\r\n" if end else "\r\n")).encode()


def exchange(host: str, port: int, data: bytes) -> Answer:
    """Send ``data`` on a new connection and read until the server closes it. The server may answer
    and close before it read all of ``data``: what it answered is read all the same."""
    received = b""
    with socket.create_connection((host, port), timeout=30) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                received += chunk
    assert received.startswith(b"HTTP/1.1 "), f"no HTTP answer: {received[:300]!r}"
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = [(name.strip(), value.strip()) for name, _, value in (line.partition(":") for line in lines)]
    return Answer(int(status_line.split()[1]), headers, body)


def assert_refused_431(answer: Answer) -> str:
    """A 431 in the API's error shape, naming the limit; returns its message."""
    assert answer.status == 431, answer.text[:400]
    assert answer.header("content-type") == "application/json", answer.headers
    assert int(answer.header("content-length") or -1) == len(answer.body), answer.headers
    body = json.loads(answer.body)
    assert body["status"] == 431, body
    assert body["error"]["code"] == "request_header_fields_too_large", body
    message = body["message"]
    assert isinstance(message, str)
    assert f"more than the {HEAD_LIMIT}" in message, message
    return message
