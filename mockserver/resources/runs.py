"""Runs and their events: created by task runs, pushes and source actions; observed by listRuns & co.

A run is created with its whole timeline planned from the store's RunPolicy (when it starts, when
it finishes, with which outcome: its ``RunMeta``, in ``Account.meta``) and settles lazily against
the mock's clock whenever it is read. Events are created with their final status and become visible
when their run finishes, so a poller sees nothing (404) until the run has done its work.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from mockserver.engine import assumptions, indexes
from mockserver.engine.clock import parse_rfc3339, rfc3339, rfc3339_of_second
from mockserver.engine.errors import BadRequest, NotFound
from mockserver.engine.indexes import PushedTexts
from mockserver.engine.store import Account, IndexWrite, Record, RunMeta, TaskMeta
from mockserver.resources.context import Context, Handler, Hooks
from mockserver.resources.crud import Family, by_field, equals, in_list, paginate, select

RUNS_WINDOW = timedelta(days=7)
EVENTS_WINDOW = timedelta(hours=3)


@dataclass(frozen=True)
class EventPlan:
    type: str  # fetch | record | log | transform
    batch_size: int = 0
    data: dict[str, Any] | None = None
    # The event's status whatever the run's outcome (e.g. "failed" for one record's transform);
    # None: "succeeded" when the run succeeds, "failed" when it fails.
    status: str | None = None


@dataclass(frozen=True)
class Verdict:
    """How the work of a run ends, as the mock worked it out (a failing RunPolicy wins over it)."""

    outcome: str = "success"  # success | failure
    reason_code: str = "ok"
    reason: str = ""


CRITICAL = "critical"
BLOCKING = "blocking"


def create_run(
    ctx: Context,
    task: Record,
    run_type: str,
    events: Sequence[EventPlan],
    *,
    finish_now: bool = False,
    verdict: Verdict | None = None,
) -> tuple[Record, list[Record]]:
    """Record a run of ``task`` and its events, timed by the store's RunPolicy.

    The outcome is the policy's when it says failure (a test asked for it), else ``verdict``'s
    (what the work came to: a fetch that failed, too many failed records...), else success.
    """
    policy = ctx.run_policy
    now = ctx.clock.now()
    created = now.timestamp()
    deferred = policy.mode == "deferred" and not finish_now
    start_at = created + (policy.start_after if deferred else 0.0)
    finish_at = created + (max(policy.finish_after, policy.start_after) if deferred else 0.0)
    if policy.outcome == "failure" or verdict is None:
        success = policy.outcome == "success"
        outcome: str = policy.outcome
        reason_code = policy.reason_code or ("ok" if success else CRITICAL)
        reason = policy.reason if policy.reason is not None else ("" if success else "the run failed")
    else:
        success = verdict.outcome == "success"
        outcome, reason_code, reason = verdict.outcome, verdict.reason_code, verdict.reason
    run: Record = {
        "runID": ctx.new_id(),
        "appID": ctx.account.app_id,
        "taskID": task["taskID"],
        "status": "created",
        "progress": {"expectedNbOfEvents": len(events), "receivedNbOfEvents": 0},
        "type": run_type,
        "createdAt": rfc3339(now),
    }
    if "failureThreshold" in task:
        run["failureThreshold"] = task["failureThreshold"]
    account = ctx.account
    account.runs[run["runID"]] = run
    account.meta.runs[run["runID"]] = RunMeta(created, start_at, finish_at, outcome, reason_code, reason)
    published = _stamp(finish_at)
    run_events: dict[str, Record] = {}
    for plan in events:
        event: Record = {
            "eventID": ctx.new_id(),
            "runID": run["runID"],
            "status": plan.status or ("succeeded" if success else "failed"),
            "type": plan.type,
            "batchSize": plan.batch_size,
            "data": plan.data,
            "publishedAt": published,
        }
        run_events[event["eventID"]] = event
    account.events[run["runID"]] = run_events
    account.unsettled_runs[run["runID"]] = None
    settle(account, run, created)
    return run, list(run_events.values())


def skipped_run(ctx: Context, task: Record, run_type: str) -> Record | None:
    """When ``task`` is blocked, the run it gets instead of doing work: ``skipped``, reason ``blocking``.

    Runs that finished by now count first, so a block they cause applies to this run already.
    """
    settle_account(ctx.account, ctx.clock.now().timestamp())
    meta = ctx.account.meta.tasks.get(task["taskID"])
    if meta is None or not meta.blocked:
        return None
    now = ctx.clock.now()
    failures = meta.critical_streak or "several"  # a run that ended otherwise since reset the count
    run: Record = {
        "runID": ctx.new_id(),
        "appID": ctx.account.app_id,
        "taskID": task["taskID"],
        "status": "skipped",
        "progress": {"expectedNbOfEvents": 0, "receivedNbOfEvents": 0},
        "reasonCode": BLOCKING,
        "reason": (
            f"task {task['taskID']} is blocked after {failures} critical failures in a row "
            "(policies.criticalThreshold); enable it again to run it"
        ),
        "type": run_type,
        "createdAt": rfc3339(now),
    }
    if "failureThreshold" in task:
        run["failureThreshold"] = task["failureThreshold"]
    ctx.account.runs[run["runID"]] = run
    moment = now.timestamp()
    ctx.account.meta.runs[run["runID"]] = RunMeta(moment, moment, moment, None, BLOCKING)
    ctx.account.events[run["runID"]] = {}
    return run


def unblock(meta: TaskMeta) -> None:
    """The task was enabled again: it runs, and its count of critical failures starts over."""
    meta.blocked = False
    meta.critical_streak = 0


def _count_towards_policy(account: Account, run: Record, run_meta: RunMeta) -> None:
    """A finished run of a task moves its streak of critical failures; enough in a row block it."""
    task = account.tasks.get(run["taskID"])
    if task is None or run["type"] in ("validate", "discover"):
        return
    meta = account.meta.task(run["taskID"])
    if run_meta.outcome != "failure" or run_meta.reason_code != CRITICAL:
        meta.critical_streak = 0
        return
    meta.critical_streak += 1
    streak = meta.critical_streak
    threshold = (task.get("policies") or {}).get("criticalThreshold")
    if threshold is None or streak < threshold or meta.blocked:
        return
    meta.blocked = True
    task["enabled"] = False
    message = (
        f"task {task['taskID']} is blocked: {streak} critical failures in a row reached "
        f"policies.criticalThreshold ({threshold}); enable it again (enableTask) to run it"
    )
    account.notifications.append(
        {
            "taskID": task["taskID"],
            "runID": run["runID"],
            "createdAt": _stamp(run_meta.finish_at),
            "reason": BLOCKING,
            "message": message,
            "criticalFailures": streak,
            "email": bool((task.get("notifications") or {}).get("email", {}).get("enabled", False)),
        }
    )
    event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"run/{run['runID']}/blocked"))  # replays alike
    account.events.setdefault(run["runID"], {})[event_id] = {
        "eventID": event_id,
        "runID": run["runID"],
        "status": "critical",
        "type": "log",
        "batchSize": 0,
        "data": {"message": message, "criticalThreshold": threshold},
        "publishedAt": _stamp(run_meta.finish_at),
    }
    run["progress"]["expectedNbOfEvents"] += 1


def settle(account: Account, run: Record, now: float) -> None:
    """Bring a run's status up to ``now`` on its planned timeline."""
    if run["status"] not in ("created", "started"):
        return
    meta = account.meta.runs[run["runID"]]
    if run["status"] == "created" and now >= meta.start_at:
        run["status"] = "started"
        run["startedAt"] = _stamp(meta.start_at)
    if run["status"] == "started" and now >= meta.finish_at:
        run["status"] = "finished"
        run["finishedAt"] = _stamp(meta.finish_at)
        run["outcome"] = meta.outcome
        run["reasonCode"] = meta.reason_code
        if meta.reason:
            run["reason"] = meta.reason
        _count_towards_policy(account, run, meta)
        expected = run["progress"]["expectedNbOfEvents"]
        run["progress"] = {"expectedNbOfEvents": expected, "receivedNbOfEvents": expected}
        account.unsettled_runs.pop(run["runID"], None)
        pending, meta.pending = meta.pending, []
        if meta.outcome == "success":
            for index_name, action, records in pending:
                indexes.apply(account.indexes, index_name, action, records, results=False)
                _stamp_index(account, index_name, meta.finish_at)


