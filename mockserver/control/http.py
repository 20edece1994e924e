"""The ``/__mock__/`` control plane: the HTTP face of MockControl, for users outside the process."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from mockserver.control.mock_control import MockControl
from mockserver.data import control_spec
from mockserver.engine.errors import ApiError, BadRequest, Forbidden, InvalidCredentials, NotFound
from mockserver.engine.journal import JournalQuery
from mockserver.engine.validation import MISSING, RequestValidators
from mockserver.http.bodies import parse_json
from mockserver.http.origin import HostCheck, json_body_refusal
from mockserver.http.wire import BodyDeadlines, ClientGone, read_body
from mockserver.names import ADMIN_KEY_HEADER, API_KEY_HEADER, APP_ID_HEADER, CONTROL_PREFIX, DEFAULT_APP_ID
from mockserver.seeding import SeedError
from mockserver.spec import Operation, load_spec
from mockserver.suggest import did_you_mean
from mockserver.ui import ui_routes

PREFIX = CONTROL_PREFIX  # (the name the control plane's modules and tests use)
OPEN_ROUTES = ("/health", "/openapi.json")  # no data in them: reachable without credentials

Endpoint = Callable[[Request], Awaitable[Response]]


def _error(exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


class ControlBodies:
    """Request bodies and query parameters of the control plane, checked against spec/control.yaml."""

    def __init__(self, max_depth: int) -> None:
        self.max_depth = max_depth
        spec = load_spec(control_spec())
        self._by_route = {(op.method, op.path): op for op in spec.operations.values()}
        self._validators = RequestValidators.of(spec)

    def operation(self, request: Request) -> Operation | None:
        """The control-plane operation a request is (as spec/control.yaml describes it)."""
        route = request.scope.get("route")
        template = PREFIX + route.path if route is not None else request.url.path
        return self._by_route.get((request.method, template))

    async def read(self, request: Request) -> tuple[dict[str, Any], dict[str, Any]]:
        """The parsed body ({} when there is none) and the typed query parameters."""
        raw = await request.body()
        body: Any = parse_json(raw, self.max_depth) if raw else MISSING
        query: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            query.setdefault(key, []).append(value)
        operation = self.operation(request)
        typed: dict[str, Any] = {}
        if operation is not None:
            defined = {p.name for p in operation.parameters if p.location == "query"} | {"scope"}
            for name in query:
                if name not in defined:
                    hint = did_you_mean(name, defined)
                    raise BadRequest(
                        f"query.{name[:60]}: {operation.method.upper()} {operation.path} has no such "
                        f"parameter{hint} (it has {', '.join(sorted(defined))})"
                    )
            if not operation.has_body and isinstance(body, dict) and body:
                raise BadRequest(self._unread(operation, body))
            valid = self._validators[operation.operation_id].validate(request.path_params, query, body)
            typed = valid.query
        if body is MISSING:
            return {}, typed
        if not isinstance(body, dict):
            raise BadRequest("body: must be a JSON object")
        return body, typed

    @staticmethod
    def _unread(operation: Operation, body: dict[str, Any]) -> str:
        """Why a body is refused by a route that reads none (it would be ignored, silently)."""
        fields = ", ".join(str(name)[:60] for name in list(body)[:5])
        told = f"body: {operation.method.upper()} {operation.path} reads no body (it was given {fields})"
        if "appID" in body:
            told += (
                "; it acts on the application of the request's credentials (header "
                f"{APP_ID_HEADER}), or server-wide"
            )
        return told + "; send none, or an empty object"


MAX_APP_ID = 100  # characters of an application ID named to the control plane
ADMIN_ACL = "admin"  # the ACL Algolia's key management needs (x-acl of addApiKey, listApiKeys, ...)


@dataclass(frozen=True)
class Caller:
    """Who calls the control plane: the application it acts for, whether it may act server-wide,
    and the ACLs its credentials hold (None: every ACL)."""

    app_id: str | None
    wide: bool
    open: bool = False  # an open server: any application may be named (nothing is secret there)
    acl: frozenset[str] | None = None

    def app_of(self, body: dict[str, Any], query: dict[str, Any]) -> str | None:
        """The application a request names, in its query or its body (``appID``) alike: both
        naming different applications is refused; then as :meth:`app`."""
        in_query, in_body = query.get("appID"), body.get("appID")
        if in_query is not None and in_body is not None and in_query != in_body:
            raise BadRequest(
                f"appID: the query names {str(in_query)[:100]!r} and the body {str(in_body)[:100]!r}; "
                "name one application, in either"
            )
        return self.app(in_query if in_query is not None else in_body)

    def app(self, asked: Any) -> str | None:
        """The application a request acts on: the one asked for (server-wide callers), or the
        caller's own (an ``appID`` naming another application is refused)."""
        if asked is not None and not isinstance(asked, str):
            raise BadRequest("appID: an application ID (a string)")
        if asked is not None and not (
            0 < len(asked) <= MAX_APP_ID and asked.isascii() and asked.isprintable()
        ):
            raise BadRequest(
                f"appID: {asked[:60]!r} is not an application ID (printable ASCII, 1 to {MAX_APP_ID} "
                "characters, as the x-algolia-application-id header)"
            )
        if self.wide or (self.open and asked is not None):
            return asked
        if asked is not None and asked != self.app_id:
            raise Forbidden(
                f"appID: {asked[:100]!r} is not the application of these credentials ({self.app_id!r}); "
                "the control plane acts on the caller's own application"
            )
        return self.app_id

    @property
    def scope(self) -> str | None:
        """The application the clock, runs, faults and snapshots steered are those of (None: the server's)."""
        return None if self.wide else self.app_id

    def need_wide(self, what: str) -> None:
        if not self.wide:
            raise Forbidden(
                f"{what} is server-wide: ask with scope=all (with credentials configured: and the admin key)"
            )

    def need(self, acl: frozenset[str], what: str) -> None:
        """403 ``forbidden`` when the credentials lack one of ``acl``."""
        if self.acl is None or acl <= self.acl:
            return
        missing = sorted(acl - self.acl)
        raise Forbidden(
            f"{what} needs the ACLs {', '.join(sorted(acl))}; the API key of this request lacks "
            f"{', '.join(missing)}"
        )


