"""Seed a mock's state from a data set: a bundled name, a YAML/JSON file, or inline data.

Every record goes through the same validation and domain rules as the API, so seed data can
never hold what the real service would refuse; a bad record fails with the file, the record and
the field. Seeded IDs and timestamps are deterministic.
"""

from __future__ import annotations

import copy
import functools
import json
import zlib
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from . import data, indexes
from .clock import parse_rfc3339
from .errors import ApiError
from .resources.context import Context
from .resources.runs import EventPlan, create_run
from .store import RunPolicy
from .validation import MISSING, ValidRequest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .app import MockApp

DEFAULT_BASE_TIME = "2026-01-01T00:00:00Z"

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


def seed(
    app: MockApp, ref: str | Path | Mapping[str, Any], app_id: str, label: str | None = None
) -> dict[str, int]:
    """Load a data set into ``app_id``'s account. All or nothing: on error the state is unchanged."""
    data_set = load_data_set(ref)
    if label is not None:
        data_set = DataSet(label, data_set.data)
    data = data_set.data
    unknown = set(data) - _KNOWN_KEYS
    if unknown:
        raise SeedError(
            f"{data_set.label}: unknown keys {sorted(unknown)}; expected some of {sorted(_KNOWN_KEYS)}"
        )
    store = app.store
    with store.lock:
        before = store.accounts.get(app_id)
        snapshot = _copy_account(before) if before is not None else None
        try:
            with _deterministic(app, data_set):
                return _load(app, data_set, app_id)
        except BaseException:
            if snapshot is None:
                store.accounts.pop(app_id, None)
            else:
                store.accounts[app_id] = snapshot
            raise


def _copy_account(account: Any) -> Any:
    return copy.deepcopy(account)


@contextmanager
def _deterministic(app: MockApp, data_set: DataSet) -> Iterator[None]:
    """IDs from a seed derived from the data set; a frozen clock stepping one minute per record."""
    store = app.store
    saved_rng = store.ids.state()
    saved_clock = store.clock.state()
    saved_policy = store.run_policy
    base = data_set.data.get("baseTime", DEFAULT_BASE_TIME)
    try:
        start = parse_rfc3339(str(base))
    except ValueError:
        raise SeedError(f"{data_set.label}: baseTime {base!r} is not an RFC 3339 date-time") from None
    store.ids.seed(zlib.crc32(json.dumps(data_set.data, sort_keys=True, default=str).encode()))
    store.clock.freeze(start)
    try:
        yield
    finally:
        store.ids.restore(saved_rng)
        store.clock.restore(saved_clock)
        store.run_policy = saved_policy


def _context(app: MockApp, app_id: str, operation_id: str, body: Any) -> Context:
    operation = app.spec.operations[operation_id]
    valid = app.validators[operation_id].validate({}, {}, body)
    return Context(app.store, app.store.account(app_id), operation, valid, app.checks, app.js)


def _load(app: MockApp, data_set: DataSet, app_id: str) -> dict[str, int]:
    data = data_set.data
    counts: dict[str, int] = {}
    account = app.store.account(app_id)
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
            try:
                ctx = _context(app, app_id, op, body)
                created = app.handlers[op](ctx)
            except ApiError as exc:
                raise SeedError(f"{where}: {exc.message}") from None
            new_id = created[id_field]
            wanted = item.get(id_field)
            if wanted is not None and wanted != new_id:
                records = account.family(family)
                if wanted in records:
                    raise SeedError(f"{where}: {id_field} {wanted!r} is used twice")
                record = records.pop(new_id)
                record[id_field] = wanted
                records[wanted] = record
            app.store.clock.advance(60)
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
        _seed_run(app, account, run, f"{data_set.label}: runs[{i}]")
        app.store.clock.advance(60)
    counts["runs"] = len(data.get("runs") or [])
    return counts


def _check_records(records: Any, where: str) -> None:
    if not isinstance(records, list):
        raise SeedError(f"{where}: must be a list of records")
    for j, record in enumerate(records):
        if not isinstance(record, dict) or "objectID" not in record:
            raise SeedError(f"{where}[{j}]: a record is a mapping with an objectID")


def _seed_run(app: MockApp, account: Any, run: Any, where: str) -> None:
    if not isinstance(run, dict) or "taskID" not in run:
        raise SeedError(f"{where}: a run names its taskID")
    task = account.tasks.get(run["taskID"])
    if task is None:
        raise SeedError(f"{where}.taskID: no task with ID {run['taskID']!r} is seeded")
    outcome = run.get("outcome", "success")
    if outcome not in ("success", "failure"):
        raise SeedError(f"{where}.outcome: {outcome!r} is not success or failure")
    run_type = run.get("type", "reindex")
    if run_type not in app.spec.schema("RunType")["enum"]:
        raise SeedError(f"{where}.type: {run_type!r} is not a run type")
    unknown = set(run) - {"taskID", "outcome", "type", "reasonCode", "reason", "records"}
    if unknown:
        raise SeedError(f"{where}: unknown keys {sorted(unknown)} (runs take their time from baseTime)")
    app.store.run_policy = RunPolicy(
        outcome=outcome, reason_code=run.get("reasonCode"), reason=run.get("reason")
    )
    operation = app.spec.operations["runTask"]
    ctx = Context(app.store, account, operation, ValidRequest({}, {}, MISSING), app.checks, app.js)
    create_run(ctx, task, run_type, [EventPlan("fetch"), EventPlan("record", int(run.get("records", 0)))])
