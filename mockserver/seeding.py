"""Seed a mock's state from a data set: a bundled name, a YAML/JSON file, or inline data.

Every record goes through the engine like any API call (same validation, same domain rules), and
what it becomes is checked against the response schema it will be served with, so seed data can
never hold what the real service would refuse or could not serve; a bad record fails with the
file, the record and the field. Seeded IDs are deterministic; timestamps follow the mock's clock:
the data set's history ends a minute before the clock in force (or starts at ``baseTime`` when the
data set names one), so seeded runs fall inside ``listRuns``' default window under any clock.
"""

from __future__ import annotations

import copy
import functools
import json
import zlib
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from mockserver import data
from mockserver.engine import indexes
from mockserver.engine.clock import parse_rfc3339
from mockserver.engine.core import Engine
from mockserver.engine.store import Account, RunPolicy, api_view
from mockserver.resources.runs import EventPlan, create_run

if TYPE_CHECKING:
    from collections.abc import Iterator

STEP = timedelta(minutes=1)  # seeded records are one minute apart, in data set order

# Family, the operation that creates one, the ID field. Order follows the references between them.
_CREATION_ORDER = (
    ("authentications", "createAuthentication", "authenticationID"),
    ("transformations", "createTransformation", "transformationID"),
    ("sources", "createSource", "sourceID"),
    ("destinations", "createDestination", "destinationID"),
    ("tasks", "createTask", "taskID"),
)
_KNOWN_KEYS = {name for name, _, _ in _CREATION_ORDER} | {"indexes", "source_records", "runs", "baseTime"}


class SeedError(ValueError):
    """Seed data the mock cannot load; the message names the data set, the record and the field."""


@dataclass(frozen=True)
class DataSet:
    label: str  # where it came from, for messages
    data: Mapping[str, Any]


def fixtures_dir() -> Path:
    return data.fixtures()


def bundled_names() -> list[str]:
    return data.data_set_names()