def defer_writes(
    account: Account,
    run: Record,
    writes: list[IndexWrite],
    *,
    checked: bool = False,
    text: bytes | None = None,
    texts: PushedTexts | None = None,
) -> None:
    """Apply index writes when ``run`` finishes: now if it already has, else when it settles.

    ``checked``: the records are a validated request's own; ``text``: the request's JSON text, which
    they were decoded from; ``texts``: the store's bound on kept texts (all three: see
    :func:`mockserver.engine.indexes.apply`; a write that waits for its run keeps only the records).
    """
    meta = account.meta.runs[run["runID"]]
    if run["status"] != "finished":
        meta.pending = writes
        return
    if meta.outcome == "success":
        for index_name, action, records in writes:
            indexes.apply(
                account.indexes,
                index_name,
                action,
                records,
                results=False,
                checked=checked,
                text=text,
                texts=texts,
            )
            _stamp_index(account, index_name, meta.finish_at)


def _stamp_index(account: Account, index_name: str, when: float) -> None:
    """A run wrote to an index when it finished: the index's dates (listIndices) say so."""
    if index_name in account.indexes:  # (a delete action took it away)
        account.stamp_index(index_name, _stamp(when))


def pending_index_names(account: Account) -> set[str]:
    """The indexes runs still working will write to when they finish."""
    return {
        index_name
        for run_id in account.unsettled_runs
        for index_name, _action, _records in account.meta.runs[run_id].pending
    }


