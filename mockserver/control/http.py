"""The ``/__mock__/`` control plane: the HTTP face of MockControl, for users outside the process."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from ..bodies import parse_json
from ..data import control_spec
from ..errors import ApiError, BadRequest, NotFound
from ..journal import JournalQuery
from ..seeding import SeedError
from ..spec import load_spec
from ..ui import ui_routes
from ..validation import MISSING, RequestValidators
from . import MockControl

PREFIX = "/__mock__"
DEFAULT_APP_ID = "default"

Endpoint = Callable[[Request], Awaitable[Response]]


def _error(exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


class ControlBodies:
    """Request bodies and query parameters of the control plane, checked against spec/control.yaml."""

    def __init__(self) -> None:
        spec = load_spec(control_spec())
        self._by_route = {(op.method, op.path): op for op in spec.operations.values()}
        self._validators = RequestValidators(spec)

    async def read(self, request: Request) -> tuple[dict[str, Any], dict[str, Any]]:
        """The parsed body ({} when there is none) and the typed query parameters."""
        route = request.scope.get("route")
        template = PREFIX + route.path if route is not None else request.url.path
        raw = await request.body()
        body: Any = parse_json(raw) if raw else MISSING
        query: dict[str, list[str]] = {}
        for key, value in request.query_params.multi_items():
            query.setdefault(key, []).append(value)
        operation = self._by_route.get((request.method, template))
        typed: dict[str, Any] = {}
        if operation is not None:
            valid = self._validators[operation.operation_id].validate(request.path_params, query, body)
            typed = valid.query
        if body is MISSING:
            return {}, typed
        if not isinstance(body, dict):
            raise BadRequest("body: must be a JSON object")
        return body, typed


def mount(control: MockControl) -> Mount:
    """All control-plane routes behind one prefix, so API requests pay a single prefix check."""
    return Mount(PREFIX, routes=routes(control))


def routes(control: MockControl) -> list[Route]:
    bodies = ControlBodies()

    def guarded(
        handler: Callable[[Request, dict[str, Any], dict[str, Any]], Awaitable[Response]],
    ) -> Endpoint:
        async def endpoint(request: Request) -> Response:
            try:
                body, query = await bodies.read(request)
                return await handler(request, body, query)
            except ApiError as exc:
                return _error(exc)
            except LookupError as exc:
                return _error(NotFound(str(exc.args[0]) if exc.args else str(exc)))
            except (SeedError, ValueError, TypeError) as exc:
                return _error(BadRequest(str(exc)))

        return endpoint

    async def reset(request: Request, body: dict[str, Any], query: dict[str, Any]) -> Response:
        control.reset(body.get("appID"))
        return JSONResponse({"reset": body.get("appID", "all")})

    async def seed(request: Request, body: dict[str, Any], query: dict[str, Any]) -> Response:
        data = body.get("data", body.get("fixtures"))
        if data is None:
            raise BadRequest("body: give 'fixtures' (a bundled data set name) or 'data' (inline data)")
        if isinstance(data, str) and "data" not in body and ("/" in data or "\\" in data):
            raise BadRequest("body.fixtures: names a bundled data set; send file contents as 'data'")
        counts = control.seed(data, str(body.get("appID", DEFAULT_APP_ID)))
        return JSONResponse({"seeded": counts})

    async def apps(request: Request, body: dict[str, Any], query: dict[str, Any]) -> Response:
        return JSONResponse({"applications": control.applications()})

    async def state(request: Request, body: dict[str, Any], query: dict[str, Any]) -> Response:
        return JSONResponse(control.dump(query.get("appID")))

    async def source_records(request: Request, body: dict[str, Any], query: dict[str, Any]) -> Response:
        source_id = request.path_params["sourceID"]
        records = body.get("records")
        if not isinstance(records, list):
            raise BadRequest("body.records: a list of records (JSON objects)")
        count = control.source_records(source_id, records, str(body.get("appID", DEFAULT_APP_ID)))
        return JSONResponse({"sourceID": source_id, "records": count})

    async def snapshot(request: Request, body: dict[str, Any], query: dict[str, Any]) -> Response:
        return JSONResponse({"snapshotID": control.snapshot()})

    async def restore(request: Request, body: dict[str, Any], query: dict[str, Any]) -> Response:
        snapshot_id = request.path_params["snapshotID"]
        try:
            control.restore(snapshot_id)
        except KeyError:
            raise NotFound(f"No snapshot with ID {snapshot_id!r}") from None
        return JSONResponse({"restored": snapshot_id})

    async def journal(request: Request, body: dict[str, Any], query: dict[str, Any]) -> Response:
        if request.method == "DELETE":
            control.clear_journal()
            return JSONResponse({"cleared": True})
        return JSONResponse(control.journal_page(JournalQuery.from_params(request.query_params)))

    async def index(request: Request, body: dict[str, Any], query: dict[str, Any]) -> Response:
        name = request.path_params["indexName"]
        app_id = query.get("appID", DEFAULT_APP_ID)
        records = control.index(name, app_id)
        if records is None:
            raise NotFound(f"No index {name!r} in application {app_id!r}")
        return JSONResponse({"indexName": name, "nbHits": len(records), "records": records})

    async def clock(request: Request, body: dict[str, Any], query: dict[str, Any]) -> Response:
        return JSONResponse(
            control.clock(now=body.get("now"), freeze=body.get("freeze"), advance=body.get("advance"))
        )

    async def runs(request: Request, body: dict[str, Any], query: dict[str, Any]) -> Response:
        return JSONResponse(control.run_policy(**body))

    async def faults(request: Request, body: dict[str, Any], query: dict[str, Any]) -> Response:
        if request.method == "DELETE":
            return JSONResponse(control.clear_faults())
        if request.method == "GET":
            return JSONResponse(control.faults())
        if "rateLimit" in body:
            limit = body["rateLimit"]
            if isinstance(limit, bool):
                return JSONResponse(control.rate_limit(limit))
            if not isinstance(limit, dict):
                raise BadRequest("body.rateLimit: true, false or {limit, window, observability_limit, ...}")
            return JSONResponse(control.rate_limit(True, **limit))
        return JSONResponse(control.add_fault(**body))

    async def keys(request: Request, body: dict[str, Any], query: dict[str, Any]) -> Response:
        return JSONResponse(control.add_key(body["apiKey"], body.get("acl", []), body.get("appID")))

    async def settings(request: Request, body: dict[str, Any], query: dict[str, Any]) -> Response:
        if request.method == "POST":
            return JSONResponse(control.change_settings(body))
        return JSONResponse(control.settings())

    async def health(request: Request, body: dict[str, Any], query: dict[str, Any]) -> Response:
        return JSONResponse(control.health())

    document = yaml.safe_load(control_spec().read_text(encoding="utf-8"))

    async def openapi(request: Request, body: dict[str, Any], query: dict[str, Any]) -> Response:
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
        ("/settings", settings, ["GET", "POST"]),
        ("/keys", keys, ["POST"]),
        ("/health", health, ["GET"]),
        ("/openapi.json", openapi, ["GET"]),
    ]
    return [Route(path, guarded(handler), methods=methods) for path, handler, methods in table] + ui_routes()
