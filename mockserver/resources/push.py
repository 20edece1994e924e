"""Push: records sent straight through a push task into its destination's index."""

from __future__ import annotations

from typing import Any

from mockserver.engine.errors import BadRequest, NotFound
from mockserver.engine.store import Record
from mockserver.resources import tasks
from mockserver.resources.context import Context, Handler
from mockserver.resources.pipeline import destination_index, push_records
from mockserver.resources.runs import show_events


def _push_tasks_for(ctx: Context, index_name: str) -> list[Record]:
    account = ctx.account
    found = []
    for task in account.tasks.values():
        source = account.sources.get(task["sourceID"])
        destination = account.destinations.get(task["destinationID"])
        if source is None or destination is None or source["type"] != "push":
            continue
        if destination["input"].get("indexName") == index_name:
            found.append(task)
    return found


def _one_task_for(ctx: Context, index_name: str, where: str) -> Record:
    """The one push task targeting ``index_name``; refused as the service refuses (its exact wording)."""
    found = _push_tasks_for(ctx, index_name)
    if not found:
        raise NotFound(
            f"cannot find task {index_name}",
            detail=(
                f"{where}: no push task targets index {index_name!r}; create a push source, a destination "
                "on that index and a task linking them, or pass referenceIndexName"
            ),
            observed=True,
        )
    if len(found) > 1:
        ids = ", ".join(t["taskID"] for t in found)
        raise BadRequest(
            f"multiple tasks ({ids}) found for the Push connector with indexName {index_name}, "
            "please use /2/tasks/:id/push instead",
            detail=_several_tasks(ctx, found, index_name, where),
            observed=True,
        )
    return found[0]


LISTED_TASKS = 10  # the tasks a diagnosis names one by one


def _several_tasks(ctx: Context, found: list[Record], index_name: str, where: str) -> str:
    """Why several push tasks target the index, and the ways out: which tasks, made when, from
    what; when some are alike (the same setup ran again against a mock that kept its state), say so."""
    account = ctx.account
    ordered = sorted(found, key=lambda t: str(t.get("createdAt", "")))

    def setup(task: Record) -> tuple[str, str, str, str]:
        source, destination = account.sources[task["sourceID"]], account.destinations[task["destinationID"]]
        return (str(source.get("name")), str(destination.get("name")), index_name, str(task.get("action")))

    def described(task: Record) -> str:
        source, destination = account.sources[task["sourceID"]], account.destinations[task["destinationID"]]
        return (
            f"{task['taskID']} (created {task.get('createdAt', '?')}: push source {source.get('name')!r} "
            f"{task['sourceID']} -> destination {destination.get('name')!r} {task['destinationID']})"
        )

    listed = "; ".join(described(t) for t in ordered[:LISTED_TASKS])
    if len(ordered) > LISTED_TASKS:
        listed += f"; and {len(ordered) - LISTED_TASKS} more"
    text = f"{where}: {len(found)} push tasks target index {index_name!r}: {listed}. "
    first: dict[tuple[str, str, str, str], Record] = {}
    repeats: list[str] = []
    for task in ordered:
        earlier = first.setdefault(setup(task), task)
        if earlier is not task:
            repeats.append(f"{task['taskID']} repeats {earlier['taskID']}")
    if repeats:
        text += (
            f"{'; '.join(repeats)} (same source name, destination and action): the same setup ran "
            "again against this mock, which keeps its state between runs, and made another task. "
            "Reuse the existing task instead of creating another (GET /2/tasks?sourceType=push lists "
            "them), delete the extra ones (DELETE /2/tasks/{taskID}), or reset the mock before each "
            "run (POST /__mock__/reset)"
        )
    else:
        text += (
            "Push through one of them (POST /2/tasks/{taskID}/push), delete the ones not meant for "
            "this index (DELETE /2/tasks/{taskID}), or reset the mock (POST /__mock__/reset)"
        )
    return text


def _answer(ctx: Context, task: Record, index_name: str) -> Any:
    body = ctx.body
    watch = bool(ctx.request.query.get("watch", False))
    run, events = push_records(ctx, task, body["action"], body["records"], index_name, watch=watch)
    answer: Record = {"runID": run["runID"], "createdAt": run["createdAt"]}
    if events:  # a blocked task's push is skipped: no event
        answer["eventID"] = events[0]["eventID"]
    if watch:
        answer["data"] = None  # published: always null for a push (validate and discover sample)
        answer["events"] = show_events(events, ctx)
        planned = ctx.account.meta.runs[run["runID"]].reason  # (a run may not have finished yet)
        answer["message"] = (
            run.get("reason") or planned or f"{len(body['records'])} records processed with {body['action']}"
        )
    else:
        answer["message"] = run["reason"] if run["status"] == "skipped" else "OK"
    return answer


def push(ctx: Context) -> Any:
    """POST /1/push/{indexName}: through the one push task targeting the index."""
    index_name = ctx.request.path["indexName"]
    reference = ctx.request.query.get("referenceIndexName")
    if reference is not None:
        task = _one_task_for(ctx, reference, "query.referenceIndexName")
    else:
        task = _one_task_for(ctx, index_name, "path.indexName")
    return _answer(ctx, task, index_name)


def push_task(ctx: Context) -> Any:
    """POST /2/tasks/{taskID}/push: into the task's destination index."""
    task = tasks.FAMILY.get(ctx, ctx.request.path["taskID"])
    return _answer(ctx, task, destination_index(ctx, task))


HANDLERS: dict[str, Handler] = {"push": push, "pushTask": push_task}
