"""Tasks: one store, two shapes. ``/2/tasks`` speaks ``cron``; the deprecated ``/1/tasks`` a ``trigger``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mockserver.engine import assumptions
from mockserver.engine.clock import rfc3339
from mockserver.engine.store import Account, Record, TaskMeta
from mockserver.resources import destinations, sources
from mockserver.resources.context import Context, Handler, Hooks, SchemaChecks
from mockserver.resources.crud import (
    Family,
    by_field,
    delete_handler,
    equals,
    get_handler,
    in_list,
    list_handler,
    search_handler,
)
from mockserver.resources.pipeline import run_task
from mockserver.resources.runs import refuse_polls_that_cannot_end, unblock, unfinished_runs_of

# The spec states which input a task takes by its source's type (a ``default`` entry for the rest).
TASK_INPUT_RULE = ("TaskCreate", "x-input-schema-by-source-type")


def task_input_schema(ctx: Context, source_type: str | None) -> str:
    """The name of the input schema a task takes when its source has ``source_type``."""
    owner, extension = TASK_INPUT_RULE
    table: dict[str, str] = ctx.checks.spec.schema(owner)[extension]
    return table.get(source_type or "", table["default"])


def _email_enabled(record: Record) -> bool:
    return bool(record.get("notifications", {}).get("email", {}).get("enabled", False))


def _source_type(record: Record, account: Account) -> str | None:
    source = account.sources.get(record["sourceID"])
    return source["type"] if source is not None else None


def _trigger_type(record: Record, account: Account) -> str:
    return account.meta.trigger_type(record["taskID"])


def v1_view(record: Record, ctx: Context) -> Record:
    record = fresh_next_run(record, ctx)
    trigger_type = _trigger_type(record, ctx.account)
    trigger: Record = {"type": trigger_type}
    if trigger_type in ("onDemand", "schedule") and "lastRun" in record:
        trigger["lastRun"] = record["lastRun"]
    if trigger_type == "schedule":
        trigger["cron"] = record["cron"]
        if "nextRun" in record:  # absent for a cron the mock cannot read (assumed rules off)
            trigger["nextRun"] = record["nextRun"]
    return {**record, "trigger": trigger}


_FILTERS = {
    "action": in_list("action"),
    "enabled": equals("enabled"),
    "sourceID": in_list("sourceID"),
    "sourceType": lambda r, wanted, a: _source_type(r, a) in wanted,
    "destinationID": in_list("destinationID"),
    "triggerType": lambda r, wanted, a: _trigger_type(r, a) in wanted,
    "withEmailNotifications": lambda r, wanted, _a: _email_enabled(r) == wanted,
}
_SORT_KEYS = {
    "enabled": by_field("enabled"),
    "triggerType": _trigger_type,
    "action": by_field("action"),
    "updatedAt": by_field("updatedAt"),
}


def next_run(ctx: Context, cron: str, where: str) -> str | None:
    """When ``cron`` fires next; None (no ``nextRun``) for one the mock cannot read, which is refused
    while the assumed rules are on (the published Cron is any string)."""
    from croniter import croniter  # imported on first use: it is slow to import

    if len(cron.split()) != 5 or not croniter.is_valid(cron):
        if not ctx.assumed_rules:
            return None
        raise assumptions.refuse(
            "cron-syntax",
            f"{where}: {cron!r} is not a valid cron expression (five fields: min hour day month weekday)",
        )
    try:
        upcoming: datetime = croniter(cron, ctx.clock.now()).get_next(datetime)
    except (ValueError, KeyError) as exc:  # croniter's bad-date errors: a schedule that never fires
        if not ctx.assumed_rules:
            return None
        raise assumptions.refuse("cron-syntax", f"{where}: {cron!r} never fires ({exc})") from None
    return rfc3339(upcoming)


def fresh_next_run(record: Record, ctx: Context) -> Record:
    """The task with ``nextRun`` after the mock's present moment (it moves on as the clock does)."""
    cron = record.get("cron")
    if (
        cron is not None
        and record.get("nextRun", "") <= ctx.now()
        and _trigger_type(record, ctx.account) == "schedule"
    ):
        upcoming = next_run(ctx, cron, "cron")
        if upcoming is not None:
            record["nextRun"] = upcoming
    return record


def v2_view(record: Record, ctx: Context) -> Record:
    return fresh_next_run(record, ctx)


