"""Seed a mock's state from a data set: a bundled name, a YAML/JSON file, or inline data.

A data set's shape is stated by ``mockserver/data/dataset.schema.json`` (a JSON Schema shipped with
the package); a data set that does not fit it fails with the file, the path and the fix. Every record
then goes through the engine like any API call (same validation, same domain rules), and what it
becomes is checked against the response schema it will be served with, so seed data can never hold
what the real service would refuse or could not serve; a bad record fails with the file, the record
and the field. Seeded IDs are deterministic; timestamps follow the mock's clock: the data set's
history ends a minute before the clock in force (or starts at ``baseTime`` when the data set names
one), so seeded runs fall inside ``listRuns``' default window under any clock.

A dump (``MockControl.dump``) is a data set too, so a state can be saved and seeded again: its
records keep their IDs and the read-only fields a dump shows (``createdAt``, ``updatedAt``,
``nextRun``...), runs and events are kept as dumped, and a secret a dump leaves out (``null``) is
stored as :data:`SECRET_PLACEHOLDER` (never shown, as any secret).
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

import jsonschema_rs
import yaml

from mockserver import data
from mockserver.engine import indexes, steering
from mockserver.engine.clock import parse_rfc3339
from mockserver.engine.core import Engine
from mockserver.engine.store import Account, Record, RunMeta, RunPolicy, api_view
from mockserver.engine.validation import SchemaCheck
from mockserver.resources.authentications import is_secret
from mockserver.resources.runs import EventPlan, create_run
from mockserver.spec import Schema, Spec
from mockserver.suggest import did_you_mean

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
# The schema a family's records are served with (tasks made by createTaskV1: TaskV1).
_RESPONSE_SCHEMAS = {
    "authentications": "Authentication",
    "transformations": "Transformation",
    "sources": "Source",
    "destinations": "Destination",
    "tasks": "Task",
}
# What a secret a dump leaves out (null) is stored as: the API never shows it, an update replaces it.
SECRET_PLACEHOLDER = "seeded-without-secret"


class SeedError(ValueError):
    """Seed data the mock cannot load; the message names the data set, the record and the field."""


class MissingDataSetFile(SeedError):
    """A data set named by a path that is not a file: a mistake in the caller's reference."""


@dataclass(frozen=True)
class DataSet:
    label: str  # where it came from, for messages
    data: Mapping[str, Any]


_SUFFIXES = (".yaml", ".yml", ".json")


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
            raise MissingDataSetFile(
                f"{path}: no such data set file (looked for {path.resolve()}; a relative path is read "
                "from the current directory, and in a pytest marker from the test file's directory too)"
            )
        # (a name is matched as it is: never as a pattern)
        found = sorted(fixtures_dir().iterdir())
        matches = [p for p in found if p.stem == str(ref) and p.suffix in _SUFFIXES]
        if not matches:
            hint = did_you_mean(str(ref), bundled_names())
            raise SeedError(
                f"no data set {str(ref)!r}: not a file, nor one of the bundled {bundled_names()}{hint}"
            )
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


_BASE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
# YAML's safe loader with dates and times left as the text they are (a data set's timestamps are
# RFC 3339 strings, as the API shows them: an unquoted 2026-01-01T00:00:00Z stays that text).
_LOADER = type(
    "DataSetLoader",
    (_BASE_LOADER,),
    {
        "yaml_implicit_resolvers": {
            first: [r for r in resolvers if r[0] != "tag:yaml.org,2002:timestamp"]
            for first, resolvers in _BASE_LOADER.yaml_implicit_resolvers.items()
        }
    },
)


