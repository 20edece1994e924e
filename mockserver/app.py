"""create_app(): the Starlette application. The HTTP layer only translates; the store decides."""

from __future__ import annotations

import asyncio
import dataclasses
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import admin, seeding
from .bodies import read_json_body
from .clock import Clock
from .control import MockControl
from .errors import (
    INVALID_CREDENTIALS,
    ApiError,
    ConnectionDropped,
    Forbidden,
    InjectedFault,
    ResponseContractError,
)
from .examples import example_response
from .faults import Faults
from .journal import Call, Journal
from .jsengine import JsSandbox
from .persistence import StateLog
from .resources import Context, Handler, SchemaChecks, handlers
from .resources.authentications import mask_request_body
from .responses import ResponseChecker
from .routing import RouteTable
from .spec import Spec, bundled_spec_path, load_spec
from .store import Account, RunPolicy, Store
from .validation import MISSING, RequestValidators

APP_ID_HEADER = "x-algolia-application-id"
API_KEY_HEADER = "x-algolia-api-key"

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]


@dataclass
class MockConfig:
    """How a mock behaves. Every field has the default a new user expects."""

    app_id: str | None = None  # when set (with api_key), only this pair is accepted
    api_key: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    check_responses: bool = False  # validate every response against the spec (the test suite turns it on)
    validation: Literal["fast", "openapi-core"] = "fast"
    journal_size: int | None = 100_000  # calls kept; the oldest go first
    state_file: str | None = None  # SQLite file that makes the state durable across restarts
    fixtures: str | None = None  # data set every application starts with (bundled name or file)

    @property
    def strict_credentials(self) -> bool:
        return self.app_id is not None and self.api_key is not None


class MockApp(Starlette):
    """A Starlette app that serves one spec from one store; two of them never share anything."""

    def __init__(self, spec: Spec, store: Store, config: MockConfig) -> None:
        self.spec = spec
        self.store = store
        self.config = config
        self.route_table = RouteTable(spec)
        self.validators = RequestValidators(spec)
        self.checks = SchemaChecks(spec)
        self.handlers: dict[str, Handler] = handlers()
        bundled = spec.path is not None and spec.path == bundled_spec_path()
        self.response_checker = ResponseChecker(strict_errors=bundled) if config.check_responses else None
        self.reference: Any = None
        if config.validation == "openapi-core":
            from .reference import ReferenceValidator

            self.reference = ReferenceValidator(spec)
        self.journal = Journal(config.journal_size)
        self.initial_clock = store.clock.state()
        self.initial_ids = store.ids.state()
        schemes = spec.document.get("components", {}).get("securitySchemes", {}).values()
        self.algolia_credentials = any(s.get("name", "").lower() == APP_ID_HEADER for s in schemes)
        self.faults = Faults()
        self.js = JsSandbox()
        self.control = MockControl(self)
        self.listeners: list[Callable[[Call, float], None]] = []  # told of every call (access logs)
        if config.fixtures is not None:
            self._install_default_data_set(config.fixtures)
        self.state_log: StateLog | None = None
        if config.state_file is not None:
            log = StateLog(config.state_file)
            self.control.replay(log.entries())
            self.state_log = log
        super().__init__(
            routes=[admin.mount(self), Route("/{_path:path}", self._endpoint, methods=ALL_METHODS)],
            exception_handlers={HTTPException: _http_error},
        )

    async def _endpoint(self, request: Request) -> Response:
        started = time.perf_counter()
        operation = None
        app_id: str | None = None
        path_params: dict[str, str] = {}
        body: Any = MISSING
        query: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            query.setdefault(key, []).append(value)
        try:
            match = self.route_table.match(request.method, request.url.path)
            operation = match.operation
            path_params = match.path_params
            if self.faults.active:
                await self._misbehave(operation.operation_id, request)
            app_id = self._credentials(request)
            if operation.has_body:
                body = await read_json_body(request, self.config.max_body_bytes)
            if self.reference is not None:
                self.reference.validate(operation, request.url.path, query, body, dict(request.headers))
            valid = self.validators[operation.operation_id].validate(path_params, query, body)
            handler = self.handlers.get(operation.operation_id)
            if handler is None:
                # Generic mode: an operation this mock has no behaviour for answers from its spec.
                status, result = example_response(operation)
                response = (
                    Response(status_code=status)
                    if result is None
                    else JSONResponse(result, status_code=status)
                )
                raise _Answered(status, result, response)
            with self.store.lock:
                fresh = app_id not in self.store.accounts
                ctx = Context(self.store, self.store.account(app_id), operation, valid, self.checks, self.js)
                try:
                    if self.state_log is not None and operation.method != "GET":
                        result = self._durably(handler, ctx, app_id, path_params, query, body)
                    else:
                        result = handler(ctx)
                except ApiError:
                    if fresh:  # a refused first request leaves no trace of the application
                        self.store.accounts.pop(app_id, None)
                    raise
            status = 200
            response = JSONResponse(result)
        except ApiError as error:
            result, status = error.body(), error.status
            if isinstance(error, InjectedFault):
                result = _Injected(result)
            response = JSONResponse(result, status_code=status, headers=error.headers)
        except _Answered as answered:
            status, result, response = answered.status, answered.result, answered.response
        except _Drop:
            result, status = _Injected({"message": "connection dropped by a fault rule"}), 0
            response = DroppedConnection()
        operation_id = operation.operation_id if operation is not None else None
        call = Call(
            operation_id=operation_id,
            method=request.method,
            path=request.url.path,
            app_id=app_id,
            path_params=path_params,
            query=query,
            body=None if body is MISSING else mask_request_body(operation_id, body, self.checks),
            status=status,
            response=result,
        )
        self.journal.record(call)
        for listener in self.listeners:
            listener(call, (time.perf_counter() - started) * 1000)
        if self.response_checker is not None and operation is not None and not isinstance(result, _Injected):
            self.response_checker.check(operation, status, result)
        return response

    def _install_default_data_set(self, ref: str) -> None:
        """Every application starts with this data set (checked once now, so errors show at start)."""
        data_set = seeding.load_data_set(ref)
        probe = "__mockserver_fixture_check__"
        seeding.seed(self, data_set.data, probe, label=data_set.label)
        self.store.accounts.pop(probe, None)

        def seed_new(account: Account) -> None:
            seeding.seed(self, data_set.data, account.app_id, label=data_set.label)

        self.store.on_new_account = seed_new

    def _durably(
        self,
        handler: Handler,
        ctx: Context,
        app_id: str,
        path_params: dict[str, str],
        query: dict[str, list[str]],
        body: Any,
    ) -> Any:
        """Run a write and append it to the state log before it is acknowledged."""
        assert self.state_log is not None
        store = self.store
        now = store.clock.now()
        policy = dataclasses.asdict(store.run_policy)
        issued: list[str] = []
        store.ids.issued = issued
        try:
            result = handler(ctx)
        finally:
            store.ids.issued = None
        self.state_log.append(
            {
                "kind": "api",
                "op": ctx.operation.operation_id,
                "app": app_id,
                "path": path_params,
                "query": query,
                "body": None if body is MISSING else body,
                "missing": body is MISSING,
                "now": now.isoformat(),
                "ids": issued,
                "policy": policy,
            }
        )
        return result

    def replay_api_write(self, entry: dict[str, Any]) -> None:
        """Apply one logged write again, with the clock reading and IDs it had."""
        store = self.store
        operation = self.spec.operations[entry["op"]]
        body = MISSING if entry["missing"] else entry["body"]
        valid = self.validators[operation.operation_id].validate(entry["path"], entry["query"], body)
        saved_clock, saved_policy = store.clock.state(), store.run_policy
        store.clock.freeze(datetime.fromisoformat(entry["now"]))
        store.ids.replay.extend(entry["ids"])
        store.run_policy = RunPolicy(**entry["policy"])
        try:
            with store.lock:
                self.handlers[operation.operation_id](
                    Context(store, store.account(entry["app"]), operation, valid, self.checks, self.js)
                )
        finally:
            store.clock.restore(saved_clock)
            store.run_policy = saved_policy
            store.ids.replay.clear()

    async def _misbehave(self, operation_id: str, request: Request) -> None:
        client = request.client.host if request.client is not None else "unknown"
        decision = self.faults.decide(operation_id, client)
        if decision.delay:
            await asyncio.sleep(decision.delay)
        if decision.drop:
            raise _Drop()
        if decision.status is not None:
            raise InjectedFault(decision.message, headers=decision.headers, status=decision.status)

    def _credentials(self, request: Request) -> str:
        if not self.algolia_credentials:
            return "default"  # a foreign spec (generic mode) without Algolia's credentials
        app_id = _credential(request, APP_ID_HEADER)
        api_key = _credential(request, API_KEY_HEADER)
        if not app_id or not api_key:
            raise Forbidden(INVALID_CREDENTIALS)
        config = self.config
        if config.strict_credentials and not (
            hmac.compare_digest(app_id.encode(), str(config.app_id).encode())
            and hmac.compare_digest(api_key.encode(), str(config.api_key).encode())
        ):
            raise Forbidden(INVALID_CREDENTIALS)
        return app_id


