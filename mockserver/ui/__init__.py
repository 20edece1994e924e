"""The inspector page at ``/__mock__/ui``: static files from this package, served with their types.

The page itself is plain HTML, CSS and JavaScript (no build step, nothing fetched from elsewhere);
it reads and steers the mock only through the JSON control plane beside it. Assets are addressed
with a hash of their content, so browsers may keep them for good and still never run a stale copy.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PAGE = "index.html"
ASSETS = {
    "ui.css": "text/css; charset=utf-8",
    "ui.js": "text/javascript; charset=utf-8",
    # The page names its icon: a browser then never asks the API for /favicon.ico (which it
    # refused, 403, journaled as a rejection on every page load).
    "favicon.svg": "image/svg+xml",
}
FOREVER = "public, max-age=31536000, immutable"
# The page may load only its own assets and talk only to its own origin.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    version: str  # a hash of the body


def _read(name: str) -> bytes:
    return resources.files(__package__).joinpath(name).read_bytes()


def load_assets() -> dict[str, Asset]:
    """The page's CSS, JavaScript and icon, each with the hash that names its version."""
    return {
        name: Asset(body, media, hashlib.sha256(body).hexdigest()[:16])
        for name, media in ASSETS.items()
        for body in (_read(name),)
    }


def render_page(assets: dict[str, Asset]) -> bytes:
    """index.html with each asset's link carrying its version (``ui/ui.css?v=<hash>``)."""
    page = _read(PAGE).decode("utf-8")
    for name, asset in assets.items():
        page = page.replace(f'"ui/{name}"', f'"ui/{name}?v={asset.version}"')
    return page.encode("utf-8")


def ui_routes() -> list[Route]:
    """``/ui`` (the page) and ``/ui/{asset}``, relative to the control plane's mount."""
    assets = load_assets()
    page = render_page(assets)
    headers = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}

    async def index(request: Request) -> Response:
        page_headers = {**headers, "Cache-Control": "no-cache", "Content-Security-Policy": POLICY}
        return Response(page, media_type="text/html; charset=utf-8", headers=page_headers)

    async def asset(request: Request) -> Response:
        found = assets.get(request.path_params["name"])
        if found is None:
            message = f"No inspector asset {request.path_params['name'][:60]!r} (there are {sorted(assets)})"
            return JSONResponse(
                {"error": {"code": "resource_not_found"}, "message": message, "status": 404}, status_code=404
            )
        current = request.query_params.get("v") == found.version
        cache = FOREVER if current else "no-cache"
        etag = f'"{found.version}"'
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={**headers, "Cache-Control": cache, "ETag": etag})
        return Response(
            found.body, media_type=found.media_type, headers={**headers, "Cache-Control": cache, "ETag": etag}
        )

    return [Route("/ui", index, methods=["GET"]), Route("/ui/{name}", asset, methods=["GET"])]


FAVICON_PATH = "/favicon.ico"


def favicon_route() -> Route:
    """``GET /favicon.ico``, at the server's root: what a browser asks for on its own beside any page
    it shows of the mock (a JSON answer opened in a tab). Answered with the inspector's icon by the
    control plane, so it is never an API call: not journaled, never a rejection."""
    icon = _read("favicon.svg")
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=86400"}

    async def favicon(request: Request) -> Response:
        return Response(icon, media_type=ASSETS["favicon.svg"], headers=headers)

    return Route(FAVICON_PATH, favicon, methods=["GET"])
