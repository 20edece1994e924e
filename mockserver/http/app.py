"""The HTTP face of the engine: match the route, apply faults, read credentials and body, execute,
encode the answer. It decides nothing about the API; the engine does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .. import jsonio
from ..bodies import decode_json_body, read_body_bytes
from ..clock import Clock
from ..control import MockControl
from ..control import http as control_http
from ..depth import check_depth
from ..engine import API_KEY_HEADER, APP_ID_HEADER, Answer, ApiRequest, Engine
from ..errors import ApiError, ConnectionDropped, InvalidCredentials, RequestTimeout, error_body
from ..faults import Faults
from ..journal import Call, Journal
from ..routing import RouteTable
from ..settings import MockSettings, from_options
from ..spec import Spec, load_spec
from ..store import Store
from ..validation import MISSING

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
OFF_LOOP_BODY_BYTES = 256 * 1024  # bodies at least this large are decoded and acted on off the event loop

AccessListener = Callable[[Call, float], None]


class MockApp(Starlette):
    """A Starlette app that serves one engine; two of them never share anything."""

    def __init__(self, engine: Engine, control: MockControl) -> None:
        self.engine = engine
        self.control = control
        self.route_table = RouteTable(engine.spec)
        self.listeners: list[AccessListener] = []  # told of every call with its duration (access logs)
        super().__init__(
            routes=[control_http.mount(control), Route("/{_path:path}", self._endpoint, methods=ALL_METHODS)],
            exception_handlers={HTTPException: _http_error},
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
    async def _endpoint(self, request: Request) -> Response:
        started = time.perf_counter()
        engine = self.engine
        query: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            query.setdefault(key, []).append(value)
        method, path = request.method, request.url.path
        api_request = ApiRequest(None, None, method, path, {}, query)
        drop_after = False
        try:
            match = self.route_table.match(method, path)
            operation = match.operation
            api_request.operation = operation
            api_request.path_params = match.path_params
            if engine.reference is not None:
                api_request.headers = dict(request.headers)
            if engine.faults.active:
                client = request.client.host if request.client is not None else "unknown"
                app_header = request.headers.get(APP_ID_HEADER)
                decision = engine.faults.decide(operation.operation_id, client, app_header)
                if decision.delay:
                    await asyncio.sleep(decision.delay)
                if decision.drop:
                    return self._finish(api_request, _DROPPED, started, drop=True)
                if decision.status is not None:
                    fault = ApiError(decision.message, headers=decision.headers, status=decision.status)
                    return self._finish(api_request, Answer.of_error(fault, injected=True), started)
                drop_after = decision.drop_after
            principal = engine.authenticate(
                _credential(request, query, APP_ID_HEADER),
                _credential(request, query, API_KEY_HEADER),
                operation,
            )
            if isinstance(principal, ApiError):
                raise principal
            api_request.app_id = principal
            if operation.has_body:
                raw = await read_body(request, engine.settings)
                api_request.body_bytes = len(raw)
                if len(raw) >= OFF_LOOP_BODY_BYTES:
                    api_request.body = await run_in_threadpool(self._decode, raw, request)
                else:
                    api_request.body = self._decode(raw, request)
        except ApiError as error:
            return self._finish(api_request, Answer.of_error(error), started)
        if (
            engine.may_run_long(api_request)
            or (api_request.body_bytes or 0) >= OFF_LOOP_BODY_BYTES
            or _busy(engine, api_request.app_id)
        ):
            # A slow request (transformations, a large body to check and journal), or one that would
            # wait for its application's slow request, runs in a thread.
            return await run_in_threadpool(self._execute, api_request, started, drop_after)
        return self._execute(api_request, started, drop_after)

    def _decode(self, raw: bytes, request: Request) -> Any:
        settings = self.engine.settings
        body = decode_json_body(raw, request.headers, settings.max_body_bytes)
        if body is not MISSING:
            check_depth(body, settings.max_depth)
        return body

    def _execute(self, api_request: ApiRequest, started: float, drop_after: bool) -> Response:
        answer = self.engine.execute(api_request, record=False)
        return self._finish(api_request, answer, started, drop=drop_after)

    def _finish(
        self, api_request: ApiRequest, answer: Answer, started: float, drop: bool = False
    ) -> Response:
        response = DroppedConnection() if drop else encode(answer)
        # The encoded answer's length is its exact size: the journal's budget need not estimate it.
        size = None if drop or answer.body is None else len(response.body)
        call = self.engine.record(api_request, answer, answer_bytes=size)
        for listener in self.listeners:
            listener(call, (time.perf_counter() - started) * 1000)
        return response


_DROPPED = Answer(
    0, error_body(0, "connection dropped by a fault rule", code="connection_dropped"), injected=True
)


def _busy(engine: Engine, app_id: str | None) -> bool:
    """Whether another request of this application is under way (it may be running a transformation):
    then this one waits for it in a thread, not on the event loop."""
    if app_id is None:
        return False
    lock = engine.store.app_lock(app_id)
    if lock.acquire(blocking=False):
        lock.release()
        return False
    return True


async def read_body(request: Request, settings: MockSettings) -> bytes:
    """The request body, within the size limit and within ``body_timeout`` seconds (408 beyond)."""
    try:
        async with asyncio.timeout(settings.body_timeout):  # no task per request, unlike wait_for
            return await read_body_bytes(request, settings.max_body_bytes)
    except TimeoutError:
        raise RequestTimeout(
            f"body: not received within {settings.body_timeout:g} seconds (body_timeout)"
        ) from None


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


def _credential(request: Request, query: dict[str, list[str]], name: str) -> str | None:
    """One credential, from its header or (as the service allows) the query string.

    Given twice is refused, and so is anything but printable ASCII:
    credentials end up in logs and journals, where control characters could forge lines.
    """
    values = request.headers.getlist(name) or [v for k, vs in query.items() if k.lower() == name for v in vs]
    if len(values) > 1:  # which one would count? Neither: the credentials are not valid.
        raise InvalidCredentials()
    if not values:
        return None
    value = values[0]
    if not (value.isascii() and value.isprintable()):  # printable ASCII: space to tilde
        raise InvalidCredentials()
    return value


class DroppedConnection(Response):
    """Starts a response and then fails, so the server closes the connection mid-answer."""

    def __init__(self) -> None:
        super().__init__(b"", status_code=200)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"1024")]})
        raise ConnectionDropped("connection dropped on purpose by a fault rule")


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own errors (unknown control-plane path, wrong method) in the API's JSON shape."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "Internal error"
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
    """Build a mock of the Ingestion API (or of any OpenAPI 3.1 ``spec``) as an ASGI app.

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
    loaded = spec if isinstance(spec, Spec) else load_spec(spec)
    if isinstance(clock, str):
        options["clock"], clock = clock, None
    if settings is None:
        settings = from_options(options)
    elif options:
        raise TypeError("pass either settings or keyword options, not both")
    engine = Engine(loaded, settings, store=store, clock=clock)
    control = MockControl(engine)
    control.open()
    return MockApp(engine, control)


__all__ = ["MockApp", "create_app", "encode"]