@functools.lru_cache(maxsize=32)
def _parse_file(path: Path, _mtime: int) -> Any:
    """A data set file, parsed once per version of the file (seeding the same set per test is common)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    return yaml.load(text, Loader=_LOADER)  # (a safe loader: dates and times left as text)


@functools.cache
def _data_set_schema() -> tuple[Schema, jsonschema_rs.Validator]:
    schema: Schema = json.loads(data.dataset_schema().read_text(encoding="utf-8"))
    return schema, jsonschema_rs.validator_for(schema)


def check_data_set(data_set: DataSet) -> DataSet:
    """``data_set`` held to the data-set JSON Schema: SeedError naming the file, the path and the
    fix. A dump (``applications``: one application's data set) is that application's data set."""
    try:
        steering.json_value(data_set.data, "")
    except ValueError as exc:
        fix = "a data set holds JSON values only (mappings, lists, text, numbers, booleans, null)"
        raise SeedError(f"{data_set.label}: {str(exc).lstrip('.')}; fix: {fix}") from None
    schema, validator = _data_set_schema()
    if not validator.is_valid(data_set.data):
        error = next(iter(validator.iter_errors(data_set.data)))
        raise SeedError(_explain(data_set, schema, error))
    if "applications" not in data_set.data:
        return data_set
    others = sorted(set(data_set.data) - {"applications"})
    if others:
        raise SeedError(
            f"{data_set.label}: applications (a dump) comes alone: move {others} into the application's part"
        )
    ((app_id, part),) = data_set.data["applications"].items()
    if "applications" in part:
        raise SeedError(f"{data_set.label}: applications.{app_id}: a dump within a dump: seed its part")
    return DataSet(f"{data_set.label}: applications.{app_id}", part)


def _explain(data_set: DataSet, schema: Schema, error: jsonschema_rs.ValidationError) -> str:
    """``file: runs[0].outcome: "sucess" is not one of ...; fix: outcome is success or failure``."""
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.instance_path).lstrip(".")
    node: Any = schema
    fix = schema.get("x-fix")
    parent: Any = schema
    for part in error.schema_path:
        parent = node
        node = _child(node, part)
        if isinstance(node, dict) and isinstance(node.get("x-fix"), str):
            fix = node["x-fix"]
    message = error.message
    if error.schema_path and error.schema_path[-1] == "additionalProperties" and isinstance(parent, dict):
        known = list(parent.get("properties", {}))
        instance: Any = data_set.data
        for step in error.instance_path:
            instance = instance[step]
        unknown = sorted(k for k in instance if k not in known) if isinstance(instance, dict) else []
        if unknown:
            hint = did_you_mean(unknown[0], known).removeprefix("; ")
            message = f"unknown key {unknown[0]!r}" + (f" ({hint})" if hint else "")
    at = f"{where}: " if where else ""
    return f"{data_set.label}: {at}{message}; fix: {fix}"


def _child(node: Any, part: str | int) -> Any:
    """The schema under ``node`` at ``part`` of a schema path (None when there is none)."""
    if isinstance(node, dict):
        return node.get(part) if isinstance(part, str) else None
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


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
    data_set = check_data_set(ref if isinstance(ref, DataSet) else load_data_set(ref))
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
    steps = _steps(data_set.data)
    if base is None:
        start: datetime = clock.now() - STEP * steps
    else:
        # Bounded as the clock is (the clock is frozen there, then steps a minute per record).
        try:
            start = steering.instant(str(base), "baseTime")
            last = start + STEP * (steps + 1)
            steering.check_instant(last, f"baseTime plus {steps + 1} minutes of records")
        except (ValueError, OverflowError) as exc:
            raise SeedError(f"{data_set.label}: {exc}") from None
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


SEARCH_STATE = (  # data-set key, the operation that loads one index's part of it
    ("index_settings", "setSettings"),
    ("synonyms", "saveSynonyms"),
    ("rules", "saveRules"),
)


def _load_search_state(engine: Engine, data: Mapping[str, Any], app_id: str, label: str) -> None:
    """Indexes' settings, synonyms and rules, each through its Search operation (validated as a
    request is)."""
    for key, operation_id in SEARCH_STATE:
        for name, part in (data.get(key) or {}).items():
            request = engine.request(operation_id, app_id, {"indexName": str(name)}, body=part)
            answer = engine.execute(request, record=False, durable=False)
            if not answer.ok:
                raise SeedError(f"{label}: {key}.{name}: {answer.body.get('message', answer.status)}")


def _load(engine: Engine, data_set: DataSet, app_id: str) -> dict[str, int]:
    data = data_set.data
    counts: dict[str, int] = {}
    store = engine.store
    account = store.account(app_id)
    for family, operation_id, id_field in _CREATION_ORDER:
        items = data.get(family) or []
        for i, item in enumerate(items):
            where = f"{data_set.label}: {family}[{i}]" + (
                f" ({item['name']!r})" if isinstance(item.get("name"), str) else ""
            )
            op = "createTaskV1" if family == "tasks" and "trigger" in item else operation_id
            shown = _read_only_fields(engine.spec, family, op, id_field)
            body = {k: v for k, v in item.items() if k != id_field and k not in shown}
            if family == "authentications":
                body = _without_null_secrets(engine, body)
            wanted = item.get(id_field)
            if wanted is not None:
                if wanted in account.family(family):
                    raise SeedError(f"{where}: {id_field} {wanted!r} is used twice")
                store.ids.replay.append(str(wanted))  # the create hands out the ID the data set names
            answer = engine.execute(engine.request(op, app_id, body=body), record=False, durable=False)
            store.ids.replay.clear()
            if not answer.ok:
                raise SeedError(f"{where}: {answer.body.get('message', answer.status)}")
            kept = {k: v for k, v in item.items() if k in shown}
            if kept:  # what a dump holds beyond the create's body: kept as given, once checked
                for name, value in kept.items():
                    message = shown[name].error(value, f"{where}.{name}")
                    if message is not None:
                        raise SeedError(message)
                    if name.endswith("At") or name in ("nextRun", "lastRun"):  # the mock orders by them
                        _stamp(value, f"{where}.{name}")
                account.family(family)[answer.body[id_field]].update(copy.deepcopy(kept))
            store.clock_of(account).advance(STEP.total_seconds())
        counts[family] = len(items)
    for name, records in (data.get("indexes") or {}).items():
        indexes.apply(account.indexes, str(name), "addObject", records)
        account.stamp_index(str(name), store.clock_of(account).timestamp())
    _load_search_state(engine, data, app_id, data_set.label)
    for source_id, records in (data.get("source_records") or {}).items():
        where = f"{data_set.label}: source_records.{source_id}"
        source = account.sources.get(source_id)
        if source is None:
            raise SeedError(f"{where}: no source with that ID is seeded")
        _check_source_records(records, source, where)
        account.source_records[str(source_id)] = [dict(r) for r in records]
    account.url_contents.update(data.get("url_contents") or {})
    for i, run in enumerate(data.get("runs") or []):
        where = f"{data_set.label}: runs[{i}]"
        if "runID" in run:
            _seed_dumped_run(engine, account, run, where)
        else:
            _seed_run(engine, account, run, where)
            store.clock_of(account).advance(STEP.total_seconds())
    for run_id, events in (data.get("events") or {}).items():
        _seed_dumped_events(engine, account, run_id, events, f"{data_set.label}: events.{run_id}")
    counts["runs"] = len(data.get("runs") or [])
    return counts


@functools.lru_cache(maxsize=16)
def _read_only_fields(spec: Spec, family: str, operation_id: str, id_field: str) -> dict[str, SchemaCheck]:
    """The fields a family's records are served with that its create operation does not take
    (``createdAt``, ``updatedAt``, ``nextRun``, ``owner``...: what a dump holds beyond the body),
    each with the check of its value."""
    response = "TaskV1" if operation_id == "createTaskV1" else _RESPONSE_SCHEMAS[family]
    if not spec.has_schema(response):
        return {}
    served = _properties(spec.schema(response))
    taken = _properties(spec.operations[operation_id].body_schema or {})
    return {
        name: SchemaCheck({"anyOf": schemas})
        for name, schemas in served.items()
        if name not in taken and name != id_field
    }


def _properties(schema: Any, depth: int = 0) -> dict[str, list[Schema]]:
    """Every property a schema or one of its variants (allOf, oneOf, anyOf) declares, with its schemas."""
    found: dict[str, list[Schema]] = {}
    if not isinstance(schema, dict) or depth > 8:
        return found
    for name, prop in (schema.get("properties") or {}).items():
        found.setdefault(name, []).append(prop)
    for keyword in ("allOf", "oneOf", "anyOf"):
        for branch in schema.get(keyword) or ():
            for name, props in _properties(branch, depth + 1).items():
                found.setdefault(name, []).extend(props)
    return found


def _without_null_secrets(engine: Engine, body: dict[str, Any]) -> dict[str, Any]:
    """An authentication whose secrets a dump left out (``null``): each stored as the placeholder."""
    given = body.get("input")
    kind = body.get("type")
    if not isinstance(given, dict) or not isinstance(kind, str):
        return body
    secret = is_secret(engine.checks, kind)
    filled = {k: SECRET_PLACEHOLDER if v is None and secret(k) else v for k, v in given.items()}
    return {**body, "input": filled}


def _check_source_records(records: list[Record], source: Record, where: str) -> None:
    """A source's records are identified as a run reads them: by objectID, else by the source's
    uniqueIDColumn."""
    column = (source.get("input") or {}).get("uniqueIDColumn")
    for j, record in enumerate(records):
        if "objectID" in record or (isinstance(column, str) and column in record):
            continue
        fix = (
            f"give it an objectID or a {column!r} (the source's uniqueIDColumn)"
            if isinstance(column, str)
            else "give it an objectID (the source has no uniqueIDColumn)"
        )
        raise SeedError(f"{where}[{j}]: a record the source holds has no ID; fix: {fix}")


def _stamp(value: Any, where: str) -> float:
    """A dumped timestamp, within the range the mock's clock keeps to."""
    try:
        moment = parse_rfc3339(str(value))
    except ValueError:
        raise SeedError(f"{where}: {value!r} is not an RFC 3339 date-time") from None
    try:
        steering.check_instant(moment, where)
    except ValueError as exc:
        raise SeedError(f"{exc} ({value!r} is out of range)") from None
    return moment.timestamp()


