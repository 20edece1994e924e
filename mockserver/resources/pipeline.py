"""Records on their way from a source (or a push) to a destination's index, and the runs that carry them."""

from __future__ import annotations

from collections.abc import Sequence

from .. import indexes
from ..store import Record
from . import destinations, transformations
from .context import Context
from .runs import EventPlan, create_run, defer_writes

BATCH_SIZE = 1000
TRANSFORMED_ACTIONS = {"addObject", "updateObject", "partialUpdateObject", "partialUpdateObjectNoCreate"}


def destination_index(ctx: Context, task: Record) -> str:
    destination = destinations.FAMILY.get(ctx, task["destinationID"])
    index_name: str = destination["input"]["indexName"]
    return index_name


def run_type_for(task: Record) -> str:
    return "reindex" if task.get("action") == "replace" else "update"


def transform(ctx: Context, task: Record, records: Sequence[Record]) -> tuple[list[Record], list[Record]]:
    """Records through the destination's code transformations, in order: (output, failures)."""
    destination = ctx.account.destinations.get(task["destinationID"])
    current = list(records)
    failures: list[Record] = []
    for transformation_id in (destination or {}).get("transformationIDs", ()):
        transformation = ctx.account.transformations.get(transformation_id)
        if transformation is None or transformation.get("type", "code") != "code":
            continue
        secrets = transformations.linked_secrets(ctx, transformation)
        outcomes = ctx.sandbox.run_many(transformation["code"], current, secrets)
        produced: list[Record] = []
        for record, outcome in zip(current, outcomes, strict=True):
            if outcome.error is None:
                produced.extend(r for r in outcome.records if isinstance(r, dict) and "objectID" in r)
                if any(not isinstance(r, dict) or "objectID" not in r for r in outcome.records):
                    failures.append(
                        _failure(record, transformation_id, 422, "transform removed the objectID")
                    )
            else:
                failures.append(
                    _failure(record, transformation_id, outcome.error.code, outcome.error.message)
                )
        current = produced
    return current, failures


def _failure(record: Record, transformation_id: str, code: int, message: str) -> Record:
    return {
        "objectID": record.get("objectID"),
        "transformationID": transformation_id,
        "error": {"code": code, "message": message},
    }


def run_task(ctx: Context, task: Record) -> Record:
    """Run a task now: fetch what its source holds and write it to the destination's index."""
    fetched = ctx.account.source_records.get(task["sourceID"], [])
    records, failures = transform(ctx, task, fetched)
    plans = [EventPlan("fetch", 0, {"nbRecords": len(fetched)})]
    plans += [EventPlan("transform", 1, failure, failed=True) for failure in failures]
    plans += [
        EventPlan("record", len(records[i : i + BATCH_SIZE])) for i in range(0, len(records), BATCH_SIZE)
    ]
    run, _ = create_run(ctx, task, run_type_for(task), plans)
    index_name = destination_index(ctx, task)
    writes: list[tuple[str, str, list[Record]]] = []
    if task.get("action") == "replace":
        writes.append((index_name, "clear", []))
    action = indexes.TASK_ACTION_TO_PUSH.get(task.get("action", "save"), "updateObject")
    writes.append(
        (index_name, action, [dict(r) for r in records])
    )  # a test may edit its source's records later
    defer_writes(ctx.account, run, writes)
    task["lastRun"] = run["createdAt"]
    return run


def push_records(
    ctx: Context, task: Record, action: str, records: Sequence[Record], index_name: str, *, watch: bool
) -> tuple[Record, list[Record], list[Record]]:
    """One push: a run of type push with one record event; the records land unless the run fails.

    Records go through the destination's transformations first (deletions and clears do not);
    a record a transformation fails on is left out, with a failed ``transform`` event saying why.
    """
    failures: list[Record] = []
    if action in TRANSFORMED_ACTIONS:
        records, failures = transform(ctx, task, records)
    plans = [EventPlan("record", len(records))]
    plans += [EventPlan("transform", 1, failure, failed=True) for failure in failures]
    run, events = create_run(ctx, task, "push", plans, finish_now=watch)
    results = defer_writes(ctx.account, run, [(index_name, action, list(records))], results=watch)
    results += [{**f, "outcome": "failed"} for f in failures]
    return run, events, results
