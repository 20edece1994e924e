"""Interception: the algoliasearch clients the code under test builds itself, answered by the test's mock.

:class:`Interception` is the type of the ``algolia_intercept`` fixture. While it is active, a request
any algoliasearch client sends to one of Algolia's hosts never leaves the process: it is handed to
this test's in-process mock (the same engine, journal, faults and state as ``ingestion_mock``), and
the mock's answer goes back to the client as the network's would. The client is built and used
unchanged: ``SearchClientSync("app", "key")``, ``IngestionClient("app", "key", "eu")``, a client made
at import time, in another thread, or inside a helper of the client itself.

How: the official Python client sends its requests with ``requests`` (the sync clients) and
``aiohttp`` (the async ones). Each stack is intercepted by a well-kept library made for it,
``responses`` and ``aioresponses``, with a callback per request; the client itself is neither
edited nor patched.

Which hosts (matched whole, case-insensitively, on http or https, any port):

- the Search API's: ``APP.algolia.net``, ``APP-dsn.algolia.net``, ``APP-1/2/3.algolianet.com``;
- the Ingestion API's: ``data.us.algolia.com``, ``data.eu.algolia.com``;
- any other host under ``algolia.net``, ``algolianet.com``, ``algolia.com`` or ``algolia.io`` (the
  Analytics, Insights, Monitoring... APIs the mock does not serve, or an Ingestion region that does
  not exist) is refused: the client gets a connection error saying so, and nothing reaches the
  network. (A client of another API on the application's own hosts, Recommend for one, reaches the
  mock and gets the error its routes give that path: a 404 or a 405.)
- every other host is left alone (the request goes out as it would without the fixture: a live
  mock on 127.0.0.1, a service of the code's own).

What it cannot catch: HTTP sent by anything but ``requests`` and ``aiohttp`` in this process (another
process, a subprocess, the JavaScript client, ``httpx`` or ``urllib`` calls of the code's own);
clients configured with hosts of their own (they are left alone, as above). Timeouts are not
modelled: an injected latency delays the answer, but the client's read timeout never fires.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

if TYPE_CHECKING:
    from mockserver.pytest_plugin.mock_handle import IngestionMock

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
# The hosts the official clients aim at by default (their configs' set_default_hosts).
SEARCH_HOSTS = re.compile(rf"(?:{_LABEL}\.algolia\.net|{_LABEL}-[123]\.algolianet\.com)", re.IGNORECASE)
INGESTION_HOSTS = re.compile(r"data\.(?:us|eu)\.algolia\.com", re.IGNORECASE)
ALGOLIA_DOMAINS = re.compile(
    rf"(?:{_LABEL}\.)*(?:algolia\.net|algolianet\.com|algolia\.com|algolia\.io)", re.IGNORECASE
)
# A URL on an Algolia host: what both stacks route to the callbacks (the rest passes through).
ALGOLIA_URL = re.compile(
    rf"https?://{ALGOLIA_DOMAINS.pattern}(?::[0-9]+)?(?:[/?#]|$)",
    re.IGNORECASE,
)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_DROPPED_HEADERS = frozenset({"content-length", "transfer-encoding", "connection"})


def api_of(host: str) -> str | None:
    """``"search"`` or ``"ingestion"`` for a host the mock answers for; None for any other host."""
    if INGESTION_HOSTS.fullmatch(host):
        return "ingestion"
    if SEARCH_HOSTS.fullmatch(host):
        return "search"
    return None


def is_algolia(host: str) -> bool:
    """Whether a host is one of Algolia's (served by the mock or refused, never sent out)."""
    return ALGOLIA_DOMAINS.fullmatch(host) is not None


class Refused(Exception):
    """A request to an Algolia host the mock does not answer for, or one the mock dropped."""


@dataclass(frozen=True)
class InterceptedRequest:
    """One request the interception answered: its method, URL and the API its host belongs to."""

    method: str
    url: str
    api: str
    status: int


