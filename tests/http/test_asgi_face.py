"""The ASGI face: a plain ASGI app whose middleware story is one rule (wrap the whole app)."""

from __future__ import annotations

import pytest
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

from mockserver import MockApp, create_app
from mockserver.http.inprocess import InProcessClient
from tests.conftest import CREDENTIALS


class _Tagging(BaseHTTPMiddleware):
    """Adds a header to every answer: shows which requests a middleware saw."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app)

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        response.headers["x-seen-by-middleware"] = "yes"
        return response


def test_add_middleware_is_refused_with_the_way_that_works() -> None:
    app = create_app()
    with pytest.raises(TypeError, match=r"add_middleware\(_Tagging\) is refused.*app = _Tagging\(app"):
        app.add_middleware(_Tagging)


def test_a_wrapping_middleware_sees_both_faces() -> None:
    app: MockApp = create_app()
    wrapped = _Tagging(app)
    with InProcessClient(wrapped, headers=CREDENTIALS) as client:
        api = client.get("/1/sources")
        control = client.get("/__mock__/health")
    assert api.status_code == 200 and api.headers["x-seen-by-middleware"] == "yes"
    assert control.status_code == 200 and control.headers["x-seen-by-middleware"] == "yes"


def test_the_app_is_not_a_starlette_subclass() -> None:
    """What Starlette offers (routes, middleware) would reach only the control plane: not inherited."""
    from starlette.applications import Starlette

    app = create_app()
    assert not isinstance(app, Starlette)
    assert isinstance(app.control_app, Starlette)
