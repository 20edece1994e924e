"""The API's requests and answers at the ASGI level: what the HTTP face reads from a scope and its
receive channel, and how an answer goes out through send.

The API routes are served straight from ASGI messages, without Starlette's Request and Response
objects (the control plane keeps them): on a small request those objects cost more than the mock's
own work. What is read here is read exactly as Starlette reads it: header names as the server gives
them (lowercase, as ASGI asks), values and the query string decoded as latin-1, the query string
split by :func:`urllib.parse.parse_qsl` keeping blank values.
"""

from __future__ import annotations

import asyncio
import io
import weakref
from collections.abc import Awaitable, Callable, Collection, Generator, Mapping, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, unquote

from mockserver import names
from mockserver.engine import jsonio
from mockserver.engine.errors import InvalidCredentials, PayloadTooLarge, RequestTimeout

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

# The credential headers' names as ASGI gives them (bytes, lowercase).
APP_ID_HEADER = names.APP_ID_HEADER.encode("latin-1")
API_KEY_HEADER = names.API_KEY_HEADER.encode("latin-1")
# The request headers the API path reads besides the credentials (first value wins, as in Starlette).
_READ_HEADERS = frozenset({b"content-type", b"content-encoding", b"content-length"})
_JSON_TYPE = (b"content-type", b"application/json")
_NO_LENGTH = frozenset({204, 304})


class ClientGone(Exception):
    """The client closed the connection before its request body arrived: nobody to answer."""


class WireRequest:
    """What the API path needs of one HTTP request, read from the scope once."""

    __slots__ = ("api_keys", "app_ids", "client_host", "headers", "method", "path", "query")

    def __init__(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str]) -> None:
        self.method = method
        self.path = path  # the route path: the scope's path without its root_path
        self.query = query
        self.headers = headers  # content-type, content-encoding, content-length (first value each)
        self.app_ids: list[str] = []  # every x-algolia-application-id header
        self.api_keys: list[str] = []  # every x-algolia-api-key header
        self.client_host = "unknown"

    @classmethod
    def of(cls, scope: Scope, path: str) -> WireRequest:
        """``path``: the scope's :func:`route_path`."""
        query: dict[str, list[str]] = {}
        raw_query: bytes = scope.get("query_string", b"")
        if raw_query:
            for key, value in query_pairs(raw_query.decode("latin-1")):
                query.setdefault(key, []).append(value)
        request = cls(scope["method"], path, query, {})
        headers = request.headers
        for name, value in scope["headers"]:
            if name == APP_ID_HEADER:
                request.app_ids.append(value.decode("latin-1"))
            elif name == API_KEY_HEADER:
                request.api_keys.append(value.decode("latin-1"))
            elif name in _READ_HEADERS:
                headers.setdefault(name.decode("latin-1"), value.decode("latin-1"))
        client = scope.get("client")
        if client:
            request.client_host = client[0]
        return request

    def credential(self, name: bytes) -> str | None:
        """One credential, from its header or (as the service allows) the query string.

        Given twice is refused, and so is anything but printable ASCII: credentials end up in logs
        and journals, where control characters could forge lines.
        """
        values = self.app_ids if name == APP_ID_HEADER else self.api_keys
        if not values:
            key = name.decode()
            values = [v for k, vs in self.query.items() if k.lower() == key for v in vs]
        if len(values) > 1:  # which one would count? Neither: the credentials are not valid.
            raise InvalidCredentials()
        if not values:
            return None
        value = values[0]
        if not (value.isascii() and value.isprintable()):  # printable ASCII: space to tilde
            raise InvalidCredentials()
        return value


def query_pairs(text: str) -> list[tuple[str, str]]:
    """``parse_qsl(text, keep_blank_values=True)``: the query string's (name, value) pairs.

    A query string with nothing to unquote (no ``%``, no ``+``: nearly all of them) is split here
    as parse_qsl splits it (on ``&``, empty pieces skipped, each at its first ``=``, a piece without
    one a blank value), without its per-pair replace and unquote calls: ~1 µs for
    ``itemsPerPage=10`` instead of ~5 µs (measured; ~4 µs off every listSources).
    """
    if "%" in text or "+" in text:
        return parse_qsl(text, keep_blank_values=True)
    pairs = []
    for piece in text.split("&"):
        if piece:
            name, _, value = piece.partition("=")
            pairs.append((name, value))
    return pairs


