"""What one write changed in an application, as JSON: taken, logged, undone and applied again.

Before a durable write, :func:`take` keeps a *shadow* of the application: each container's keys
and values by reference, and a shallow copy of the records the engine changes in place (resources,
runs) and of their metadata. Its cost is a walk of pointers, never a deep copy. After the write,
:func:`diff` compares the account with its shadow and gives the after-state of what changed (the
records set and the keys deleted, per container); :func:`undo` puts the shadow back when the write
cannot be made durable; :func:`apply` applies a logged change to an account on replay, without
validating anything again (what was acknowledged is what comes back).

A container's values are compared by identity first: records the engine never changes in place
(events, index records packed as JSON bytes, a source's registered records, notifications) are
replaced, not edited, by every write.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mockserver.durability import image
from mockserver.durability.damage import PartReader
from mockserver.engine.clock import Clock
from mockserver.engine.indexes import Index
from mockserver.engine.store import (
    FAMILIES,
    Account,
    Record,
    Records,
    RunMeta,
    RunPolicy,
    SearchTasks,
    TaskMeta,
)

EDITED = (*FAMILIES, "runs")  # records the engine changes in place: shadowed by a shallow copy
_MISSING = object()


@dataclass
class Shadow:
    """An application's state before a write, by reference (see the module's docstring)."""

    edited: dict[str, dict[str, Record]]  # family or "runs" -> id -> shallow copy of the record
    # runID -> (its events, how many): a run's events are only ever added, never edited in place
    events: dict[str, tuple[dict[str, Record], int]]
    run_meta: dict[str, RunMeta]
    task_meta: dict[str, TaskMeta]
    # name -> the index object, watched (an Index keeps what a write touches) or, a plain dict a
    # test put there, its records by reference
    indexes: dict[str, tuple[Any, dict[str, Any] | None]]
    source_records: dict[str, list[Record]]
    url_contents: dict[str, str]
    notifications: list[Record]
    unsettled_runs: dict[str, None]
    clock: Any
    run_policy: RunPolicy | None
    # The Search API's state: settings and dates by reference (replaced, never edited in place),
    # synonyms and rules one level down (each index's objects by reference), tasks copied.
    index_settings: dict[str, dict[str, Any]]
    index_dates: dict[str, tuple[str, str]]
    synonyms: dict[str, dict[str, Record]]
    rules: dict[str, dict[str, Record]]
    search_tasks: SearchTasks
    # what each watched index's write touched (objectID -> its JSON before), once collected
    touched: dict[str, dict[str, bytes | None]] | None = None


def _watch(index: Any) -> dict[str, Any] | None:
    if isinstance(index, Index):
        index.watch()
        return None
    return dict(index)


def release(shadow: Shadow) -> dict[str, dict[str, bytes | None]]:
    """Stop watching the indexes (idempotent); what each one's write touched."""
    if shadow.touched is None:
        shadow.touched = {
            name: index.touched() for name, (index, copied) in shadow.indexes.items() if copied is None
        }
    return shadow.touched


def _run_meta_copy(m: RunMeta) -> RunMeta:
    """(copy.copy of a slotted dataclass costs ten times this)"""
    return RunMeta(m.created, m.start_at, m.finish_at, m.outcome, m.reason_code, m.reason, m.pending)


def take(account: Account) -> Shadow:
    return Shadow(
        edited={name: {k: dict(r) for k, r in account.family(name).items()} for name in EDITED},
        events={run_id: (events, len(events)) for run_id, events in account.events.items()},
        run_meta={k: _run_meta_copy(m) for k, m in account.meta.runs.items()},
        task_meta={
            k: TaskMeta(m.trigger_type, m.blocked, m.critical_streak) for k, m in account.meta.tasks.items()
        },
        indexes={name: (index, _watch(index)) for name, index in account.indexes.items()},
        source_records=dict(account.source_records),
        url_contents=dict(account.url_contents),
        notifications=list(account.notifications),
        unsettled_runs=dict(account.unsettled_runs),
        clock=account.clock.state() if account.clock is not None else None,
        run_policy=copy.copy(account.run_policy),
        index_settings=dict(account.index_settings),
        index_dates=dict(account.index_dates),
        synonyms={name: dict(objects) for name, objects in account.synonyms.items()},
        rules={name: dict(objects) for name, objects in account.rules.items()},
        search_tasks=_tasks_copy(account.search_tasks),
    )


