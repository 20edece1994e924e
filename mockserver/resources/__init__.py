"""Domain actions, one table keyed by operationId, assembled from each resource family's module."""

from __future__ import annotations

from . import (
    authentications,
    custom,
    destinations,
    push,
    runs,
    source_actions,
    sources,
    tasks,
    transformations,
)
from .context import Context, Handler, SchemaChecks

__all__ = ["Context", "Handler", "SchemaChecks", "handlers"]


def handlers() -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    for module in (
        authentications,
        destinations,
        sources,
        transformations,
        tasks,
        runs,
        push,
        source_actions,
        custom,
    ):
        table.update(module.HANDLERS)
    return table