def settle_account(account: Account, now: float) -> None:
    """Settle every run still in progress, in the order they finish (streaks count in that order, and
    index writes land in it); runs finishing at the same moment, in the order they were created."""
    timelines = account.meta.runs
    pending = sorted(account.unsettled_runs, key=lambda r: (timelines[r].finish_at, timelines[r].created))
    for run_id in pending:
        settle(account, account.runs[run_id], now)


def settle_all(ctx: Context) -> float:
    now = ctx.clock.now().timestamp()
    settle_account(ctx.account, now)
    return now


def _stamp(epoch: float) -> str:
    return rfc3339_of_second(math.floor(epoch))


def published_at(record: Record, account: Account) -> float:
    """When an event (or a run's events) is published, in epoch seconds: when its run finishes."""
    return account.meta.runs[record["runID"]].finish_at


def _created(run: Record, account: Account) -> float:
    return account.meta.runs[run["runID"]].created


def _run_updated(run: Record, _account: Account) -> Any:
    return run.get("finishedAt") or run.get("startedAt") or run["createdAt"]


RUNS = Family(
    name="runs",
    singular="run",
    id_field="runID",
    search_field="runIDs",
    filters={
        "status": in_list("status"),
        "type": in_list("type"),
        "taskID": equals("taskID"),
    },
    sort_keys={"status": by_field("status"), "updatedAt": _run_updated},
)

EVENTS = Family(
    name="events",
    singular="event",
    id_field="eventID",
    search_field="eventIDs",
    filters={
        "status": in_list("status"),
        "type": in_list("type"),
    },
    sort_keys={"status": by_field("status"), "type": by_field("type"), "publishedAt": published_at},
)


def _window(ctx: Context, default_span: timedelta) -> tuple[float, float, dict[str, str]]:
    now = ctx.clock.now()
    query = ctx.request.query
    bounds = {}
    for name, default in (("startDate", now - default_span), ("endDate", now)):
        if name in query:
            try:
                bounds[name] = parse_rfc3339(query[name])
            except ValueError:
                raise BadRequest(f"query.{name}: {query[name]!r} is not an RFC 3339 date-time") from None
        else:
            bounds[name] = default
    if bounds["startDate"] > bounds["endDate"] and ctx.assumed_rules:  # off: an empty window
        raise assumptions.refuse("window-start-after-end", "query.startDate: must not be after query.endDate")
    window = {"startDate": rfc3339(bounds["startDate"]), "endDate": rfc3339(bounds["endDate"])}
    return bounds["startDate"].timestamp(), bounds["endDate"].timestamp(), window


def get_run(ctx: Context, run_id: str) -> Record:
    run = ctx.account.runs.get(run_id)
    if run is None:
        raise NotFound(f"No run with ID {run_id!r} exists")
    settle(ctx.account, run, ctx.clock.now().timestamp())
    return run


def _list_in_window(
    family: Family,
    ctx: Context,
    records: Iterable[Record],
    moment: Callable[[Record, Account], float],
    span: timedelta,
) -> dict[str, Any]:
    """One page of ``records`` whose ``moment`` (epoch seconds) falls in the request's date window."""
    start, end, window = _window(ctx, span)
    account = ctx.account
    # Whole seconds, as the dates are written: what happened this second is inside the window.
    in_window = [r for r in records if int(start) <= int(moment(r, account)) <= end]
    item_schema = ctx.response_schema()["properties"][family.name]["items"]
    page, pagination = paginate(select(family, ctx, in_window), ctx)
    if family is RUNS:
        refuse_polls_that_cannot_end(ctx, page, lambda stuck: f"{_runs(stuck)} (listed) cannot finish")
    return {
        family.name: family.show_all(page, ctx, item_schema),
        "pagination": pagination,
        "window": window,
    }


def list_runs(ctx: Context) -> Any:
    settle_all(ctx)
    return _list_in_window(RUNS, ctx, ctx.account.runs.values(), _created, RUNS_WINDOW)


