"""What a run fetches from a source: the records a test registered, or the content at its URL, parsed.

The mock never reaches the network. A JSON or CSV source points at a URL; a run of it fetches
what the test registered (records for the source, or raw content for the URL) and, with nothing
registered, fails as the service does when it cannot fetch the URL. Other sources hold the
records registered for them (none by default).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mockserver.engine.store import Account, Record

URL_SOURCE_TYPES = frozenset({"json", "csv"})


@dataclass
class Fetched:
    """A fetch: the usable records, the records that could not be used, or why nothing was fetched."""

    records: list[Record] = field(default_factory=list)
    failures: list[Record] = field(default_factory=list)  # {"index", "error": {"code", "message"}}
    error: str | None = None  # the fetch itself failed (unreachable URL, unparsable content)
    url: str | None = None

    @property
    def total(self) -> int:
        return len(self.records) + len(self.failures)


def how_to_register(source_id: str, url: str | None) -> str:
    """Where a test can say what a source serves (every way in)."""
    ways = [
        f"in pytest ingestion_mock.account.source_records[{source_id!r}] = [records]",
    ]
    if url is not None:
        ways.append(f"or ingestion_mock.account.url_contents[{url!r}] = '<what the URL serves>'")
    ways += [
        f"in a data set source_records: {{{source_id}: [records]}}",
        f'on a served mock PUT /__mock__/sources/{source_id}/records with {{"records": [...]}}',
        "or mockserver serve --fixtures FILE with that data set",
    ]
    return "register the data it serves: " + "; ".join(ways)


def fetch(account: Account, source: Record | None, source_id: str) -> Fetched:
    """What a run of a task on ``source`` fetches."""
    registered = account.source_records.get(source_id)
    kind = source["type"] if source is not None else None
    source_input: dict[str, Any] = (source or {}).get("input") or {}
    if kind not in URL_SOURCE_TYPES:
        return _identified(list(enumerate(registered or [])), source_input)
    url = str(source_input.get("url", ""))
    if registered is not None:
        fetched = _identified(list(enumerate(registered)), source_input)
        fetched.url = url
        return fetched
    content = account.url_contents.get(url)
    if content is None:
        return Fetched(
            error=(
                f"cannot fetch {url}: the URL cannot be reached (the mock does not go to the network); "
                + how_to_register(source_id, url)
            ),
            url=url,
        )
    try:
        rows, failures = _parse_json(content) if kind == "json" else _parse_csv(content, source_input)
    except ValueError as exc:
        return Fetched(error=f"cannot read {url} as {kind.upper()}: {exc}", url=url)
    fetched = _identified(rows, source_input, failures)
    fetched.url = url
    return fetched


Rows = list[tuple[int, Any]]  # each row with its position in what was fetched


def _parse_json(content: str) -> tuple[Rows, list[Record]]:
    try:
        parsed = json.loads(content)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    if not isinstance(parsed, list):
        raise ValueError(f"expected an array of records, got a JSON {type(parsed).__name__}")
    return list(enumerate(parsed)), []


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    "string": str,
    "integer": int,
    "float": float,
    "json": json.loads,
}


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ValueError(f"{text!r} is not a boolean (true, false, 1 or 0)")


def _parse_csv(content: str, source_input: dict[str, Any]) -> tuple[Rows, list[Record]]:
    """Rows of a CSV file with a header line, split by the source's delimiter, typed by its mapping."""
    delimiter = str(source_input.get("delimiter", ","))
    mapping: dict[str, str] = source_input.get("mapping") or {}
    reader = csv.DictReader(io.StringIO(content), delimiter=delimiter)
    try:
        raw_rows = list(reader)
    except csv.Error as exc:
        raise ValueError(f"line {reader.line_num}: {exc}") from None
    rows: Rows = []
    failures: list[Record] = []
    for number, raw in enumerate(raw_rows):
        row: Record = {k: v for k, v in raw.items() if k is not None and v is not None}
        try:
            for column, kind in mapping.items():
                if column in row:
                    convert = _boolean if kind == "boolean" else _CONVERTERS[kind]
                    row[column] = convert(row[column])
        except (ValueError, KeyError) as exc:
            failures.append(_failure(number, f"column {column!r} is not a valid {kind}: {exc}"))
            continue
        rows.append((number, row))
    return rows, failures


def _identified(rows: Rows, source_input: dict[str, Any], failures: list[Record] | None = None) -> Fetched:
    """The rows that can be written (an object with an objectID, or one from uniqueIDColumn)."""
    id_column = source_input.get("uniqueIDColumn")
    fetched = Fetched(failures=list(failures or []))
    for number, row in rows:
        if not isinstance(row, dict):
            fetched.failures.append(_failure(number, f"a record must be an object, got {type(row).__name__}"))
        elif "objectID" in row:
            fetched.records.append(row)
        elif id_column is not None and row.get(id_column) is not None:
            fetched.records.append({**row, "objectID": str(row[id_column])})
        else:
            where = f"no {id_column!r} (uniqueIDColumn)" if id_column else "no objectID and no uniqueIDColumn"
            fetched.failures.append(_failure(number, f"the record has {where}"))
    fetched.failures.sort(key=lambda f: int(f["index"]))
    return fetched


def _failure(index: int, message: str) -> Record:
    return {"index": index, "error": {"code": 422, "message": message}}
