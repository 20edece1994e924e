"""An httpx-style client that calls an ASGI app in the same process: no socket, no thread per request.

:class:`InProcessClient` (``.get/.post/.put/.patch/.delete/.request``, ``json=``, ``params=``,
``headers=``, ``base_url``; ``httpx.Request`` and ``httpx.Response`` objects) sends each request
through :class:`InProcessTransport`, an httpx transport that runs the app on an event loop it owns
for its whole life, in the calling thread. Starlette's TestClient instead
hands every request to another thread through an anyio portal, which costs more than the mock's own
work on a small request.

Called where an event loop is already running (a sync call inside an ``async def`` test), or from
a second thread while the first one is inside a request, the request goes to one helper thread
with its own loop (started on first need, kept until ``close()``): the caller blocks, as any
synchronous HTTP call does, and the app still runs on a loop of its own.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import httpx

from mockserver.engine import jsonio
from mockserver.engine.errors import ConnectionDropped

ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]  # (scope, receive, send)
T = TypeVar("T")

DEFAULT_BASE_URL = "http://testserver"
CLIENT_ADDRESS = ("127.0.0.1", 50000)  # what the app sees as the peer (rate limits are per address)


class InProcessTransport(httpx.BaseTransport):
    """Runs each request through ``app`` directly (ASGI 3, one ``http`` scope per request).

    With ``raise_app_exceptions`` (the default, as with Starlette's TestClient), an exception the
    app lets out reaches the caller; without it, the caller gets the 500 the app sent (or an empty
    500). A response the app started and then broke off (a fault rule dropping the connection)
    raises ``httpx.RemoteProtocolError``, as a server closing the socket would.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        raise_app_exceptions: bool = True,
        client: tuple[str, int] = CLIENT_ADDRESS,
        root_path: str = "",
    ) -> None:
        self.app = app
        self.raise_app_exceptions = raise_app_exceptions
        self.client = client
        self.root_path = root_path
        self._runner = _LoopRunner()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        return self._runner.run(lambda: self._call(request, body))

    def close(self) -> None:
        self._runner.close()

    async def _call(self, request: httpx.Request, body: bytes) -> httpx.Response:
        url = request.url
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": request.method,
            "scheme": url.scheme,
            "path": url.path,  # (decoded by httpx already: decoding it again made %252F a slash)
            "raw_path": url.raw_path.split(b"?", 1)[0],
            "query_string": url.query,
            "root_path": self.root_path,
            "headers": [(name.lower(), value) for name, value in request.headers.raw],
            "client": self.client,
            "server": (url.host, url.port or (443 if url.scheme == "https" else 80)),
            "extensions": {},
            "state": {},
        }
        received = False
        done = asyncio.Event()
        status: int | None = None
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal received
            if not received:
                received = True
                return {"type": "http.request", "body": body, "more_body": False}
            await done.wait()  # nothing more to read: the client "disconnects" once answered
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status, headers
            kind = message["type"]
            if kind == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
            elif kind == "http.response.body" and not done.is_set():
                chunk = message.get("body", b"")
                if chunk and request.method != "HEAD":
                    chunks.append(bytes(chunk))
                if not message.get("more_body", False):
                    done.set()

        try:
            await self.app(scope, receive, send)
        except Exception as error:
            started_and_broken = status is not None and not done.is_set()
            if isinstance(error, ConnectionDropped) or (started_and_broken and not self.raise_app_exceptions):
                raise httpx.RemoteProtocolError(
                    f"the server closed the connection mid-response ({error})", request=request
                ) from error
            if self.raise_app_exceptions:
                raise
            if status is None:
                status, headers, chunks = 500, [], []
        finally:
            done.set()
        if status is None:
            raise httpx.RemoteProtocolError("the app returned without answering", request=request)
        return httpx.Response(
            status,
            headers=headers,
            stream=httpx.ByteStream(b"".join(chunks)),
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )


class _LoopRunner:
    """Runs coroutines to completion: on its own loop in the calling thread when it can, otherwise
    (a loop already running in this thread, or its loop busy with another thread's request) on a
    helper thread's loop."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._busy = threading.Lock()
        self._helper_lock = threading.Lock()
        self._helper: tuple[asyncio.AbstractEventLoop, threading.Thread] | None = None
        self._closed = False

    def run(self, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
        if self._closed:
            raise RuntimeError("this in-process client is closed")
        if not _loop_running_here() and self._busy.acquire(blocking=False):
            try:
                return self._loop.run_until_complete(make())
            finally:
                self._busy.release()
        return asyncio.run_coroutine_threadsafe(make(), self._helper_loop()).result()

    def _helper_loop(self) -> asyncio.AbstractEventLoop:
        with self._helper_lock:
            if self._helper is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="mockserver-inprocess-loop", daemon=True
                )
                thread.start()
                self._helper = (loop, thread)
            return self._helper[0]

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with self._helper_lock:
            if self._helper is not None:
                loop, thread = self._helper
                loop.call_soon_threadsafe(loop.stop)
                thread.join(timeout=10)
                loop.close()
                self._helper = None
        with self._busy:
            self._loop.close()


def _loop_running_here() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class InProcessClient:
    """The httpx client API for one ASGI app in this process, without ``httpx.Client``'s per-request
    machinery (cookie jar, redirects, auth flows, event hooks), which costs more than a small request
    through the mock. Requests and responses are ``httpx.Request`` / ``httpx.Response``.

    ``base_url`` and ``headers`` (the defaults every request carries; ``client.headers`` can be
    changed later) as in httpx; each method takes ``params``, ``headers``, ``json``, ``content``,
    ``data``, ``files`` and ``cookies`` as httpx does. Redirects are not followed (the mock answers
    none). For the full ``httpx.Client``, use ``httpx.Client(transport=InProcessTransport(app))``.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        base_url: str = DEFAULT_BASE_URL,
        headers: dict[str, str] | None = None,
        raise_app_exceptions: bool = True,
    ) -> None:
        self.app = app
        self.base_url = httpx.URL(base_url)
        self.headers = httpx.Headers(headers)
        self._base = str(self.base_url).rstrip("/")
        self._transport = InProcessTransport(app, raise_app_exceptions=raise_app_exceptions)

    def build_request(
        self,
        method: str,
        url: str | httpx.URL,
        *,
        params: Any = None,
        headers: Any = None,
        json: Any = None,
        content: Any = None,
        data: Any = None,
        files: Any = None,
        cookies: Any = None,
    ) -> httpx.Request:
        merged = self.headers.copy()
        if headers:
            merged.update(headers)
        if json is not None and content is None and data is None and files is None:
            content = jsonio.dumps(json)
            merged.setdefault("content-type", "application/json")
        return httpx.Request(
            method,
            self._absolute(url),
            params=params,
            headers=merged,
            content=content,
            data=data,
            files=files,
            cookies=cookies,
        )

    def send(self, request: httpx.Request) -> httpx.Response:
        response = self._transport.handle_request(request)
        response.read()
        return response

    def request(self, method: str, url: str | httpx.URL, **options: Any) -> httpx.Response:
        return self.send(self.build_request(method, url, **options))

    def get(self, url: str | httpx.URL, **options: Any) -> httpx.Response:
        return self.request("GET", url, **options)

    def head(self, url: str | httpx.URL, **options: Any) -> httpx.Response:
        return self.request("HEAD", url, **options)

    def options(self, url: str | httpx.URL, **options: Any) -> httpx.Response:
        return self.request("OPTIONS", url, **options)

    def post(self, url: str | httpx.URL, **options: Any) -> httpx.Response:
        return self.request("POST", url, **options)

    def put(self, url: str | httpx.URL, **options: Any) -> httpx.Response:
        return self.request("PUT", url, **options)

    def patch(self, url: str | httpx.URL, **options: Any) -> httpx.Response:
        return self.request("PATCH", url, **options)

    def delete(self, url: str | httpx.URL, **options: Any) -> httpx.Response:
        return self.request("DELETE", url, **options)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> InProcessClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _absolute(self, url: str | httpx.URL) -> httpx.URL:
        """``url`` against ``base_url``, as httpx joins them (a path is appended to the base's)."""
        if isinstance(url, httpx.URL):
            return url if url.is_absolute_url else _parsed(self._base + "/" + str(url).lstrip("/"))
        if url.startswith("/"):
            return _parsed(self._base + url)
        if "://" in url:
            return _parsed(url)
        return _parsed(self._base + "/" + url)


@functools.lru_cache(maxsize=1024)
def _parsed(url: str) -> httpx.URL:
    """httpx parses a URL character by character; a test asks for the same few again and again
    (httpx.URL is immutable, so one parse can serve every request)."""
    return httpx.URL(url)


__all__ = ["InProcessClient", "InProcessTransport"]