def load_data_set(ref: str | Path | Mapping[str, Any]) -> DataSet:
    """A bundled data set by name, a YAML/JSON file by path, or inline data."""
    if isinstance(ref, Mapping):
        return DataSet("inline data", ref)
    path = Path(ref)
    if not path.is_file():
        if path.suffix or len(path.parts) > 1:
            raise SeedError(f"{path}: no such data set file")
        matches = [p for p in fixtures_dir().glob(f"{ref}.*") if p.suffix in (".yaml", ".yml", ".json")]
        if not matches:
            raise SeedError(f"no data set {str(ref)!r}: not a file, nor one of the bundled {bundled_names()}")
        path = matches[0]
    try:
        data = copy.deepcopy(_parse_file(path.resolve(), path.stat().st_mtime_ns))
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise SeedError(f"{path}: cannot be read as {path.suffix[1:].upper()}: {exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise SeedError(f"{path}: a data set is a mapping of resource families, not {type(data).__name__}")
    return DataSet(str(path), data)


@functools.lru_cache(maxsize=32)
def _parse_file(path: Path, _mtime: int) -> Any:
    """A data set file, parsed once per version of the file (seeding the same set per test is common)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def data_set_refs(fixtures: Any, inline: Mapping[str, Any] | None) -> list[str | Path | Mapping[str, Any]]:
    """The data sets a setting names: one or several bundled names or files, then inline data."""
    refs: list[str | Path | Mapping[str, Any]] = []
    if isinstance(fixtures, (str, Path, Mapping)):
        refs.append(fixtures)
    elif fixtures:
        refs.extend(fixtures)
    if inline:
        refs.append(inline)
    return [r for r in refs if not (isinstance(r, str) and r.strip() == "")]


def seed(engine: Engine, ref: str | Path | Mapping[str, Any] | DataSet, app_id: str) -> dict[str, int]:
    """Load a data set into ``app_id``'s account. All or nothing: on error the state is unchanged."""
    data_set = ref if isinstance(ref, DataSet) else load_data_set(ref)
    unknown = set(data_set.data) - _KNOWN_KEYS
    if unknown:
        raise SeedError(
            f"{data_set.label}: unknown keys {sorted(unknown)}; expected some of {sorted(_KNOWN_KEYS)}"
        )
    store = engine.store
    with store.lock:
        before = store.accounts.get(app_id)
        saved = copy.deepcopy(before) if before is not None else None
        try:
            with _deterministic(engine, data_set, store.account(app_id)):
                return _load(engine, data_set, app_id)
        except BaseException:
            if saved is None:
                store.accounts.pop(app_id, None)
            else:
                store.accounts[app_id] = saved
            raise


def _steps(data: Mapping[str, Any]) -> int:
    """How many timestamped records a data set makes (each one minute after the last)."""
    count = sum(len(data.get(family) or []) for family, _, _ in _CREATION_ORDER)
    return count + len(data.get("runs") or [])


@contextmanager
def _deterministic(engine: Engine, data_set: DataSet, account: Account) -> Iterator[None]:
    """IDs from a seed derived from the data set; a frozen clock stepping one minute per record."""
    store = engine.store
    saved_rng = store.ids.state()
    saved_replay = list(store.ids.replay)  # IDs a state-file replay is handing out are not ours
    clock = store.clock_of(account)  # the application's own clock, once steered, else the server's
    saved_clock = clock.state()
    saved_policy = account.run_policy
    base = data_set.data.get("baseTime")
    if base is None:
        start: datetime = clock.now() - STEP * _steps(data_set.data)
    else:
        try:
            start = parse_rfc3339(str(base))
        except ValueError:
            raise SeedError(f"{data_set.label}: baseTime {base!r} is not an RFC 3339 date-time") from None
    store.ids.seed(zlib.crc32(json.dumps(data_set.data, sort_keys=True, default=str).encode()))
    store.ids.replay.clear()
    clock.freeze(start)
    try:
        yield
    finally:
        store.ids.restore(saved_rng)
        store.ids.replay.clear()
        store.ids.replay.extend(saved_replay)
        clock.restore(saved_clock)
        account.run_policy = saved_policy


def _load(engine: Engine, data_set: DataSet, app_id: str) -> dict[str, int]:
    data = data_set.data
    counts: dict[str, int] = {}
    store = engine.store
    account = store.account(app_id)
    for family, operation_id, id_field in _CREATION_ORDER:
        items = data.get(family) or []
        if not isinstance(items, list):
            raise SeedError(f"{data_set.label}: {family} must be a list")
        for i, item in enumerate(items):
            where = f"{data_set.label}: {family}[{i}]" + (
                f" ({item['name']!r})" if isinstance(item, dict) and "name" in item else ""
            )
            if not isinstance(item, dict):
                raise SeedError(f"{where}: must be a mapping")
            body = {k: v for k, v in item.items() if k != id_field}
            op = "createTaskV1" if family == "tasks" and "trigger" in body else operation_id
            wanted = item.get(id_field)
            if wanted is not None:
                if wanted in account.family(family):
                    raise SeedError(f"{where}: {id_field} {wanted!r} is used twice")
                store.ids.replay.append(str(wanted))  # the create hands out the ID the data set names
            answer = engine.execute(engine.request(op, app_id, body=body), record=False, durable=False)
            store.ids.replay.clear()
            if not answer.ok:
                raise SeedError(f"{where}: {answer.body.get('message', answer.status)}")
            store.clock_of(account).advance(STEP.total_seconds())
        counts[family] = len(items)
    for name, records in (data.get("indexes") or {}).items():
        _check_records(records, f"{data_set.label}: indexes.{name}")
        indexes.apply(account.indexes, str(name), "addObject", records)
    for source_id, records in (data.get("source_records") or {}).items():
        if source_id not in account.sources:
            raise SeedError(f"{data_set.label}: source_records.{source_id}: no source with that ID is seeded")
        _check_records(records, f"{data_set.label}: source_records.{source_id}")
        account.source_records[str(source_id)] = [dict(r) for r in records]
    for i, run in enumerate(data.get("runs") or []):
        _seed_run(engine, account, run, f"{data_set.label}: runs[{i}]")
        store.clock_of(account).advance(STEP.total_seconds())
    counts["runs"] = len(data.get("runs") or [])
    return counts


def _check_records(records: Any, where: str) -> None:
    if not isinstance(records, list):
        raise SeedError(f"{where}: must be a list of records")
    for j, record in enumerate(records):
        if not isinstance(record, dict) or "objectID" not in record:
            raise SeedError(f"{where}[{j}]: a record is a mapping with an objectID")


_RUN_KEYS = {"taskID", "outcome", "type", "reasonCode", "reason", "records"}


def _seed_run(engine: Engine, account: Account, run: Any, where: str) -> None:
    if not isinstance(run, dict) or "taskID" not in run:
        raise SeedError(f"{where}: a run names its taskID")
    task = account.tasks.get(run["taskID"])
    if task is None:
        raise SeedError(f"{where}.taskID: no task with ID {run['taskID']!r} is seeded")
    unknown = set(run) - _RUN_KEYS
    if unknown:
        raise SeedError(f"{where}: unknown keys {sorted(unknown)} (runs take their time from the clock)")
    outcome = run.get("outcome", "success")
    if outcome not in ("success", "failure"):
        raise SeedError(f"{where}.outcome: {outcome!r} is not success or failure")
    records = run.get("records", 0)
    if isinstance(records, bool) or not isinstance(records, int) or records < 0:
        raise SeedError(f"{where}.records: {records!r} is not a count of records")
    account.run_policy = RunPolicy(  # this run's outcome; the policy in force comes back after seeding
        outcome=outcome, reason_code=run.get("reasonCode"), reason=run.get("reason")
    )
    plans = [EventPlan("fetch"), EventPlan("record", records)]
    created, _ = engine.call_internal(
        account.app_id, "runTask", lambda ctx: create_run(ctx, task, str(run.get("type", "reindex")), plans)
    )
    # What the API will serve must fit its response schema: refuse it now, naming the field.
    message = engine.checks.error_of("Run", api_view(created), where)
    if message is not None:
        account.runs.pop(created["runID"], None)
        account.meta.forget(created["runID"])
        account.events.pop(created["runID"], None)
        account.unsettled_runs.pop(created["runID"], None)
        raise SeedError(message)
