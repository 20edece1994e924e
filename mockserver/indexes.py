"""Fake Algolia indexes: the seven push actions applied to an in-memory index."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

Record = dict[str, Any]
Index = dict[str, Record]


def apply(
    indexes: dict[str, Index], name: str, action: str, records: Iterable[Record], *, results: bool = True
) -> list[Record]:
    """Apply ``action`` to index ``name``; with ``results``, one result per record (what happened to it).

    addObject / updateObject: the record replaces any record with its objectID.
    partialUpdateObject: given attributes are set, the record is created when missing.
    partialUpdateObjectNoCreate: likewise, but a missing record stays missing.
    deleteObject: the record with that objectID is removed.
    clear: every record is removed; the index stays. delete: the index itself goes.

    Stored records are never changed in place (a partial update stores a new dict), so an index may
    hold the very objects a request carried without copying them.
    """
    if action == "delete":
        indexes.pop(name, None)
        return []
    index = indexes.setdefault(name, {})
    if action == "clear":
        index.clear()
        return []
    if action not in _ACTIONS:
        raise ValueError(f"unknown push action {action!r}")
    answers: list[Record] = []
    replace = action in ("addObject", "updateObject")
    for record in records:
        object_id = str(record["objectID"])
        if replace:
            outcome = "updated" if object_id in index else "created"
            index[object_id] = record
        elif action == "deleteObject":
            outcome = "deleted" if index.pop(object_id, None) is not None else "skipped"
        else:
            existing = index.get(object_id)
            if existing is not None:
                index[object_id] = {**existing, **record}
                outcome = "updated"
            elif action == "partialUpdateObject":
                index[object_id] = record
                outcome = "created"
            else:
                outcome = "skipped"
        if results:
            answers.append({"objectID": object_id, "action": action, "outcome": outcome})
    return answers


_ACTIONS = frozenset(
    {"addObject", "updateObject", "partialUpdateObject", "partialUpdateObjectNoCreate", "deleteObject"}
)


# How a task's action maps onto a push action when a run moves a source's records.
TASK_ACTION_TO_PUSH = {
    "replace": "updateObject",
    "save": "updateObject",
    "append": "addObject",
    "partial": "partialUpdateObject",
    "partialNoCreate": "partialUpdateObjectNoCreate",
}
