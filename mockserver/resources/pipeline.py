"""Records on their way from a source (or a push) to a destination's index, and the runs that carry them."""

from __future__ import annotations

from collections.abc import Sequence

from .. import indexes
from ..store import Record
from . import destinations
from .context import Context
from .runs import EventPlan, create_run

BATCH_SIZE = 1000


def destination_index(ctx: Context, task: Record) -> str:
    destination = destinations.FAMILY.get(ctx, task["destinationID"])
    index_name: str = destination["input"]["indexName"]
    return index_name


def run_type_for(task: Record) -> str:
    return "reindex" if task.get("action") == "replace" else "update"


def run_task(ctx: Context, task: Record) -> Record:
    """Run a task now: fetch what its source holds and write it to the destination's index."""
    records = ctx.account.source_records.get(task["sourceID"], [])
    plans = [EventPlan("fetch", 0, {"nbRecords": len(records)})]
    plans += [
        EventPlan("record", len(records[i : i + BATCH_SIZE])) for i in range(0, len(records), BATCH_SIZE)
    ]
    run, _ = create_run(ctx, task, run_type_for(task), plans)
    if run["_outcome"] == "success":
        index_name = destination_index(ctx, task)
        if task.get("action") == "replace":
            indexes.apply(ctx.account.indexes, index_name, "clear", [])
        action = indexes.TASK_ACTION_TO_PUSH.get(task.get("action", "save"), "updateObject")
        indexes.apply(ctx.account.indexes, index_name, action, records)
    task["lastRun"] = run["createdAt"]
    return run


def push_records(
    ctx: Context, task: Record, action: str, records: Sequence[Record], index_name: str, *, watch: bool
) -> tuple[Record, list[Record], list[Record]]:
    """One push: a run of type push with one record event; the records land unless the run fails."""
    run, events = create_run(ctx, task, "push", [EventPlan("record", len(records))], finish_now=watch)
    results: list[Record] = []
    if run["_outcome"] == "success":
        results = indexes.apply(ctx.account.indexes, index_name, action, records)
    return run, events, results
