"""The live state of a mock as one JSON value, and back: what the state file compacts to.

A state file is a log of every acknowledged write; replaying it rebuilds the state, but takes as
long as the history. Compacting replaces the log with one *image* entry (the accounts, the server's
clock, ID sequence and run policy, and the snapshots kept), so the next start costs what the live
state costs, not what the history did.

Version 4 adds the Search API's state of each application's indexes (settings, synonyms, rules,
their dates, the Search tasks); version 3 what the server steers beside the accounts (API keys
added at run time, fault rules, stubs); version 2 kept the records' metadata (``Account.meta``)
beside them; version 1 kept it inside the records, as keys starting with ``_``. Versions 1 and 2
are converted when read; a higher version (a newer release's) is refused by the reader
(``durability/state.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from mockserver.durability.damage import PartReader, damage_of
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
    SearchTasks,
    TaskMeta,
)

IMAGE_VERSION = 4  # 4: the Search API's state of indexes (settings, synonyms, rules, dates, tasks)
READABLE_VERSIONS = (1, 2, 3, 4)
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


def tasks_to_json(tasks: SearchTasks) -> dict[str, Any]:
    return {"last": tasks.last, "pending": [[task_id, at] for task_id, at in tasks.pending.items()]}


def tasks_from_json(value: Any) -> SearchTasks:
    """``ValueError``/``TypeError`` when it is not what :func:`tasks_to_json` wrote."""
    last, pending = value["last"], value["pending"]
    if not isinstance(last, int) or isinstance(last, bool) or last < 0 or not isinstance(pending, list):
        raise ValueError("search_tasks: not {last: a count, pending: [[taskID, instant]...]}")
    kept: dict[int, float] = {}
    for task_id, at in pending:
        if not isinstance(task_id, int) or isinstance(task_id, bool) or not isinstance(at, int | float):
            raise ValueError("search_tasks.pending: not [[taskID, instant]...]")
        kept[task_id] = float(at)
    return SearchTasks(last, kept)


def settings_from_json(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("an index's settings are not a JSON object")
    return value


def object_from_json(value: Any) -> Record:
    """A synonym or a rule: a JSON object holding its objectID."""
    if not isinstance(value, dict) or not isinstance(value.get("objectID"), str):
        raise ValueError("not a JSON object with its objectID")
    return value


def dates_from_json(value: Any) -> tuple[str, str]:
    if not isinstance(value, list) or len(value) != 2 or not all(isinstance(v, str) for v in value):
        raise ValueError("an index's dates are not [createdAt, updatedAt]")
    return (value[0], value[1])


def meta_to_json(meta: AccountMeta) -> dict[str, Any]:
    return {
        "runs": {run_id: dataclasses.asdict(run) for run_id, run in meta.runs.items()},
        "tasks": {task_id: dataclasses.asdict(task) for task_id, task in meta.tasks.items()},
    }


def run_meta_from_json(value: dict[str, Any]) -> RunMeta:
    run = RunMeta(**value)
    run.pending = [(index, action, records) for index, action, records in run.pending]  # JSON has lists
    return run


def meta_from_json(value: dict[str, Any]) -> AccountMeta:
    return AccountMeta(
        runs={run_id: run_meta_from_json(run) for run_id, run in value["runs"].items()},
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
        meta.runs[run_id] = run_meta_from_json(
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
        elif f.name == "search_tasks":
            out[f.name] = tasks_to_json(value)
        elif f.name == "index_dates":
            out[f.name] = {name: list(dates) for name, dates in value.items()}
        else:
            out[f.name] = value
    return out


Warn = Callable[[str], None]


def _records(name: str, item: Any, where: str, warn: Warn) -> list[tuple[str, Record]]:
    """A container's [key, record] pairs; a damaged pair is left out, named in a warning."""
    if not isinstance(item, list):
        raise ValueError(f"{name} is not a list of [ID, record] pairs")
    kept: list[tuple[str, Record]] = []
    suspect = damage_of(item) is not None  # (a container holding no damage is not marked)
    for i, pair in enumerate(item):
        damage = damage_of(pair) if suspect else None
        if damage is not None:
            key = pair[0] if isinstance(pair, list) and pair and isinstance(pair[0], str) else None
            named = f" ({key[:100]!r})" if key is not None else ""
            warn(f"{where}: {name}[{i}]{named} is damaged ({damage}): that record is lost")
        elif (
            isinstance(pair, list)
            and len(pair) == 2
            and isinstance(pair[0], str)
            and isinstance(pair[1], dict)
        ):
            kept.append((pair[0], pair[1]))
        else:
            warn(f"{where}: {name}[{i}] is damaged (not an [ID, record] pair): that record is lost")
    return kept


def _keyed_parts(
    name: str, item: Any, where: str, warn: Warn, make: Callable[[str, Any], Any]
) -> dict[str, Any]:
    """:func:`_keyed_objects` of an object whose values are read part by part (each part holding an
    unreadable value left out by ``make``), ``make`` given the key too, to name those parts."""
    if not isinstance(item, dict):
        raise ValueError(f"{name} is not an object")
    pairs = {key: (key, value) for key, value in item.items()}
    return _keyed_objects(name, pairs, where, warn, lambda pair: make(*pair), whole=False)