def _seed_dumped_run(engine: Engine, account: Account, run: Record, where: str) -> None:
    """A run as a dump holds it, kept as given (in this application). One dumped while in progress
    stays as it was: a dump does not hold when it would have finished."""
    run_id = run["runID"]
    if run_id in account.runs:
        raise SeedError(f"{where}.runID: {run_id!r} is used twice")
    if run["taskID"] not in account.tasks:
        raise SeedError(f"{where}.taskID: no task with ID {run['taskID']!r} is seeded")
    shown = {**copy.deepcopy(run), "appID": account.app_id}
    message = engine.checks.error_of("Run", shown, where)
    if message is not None:
        raise SeedError(message)
    created = _stamp(run["createdAt"], f"{where}.createdAt")
    started = _stamp(run["startedAt"], f"{where}.startedAt") if "startedAt" in run else created
    finished = _stamp(run["finishedAt"], f"{where}.finishedAt") if "finishedAt" in run else started
    account.runs[run_id] = shown
    account.meta.runs[run_id] = RunMeta(
        created, started, finished, run.get("outcome"), run.get("reasonCode") or "", run.get("reason") or ""
    )
    account.events.setdefault(run_id, {})


def _seed_dumped_events(
    engine: Engine, account: Account, run_id: str, events: list[Record], where: str
) -> None:
    """The events of a run the data set holds, as a dump holds them."""
    if run_id not in account.runs:
        raise SeedError(f"{where}: no run with that ID is seeded; fix: give the run in runs")
    kept = account.events.setdefault(run_id, {})
    for j, event in enumerate(events):
        at = f"{where}[{j}]"
        if event.get("runID", run_id) != run_id:
            raise SeedError(f"{at}.runID: {event['runID']!r} is not the run it is listed under")
        shown = {**copy.deepcopy(event), "runID": run_id}
        message = engine.checks.error_of("Event", shown, at)
        if message is not None:
            raise SeedError(message)
        if event["eventID"] in kept:
            raise SeedError(f"{at}.eventID: {event['eventID']!r} is used twice")
        published = _stamp(event["publishedAt"], f"{at}.publishedAt")
        if "finishedAt" not in account.runs[run_id]:
            # A run dumped in progress: its events show once the clock reaches when they were due
            # (a run's events are published together, when it finishes).
            timeline = account.meta.runs[run_id]
            timeline.finish_at = max(timeline.finish_at, published)
        kept[event["eventID"]] = shown


def _seed_run(engine: Engine, account: Account, run: Record, where: str) -> None:
    """A run to make (its fields checked by the data-set schema), timed by the seeding clock."""
    task = account.tasks.get(run["taskID"])
    if task is None:
        raise SeedError(f"{where}.taskID: no task with ID {run['taskID']!r} is seeded")
    outcome = run.get("outcome", "success")
    records = run.get("records", 0)
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
