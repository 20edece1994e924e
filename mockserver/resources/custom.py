"""The clients' custom requests (``/{path}``) for paths no named operation serves."""

from __future__ import annotations

from typing import Any

from mockserver.engine.errors import NotFound
from mockserver.resources.context import Context, Handler


def unknown_path(ctx: Context) -> Any:
    path = ctx.request.path.get("path", "")
    raise NotFound(
        f"No Ingestion or Search API operation serves {ctx.operation.method} /{path}; "
        "known paths start with /1/authentications, /1/destinations, /1/sources, /1/tasks, /2/tasks, "
        "/1/transformations, /1/runs, /1/push (Ingestion) or /1/indexes, /1/task (Search)"
    )


HANDLERS: dict[str, Handler] = {
    op: unknown_path for op in ("customGet", "customPost", "customPut", "customDelete")
}