def slash_escaped_path(scope: Scope) -> str | None:
    """The route path with each segment decoded but a slash inside one kept escaped (``%2F``, and
    ``%`` as ``%25``), when the request's path holds an encoded slash (an objectID ``shoes/42``, a
    CIDR range, sent as ``shoes%2F42``); None otherwise, nearly always, after one byte search.
    Route on it, then :func:`unescape_param` each path parameter."""
    raw = scope.get("raw_path")
    if not raw or b"%" not in raw or (b"%2F" not in raw and b"%2f" not in raw):
        return None
    segments = [
        unquote(part.decode("latin-1")).replace("%", "%25").replace("/", "%2F") for part in raw.split(b"/")
    ]
    path = "/".join(segments)
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :]
    return path


def unescape_param(value: str) -> str:
    """A path parameter of a :func:`slash_escaped_path` as the client meant it."""
    if "%" not in value:
        return value
    return value.replace("%2F", "/").replace("%25", "%")


def route_path(scope: Scope) -> str:
    """The path the app routes on: the scope's path without its root_path, as Starlette's
    get_route_path takes it (an app mounted under a prefix)."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :]
    return path


def all_headers(scope: Scope) -> dict[str, str]:
    """Every request header, names lowercase, the first value of a repeated one (for the reference
    validator, which reads them as a mapping)."""
    headers: dict[str, str] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
    return headers


class BodyDeadlines:
    """Body reads that must end by a deadline, watched by one timer per event loop.

    ``asyncio.timeout`` arms and cancels a timer for every read, a cost that shows on small
    requests; here a read costs two dict operations, and one timer per loop, running only while
    reads are under way, cancels any read past its deadline. A read ends at most a tick after its
    deadline (a tick: a tenth of the timeout that started the timer, between 10 ms and 1 s).
    """

    def __init__(self) -> None:
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopDeadlines] = (
            weakref.WeakKeyDictionary()
        )
        self._last: _LoopDeadlines | None = None  # the loop asked for last (nearly always the same)

    def on(self, loop: asyncio.AbstractEventLoop) -> _LoopDeadlines:
        last = self._last
        if last is not None and last.loop is loop:
            return last
        found = self._loops.get(loop)
        if found is None:
            found = self._loops.setdefault(loop, _LoopDeadlines(loop))
        self._last = found
        return found


class _LoopDeadlines:
    """The reads under way on one event loop (only ever touched from that loop's thread)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.reads: dict[asyncio.Task[Any], float] = {}
        self.expired: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None

    def watch(self, task: asyncio.Task[Any], timeout: float) -> None:
        self.reads[task] = self.loop.time() + timeout
        if self._timer is None:
            tick = max(0.01, min(1.0, timeout / 10))
            self._timer = self.loop.call_later(tick, self._check, tick)

    def _check(self, tick: float) -> None:
        now = self.loop.time()
        for task, deadline in list(self.reads.items()):
            if deadline <= now:
                del self.reads[task]
                self.expired.add(task)
                task.cancel()
        self._timer = self.loop.call_later(tick, self._check, tick) if self.reads else None


async def read_body(
    receive: Receive, headers: Mapping[str, str], limit: int, timeout: float, deadlines: BodyDeadlines
) -> bytes:
    """The body as sent: at most ``limit`` bytes (413 beyond), within ``timeout`` seconds (408)."""
    declared = headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body: {declared} bytes is more than the {limit} bytes accepted")
    # The first message is asked for by hand: nearly always it is there already (the body came
    # with the head) and then there was no wait to time, and no deadline is armed. Arming one needs
    # the running task, and on Python 3.11 asyncio.current_task() costs a getpid system call (its
    # check for a fork), ~2 µs of CPU beside its surroundings on a virtual machine.
    iterator = receive().__await__()
    try:
        waiting_on = iterator.send(None)
    except StopIteration as arrived:
        ready: Message | None = arrived.value
        resume: _Resume | None = None
        if ready is not None and ready["type"] == "http.request" and not ready.get("more_body", False):
            whole: bytes = ready.get("body", b"")
            if len(whole) > limit:
                raise PayloadTooLarge(f"body: more than the {limit} bytes accepted") from None
            return whole
    else:  # it has to wait: go on waiting for it under the deadline, as for any later piece
        ready, resume = None, _Resume(iterator, waiting_on)
    first = b""  # the body, while it comes in one piece (nearly always)
    more: io.BytesIO | None = None  # the body so far, once a second piece arrived
    size = 0
    task = asyncio.current_task()
    assert task is not None, "a request runs in a task"
    watch = deadlines.on(task.get_loop())
    watch.watch(task, timeout)
    try:
        while True:
            if ready is not None:
                message, ready = ready, None
            elif resume is not None:
                message, resume = await resume, None
            else:
                message = await receive()
            if message["type"] == "http.disconnect":
                raise ClientGone()
            chunk: bytes = message.get("body", b"")
            if chunk:
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLarge(f"body: more than the {limit} bytes accepted")
                if more is not None:
                    more.write(chunk)
                elif not first:
                    first = chunk
                else:
                    # One growing buffer, not a list of pieces joined at the end: a large body is
                    # held once, not twice, at its peak (getvalue() hands over the buffer uncopied).
                    more = io.BytesIO()
                    more.write(first)
                    more.write(chunk)
                    first = b""
            if not message.get("more_body", False):
                break
    except asyncio.CancelledError:
        if task not in watch.expired:
            raise  # cancelled by someone else (the server shutting down): not ours to answer
        watch.expired.discard(task)
        task.uncancel()
        raise RequestTimeout(f"body: not received within {timeout:g} seconds (body_timeout)") from None
    finally:
        # (The timer runs only while this task waits in receive(), so a cancel of ours always
        # lands there, never after the read ended.)
        watch.reads.pop(task, None)
    return first if more is None else more.getvalue()


class _Resume:
    """Awaiting it goes on with an awaitable whose iterator was started by hand and had to wait:
    what ``await`` would have done from there. The value it waits on is handed to the task again,
    and what the task sends back or throws in (a cancel) is passed on to the iterator."""

    __slots__ = ("_iterator", "_waiting_on")

    def __init__(self, iterator: Generator[Any, Any, Message], waiting_on: Any) -> None:
        self._iterator = iterator
        self._waiting_on = waiting_on

    def __await__(self) -> Generator[Any, Any, Message]:
        iterator, waiting_on = self._iterator, self._waiting_on
        while True:
            try:
                sent = yield waiting_on
            except GeneratorExit:
                iterator.close()
                raise
            except BaseException as error:  # a cancel, or what the awaited future raised
                try:
                    waiting_on = iterator.throw(error)
                except StopIteration as done:
                    result: Message = done.value
                    return result
            else:
                try:
                    waiting_on = iterator.send(sent)
                except StopIteration as done:
                    result = done.value
                    return result


def encode_body(body: Any) -> bytes | None:
    """An answer's body as JSON bytes (None: the answer has no body)."""
    return None if body is None else jsonio.dumps(body)


async def send_answer(send: Send, status: int, body: bytes | None, headers: Mapping[str, str]) -> None:
    """Send one complete response: JSON (``body`` given) or none, with ``headers`` added, and a
    content-length and content-type the answer's own headers do not override (as Starlette's
    Response sets them)."""
    raw: list[tuple[bytes, bytes]] = []
    given: Collection[bytes] = ()
    if headers:  # (nearly always none: then no comprehension runs; measured 2.8 -> 1.7 µs a send)
        raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
        given = {name for name, _ in raw}
    if body is not None and b"content-type" not in given:
        raw.append(_JSON_TYPE)
    if b"content-length" not in given and not (status < 200 or status in _NO_LENGTH):
        raw.append((b"content-length", str(len(body or b"")).encode()))
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body or b""})


__all__ = [
    "BodyDeadlines",
    "ClientGone",
    "WireRequest",
    "all_headers",
    "encode_body",
    "query_pairs",
    "read_body",
    "route_path",
    "send_answer",
    "slash_escaped_path",
    "unescape_param",
]