def _keyed_objects(
    name: str, item: Any, where: str, warn: Warn, make: Callable[[Any], Any], whole: bool = True
) -> dict[str, Any]:
    """``make`` of each value; a damaged value is left out, named in a warning. ``whole``: a value
    holding an unreadable one (``damage.py``) is damaged (else ``make`` leaves out its parts)."""
    if not isinstance(item, dict):
        raise ValueError(f"{name} is not an object")
    kept: dict[str, Any] = {}
    suspect = whole and damage_of(item) is not None  # (a container holding no damage is not marked)
    for key, value in item.items():
        try:
            if suspect:
                _whole(value)
            kept[key] = make(value)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            warn(f"{where}: {name}[{key!r}] is damaged ({exc}): it is lost")
    return kept


def _field_from_json(name: str, item: Any, where: str, warn: Warn) -> Any:
    if name in FAMILIES:
        return Records(_records(name, item, where, warn))
    if name == "runs":
        return (
            dict(_records(name, item, where, warn))
            if isinstance(item, list)
            else dict(_keyed_objects(name, item, where, warn, _record))
        )
    if name == "events":
        read = PartReader(warn, where)
        return _keyed_objects(name, item, where, warn, lambda evs: _events(evs, read), whole=False)
    if name in _WHOLE:
        _whole(item)
    if name == "clock":
        if item is None:
            return None
        clock = Clock()
        clock.restore(clock_from_json(item))
        return clock
    if name == "run_policy":
        return RunPolicy(**item) if item is not None else None
    if name == "indexes":
        return _keyed_parts(
            name,
            item,
            where,
            warn,
            lambda index, records: Index(dict(_records(f"indexes[{index[:100]!r}]", records, where, warn))),
        )
    if name == "meta":
        return AccountMeta(
            runs=_keyed_objects("meta.runs", item["runs"], where, warn, run_meta_from_json),
            tasks=_keyed_objects("meta.tasks", item["tasks"], where, warn, lambda v: TaskMeta(**v)),
        )
    if name == "source_records":
        read = PartReader(warn, where)
        return _keyed_parts(
            name,
            item,
            where,
            warn,
            lambda source, records: _record_list(read.records(f"{name}[{source[:100]!r}]", records)),
        )
    if name == "index_settings":
        return _keyed_objects(name, item, where, warn, settings_from_json)
    if name == "index_dates":
        return _keyed_objects(name, item, where, warn, dates_from_json)
    if name in ("synonyms", "rules"):
        return _keyed_objects(
            name,
            item,
            where,
            warn,
            lambda objects: _keyed_objects(name, objects, where, warn, object_from_json),
            whole=False,
        )
    if name == "search_tasks":
        return tasks_from_json(item)
    if name == "url_contents":
        return _keyed_objects(name, item, where, warn, _text)
    if name == "notifications":
        if not isinstance(item, list):
            raise ValueError("notifications is not a list")
        return [n for n in PartReader(warn, where).records("notifications", item) if isinstance(n, dict)]
    return item


# The fields read as one value (the others are read part by part, each part checked on its own).
_WHOLE = ("clock", "run_policy", "search_tasks", "app_id")


def _whole(value: Any) -> None:
    """``ValueError`` when ``value`` holds a value that could not be read (``damage.py``)."""
    damage = damage_of(value)
    if damage is not None:
        raise ValueError(damage)


def _record(value: Any) -> Record:
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _events(value: Any, read: PartReader) -> dict[str, Record]:
    """A run's events (eventID -> event); one holding an unreadable value is left out, named."""
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return {str(key): _record(event) for key, event in read.events(value).items()}


def _record_list(value: Any) -> list[Record]:
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise ValueError("not a list of JSON objects")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not a text")
    return value


def _ignore(message: str) -> None:
    raise ValueError(message)


def account_from_json(
    value: dict[str, Any], version: int = IMAGE_VERSION, warn: Warn = _ignore, where: str = "image"
) -> Account:
    """An account from its image. With ``warn``, a damaged record or field is left out and named
    (the rest of the account comes back); without it, the first damage raises ValueError."""
    if not isinstance(value, dict) or not isinstance(value.get("app_id"), str):
        raise ValueError("not an application (no app_id)")
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(Account):
        if f.name not in value or f.name == "unsettled_runs":
            continue
        try:
            fields[f.name] = _field_from_json(f.name, value[f.name], where, warn)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            warn(f"{where}: field {f.name} is damaged ({exc!r}): it is lost")
    account = Account(**fields)
    if isinstance(value.get("unsettled_runs"), list):  # in creation order (version 1 sorted them by ID)
        unsettled = {r for r in value["unsettled_runs"] if isinstance(r, str)}
        account.unsettled_runs = dict.fromkeys(r for r in account.runs if r in unsettled)
    if version == 1:
        account.meta = _meta_out_of_v1_records(account.tasks, account.runs, account.events)
    return account


def accounts_to_json(accounts: dict[str, Account]) -> dict[str, Any]:
    return {app_id: account_to_json(account) for app_id, account in accounts.items()}


def accounts_from_json(
    value: dict[str, Any], version: int = IMAGE_VERSION, warn: Warn = _ignore, where: str = "image"
) -> dict[str, Account]:
    """Accounts from an image of ``version`` (one of READABLE_VERSIONS). With ``warn``, a damaged
    application is left out alone, named in a warning (and a damaged record of one, that record)."""
    if not isinstance(value, dict):
        raise ValueError("the applications are not an object")
    accounts: dict[str, Account] = {}
    for app_id, item in value.items():
        here = f"{where}: application {app_id!r}"
        try:
            accounts[app_id] = account_from_json(item, version, warn, here)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            if warn is _ignore:
                raise
            warn(f"{here} is damaged ({exc}): that application is lost")
    return accounts
