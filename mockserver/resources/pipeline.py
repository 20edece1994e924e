"""Records on their way from a source (or a push) to a destination's index, and the runs that carry them."""

from __future__ import annotations

from collections.abc import Sequence

from mockserver.engine import indexes
from mockserver.engine.store import Record
from mockserver.resources import destinations, fetching, transformations
from mockserver.resources.context import Context
from mockserver.resources.runs import CRITICAL, EventPlan, Verdict, create_run, defer_writes, skipped_run

BATCH_SIZE = 1000
TOO_MANY_ERRORS = "too_many_errors"
TRANSFORMED_ACTIONS = {"addObject", "updateObject", "partialUpdateObject", "partialUpdateObjectNoCreate"}


def destination_index(ctx: Context, task: Record) -> str:
    destination = destinations.FAMILY.get(ctx, task["destinationID"])
    index_name: str = destination["input"]["indexName"]
    return index_name


def run_type_for(task: Record) -> str:
    return "reindex" if task.get("action") == "replace" else "update"


def transform(ctx: Context, task: Record, records: Sequence[Record]) -> tuple[list[Record], list[Record]]:
    """Records through the destination's code transformations, in order: (output, failures).
    With no code transformation to run, the output is ``records`` itself."""
    destination = ctx.account.destinations.get(task["destinationID"])
    codes = [
        (transformation_id, transformation)
        for transformation_id in (destination or {}).get("transformationIDs", ())
        if (transformation := ctx.account.transformations.get(transformation_id)) is not None
        and transformation.get("type", "code") == "code"
    ]
    if not codes:
        return records if isinstance(records, list) else list(records), []
    current = list(records)
    failures: list[Record] = []
    for transformation_id, transformation in codes:
        secrets = transformations.linked_secrets(ctx, transformation)
        with ctx.store_released():
            outcomes = ctx.sandbox.run_many(transformation["code"], current, secrets, deadline=ctx.deadline)
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


def _threshold_verdict(task: Record, failed: int, total: int) -> Verdict | None:
    """Too many errors: the share of failed records is above the task's ``failureThreshold``."""
    threshold = task.get("failureThreshold")
    if threshold is None or total == 0 or failed * 100 <= threshold * total:
        return None
    return Verdict(
        "failure",
        TOO_MANY_ERRORS,
        f"{failed} of {total} records failed ({failed * 100 / total:.4g}%), "
        f"more than the task's failureThreshold of {threshold}%",
    )


def _threshold_event(verdict: Verdict, failed: int, total: int, task: Record) -> EventPlan:
    data = {
        "message": verdict.reason,
        "failed": failed,
        "total": total,
        "failureThreshold": task["failureThreshold"],
    }
    return EventPlan("log", 0, data)


def run_task(ctx: Context, task: Record) -> Record:
    """Run a task now: fetch what its source holds and write it to the destination's index.

    A blocked task's run is skipped. A fetch that fails (a URL nothing was registered for) fails
    the run (``critical``); so do more failed records than ``failureThreshold`` allows
    (``too_many_errors``). A run that finds nothing ends ``no_events``; one whose records were all
    dropped on the way, ``lacking_events``.
    """
    run_type = run_type_for(task)
    skipped = skipped_run(ctx, task, run_type)
    if skipped is not None:
        task["lastRun"] = skipped["createdAt"]
        return skipped
    fetched = fetching.fetch(ctx.account, ctx.account.sources.get(task["sourceID"]), task["sourceID"])
    if fetched.error is not None:
        failed_fetch = EventPlan("fetch", 0, {"url": fetched.url, "error": fetched.error}, status="failed")
        run, _ = create_run(
            ctx, task, run_type, [failed_fetch], verdict=Verdict("failure", CRITICAL, fetched.error)
        )
        task["lastRun"] = run["createdAt"]
        return run
    records, transform_failures = transform(ctx, task, fetched.records)
    failed, total = len(fetched.failures) + len(transform_failures), fetched.total
    verdict = _threshold_verdict(task, failed, total)
    fetch_status = "succeeded" if verdict is not None and ctx.run_policy.outcome == "success" else None
    fetch_data: Record = {"nbRecords": total}
    if fetched.url is not None:
        fetch_data["url"] = fetched.url
    plans = [EventPlan("fetch", 0, fetch_data, status=fetch_status)]
    plans += [EventPlan("record", 1, failure, status="failed") for failure in fetched.failures]
    plans += [EventPlan("transform", 1, failure, status="failed") for failure in transform_failures]
    plans += [
        EventPlan("record", len(records[i : i + BATCH_SIZE])) for i in range(0, len(records), BATCH_SIZE)
    ]
    if verdict is not None:
        plans.append(_threshold_event(verdict, failed, total, task))
    elif total == 0:
        verdict = Verdict("success", "no_events", "the source held no records: nothing was written")
    elif not records:
        verdict = Verdict(
            "success", "lacking_events", f"{total} records fetched, none left to write ({failed} failed)"
        )
    run, _ = create_run(ctx, task, run_type, plans, verdict=verdict)
    index_name = destination_index(ctx, task)
    writes: list[tuple[str, str, list[Record]]] = []
    if task.get("action") == "replace" and records:
        # A reindex replaces the index with what it fetched; one that has nothing to write
        # (no_events, lacking_events) writes nothing, as its reason says, and leaves the index be.
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
) -> tuple[Record, list[Record]]:
    """One push: a run of type push with one record event; the records land unless the run fails.

    Records go through the destination's transformations first (deletions and clears do not);
    a record a transformation fails on is left out, with a failed ``transform`` event saying why.
    More failures than the task's ``failureThreshold`` allows fail the run (``too_many_errors``);
    a blocked task's push is skipped (no events, nothing written).
    """
    skipped = skipped_run(ctx, task, "push")
    if skipped is not None:
        return skipped, []
    failures: list[Record] = []
    total = len(records)
    sent = records
    if action in TRANSFORMED_ACTIONS:
        records, failures = transform(ctx, task, records)
    # The request's own records (no transformation changed them) are checked already.
    checked = records is sent
    verdict = _threshold_verdict(task, len(failures), total)
    plans = [EventPlan("record", len(records))]
    plans += [EventPlan("transform", 1, failure, status="failed") for failure in failures]
    if verdict is not None:
        plans.append(_threshold_event(verdict, len(failures), total, task))
    run, events = create_run(ctx, task, "push", plans, finish_now=watch, verdict=verdict)
    writes = [(index_name, action, list(records))]
    # Records that are the request body's own, untransformed: the index may keep its text for them.
    own = checked and isinstance(ctx.body, dict) and ctx.body.get("records") is sent
    text = ctx.request.text if own else None
    defer_writes(ctx.account, run, writes, checked=checked, text=text, texts=ctx.store.pushed_texts)
    return run, events