def _tasks_copy(tasks: SearchTasks) -> SearchTasks:
    return SearchTasks(tasks.last, dict(tasks.pending))


NESTED = ("synonyms", "rules")  # index name -> objectID -> object


def _nested(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """What changed in an index name -> objectID -> object container: per index, its objects set
    and deleted ({"set": {name: {"set", "del"}}, "del": [name...]})."""
    changed: dict[str, Any] = {}
    for name, objects in after.items():
        found = _keyed(before.get(name, {}), objects, by_value=False)
        if found is not None:
            changed[name] = found
    dropped = [name for name in before if name not in after]
    if not changed and not dropped:
        return None
    return {"set": changed, "del": dropped}


def _keyed(
    before: dict[str, Any], after: dict[str, Any], by_value: bool, encode: Any = None
) -> dict[str, Any] | None:
    """What changed between two keyed containers: {"set": [[key, value]...], "del": [key...]}."""
    changed = []
    for key, value in after.items():
        old = before.get(key, _MISSING)
        if old is value or (by_value and old is not _MISSING and old == value):
            continue
        changed.append([key, encode(value) if encode is not None else value])
    deleted = [key for key in before if key not in after]
    if not changed and not deleted:
        return None
    out: dict[str, Any] = {}
    if changed:
        out["set"] = changed
    if deleted:
        out["del"] = deleted
    return out


def _index_change(index: Index, touched: dict[str, bytes | None]) -> dict[str, Any] | None:
    changed, deleted = [], []
    for object_id, before in touched.items():
        now = index.packed_record(object_id)
        if now is None:
            if before is not None:
                deleted.append(object_id)
        elif now is not before:
            changed.append([object_id, index[object_id]])
    if not changed and not deleted:
        return None
    return {"set": changed, "del": deleted}


def _events_changed(before: tuple[dict[str, Record], int] | None, after: dict[str, Record]) -> bool:
    return before is None or before[0] is not after or before[1] != len(after)


def diff(shadow: Shadow, account: Account) -> dict[str, Any]:
    """The after-state of what changed since ``shadow`` was taken ({} when nothing did)."""
    out: dict[str, Any] = {}
    for name in EDITED:
        found = _keyed(shadow.edited[name], account.family(name), by_value=True)
        if found is not None:
            out[name] = found
    events = {
        run_id: dict(evs)
        for run_id, evs in account.events.items()
        if _events_changed(shadow.events.get(run_id), evs)
    }
    gone_events = [run_id for run_id in shadow.events if run_id not in account.events]
    if events or gone_events:
        out["events"] = {"set": list(map(list, events.items())), "del": gone_events}
    meta_runs = _keyed(shadow.run_meta, account.meta.runs, True, dataclasses.asdict)
    meta_tasks = _keyed(shadow.task_meta, account.meta.tasks, True, dataclasses.asdict)
    if meta_runs is not None:
        out["meta_runs"] = meta_runs
    if meta_tasks is not None:
        out["meta_tasks"] = meta_tasks
    indexes: dict[str, Any] = {}
    touched = release(shadow)
    for name, index in account.indexes.items():
        old = shadow.indexes.get(name)
        if old is None or old[0] is not index:  # made (or replaced whole) by this write
            indexes[name] = {"new": True, "set": [[k, r] for k, r in index.items()]}
            continue
        if old[1] is not None:  # a plain dict: compared whole
            changed = _keyed(old[1], dict(index), by_value=False)
        else:
            changed = _index_change(index, touched.get(name, {}))
        if changed is not None:
            indexes[name] = changed
    dropped = [name for name in shadow.indexes if name not in account.indexes]
    if indexes or dropped:
        out["indexes"] = {"set": indexes, "del": dropped}
    for name in ("source_records", "url_contents"):
        found = _keyed(getattr(shadow, name), getattr(account, name), by_value=False)
        if found is not None:
            out[name] = found
    if shadow.notifications != account.notifications:
        out["notifications"] = list(account.notifications)
    if list(shadow.unsettled_runs) != list(account.unsettled_runs):
        out["unsettled_runs"] = list(account.unsettled_runs)
    clock = account.clock.state() if account.clock is not None else None
    if clock != shadow.clock:
        out["clock"] = image.clock_to_json(clock) if clock is not None else None
    if account.run_policy != shadow.run_policy:
        policy = account.run_policy
        out["run_policy"] = dataclasses.asdict(policy) if policy is not None else None
    settings = _keyed(shadow.index_settings, account.index_settings, by_value=False)
    if settings is not None:
        out["index_settings"] = settings
    dates = _keyed(shadow.index_dates, account.index_dates, by_value=False, encode=list)
    if dates is not None:
        out["index_dates"] = dates
    for name in NESTED:
        found = _nested(getattr(shadow, name), getattr(account, name))
        if found is not None:
            out[name] = found
    if account.search_tasks != shadow.search_tasks:
        out["search_tasks"] = image.tasks_to_json(account.search_tasks)
    return out


def undo(shadow: Shadow, account: Account) -> None:
    """Put an account back as it was when ``shadow`` was taken."""
    for name in EDITED:
        restored = Records(shadow.edited[name].items()) if name in FAMILIES else dict(shadow.edited[name])
        setattr(account, name, restored)
    account.events = {
        run_id: events if len(events) == count else dict(itertools.islice(events.items(), count))
        for run_id, (events, count) in shadow.events.items()
    }
    account.meta.runs = dict(shadow.run_meta)
    account.meta.tasks = dict(shadow.task_meta)
    indexes: dict[str, Any] = {}
    touched = release(shadow)
    for name, (index, records) in shadow.indexes.items():
        if records is None:
            index.put_back(touched.get(name, {}))
        else:
            index.clear()
            index.update(records)
        indexes[name] = index
    account.indexes = indexes
    account.source_records = dict(shadow.source_records)
    account.url_contents = dict(shadow.url_contents)
    account.notifications = list(shadow.notifications)
    account.unsettled_runs = dict(shadow.unsettled_runs)
    if shadow.clock is None:
        account.clock = None
    else:
        clock = Clock()
        clock.restore(shadow.clock)
        account.clock = clock
    account.run_policy = shadow.run_policy
    account.index_settings = dict(shadow.index_settings)
    account.index_dates = dict(shadow.index_dates)
    account.synonyms = {name: dict(objects) for name, objects in shadow.synonyms.items()}
    account.rules = {name: dict(objects) for name, objects in shadow.rules.items()}
    account.search_tasks = _tasks_copy(shadow.search_tasks)


def _apply_keyed(target: Any, change: dict[str, Any], decode: Any = None) -> None:
    for key in change.get("del", ()):
        target.pop(key, None)
    for key, value in change.get("set", ()):
        target[key] = decode(value) if decode is not None else value


# The field holding a record's ID, per container of records the engine edits: a record of a change
# row is kept only when it is a JSON object stored under its own ID.
ID_FIELDS = {
    "authentications": "authenticationID",
    "destinations": "destinationID",
    "sources": "sourceID",
    "tasks": "taskID",
    "transformations": "transformationID",
    "runs": "runID",
}


def _checked(name: str, change: Any, warn: Callable[[str], None], where: str) -> dict[str, Any]:
    """``change`` ({"set": [[ID, record]...], "del": [ID...]}) with each damaged record left out,
    named in a warning: not an [ID, object] pair, or an object without its ID under ``ID_FIELDS``."""
    if not isinstance(change, dict):
        raise ValueError(f"{name}: not a change of records")
    deleted = change.get("del", [])
    pairs = change.get("set", [])
    if not isinstance(deleted, list) or not all(isinstance(k, str) for k in deleted):
        raise ValueError(f"{name}.del: not a list of IDs")
    if not isinstance(pairs, list):
        raise ValueError(f"{name}.set: not a list of [ID, record] pairs")
    field = ID_FIELDS[name]
    kept: list[list[Any]] = []
    for i, pair in enumerate(pairs):
        key = pair[0] if isinstance(pair, list) and len(pair) == 2 else None
        record = pair[1] if key is not None else None
        if not isinstance(key, str):
            warn(f"{where}: {name}.set[{i}] is damaged (not an [ID, record] pair): that record is lost")
        elif not isinstance(record, dict) or record.get(field) != key:
            what = "not a JSON object" if not isinstance(record, dict) else f"its {field} is not {key!r}"
            warn(f"{where}: {name} record {key[:100]!r} is damaged ({what}): that record is lost")
        else:
            kept.append(pair)
    return {"set": kept, "del": deleted}


def apply(
    account: Account, change: dict[str, Any], warn: Callable[[str], None] | None = None, where: str = ""
) -> None:
    """Apply one logged change (from :func:`diff`) to an account. A damaged record of a family or
    a run is left out, named to ``warn`` (``where``: the row), and so is any record, object or part
    holding a value that could not be read (``damage.py``); ``KeyError``/``TypeError``/
    ``ValueError`` when the change as a whole is damaged (the caller names it in a warning)."""
    if not isinstance(change, dict):
        raise ValueError("the change is not a JSON object")
    read = PartReader(warn, where)
    for name in EDITED:
        if name in change:
            part = (
                change[name] if warn is None else _checked(name, read.pairs(name, change[name]), warn, where)
            )
            _apply_keyed(account.family(name), part)
    if "events" in change:
        _apply_keyed(account.events, read.pairs("events", change["events"], by_part=dict), read.events)
    if "meta_runs" in change:
        _apply_keyed(
            account.meta.runs, read.pairs("meta_runs", change["meta_runs"]), image.run_meta_from_json
        )
    if "meta_tasks" in change:
        _apply_keyed(
            account.meta.tasks, read.pairs("meta_tasks", change["meta_tasks"]), lambda v: TaskMeta(**v)
        )
    if "indexes" in change:
        for name in change["indexes"].get("del", ()):
            account.indexes.pop(name, None)
        for name, index_change in change["indexes"].get("set", {}).items():
            index_change = read.pairs(f"indexes[{name[:100]!r}]", index_change)
            index = account.indexes.get(name)
            if index is None or index_change.get("new"):
                index = account.indexes[name] = Index()
            _apply_keyed(index, index_change)
    if "source_records" in change:
        found = read.pairs("source_records", change["source_records"], by_part=list)
        _apply_keyed(account.source_records, {"del": found.get("del", ())})
        for key, records in found.get("set", ()):
            account.source_records[key] = read.records(f"source_records[{str(key)[:100]!r}]", records)
    if "url_contents" in change:
        _apply_keyed(account.url_contents, read.pairs("url_contents", change["url_contents"]))
    if "notifications" in change and read.whole("notifications", change["notifications"]):
        account.notifications = list(change["notifications"])
    if "unsettled_runs" in change and read.whole("unsettled_runs", change["unsettled_runs"]):
        account.unsettled_runs = dict.fromkeys(str(r) for r in change["unsettled_runs"])
    if "clock" in change and read.whole("clock", change["clock"]):
        if change["clock"] is None:
            account.clock = None
        else:
            clock = Clock()
            clock.restore(image.clock_from_json(change["clock"]))
            account.clock = clock
    if "run_policy" in change and read.whole("run_policy", change["run_policy"]):
        value = change["run_policy"]
        account.run_policy = RunPolicy(**value) if value is not None else None
    if "index_settings" in change:
        settings = read.pairs("index_settings", change["index_settings"])
        _apply_keyed(account.index_settings, settings, image.settings_from_json)
    if "index_dates" in change:
        _apply_keyed(
            account.index_dates, read.pairs("index_dates", change["index_dates"]), image.dates_from_json
        )
    for name in NESTED:
        if name in change:
            held: dict[str, dict[str, Record]] = getattr(account, name)
            for index_name in change[name].get("del", ()):
                held.pop(index_name, None)
            for index_name, objects_change in change[name].get("set", {}).items():
                objects = held.setdefault(index_name, {})
                found = read.pairs(f"{name}[{index_name[:100]!r}]", objects_change)
                _apply_keyed(objects, found, image.object_from_json)
                if not objects:
                    del held[index_name]
    if "search_tasks" in change and read.whole("search_tasks", change["search_tasks"]):
        account.search_tasks = image.tasks_from_json(change["search_tasks"])
