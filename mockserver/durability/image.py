"""The live state of a mock as one JSON value, and back: what the state file compacts to.

A state file is a log of every acknowledged write; replaying it rebuilds the state, but takes as
long as the history. Compacting replaces the log with one *image* entry (the accounts, the server's
clock, ID sequence and run policy, and the snapshots kept), so the next start costs what the live
state costs, not what the history did.

Version 2 keeps the records' metadata (``Account.meta``) beside them; version 1 kept it inside the
records, as keys starting with ``_``, and is converted when it is read.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from mockserver.engine.clock import Clock, parse_rfc3339
from mockserver.engine.indexes import Index
from mockserver.engine.store import (
    FAMILIES,
    Account,
    AccountMeta,
    Record,
    Records,
    RunMeta,
    RunPolicy,
    TaskMeta,
)

IMAGE_VERSION = 2
READABLE_VERSIONS = (1, 2)
ClockState = tuple[datetime | None, timedelta]


def clock_to_json(state: ClockState) -> list[Any]:
    frozen, offset = state
    return [frozen.isoformat() if frozen is not None else None, offset.total_seconds()]


def clock_from_json(value: list[Any]) -> ClockState:
    frozen, offset = value
    return (parse_rfc3339(frozen) if frozen else None, timedelta(seconds=float(offset)))


def ids_to_json(state: object) -> Any:
    """A ``random.Random`` state (version, 625 ints, gauss) as JSON, or None (unseeded)."""
    if state is None:
        return None
    assert isinstance(state, tuple)
    version, internal, gauss = state
    return [version, list(internal), gauss]


def ids_from_json(value: Any) -> object:
    if value is None:
        return None
    version, internal, gauss = value
    return (version, tuple(internal), gauss)


def meta_to_json(meta: AccountMeta) -> dict[str, Any]:
    return {
        "runs": {run_id: dataclasses.asdict(run) for run_id, run in meta.runs.items()},
        "tasks": {task_id: dataclasses.asdict(task) for task_id, task in meta.tasks.items()},
    }


def _run_meta(value: dict[str, Any]) -> RunMeta:
    run = RunMeta(**value)
    run.pending = [(index, action, records) for index, action, records in run.pending]  # JSON has lists
    return run


def meta_from_json(value: dict[str, Any]) -> AccountMeta:
    return AccountMeta(
        runs={run_id: _run_meta(run) for run_id, run in value["runs"].items()},
        tasks={task_id: TaskMeta(**task) for task_id, task in value["tasks"].items()},
    )


def _meta_out_of_v1_records(
    tasks: dict[str, Record], runs: dict[str, Record], events: dict[str, Any]
) -> AccountMeta:
    """Version 1 kept the metadata in the records, as keys starting with ``_``: take it out of them
    (and any other such key: in version 1, none was an API field)."""
    meta = AccountMeta()
    for task_id, task in tasks.items():
        meta.tasks[task_id] = TaskMeta(
            trigger_type=task.pop("_triggerType", TaskMeta().trigger_type),
            blocked=bool(task.pop("_blocked", False)),
            critical_streak=int(task.pop("_criticalStreak", 0)),
        )
    for run_id, run in runs.items():
        meta.runs[run_id] = _run_meta(
            {
                "created": run.pop("_created"),
                "start_at": run.pop("_startAt"),
                "finish_at": run.pop("_finishAt"),
                "outcome": run.pop("_outcome"),
                "reason_code": run.pop("_reasonCode"),
                "reason": run.pop("_reason", ""),
                "pending": run.pop("_pending", []),
            }
        )
    for run_events in events.values():
        for event in run_events.values():
            event.pop("_publishAt", None)  # a run's events are published when it finishes
            event.pop("_firstPolled", None)  # a monotonic reading: meaningless after a restart
    records: list[Record] = [*tasks.values(), *runs.values()]
    records += [event for run_events in events.values() for event in run_events.values()]
    for record in records:
        for key in [k for k in record if k.startswith("_")]:
            del record[key]
    return meta


def account_to_json(account: Account) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(Account):
        value = getattr(account, f.name)
        if f.name in FAMILIES:
            out[f.name] = [[key, record] for key, record in value.items()]
        elif f.name == "unsettled_runs":
            out[f.name] = list(value)
        elif f.name == "clock":
            out[f.name] = clock_to_json(value.state()) if value is not None else None
        elif f.name == "run_policy":
            out[f.name] = dataclasses.asdict(value) if value is not None else None
        elif f.name == "indexes":  # compact indexes: their records, in order
            out[f.name] = {name: [[k, r] for k, r in index.items()] for name, index in value.items()}
        elif f.name == "meta":
            out[f.name] = meta_to_json(value)
        else:
            out[f.name] = value
    return out


def account_from_json(value: dict[str, Any], version: int = IMAGE_VERSION) -> Account:
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(Account):
        if f.name not in value:
            continue
        item = value[f.name]
        if f.name in FAMILIES:
            fields[f.name] = Records((key, record) for key, record in item)
        elif f.name == "unsettled_runs":  # in creation order (a version 1 image sorted them by ID)
            unsettled = set(item)
            fields[f.name] = dict.fromkeys(r for r in value.get("runs", {}) if r in unsettled)
        elif f.name == "clock":
            if item is not None:
                clock = Clock()
                clock.restore(clock_from_json(item))
                fields[f.name] = clock
        elif f.name == "run_policy":
            fields[f.name] = RunPolicy(**item) if item is not None else None
        elif f.name == "indexes":
            fields[f.name] = {name: Index(dict((k, r) for k, r in records)) for name, records in item.items()}
        elif f.name == "meta":
            fields[f.name] = meta_from_json(item)
        else:
            fields[f.name] = item
    account = Account(**fields)
    if version == 1:
        account.meta = _meta_out_of_v1_records(account.tasks, account.runs, account.events)
    return account


def accounts_to_json(accounts: dict[str, Account]) -> dict[str, Any]:
    return {app_id: account_to_json(account) for app_id, account in accounts.items()}


def accounts_from_json(value: dict[str, Any], version: int = IMAGE_VERSION) -> dict[str, Account]:
    """Accounts from an image of ``version`` (one of READABLE_VERSIONS)."""
    return {app_id: account_from_json(item, version) for app_id, item in value.items()}