def _one_header(request: Request, name: str) -> str | None:
    """A credential header's value; given twice (which one would count?) or not printable ASCII,
    the credentials are not valid (403 invalid_credentials, as the API answers)."""
    values = request.headers.getlist(name)
    if len(values) > 1:
        raise InvalidCredentials(f"header.{name}: given {len(values)} times; send it once")
    if not values:
        return None
    value = values[0]
    if not (value.isascii() and value.isprintable()):
        raise InvalidCredentials(f"header.{name}: not printable ASCII")
    return value


def caller_of(control: MockControl, request: Request) -> Caller:
    """Who calls: with configured credentials (or an admin key) the control plane needs them too.

    - the admin key (``x-mockserver-admin-key``): every application, and server-wide;
    - configured credentials (``x-algolia-application-id`` and ``x-algolia-api-key``): their own
      application, with the ACLs of their key; never server-wide (``scope=all`` needs the admin key);
    - an open server (no credentials configured): the application named by
      ``x-algolia-application-id``, or server-wide when none is named or ``scope=all`` is asked
      (refused to an extra key without the ``admin`` ACL).
    """
    engine = control.engine
    settings = engine.settings
    scope = request.query_params.get("scope")
    if scope not in (None, "all", "app"):
        raise BadRequest(f"query.scope: {scope[:20]!r} is not all or app")
    admin = settings.admin_key
    given_admin = _one_header(request, ADMIN_KEY_HEADER)
    app_id = _one_header(request, APP_ID_HEADER)
    api_key = _one_header(request, API_KEY_HEADER)
    if admin is not None and given_admin is not None:
        if not hmac.compare_digest(given_admin.encode(), admin.encode()):
            raise Forbidden(
                f"header.{ADMIN_KEY_HEADER}: not the admin key of this mock", code="invalid_credentials"
            )
        return Caller(app_id, scope != "app" or app_id is None)
    if settings.strict_credentials or admin is not None:
        principal = engine.authenticate(app_id, api_key)
        if isinstance(principal, ApiError):
            raise Forbidden(
                "the control plane needs this mock's credentials (headers x-algolia-application-id and "
                f"x-algolia-api-key){' or its admin key (' + ADMIN_KEY_HEADER + ')' if admin else ''}",
                code="invalid_credentials",
            )
        if scope == "all":
            how = "" if admin is not None else "; this mock has none: start it with --admin-key"
            raise Forbidden(
                f"scope=all (server-wide) needs the admin key (header {ADMIN_KEY_HEADER}){how}",
                code="invalid_credentials",
            )
        return Caller(principal, False, acl=engine.grants(app_id, api_key))
    acl = engine.grants(app_id, api_key)
    wide = app_id is None or scope == "all"
    if wide and acl is not None and ADMIN_ACL not in acl:
        raise Forbidden(
            f"server-wide control (scope=all, or no application named) needs the {ADMIN_ACL} ACL; "
            "the API key of this request lacks it"
        )
    return Caller(app_id, wide, open=True, acl=acl)


