"""Tasks: one store, two shapes. ``/2/tasks`` speaks ``cron``; the deprecated ``/1/tasks`` a ``trigger``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mockserver.engine.clock import rfc3339
from mockserver.engine.errors import BadRequest, as_conflict
from mockserver.engine.store import Account, Record
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
from mockserver.resources.runs import BLOCKED, CRITICAL_STREAK, unblock

TRIGGER = "_triggerType"  # internal: onDemand | schedule | subscription | streaming

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


def v1_view(record: Record, ctx: Context) -> Record:
    record = fresh_next_run(record, ctx)
    trigger: Record = {"type": record[TRIGGER]}
    if record[TRIGGER] in ("onDemand", "schedule") and "lastRun" in record:
        trigger["lastRun"] = record["lastRun"]
    if record[TRIGGER] == "schedule":
        trigger["cron"] = record["cron"]
        trigger["nextRun"] = record["nextRun"]
    return {**record, "trigger": trigger}


_FILTERS = {
    "action": in_list("action"),
    "enabled": equals("enabled"),
    "sourceID": in_list("sourceID"),
    "sourceType": lambda r, wanted, a: _source_type(r, a) in wanted,
    "destinationID": in_list("destinationID"),
    "triggerType": in_list(TRIGGER),
    "withEmailNotifications": lambda r, wanted, _a: _email_enabled(r) == wanted,
}
_SORT_KEYS = {
    "enabled": by_field("enabled"),
    "triggerType": by_field(TRIGGER),
    "action": by_field("action"),
    "updatedAt": by_field("updatedAt"),
}


def next_run(ctx: Context, cron: str, where: str) -> str:
    from croniter import croniter  # imported on first use: it is slow to import

    if len(cron.split()) != 5 or not croniter.is_valid(cron):
        raise BadRequest(
            f"{where}: {cron!r} is not a valid cron expression (five fields: min hour day month weekday)"
        )
    try:
        upcoming: datetime = croniter(cron, ctx.clock.now()).get_next(datetime)
    except (ValueError, KeyError) as exc:  # croniter's bad-date errors: a schedule that never fires
        raise BadRequest(f"{where}: {cron!r} never fires ({exc})") from None
    return rfc3339(upcoming)


def fresh_next_run(record: Record, ctx: Context) -> Record:
    """The task with ``nextRun`` after the mock's present moment (it moves on as the clock does)."""
    cron = record.get("cron")
    if cron is not None and record.get(TRIGGER) == "schedule" and record.get("nextRun", "") <= ctx.now():
        record["nextRun"] = next_run(ctx, cron, "cron")
    return record


def v2_view(record: Record, ctx: Context) -> Record:
    return fresh_next_run(record, ctx)


def dumped(record: Record, checks: SchemaChecks) -> Record:
    """A task as a dump shows it: as the API's v2 does, plus its v1 ``trigger`` when only that says
    what the task is (a streaming or subscription task), so seeding the dump makes it again."""
    kind = record.get(TRIGGER)
    return {**record, "trigger": {"type": kind}} if kind in ("streaming", "subscription") else record


FAMILY = Family("tasks", "task", "taskID", "taskIDs", _FILTERS, _SORT_KEYS, public=v2_view)
FAMILY_V1 = Family("tasks", "task", "taskID", "taskIDs", _FILTERS, _SORT_KEYS, public=v1_view)


def _check_fields(ctx: Context, task: Record, changes: dict[str, Any]) -> None:
    """Referential and semantic checks the service makes beyond the schema."""
    if "sourceID" in changes:
        sources.FAMILY.get(ctx, changes["sourceID"], "body.sourceID")
    if "destinationID" in changes:
        destinations.FAMILY.get(ctx, changes["destinationID"], "body.destinationID")
    if "input" in changes:
        source = ctx.account.sources.get(task["sourceID"])
        schema = task_input_schema(ctx, source["type"] if source else None)
        try:
            ctx.checks.check(schema, changes["input"], "body.input")
        except BadRequest as exc:  # a task input, but not the one this source's type takes
            raise as_conflict(exc) from None