def dumped(record: Record, checks: SchemaChecks, account: Account) -> Record:
    """A task as a dump shows it: as the API's v2 does, plus its v1 ``trigger`` when only that says
    what the task is (a streaming or subscription task), so seeding the dump makes it again."""
    kind = account.meta.trigger_type(record["taskID"])
    return {**record, "trigger": {"type": kind}} if kind in ("streaming", "subscription") else record


FAMILY = Family("tasks", "task", "taskID", "taskIDs", _FILTERS, _SORT_KEYS, public=v2_view)
FAMILY_V1 = Family("tasks", "task", "taskID", "taskIDs", _FILTERS, _SORT_KEYS, public=v1_view)


def _check_fields(ctx: Context, task: Record, changes: dict[str, Any]) -> None:
    """Referential and semantic checks the service makes beyond the schema."""
    if "sourceID" in changes:
        sources.FAMILY.get(ctx, changes["sourceID"], "body.sourceID")
    if "destinationID" in changes:
        destinations.FAMILY.get(ctx, changes["destinationID"], "body.destinationID")
    if "input" in changes and ctx.assumed_rules:
        # The request's schema let in any published TaskInput; the one this source's type takes is
        # an assumed rule (task-input-follows-source-type), not checked when they are off.
        source = ctx.account.sources.get(task["sourceID"])
        source_type = source["type"] if source else None
        schema = task_input_schema(ctx, source_type)
        message = ctx.checks.error_of(schema, changes["input"], "body.input")
        if message is not None:
            raise assumptions.refuse(
                "task-input-follows-source-type",
                f"{message} (a task of a {source_type or 'missing'} source takes a {schema})",
            )


def _apply_cron(ctx: Context, record: Record, trigger: str, cron: str | None, where: str) -> str:
    """Set (or, ``cron`` None, drop) a task's schedule; returns its trigger type after the change."""
    if cron is None:
        record.pop("cron", None)
        record.pop("nextRun", None)
        return "onDemand" if trigger == "schedule" else trigger
    upcoming = next_run(ctx, cron, where)
    if upcoming is None:
        record.pop("nextRun", None)
    else:
        record["nextRun"] = upcoming
    record["cron"] = cron
    return "schedule"


# What the service answers for a task never given a failureThreshold (observed), and what a run
# then allows: read as the published field says, the share of failed records a run accepts, none.
UNSET_FAILURE_THRESHOLD = 0


def _store_new(ctx: Context, fields: dict[str, Any], trigger: str, cron: str | None, where: str) -> Record:
    _check_fields(ctx, fields, fields)
    now = ctx.now()
    record: Record = {
        "taskID": ctx.new_id(),
        **fields,
        "enabled": fields.get("enabled", True),
        "failureThreshold": fields.get("failureThreshold", UNSET_FAILURE_THRESHOLD),
    }
    if trigger in ("onDemand", "schedule"):
        trigger = _apply_cron(ctx, record, trigger, cron, where)
    record["createdAt"] = now
    record["updatedAt"] = now
    FAMILY.records(ctx.account)[record["taskID"]] = record
    ctx.account.meta.tasks[record["taskID"]] = TaskMeta(trigger)
    return record


def create(ctx: Context) -> Any:
    body = dict(ctx.body)
    cron = body.pop("cron", None)
    record = _store_new(ctx, body, "onDemand", cron, "body.cron")
    return FAMILY.show(record, ctx, ctx.response_schema())


def create_v1(ctx: Context) -> Any:
    body = dict(ctx.body)
    trigger = body.pop("trigger")
    record = _store_new(ctx, body, trigger["type"], trigger.get("cron"), "body.trigger.cron")
    return FAMILY.show(record, ctx, ctx.response_schema())


def _save(ctx: Context, task_id: str, record: Record, trigger: str | None = None) -> Any:
    """Store a changed task (``trigger``: its new trigger type); nothing it does can fail."""
    meta = ctx.account.meta.task(task_id)
    if trigger is not None:
        meta.trigger_type = trigger
    if record.get("enabled"):
        unblock(meta)  # enabled again: a task blocked by its policies runs again
    record["updatedAt"] = ctx.now()
    FAMILY.records(ctx.account)[task_id] = record
    return FAMILY.show(record, ctx, ctx.response_schema())