def mount(control: MockControl) -> Mount:
    """All control-plane routes behind one prefix, so API requests pay a single prefix check."""
    return Mount(PREFIX, routes=routes(control))


def routes(control: MockControl) -> list[Route]:
    bodies = ControlBodies(control.engine.settings.max_depth)
    hosts = HostCheck(control.engine.settings.allowed_hosts)
    deadlines = BodyDeadlines()

    async def read_within_limits(request: Request) -> None:
        """Read the body as the API does (http/wire.py): at most ``max_body_bytes`` (413 beyond,
        before anything is parsed), within ``body_timeout`` (408). Starlette keeps what was read, so
        every later ``request.body()`` is this one."""
        settings = control.engine.settings
        raw = await read_body(
            request.receive, request.headers, settings.max_body_bytes, settings.body_timeout, deadlines
        )
        request._body = raw  # (Starlette's cache of the body: request.body() answers it)

    async def admitted(request: Request) -> None:
        """Refuse a state-changing request from a page of another site, or with a body not declared
        JSON (see http/origin.py)."""
        headers = request.headers
        server = request.scope.get("server")
        refusal = hosts.origin_refusal(
            request.method,
            headers.get("origin"),
            headers.get("sec-fetch-site"),
            str(server[0]) if server else None,
        )
        if refusal is None:
            has_body = bool(await request.body())
            refusal = json_body_refusal(request.method, headers.get("content-type"), has_body)
        if refusal is not None:
            raise refusal

    def guarded(
        handler: Callable[[Request, Caller, dict[str, Any], dict[str, Any]], Awaitable[Response]],
        open_route: bool = False,
    ) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            try:
                await read_within_limits(request)
                await admitted(request)
                caller = Caller(None, True) if open_route else caller_of(control, request)
                operation = bodies.operation(request)
                if operation is not None:
                    needed = frozenset(str(a) for a in operation.raw.get("x-acl", ()))
                    caller.need(needed, f"{request.method} {operation.path}")
                body, query = await bodies.read(request)
                return await handler(request, caller, body, query)
            except ClientGone:
                return Response(status_code=400)  # the client left mid-body: nobody reads this
            except ApiError as exc:
                return _error(exc)
            except LookupError as exc:
                return _error(NotFound(str(exc.args[0]) if exc.args else str(exc)))
            except PermissionError as exc:
                return _error(Forbidden(str(exc)))
            except (SeedError, ValueError, TypeError) as exc:
                return _error(BadRequest(str(exc)))

        return endpoint

    async def reset(
        request: Request, caller: Caller, body: dict[str, Any], query: dict[str, Any]
    ) -> Response:
        asked = query.get("appID", body.get("appID"))
        app_id = caller.app_of(body, query)
        control.reset(app_id)
        if app_id is None:
            told = (
                "reset everything: every application's data, the journal, snapshots, fault rules, "
                "stubs, the run policy and the clock"
            )
        elif asked is None:  # everything was asked for; these credentials reach one application
            told = (
                f"reset application {app_id!r} only (its data, fault rules, stubs and snapshots): "
                "these credentials act on their own application; resetting everything needs scope=all "
                f"and the admin key (header {ADMIN_KEY_HEADER})"
            )
        else:
            told = f"reset application {app_id!r} (its data, fault rules, stubs and snapshots)"
        return JSONResponse({"reset": app_id if app_id is not None else "all", "message": told})

    async def seed(request: Request, caller: Caller, body: dict[str, Any], query: dict[str, Any]) -> Response:
        data = body.get("data", body.get("fixtures"))
        if data is None:
            raise BadRequest("body: give 'fixtures' (a bundled data set name) or 'data' (inline data)")
        if isinstance(data, str) and "data" not in body and ("/" in data or "\\" in data):
            raise BadRequest("body.fixtures: names a bundled data set; send file contents as 'data'")
        counts = control.seed(data, caller.app_of(body, query) or DEFAULT_APP_ID)
        return JSONResponse({"seeded": counts})

    async def apps(request: Request, caller: Caller, body: dict[str, Any], query: dict[str, Any]) -> Response:
        return JSONResponse({"applications": control.applications(caller.scope)})

    async def state(
        request: Request, caller: Caller, body: dict[str, Any], query: dict[str, Any]
    ) -> Response:
        return JSONResponse(control.dump(caller.app(query.get("appID"))))

    async def source_records(
        request: Request, caller: Caller, body: dict[str, Any], query: dict[str, Any]
    ) -> Response:
        source_id = request.path_params["sourceID"]
        records = body.get("records")
        if not isinstance(records, list):
            raise BadRequest("body.records: a list of records (JSON objects)")
        count = control.source_records(source_id, records, caller.app_of(body, query) or DEFAULT_APP_ID)
        return JSONResponse({"sourceID": source_id, "records": count})

    async def snapshot(
        request: Request, caller: Caller, body: dict[str, Any], query: dict[str, Any]
    ) -> Response:
        return JSONResponse({"snapshotID": control.snapshot(caller.scope)})

    async def restore(
        request: Request, caller: Caller, body: dict[str, Any], query: dict[str, Any]
    ) -> Response:
        snapshot_id = request.path_params["snapshotID"]
        try:
            control.restore(snapshot_id, app_id=caller.scope)
        except KeyError:
            raise NotFound(f"No snapshot with ID {snapshot_id!r}") from None
        return JSONResponse({"restored": snapshot_id})

    async def journal(
        request: Request, caller: Caller, body: dict[str, Any], query: dict[str, Any]
    ) -> Response:
        if request.method == "DELETE":
            return _clear_journal(caller, body, query)
        journal_query = JournalQuery.from_params(request.query_params)
        if not caller.wide:
            journal_query = journal_query.with_app(caller.app(journal_query.app_id))
        return JSONResponse(control.journal_page(journal_query))

    def _clear_journal(caller: Caller, body: dict[str, Any], query: dict[str, Any]) -> Response:
        """Clear the journal as reset clears state: the application ``appID`` names (query or
        body), the caller's own when its credentials reach one, or every call."""
        asked = query.get("appID", body.get("appID"))
        app_id = caller.app_of(body, query)
        control.clear_journal(app_id)
        if app_id is None:
            return JSONResponse(
                {
                    "cleared": True,
                    "message": "cleared every call: every application's and the server-wide ones",
                }
            )
        told = f"cleared the calls of application {app_id!r}"
        if asked is None:  # every call was asked for; these credentials reach one application
            told += (
                " only: a request naming an application acts on it; clearing every call needs "
                f"scope=all (with credentials configured: and the admin key, header {ADMIN_KEY_HEADER})"
            )
        return JSONResponse({"cleared": True, "appID": app_id, "message": told})

    async def index(
        request: Request, caller: Caller, body: dict[str, Any], query: dict[str, Any]
    ) -> Response:
        name = request.path_params["indexName"]
        app_id = caller.app(query.get("appID")) or DEFAULT_APP_ID
        records = control.index(name, app_id)
        if records is None:
            raise NotFound(f"No index {name!r} in application {app_id!r}")
        return JSONResponse({"indexName": name, "nbHits": len(records), "records": records})

    async def clock(
        request: Request, caller: Caller, body: dict[str, Any], query: dict[str, Any]
    ) -> Response:
        return JSONResponse(
            control.clock(
                now=body.get("now"),
                freeze=body.get("freeze"),
                advance=body.get("advance"),
                app_id=caller.scope,
            )
        )

    async def runs(request: Request, caller: Caller, body: dict[str, Any], query: dict[str, Any]) -> Response:
        return JSONResponse(control.run_policy(app_id=caller.scope, **body))

    async def faults(
        request: Request, caller: Caller, body: dict[str, Any], query: dict[str, Any]
    ) -> Response:
        if request.method == "DELETE":
            return JSONResponse(control.clear_faults(caller.scope))
        if request.method == "GET":
            return JSONResponse(control.faults(caller.scope))
        if "rateLimit" in body:
            caller.need_wide("the rate limit (per client address)")
            limit = body["rateLimit"]
            if isinstance(limit, bool):
                return JSONResponse(control.rate_limit(limit))
            if not isinstance(limit, dict):
                raise BadRequest("body.rateLimit: true, false or {limit, window, observability_limit, ...}")
            return JSONResponse(control.rate_limit(True, **limit))
        if not caller.wide:
            body = {**body, "app": caller.app(body.get("app"))}
        return JSONResponse(control.add_fault(**body))

    async def stubs(
        request: Request, caller: Caller, body: dict[str, Any], query: dict[str, Any]
    ) -> Response:
        if request.method == "DELETE":
            return JSONResponse(control.clear_stubs(caller.scope))
        if request.method == "GET":
            return JSONResponse(control.stubs(caller.scope))
        if not caller.wide:  # a stub of the caller's own application (tenancy)
            body = {**body, "app": caller.app(body.get("app"))}
        return JSONResponse(control.add_stub(**body))

    async def stub(request: Request, caller: Caller, body: dict[str, Any], query: dict[str, Any]) -> Response:
        return JSONResponse(control.remove_stub(request.path_params["stubID"], caller.scope))

    async def keys(request: Request, caller: Caller, body: dict[str, Any], query: dict[str, Any]) -> Response:
        if request.method == "GET":
            return JSONResponse(control.keys(caller.app(query.get("appID"))))
        app_id = caller.app_of(body, query)  # a key for the caller's own application, unless wide
        return JSONResponse(control.add_key(body["apiKey"], body.get("acl", []), app_id, caller.acl))

    async def key(request: Request, caller: Caller, body: dict[str, Any], query: dict[str, Any]) -> Response:
        app_id = caller.app(query.get("appID"))  # among the keys the caller may see
        return JSONResponse(control.remove_key(request.path_params["keyID"], app_id, caller.acl))

    async def settings(
        request: Request, caller: Caller, body: dict[str, Any], query: dict[str, Any]
    ) -> Response:
        if request.method == "POST":
            caller.need_wide("changing the settings")
            return JSONResponse(control.change_settings(body))
        return JSONResponse(control.settings(caller.scope))

    async def health(
        request: Request, caller: Caller, body: dict[str, Any], query: dict[str, Any]
    ) -> Response:
        return JSONResponse(control.health())

    document = load_spec(control_spec()).document  # (parsed once per process, from its twin)

    async def openapi(
        request: Request, caller: Caller, body: dict[str, Any], query: dict[str, Any]
    ) -> Response:
        return JSONResponse(document)

    table: list[tuple[str, Any, list[str]]] = [
        ("/reset", reset, ["POST"]),
        ("/seed", seed, ["POST"]),
        ("/apps", apps, ["GET"]),
        ("/state", state, ["GET"]),
        ("/sources/{sourceID}/records", source_records, ["PUT"]),
        ("/snapshots", snapshot, ["POST"]),
        ("/snapshots/{snapshotID}/restore", restore, ["POST"]),
        ("/journal", journal, ["GET", "DELETE"]),
        ("/indexes/{indexName}", index, ["GET"]),
        ("/clock", clock, ["GET", "POST"]),
        ("/runs", runs, ["GET", "POST"]),
        ("/faults", faults, ["GET", "POST", "DELETE"]),
        ("/stubs", stubs, ["GET", "POST", "DELETE"]),
        ("/stubs/{stubID}", stub, ["DELETE"]),
        ("/settings", settings, ["GET", "POST"]),
        ("/keys", keys, ["GET", "POST"]),
        ("/keys/{keyID}", key, ["DELETE"]),
        ("/health", health, ["GET"]),
        ("/openapi.json", openapi, ["GET"]),
    ]
    return [
        Route(path, guarded(handler, open_route=path in OPEN_ROUTES), methods=methods)
        for path, handler, methods in table
    ] + ui_routes()