def _credential(request: Request, name: str) -> str | None:
    """One credential, from its header or (as the service allows) the query string.

    Given twice is refused, and so is anything but printable ASCII:
    credentials end up in logs and journals, where control characters could forge lines.
    """
    values = request.headers.getlist(name) or [
        v for k, v in request.query_params.multi_items() if k.lower() == name
    ]
    if len(values) > 1:  # which one would count? Neither: the credentials are not valid.
        raise Forbidden(INVALID_CREDENTIALS)
    if not values:
        return None
    value = values[0]
    if not all(" " <= ch <= "~" for ch in value):
        raise Forbidden(INVALID_CREDENTIALS)
    return value


class _Injected(dict[str, Any]):
    """The body of an injected fault: recorded and answered, but not held against the spec."""


class _Drop(Exception):
    pass


class _Answered(Exception):
    def __init__(self, status: int, result: Any, response: Response) -> None:
        self.status, self.result, self.response = status, result, response


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
    return JSONResponse(
        {"message": message, "status": status}, status_code=status, headers=getattr(exc, "headers", None)
    )


def create_app(
    spec: Spec | str | Path | None = None,
    *,
    store: Store | None = None,
    config: MockConfig | None = None,
    clock: Clock | None = None,
    seed: int | None = None,
    **options: Any,
) -> MockApp:
    """Build a mock of the Ingestion API (or of ``spec``).

    ``options`` are MockConfig fields: ``app_id``, ``api_key``, ``max_body_bytes``,
    ``check_responses``, ``validation``.
    """
    loaded = spec if isinstance(spec, Spec) else load_spec(spec)
    if config is None:
        config = MockConfig(**options)
    elif options:
        raise TypeError("pass either config or keyword options, not both")
    if store is None:
        store = Store(clock=clock, seed=seed)
    return MockApp(loaded, store, config)


__all__ = ["MockApp", "MockConfig", "ResponseContractError", "create_app"]