def update(ctx: Context) -> Any:
    """PATCH /2/tasks/{taskID}: the given fields change, the rest stay."""
    task_id = ctx.request.path["taskID"]
    record = dict(FAMILY.get(ctx, task_id))
    changes = dict(ctx.body)
    _check_fields(ctx, record, changes)
    cron = changes.pop("cron", None)
    trigger = None
    if cron is not None:
        trigger = _apply_cron(ctx, record, _trigger_type(record, ctx.account), cron, "body.cron")
    record.update(changes)
    return _save(ctx, task_id, record, trigger)


def replace(ctx: Context) -> Any:
    """PUT /2/tasks/{taskID}: the body replaces every writable field; the source stays."""
    task_id = ctx.request.path["taskID"]
    old = FAMILY.get(ctx, task_id)
    body = dict(ctx.body)
    _check_fields(ctx, old, body)
    cron = body.pop("cron", None)
    record: Record = {
        "taskID": task_id,
        "sourceID": old["sourceID"],
        **body,
        "enabled": body.get("enabled", True),
        "failureThreshold": body.get("failureThreshold", UNSET_FAILURE_THRESHOLD),
    }
    # A cron makes it a scheduled task (as PATCH does); without one, event-driven tasks stay so.
    trigger = _trigger_type(old, ctx.account)
    if trigger not in ("subscription", "streaming"):
        trigger = "onDemand"
    if "lastRun" in old:
        record["lastRun"] = old["lastRun"]
    if cron is not None or trigger == "onDemand":
        trigger = _apply_cron(ctx, record, trigger, cron, "body.cron")
    record["createdAt"] = old["createdAt"]
    return _save(ctx, task_id, record, trigger)


def update_v1(ctx: Context) -> Any:
    """PATCH /1/tasks/{taskID}: a trigger update sets the schedule."""
    task_id = ctx.request.path["taskID"]
    record = dict(FAMILY.get(ctx, task_id))
    changes = dict(ctx.body)
    _check_fields(ctx, record, changes)
    trigger = changes.pop("trigger", None)
    trigger_type = None
    if trigger is not None:
        current = _trigger_type(record, ctx.account)
        trigger_type = _apply_cron(ctx, record, current, trigger["cron"], "body.trigger.cron")
    record.update(changes)
    return _save(ctx, task_id, record, trigger_type)


def _set_enabled(enabled: bool) -> Handler:
    def handle(ctx: Context) -> Any:
        task_id = ctx.request.path["taskID"]
        record = dict(FAMILY.get(ctx, task_id))
        record["enabled"] = enabled
        return _save(ctx, task_id, record)

    return handle


def _get(family: Family) -> Handler:
    """getTask: a task whose runs cannot finish (frozen clock, deferred runs) is not polled forever."""
    show = get_handler(family)

    def handle(ctx: Context) -> Any:
        task_id = family.get(ctx, ctx.request.path["taskID"])["taskID"]
        refuse_polls_that_cannot_end(
            ctx,
            unfinished_runs_of(ctx, task_id),
            lambda stuck: f"run {stuck[0]['runID']!r} of task {task_id!r} cannot finish",
        )
        return show(ctx)

    return handle


def run(ctx: Context) -> Any:
    task = FAMILY.get(ctx, ctx.request.path["taskID"])
    created = run_task(ctx, task)
    return {"runID": created["runID"], "createdAt": created["createdAt"]}


HANDLERS: dict[str, Handler] = {
    "listTasks": list_handler(FAMILY),
    "createTask": create,
    "searchTasks": search_handler(FAMILY),
    "getTask": _get(FAMILY),
    "replaceTask": replace,
    "updateTask": update,
    "deleteTask": delete_handler(FAMILY),
    "runTask": run,
    "enableTask": _set_enabled(True),
    "disableTask": _set_enabled(False),
    "listTasksV1": list_handler(FAMILY_V1),
    "createTaskV1": create_v1,
    "searchTasksV1": search_handler(FAMILY_V1),
    "getTaskV1": _get(FAMILY_V1),
    "updateTaskV1": update_v1,
    "deleteTaskV1": delete_handler(FAMILY_V1),
    "runTaskV1": run,
    "enableTaskV1": _set_enabled(True),
    "disableTaskV1": _set_enabled(False),
}

HOOKS = Hooks(views={"tasks": dumped})
