"""The ``/__mock__/`` control plane: the HTTP face of MockControl, for users outside the process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from .bodies import parse_json
from .errors import ApiError, BadRequest, NotFound
from .journal import JournalQuery
from .seeding import SeedError
from .spec import load_spec
from .ui import ui_routes
from .validation import MISSING, RequestValidators

if TYPE_CHECKING:
    from .app import MockApp

PREFIX = "/__mock__"
DEFAULT_APP_ID = "default"


def control_spec_path() -> Path:
    from .data import control_spec

    return control_spec()


def _error(exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status)


class ControlBodies:
    """Request bodies of the control plane, parsed and checked against spec/control.yaml."""

    def __init__(self) -> None:
        spec = load_spec(control_spec_path())
        self._by_route = {(op.method, op.path): op for op in spec.operations.values()}
        self._validators = RequestValidators(spec)

    async def read(self, request: Request) -> dict[str, Any]:
        route = request.scope.get("route")
        template = PREFIX + route.path if route is not None else request.url.path
        raw = await request.body()
        body: Any = parse_json(raw) if raw else MISSING
        operation = self._by_route.get((request.method, template))
        if operation is not None:
            self._validators[operation.operation_id].validate(request.path_params, {}, body)
        if body is MISSING:
            return {}
        if not isinstance(body, dict):
            raise BadRequest("body: must be a JSON object")
        return body


def mount(app: MockApp) -> Mount:
    """All control-plane routes behind one prefix, so API requests pay a single prefix check."""
    return Mount(PREFIX, routes=routes(app))


def routes(app: MockApp) -> list[Route]:
    control = app.control
    bodies = ControlBodies()

    async def _body(request: Request) -> dict[str, Any]:
        return await bodies.read(request)

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                response: Response = await handler(request)
                return response
            except ApiError as exc:
                return _error(exc)
            except (SeedError, ValueError, TypeError) as exc:
                return _error(BadRequest(str(exc)))

        return endpoint

    async def reset(request: Request) -> Response:
        body = await _body(request)
        control.reset(body.get("appID"))
        return JSONResponse({"reset": body.get("appID", "all")})

    async def seed(request: Request) -> Response:
        body = await _body(request)
        data = body.get("data", body.get("fixtures"))
        if data is None:
            raise BadRequest("body: give 'fixtures' (a bundled data set name) or 'data' (inline data)")
        if isinstance(data, str) and "data" not in body and ("/" in data or "\\" in data):
            raise BadRequest("body.fixtures: names a bundled data set; send file contents as 'data'")
        counts = control.seed(data, str(body.get("appID", DEFAULT_APP_ID)))
        return JSONResponse({"seeded": counts})

    async def state(request: Request) -> Response:
        return JSONResponse(control.dump(request.query_params.get("appID")))

    async def snapshot(request: Request) -> Response:
        return JSONResponse({"snapshotID": control.snapshot()})

    async def restore(request: Request) -> Response:
        snapshot_id = request.path_params["snapshotID"]
        try:
            control.restore(snapshot_id)
        except KeyError:
            raise NotFound(f"No snapshot with ID {snapshot_id!r}") from None
        return JSONResponse({"restored": snapshot_id})

    async def journal(request: Request) -> Response:
        if request.method == "DELETE":
            app.journal.clear()
            return JSONResponse({"cleared": True})
        query = JournalQuery.from_params(request.query_params)
        return JSONResponse(app.journal.page(query).to_json())

    async def apps(request: Request) -> Response:
        with app.store.lock:
            accounts = list(app.store.accounts.values())
            listed = [{"appID": a.app_id, "counts": a.counts()} for a in accounts]
        return JSONResponse({"applications": listed})

    async def index(request: Request) -> Response:
        name = request.path_params["indexName"]
        app_id = request.query_params.get("appID", DEFAULT_APP_ID)
        records = control.index(name, app_id)
        if records is None:
            raise NotFound(f"No index {name!r} in application {app_id!r}")
        return JSONResponse({"indexName": name, "nbHits": len(records), "records": records})

    async def clock(request: Request) -> Response:
        body = await _body(request) if request.method == "POST" else {}
        return JSONResponse(
            control.clock(now=body.get("now"), freeze=body.get("freeze"), advance=body.get("advance"))
        )

    async def runs(request: Request) -> Response:
        body = await _body(request) if request.method == "POST" else {}
        return JSONResponse(control.run_policy(**body))

    async def faults(request: Request) -> Response:
        if request.method == "DELETE":
            return JSONResponse(control.clear_faults())
        if request.method == "GET":
            return JSONResponse(control.faults())
        body = await _body(request)
        if "rateLimit" in body:
            limit = body["rateLimit"]
            if isinstance(limit, bool):
                return JSONResponse(control.rate_limit(limit))
            if not isinstance(limit, dict):
                raise BadRequest("body.rateLimit: true, false or {limit, window, observability_limit, ...}")
            return JSONResponse(control.rate_limit(True, **limit))
        return JSONResponse(control.add_fault(**body))

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "spec": app.spec.title, "operations": len(app.spec.operations)})

    async def openapi(request: Request) -> Response:
        document = yaml.safe_load(control_spec_path().read_text(encoding="utf-8"))
        return Response(json.dumps(document), media_type="application/json")

    table = [
        ("/reset", reset, ["POST"]),
        ("/seed", seed, ["POST"]),
        ("/state", state, ["GET"]),
        ("/snapshots", snapshot, ["POST"]),
        ("/snapshots/{snapshotID}/restore", restore, ["POST"]),
        ("/journal", journal, ["GET", "DELETE"]),
        ("/indexes/{indexName}", index, ["GET"]),
        ("/clock", clock, ["GET", "POST"]),
        ("/runs", runs, ["GET", "POST"]),
        ("/faults", faults, ["GET", "POST", "DELETE"]),
        ("/apps", apps, ["GET"]),
        ("/health", health, ["GET"]),
        ("/openapi.json", openapi, ["GET"]),
    ]
    return [Route(path, guarded(handler), methods=methods) for path, handler, methods in table] + ui_routes()
