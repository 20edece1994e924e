"""Hostile input: whatever a client sends, the mock answers a clean 4xx and keeps its state.

Shared helpers of the hostile suites: a guard that proves the state did not move, the check of a
clean refusal (JSON, a readable message, no traceback), and a raw ASGI caller for requests no
well-behaved HTTP client would send (CR/LF in headers, paths that are never normalised).
"""

from __future__ import annotations

import asyncio
import copy
import difflib
import json
from collections.abc import Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from httpx import Response

from mockserver import MockApp
from mockserver.engine.store import Account
from tests.conftest import APP_ID

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
    return asyncio.run(_call(app, method, path, list(headers), chunks or [b""], query_string))


async def _call(
    app: MockApp,
    method: str,
    path: str,
    headers: list[tuple[bytes, bytes]],
    chunks: list[bytes],
    query_string: bytes,
) -> Answer:
    pending = list(chunks)
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if pending:
            chunk = pending.pop(0)
            return {"type": "http.request", "body": chunk, "more_body": bool(pending)}
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
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
    except Exception as exc:  # what a server would turn into a 500
        return Answer(500, [("content-type", "text/plain")], f"unhandled {exc!r}".encode())
    start = next(m for m in sent if m["type"] == "http.response.start")
    response_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start.get("headers", [])]
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(int(start["status"]), response_headers, payload)