def get_run_handler(ctx: Context) -> Any:
    run = get_run(ctx, ctx.request.path["runID"])
    refuse_polls_that_cannot_end(ctx, [run], lambda _: f"run {run['runID']!r} cannot finish")
    return RUNS.show(run, ctx, ctx.response_schema())


def list_events(ctx: Context) -> Any:
    run = get_run(ctx, ctx.request.path["runID"])
    now = ctx.clock.now().timestamp()
    if published_at(run, ctx.account) > now:  # (a run's events are published when it finishes)
        return _list_in_window(EVENTS, ctx, [], published_at, EVENTS_WINDOW)
    published = ctx.account.events.get(run["runID"], {}).values()
    return _list_in_window(EVENTS, ctx, published, published_at, EVENTS_WINDOW)


def get_event(ctx: Context) -> Any:
    run = get_run(ctx, ctx.request.path["runID"])
    event_id = ctx.request.path["eventID"]
    event = ctx.account.events.get(run["runID"], {}).get(event_id)
    now = ctx.clock.now()
    if event is None or published_at(run, ctx.account) > now.timestamp():
        if event is not None:
            refuse_polls_that_cannot_end(
                ctx, [run], lambda _: f"event {event_id!r} of run {run['runID']!r} cannot appear"
            )
        # An event planned but not published yet is what a poller waits for (not a refusal).
        raise NotFound(
            f"No event with ID {event_id!r} exists in run {run['runID']!r}", not_ready=event is not None
        )
    return EVENTS.show(event, ctx, ctx.response_schema())


def unfinished_runs_of(ctx: Context, task_id: str) -> list[Record]:
    """The runs of a task still working by the mock's clock (settled first)."""
    settle_all(ctx)
    account = ctx.account
    return [account.runs[r] for r in account.unsettled_runs if account.runs[r]["taskID"] == task_id]


# A frozen clock never brings a deferred run to its end, so a client waiting for one (polling
# getEvent, getRun, listRuns or getTask) would poll for minutes: after STUCK_POLLS polls spread
# over STUCK_POLL_SECONDS at one reading of the clock, the mock answers why and how to move on.
# The official client's wait (chunked_push) polls at 0, 1.5 and 4.5 s: it is told on its third poll.
STUCK_POLL_SECONDS = 3.0
STUCK_POLLS = 3


def refuse_polls_that_cannot_end(
    ctx: Context, runs: Iterable[Record], headline: Callable[[list[Record]], str]
) -> None:
    """Count a poll of each run of ``runs`` still working under a frozen clock; once one has been
    polled long enough, refuse with 400: ``headline(stuck)``, the wait and how to end it."""
    clock = ctx.clock
    if not clock.frozen or not ctx.assumed_rules:
        return
    now = clock.now()
    reading = now.timestamp()
    moment = time.monotonic()
    stuck: list[Record] = []
    for run in runs:
        if run["status"] not in ("created", "started"):
            continue  # done (or skipped): nothing to wait for
        polls = ctx.account.meta.polls
        mark = polls.get(run["runID"])
        if mark is None or mark[0] != reading or not mark[1] <= moment:
            polls[run["runID"]] = [reading, moment, 1]  # first poll at this reading (moved, or new)
            continue
        mark[2] += 1
        if mark[2] >= STUCK_POLLS and moment - mark[1] >= STUCK_POLL_SECONDS:
            stuck.append(run)
    if not stuck:
        return
    wait = max(1, max(math.ceil(published_at(r, ctx.account) - reading) for r in stuck))
    which = "the run finishes" if len(stuck) == 1 else "the last of them finishes"
    raise assumptions.refuse(
        "frozen-clock-polls",
        f"{headline(stuck)}: the mock's clock is frozen at {rfc3339(now)} and {which} {wait} s later "
        "(deferred runs); "
        f"advance the clock (ingestion_mock.set_clock(advance={wait}) or POST /__mock__/clock "
        f'{{"advance": {wait}}}), unfreeze it, or let runs finish at once',
    )


def _runs(stuck: list[Record]) -> str:
    first = f"run {stuck[0]['runID']!r}"
    return first if len(stuck) == 1 else f"runs {stuck[0]['runID']!r} and {len(stuck) - 1} more"


def show_events(events: Sequence[Record], ctx: Context) -> list[Record]:
    schema = ctx.checks.spec.schema("Event")
    return EVENTS.show_all(events, ctx, schema)


HANDLERS: dict[str, Handler] = {
    "listRuns": list_runs,
    "getRun": get_run_handler,
    "listEvents": list_events,
    "getEvent": get_event,
}

HOOKS = Hooks(settlers=[settle_account])