class Interception:
    """Routes every algoliasearch client's requests to Algolia's hosts to ``mock``, in process.

    ``requests`` lists what was answered, in order (the journal, ``mock.journal``, has each call
    in full). A client's requests land in the application its own credentials name: give the
    ``ingestion_mock`` marker the code's ``app_id`` (and ``api_key`` under ``strict``) to read its
    state through ``ingestion_mock``, or use :meth:`application`.
    """

    def __init__(self, mock: IngestionMock) -> None:
        from mockserver.http.inprocess import InProcessTransport

        self.mock = mock
        self.requests: list[InterceptedRequest] = []
        # A crash of the mock is the 500 a served mock would send, not an exception in the client.
        self._transport = InProcessTransport(mock.app, raise_app_exceptions=False)
        self._patches: list[Any] = []

    # --- what a test reads ---------------------------------------------------------------------
    def application(self, app_id: str) -> IngestionMock:
        """A handle on another application of the same mock (the one a client's ``app_id`` names)."""
        from mockserver.pytest_plugin.mock_handle import IngestionMock

        return IngestionMock(self.mock.app, app_id, self.mock.api_key)

    @property
    def hosts(self) -> list[str]:
        """The hosts reached, in the order first reached."""
        return list(dict.fromkeys(urlsplit(r.url).hostname or "" for r in self.requests))

    # --- the one way a request is answered -----------------------------------------------------
    def answer(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | str | None
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """The mock's answer to one request for an Algolia host: (status, headers, body).

        Raises :class:`Refused` for a host the mock does not answer for, and when the mock drops
        the connection (a fault rule): each stack turns it into its own connection error.
        """
        host = urlsplit(url).hostname or ""
        api = api_of(host)
        if api is None:
            raise Refused(
                f"mockserver's algolia_intercept refused {method} {url}: {host} is an Algolia host "
                f"of an API the mock does not serve (it answers the Search API on APP.algolia.net, "
                f"APP-dsn.algolia.net and APP-1..3.algolianet.com, and the Ingestion API on "
                f"data.us.algolia.com and data.eu.algolia.com); the request was not sent"
            )
        content = body.encode() if isinstance(body, str) else (body or b"")
        request = httpx.Request(method, url, headers=dict(headers), content=content)
        try:
            response = self._transport.handle_request(request)
        except httpx.RemoteProtocolError as error:
            raise Refused(f"the mock dropped the connection of {method} {url} ({error})") from error
        answer = response.read()
        self.requests.append(InterceptedRequest(method, url, api, response.status_code))
        kept = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _DROPPED_HEADERS]
        return response.status_code, kept, answer

    # --- the two stacks ------------------------------------------------------------------------
    def __enter__(self) -> Interception:
        try:
            self._patches = [self._requests_stack(), self._aiohttp_stack()]
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        while self._patches:
            self._patches.pop().__exit__(None, None, None)
        self._transport.close()

    def _requests_stack(self) -> Any:
        """``responses`` for the sync clients: Algolia's URLs to :meth:`answer`, the rest through."""
        import requests
        import responses

        def callback(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
            headers = {
                str(k): v if isinstance(v, str) else v.decode("latin-1") for k, v in request.headers.items()
            }
            body = request.body  # responses has read a file-like body already
            try:
                status, answer_headers, answer = self.answer(
                    str(request.method),
                    str(request.url),
                    headers,
                    body if isinstance(body, (bytes, str)) else None,
                )
            except Refused as refused:
                raise requests.ConnectionError(str(refused), request=request) from None
            return status, dict(answer_headers), answer

        mock = responses.RequestsMock(assert_all_requests_are_fired=False)
        for method in METHODS:
            mock.add_callback(method, ALGOLIA_URL, callback=callback, content_type=None)
        mock.add_passthru(re.compile(r".*", re.DOTALL))  # any other host: as without the fixture
        mock.__enter__()
        return mock

    def _aiohttp_stack(self) -> Any:
        """``aioresponses`` for the async clients: the mock runs in a worker thread, so the test's
        event loop goes on (other requests, timers) while one request is answered."""
        import aiohttp
        from aioresponses import CallbackResult, aioresponses

        response_class = _answered_response_class()

        def callback_for(method: str) -> Callable[..., Any]:
            async def callback(url: Any, **kwargs: Any) -> CallbackResult:
                headers = {str(k): str(v) for k, v in (kwargs.get("headers") or {}).items()}
                try:
                    status, answer_headers, body = await asyncio.to_thread(
                        self.answer, method, str(url), headers, kwargs.get("data")
                    )
                except Refused as refused:
                    raise aiohttp.ClientConnectionError(str(refused)) from None
                content_type = next((v for k, v in answer_headers if k.lower() == "content-type"), None)
                return CallbackResult(
                    status=status,
                    body=body,
                    headers=dict(answer_headers),
                    content_type=content_type or "application/octet-stream",
                    response_class=response_class,
                )

            return callback

        mock = aioresponses(passthrough_unmatched=True)
        mock.__enter__()
        for method in METHODS:
            mock.add(ALGOLIA_URL, method=method, callback=callback_for(method), repeat=True)
        return mock


class _SentInFull:
    """The writer of a request that was sent whole (what aiohttp reads of it: its output size)."""

    output_size = 0


def _answered_response_class() -> type[Any]:
    """The response class ``aioresponses`` builds its answers with. Since aiohttp 3.14 a response
    takes the writer that sent its request (``stream_writer``), which aioresponses 0.7.9 does not
    pass: this subclass (aioresponses' own ``response_class`` option) gives one that sent it all."""
    import inspect

    from aiohttp import ClientResponse

    if "stream_writer" not in inspect.signature(ClientResponse).parameters:
        return ClientResponse

    class AnsweredResponse(ClientResponse):
        def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
            kwargs.setdefault("stream_writer", _SentInFull())
            super().__init__(method, url, **kwargs)

    return AnsweredResponse


__all__ = ["InterceptedRequest", "Interception", "Refused", "api_of", "is_algolia"]