def _apply_cron(ctx: Context, record: Record, cron: str | None, where: str) -> None:
    if cron is None:
        record.pop("cron", None)
        record.pop("nextRun", None)
        if record.get(TRIGGER) in (None, "schedule"):
            record[TRIGGER] = "onDemand"
        return
    record["nextRun"] = next_run(ctx, cron, where)
    record["cron"] = cron
    record[TRIGGER] = "schedule"


def _store_new(ctx: Context, fields: dict[str, Any], trigger: str, cron: str | None, where: str) -> Record:
    _check_fields(ctx, fields, fields)
    now = ctx.now()
    record: Record = {
        "taskID": ctx.new_id(),
        **fields,
        "enabled": fields.get("enabled", True),
        TRIGGER: trigger,
    }
    if trigger in ("onDemand", "schedule"):
        _apply_cron(ctx, record, cron, where)
    record["createdAt"] = now
    record["updatedAt"] = now
    FAMILY.records(ctx.account)[record["taskID"]] = record
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


def _save(ctx: Context, task_id: str, record: Record) -> Any:
    if record.get("enabled"):
        unblock(record)  # enabled again: a task blocked by its policies runs again
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
    if cron is not None:
        _apply_cron(ctx, record, cron, "body.cron")
    record.update(changes)
    return _save(ctx, task_id, record)


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
    }
    # A cron makes it a scheduled task (as PATCH does); without one, event-driven tasks stay so.
    record[TRIGGER] = old[TRIGGER] if old[TRIGGER] in ("subscription", "streaming") else "onDemand"
    for kept in ("lastRun", BLOCKED, CRITICAL_STREAK):
        if kept in old:
            record[kept] = old[kept]
    if cron is not None or record[TRIGGER] == "onDemand":
        _apply_cron(ctx, record, cron, "body.cron")
    record["createdAt"] = old["createdAt"]
    return _save(ctx, task_id, record)


def update_v1(ctx: Context) -> Any:
    """PATCH /1/tasks/{taskID}: a trigger update sets the schedule."""
    task_id = ctx.request.path["taskID"]
    record = dict(FAMILY.get(ctx, task_id))
    changes = dict(ctx.body)
    _check_fields(ctx, record, changes)
    trigger = changes.pop("trigger", None)
    if trigger is not None:
        _apply_cron(ctx, record, trigger["cron"], "body.trigger.cron")
    record.update(changes)
    return _save(ctx, task_id, record)


def _set_enabled(enabled: bool) -> Handler:
    def handle(ctx: Context) -> Any:
        task_id = ctx.request.path["taskID"]
        record = dict(FAMILY.get(ctx, task_id))
        record["enabled"] = enabled
        return _save(ctx, task_id, record)

    return handle


def run(ctx: Context) -> Any:
    task = FAMILY.get(ctx, ctx.request.path["taskID"])
    created = run_task(ctx, task)
    return {"runID": created["runID"], "createdAt": created["createdAt"]}


HANDLERS: dict[str, Handler] = {
    "listTasks": list_handler(FAMILY),
    "createTask": create,
    "searchTasks": search_handler(FAMILY),
    "getTask": get_handler(FAMILY),
    "replaceTask": replace,
    "updateTask": update,
    "deleteTask": delete_handler(FAMILY),
    "runTask": run,
    "enableTask": _set_enabled(True),
    "disableTask": _set_enabled(False),
    "listTasksV1": list_handler(FAMILY_V1),
    "createTaskV1": create_v1,
    "searchTasksV1": search_handler(FAMILY_V1),
    "getTaskV1": get_handler(FAMILY_V1),
    "updateTaskV1": update_v1,
    "deleteTaskV1": delete_handler(FAMILY_V1),
    "runTaskV1": run,
    "enableTaskV1": _set_enabled(True),
    "disableTaskV1": _set_enabled(False),
}

HOOKS = Hooks(views={"tasks": dumped})
