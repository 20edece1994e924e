"""Calling the Search API's handlers directly, without the spec's routing: a Context made by hand."""

from __future__ import annotations

from typing import Any

from mockserver.engine.store import Store
from mockserver.engine.validation import MISSING, ValidRequest
from mockserver.resources.context import Context, Handler, SchemaChecks
from mockserver.spec import load_spec


def call(
    handler: Handler,
    store: Store,
    app_id: str = "APP",
    *,
    path: dict[str, Any] | None = None,
    query: dict[str, Any] | None = None,
    body: Any = MISSING,
) -> Any:
    """What ``handler`` answers for this request of ``app_id`` (an ApiError raises)."""
    spec = load_spec()
    operation = next(iter(spec.operations.values()))  # any: these handlers never read it
    request = ValidRequest(dict(path or {}), dict(query or {}), body)
    with store.lock:
        return handler(Context(store, store.account(app_id), operation, request, SchemaChecks(spec)))
