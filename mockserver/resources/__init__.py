"""Domain actions, one table keyed by operationId, assembled from each resource family's module."""

from __future__ import annotations

from mockserver.resources import (
    authentications,
    custom,
    destinations,
    push,
    runs,
    search_indexes,
    search_queries,
    search_records,
    search_tasks,
    source_actions,
    sources,
    tasks,
    transformations,
)
from mockserver.resources.context import Context, Handler, Hooks, SchemaChecks

__all__ = ["Context", "Handler", "Hooks", "SchemaChecks", "handlers", "hooks"]

_FAMILIES = (
    authentications,
    destinations,
    sources,
    transformations,
    tasks,
    runs,
    push,
    source_actions,
    custom,
    search_records,
    search_indexes,
    search_tasks,
    search_queries,
)


def handlers() -> dict[str, Handler]:
    table: dict[str, Handler] = {}
    for module in _FAMILIES:
        table.update(module.HANDLERS)
    return table


def hooks() -> Hooks:
    """Every family's hooks, merged (a family without any has no ``HOOKS``)."""
    merged = Hooks()
    for module in _FAMILIES:
        found = getattr(module, "HOOKS", None)
        if isinstance(found, Hooks):
            merged.merge(found)
    return merged
