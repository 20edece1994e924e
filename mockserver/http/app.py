"""The HTTP face of the engine: match the route, apply faults, read credentials and body, execute,
encode the answer. It decides nothing about the API; the engine does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from mockserver.control import http as control_http
from mockserver.control.mock_control import MockControl
from mockserver.engine import jsonio
from mockserver.engine.clock import Clock
from mockserver.engine.core import Answer, ApiRequest, Engine
from mockserver.engine.errors import ApiError, ConnectionDropped, error_body
from mockserver.engine.faults import Decision, Faults
from mockserver.engine.journal import Call, Journal
from mockserver.engine.routing import RouteTable
from mockserver.engine.store import Store
from mockserver.factory import open_mock
from mockserver.http.bodies import json_text, parse_json
from mockserver.http.origin import HostCheck
from mockserver.http.wire import (
    API_KEY_HEADER,
    APP_ID_HEADER,
    BodyDeadlines,
    ClientGone,
    Receive,
    Scope,
    Send,
    WireRequest,
    all_headers,
    encode_body,
    read_body,
    route_path,
    send_answer,
    slash_escaped_path,
    unescape_param,
)
from mockserver.names import CONTROL_PREFIX
from mockserver.settings import MockSettings
from mockserver.spec import Spec
from mockserver.ui import FAVICON_PATH, favicon_route

OFF_LOOP_BODY_BYTES = 256 * 1024  # bodies at least this large are decoded and acted on off the event loop

_CONTROL = CONTROL_PREFIX + "/"  # paths the control plane serves (through Starlette)
# Control-plane paths with no data in them (health checks): reachable by any Host name.
_OPEN = frozenset(CONTROL_PREFIX + route for route in control_http.OPEN_ROUTES)

AccessListener = Callable[[Call, float], None]


class MockApp:
    """A plain ASGI app serving one engine; two of them never share anything.

    API requests are served straight from the ASGI messages (no framework on the hot path); the
    ``/__mock__/`` control plane, lifespan and any other scope go to :attr:`control_app`, a Starlette
    app. Middleware wraps the whole app (``app = Middleware(app)``) so that it sees both faces;
    :meth:`add_middleware` refuses, since it could only reach the control plane.
    """

    def __init__(self, engine: Engine, control: MockControl) -> None:
        self.engine = engine
        self.control = control
        self.route_table = RouteTable(engine.spec)
        self.deadlines = BodyDeadlines()  # body reads and their body_timeout
        self.hosts = HostCheck(engine.settings.allowed_hosts)  # the control plane's names (Host)
        self.listeners: list[AccessListener] = []  # told of every call with its duration (access logs)
        self.control_app = Starlette(
            routes=[control_http.mount(control), favicon_route()],
            # Exception: anything unexpected on a control route is a JSON 500 with error.code (Starlette
            # still re-raises it after answering, so the server logs it), never text/plain.
            exception_handlers={HTTPException: _http_error, Exception: _http_error},
        )

    def add_middleware(self, middleware_class: object, *args: object, **kwargs: object) -> NoReturn:
        """Refused: Starlette middleware added here would see the control plane and not the API."""
        name = getattr(middleware_class, "__name__", repr(middleware_class))
        raise TypeError(
            f"MockApp.add_middleware({name}) is refused: the API is served without Starlette, so the "
            f"middleware would see /__mock__/ and not /1/... requests. Wrap the whole app instead, "
            f"app = {name}(app, ...), and it sees both"
        )

    # --- the engine's parts, for tests and tools that look inside ------------------------------
    @property
    def spec(self) -> Spec:
        return self.engine.spec

    @property
    def store(self) -> Store:
        return self.engine.store

    @property
    def settings(self) -> MockSettings:
        return self.engine.settings

    @property
    def journal(self) -> Journal:
        return self.engine.journal

    @property
    def faults(self) -> Faults:
        return self.engine.faults

    # --- one request ---------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """API requests are served straight from ASGI; the control plane, a browser's
        ``/favicon.ico``, lifespan and anything else go to the Starlette app of the control plane."""
        if scope["type"] == "http":
            path = route_path(scope)
            if not path.startswith(_CONTROL) and path != FAVICON_PATH:
                await self._serve(scope, receive, send, path)
                return
            if not self.hosts.any and path not in _OPEN and await self._refused_host(scope, send):
                return  # the control plane and the inspector answer only to the mock's own names
        await self.control_app(scope, receive, send)

    async def _refused_host(self, scope: Scope, send: Send) -> bool:
        """Answer 403 to a request whose Host header names no name of this mock (see origin.py);
        whether it was refused."""
        host = None
        for name, value in scope["headers"]:
            if name == b"host":
                host = value.decode("latin-1")
                break
        server = scope.get("server")
        refusal = self.hosts.refusal(host, str(server[0]) if server else None)
        if refusal is None:
            return False
        await send_answer(send, refusal.status, jsonio.dumps(refusal.body()), refusal.headers)
        return True

    async def _serve(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        started = time.perf_counter()
        wire = WireRequest.of(scope, path)
        api_request = ApiRequest(None, None, wire.method, wire.path, {}, wire.query)
        try:
            answer, drop = await self._answer(scope, receive, wire, api_request)
            encoded = None if drop else encode_body(answer.body)
            # The journal keeps the answer as sent: one bytes object, its length the exact size.
            listeners = self.listeners
            call = self.engine.record(api_request, answer, answer_json=encoded, made=bool(listeners))
            if call is not None:
                for listener in listeners:
                    listener(call, (time.perf_counter() - started) * 1000)
        except ClientGone:
            return  # the client left before sending its body: nobody to answer, nothing was done
        except Exception:
            # As Starlette's ServerErrorMiddleware: answer 500, and let the server log the exception.
            body = jsonio.dumps(error_body(500, "Internal error", code="internal_error"))
            await send_answer(send, 500, body, {})
            raise
        if drop:
            start = {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1024")]}
            await send(start)
            raise ConnectionDropped("connection dropped on purpose by a fault rule")
        await send_answer(send, answer.status, encoded, answer.headers)

    async def _answer(
        self, scope: Scope, receive: Receive, wire: WireRequest, api_request: ApiRequest
    ) -> tuple[Answer, bool]:
        """The answer to one API request, and whether to drop the connection instead of sending it."""
        engine = self.engine
        drop_after = False
        try:
            escaped = slash_escaped_path(scope)  # (None unless the path holds an encoded slash)
            match = self.route_table.match(wire.method, wire.path if escaped is None else escaped)
            operation = match.operation
            api_request.operation = operation
            api_request.path_params = (
                match.path_params
                if escaped is None
                else {name: unescape_param(value) for name, value in match.path_params.items()}
            )
            if engine.reference is not None:
                api_request.headers = all_headers(scope)
            if engine.faults.active:
                app_header = wire.app_ids[0] if wire.app_ids else None
                decision = engine.faults.decide(
                    operation.operation_id, wire.client_host, app_header, api_request
                )
                faulted = await _faulted(decision)
                if faulted is not None:
                    return faulted
                drop_after = decision.drop_after
            principal = engine.authenticate(
                wire.credential(APP_ID_HEADER), wire.credential(API_KEY_HEADER), operation
            )
            if isinstance(principal, ApiError):
                return Answer.of_error(principal), False
            api_request.app_id = principal
            if operation.has_body:
                settings = engine.settings
                raw = await read_body(
                    receive, wire.headers, settings.max_body_bytes, settings.body_timeout, self.deadlines
                )
                if len(raw) >= OFF_LOOP_BODY_BYTES:
                    refused = await run_in_threadpool(self._decode_off_loop, raw, wire.headers, api_request)
                    if refused is not None:  # (returned, not raised: raising would tie it to this frame)
                        return Answer.of_error(refused), False
                else:
                    self._decode(raw, wire.headers, api_request)
            if engine.faults.on_body:  # rules matching a body subset: decided now the body is read
                decision = engine.faults.decide_on_body(operation.operation_id, principal, api_request)
                faulted = await _faulted(decision)
                if faulted is not None:
                    return faulted
                drop_after = drop_after or decision.drop_after
        except ApiError as error:
            return Answer.of_error(error), False
        if (
            engine.may_run_long(api_request)
            or (api_request.body_bytes or 0) >= OFF_LOOP_BODY_BYTES
            or _busy(engine, api_request.app_id)
        ):
            # A slow request (transformations, a large body to check and journal), or one that would
            # wait for its application's slow request, runs in a thread.
            answer = await run_in_threadpool(engine.execute, api_request, record=False)
        else:
            answer = engine.execute(api_request, record=False)
        return answer, drop_after

    def _decode_off_loop(
        self, raw: bytes, headers: dict[str, str], api_request: ApiRequest
    ) -> ApiError | None:
        """:meth:`_decode` in a worker thread. A refusal comes back as a value, stripped of its
        traceback: raised across anyio's thread boundary it would form a reference cycle (the
        traceback, the worker's frame, its future, the refusal) holding the body until the next
        full garbage collection: 10 MB of broken JSON a request, measured."""
        try:
            self._decode(raw, headers, api_request)
        except ApiError as error:
            return error.with_traceback(None)
        return None

    def _decode(self, raw: bytes, headers: dict[str, str], api_request: ApiRequest) -> None:
        """The body parsed (within max_depth), and the JSON text it came from, for the journal."""
        if not raw:
            return
        settings = self.engine.settings
        text = json_text(raw, headers, settings.max_body_bytes)
        api_request.body_bytes = len(text)  # (inflated, when it came gzipped: the size the journal keeps)
        api_request.body = parse_json(text, settings.max_depth)
        api_request.body_json = text


async def _faulted(decision: Decision) -> tuple[Answer, bool] | None:
    """Wait the delay a fault decided; the answer it asks for (and whether to drop the connection
    instead of sending it), or None when the request goes on."""
    if decision.delay:
        await asyncio.sleep(decision.delay)
    if decision.drop:
        return _DROPPED, True
    if decision.status is not None:
        fault = ApiError(decision.message, headers=decision.headers, status=decision.status)
        return Answer.of_error(fault, injected=True), False
    return None


_DROPPED = Answer(
    0, error_body(0, "connection dropped by a fault rule", code="connection_dropped"), injected=True
)


def _busy(engine: Engine, app_id: str | None) -> bool:
    """Whether another request of this application is under way (it may be running a transformation):
    then this one waits for it in a thread, not on the event loop."""
    if app_id is None:
        return False
    return engine.store.app_busy(app_id)


def encode(answer: Answer) -> Response:
    """An answer as an HTTP response: JSON, or no body at all."""
    if answer.body is None:
        return Response(status_code=answer.status, headers=dict(answer.headers))
    return Response(
        jsonio.dumps(answer.body),
        status_code=answer.status,
        headers=dict(answer.headers),
        media_type="application/json",
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (unknown control-plane path, wrong method) and any unexpected exception
    (a 500, its cause logged by the server, not answered) in the API's JSON shape."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "internal error of the mock (see its log)"
    message = f"{request.method} {request.url.path}: {detail}"
    headers = dict(getattr(exc, "headers", None) or {})
    return encode(Answer(status, error_body(status, message), headers))


def create_app(
    spec: Spec | str | Path | None = None,
    *,
    settings: MockSettings | None = None,
    store: Store | None = None,
    clock: Clock | str | None = None,
    **options: Any,
) -> MockApp:
    """Build a complete mock of the Ingestion API (or of any OpenAPI 3.1 ``spec``) as an ASGI app:
    :func:`mockserver.open_mock` with the HTTP face on it.

    Options are the fields of :class:`mockserver.settings.MockSettings`, given as ``settings`` or as
    keywords (not both):

    - credentials: ``app_id``, ``api_key`` (both given: only that pair is accepted, unless
      ``strict=False``), ``strict``, ``keys`` (extra API keys with ACLs);
    - data: ``fixtures`` (data sets every application starts with), ``data`` (inline data set),
      ``seed`` (reproducible IDs), ``state_file`` (SQLite file that keeps state across restarts);
    - time and runs: ``clock`` ("real", "frozen" or an RFC 3339 instant), ``runs`` (run policy);
    - misbehaviour: ``faults`` (fault rules), ``rate_limit`` (documented per-IP limits);
    - limits: ``max_body_bytes``, ``max_depth``, ``journal_size``, ``journal_bytes``,
      ``max_applications``, ``max_resources``;
    - checks and logs: ``check_responses`` (every answer held against the spec),
      ``fail_on_rejection`` (pytest), ``validation`` ("fast" or "openapi-core"), ``access_log``.

    ``store`` and a :class:`Clock` given as ``clock`` replace the engine's own (for tests that share or
    steer them); ``clock`` given as text is the setting.
    """
    control = open_mock(spec, settings=settings, store=store, clock=clock, **options)
    return MockApp(control.engine, control)


__all__ = ["MockApp", "create_app", "encode"]
