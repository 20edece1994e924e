"""The live state of a mock as one JSON value, and back: what the state file compacts to.

A state file is a log of every acknowledged write; replaying it rebuilds the state, but takes as
long as the history. Compacting replaces the log with one *image* entry (the accounts, the server's
clock, ID sequence and run policy, and the snapshots kept), so the next start costs what the live
state costs, not what the history did.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from mockserver.engine.clock import Clock, parse_rfc3339
from mockserver.engine.indexes import Index
from mockserver.engine.store import FAMILIES, Account, Records, RunPolicy

IMAGE_VERSION = 1
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


def account_to_json(account: Account) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(Account):
        value = getattr(account, f.name)
        if f.name in FAMILIES:
            out[f.name] = [[key, record] for key, record in value.items()]
        elif f.name == "unsettled_runs":
            out[f.name] = sorted(value)
        elif f.name == "clock":
            out[f.name] = clock_to_json(value.state()) if value is not None else None
        elif f.name == "run_policy":
            out[f.name] = dataclasses.asdict(value) if value is not None else None
        elif f.name == "indexes":  # compact indexes: their records, in order
            out[f.name] = {name: [[k, r] for k, r in index.items()] for name, index in value.items()}
        else:
            out[f.name] = value
    return out


def account_from_json(value: dict[str, Any]) -> Account:
    fields: dict[str, Any] = {}
    for f in dataclasses.fields(Account):
        if f.name not in value:
            continue
        item = value[f.name]
        if f.name in FAMILIES:
            fields[f.name] = Records((key, record) for key, record in item)
        elif f.name == "unsettled_runs":
            fields[f.name] = set(item)
        elif f.name == "clock":
            if item is not None:
                clock = Clock()
                clock.restore(clock_from_json(item))
                fields[f.name] = clock
        elif f.name == "run_policy":
            fields[f.name] = RunPolicy(**item) if item is not None else None
        elif f.name == "indexes":
            fields[f.name] = {name: Index(dict((k, r) for k, r in records)) for name, records in item.items()}
        else:
            fields[f.name] = item
    return Account(**fields)


def accounts_to_json(accounts: dict[str, Account]) -> dict[str, Any]:
    return {app_id: account_to_json(account) for app_id, account in accounts.items()}


def accounts_from_json(value: dict[str, Any]) -> dict[str, Account]:
    return {app_id: account_from_json(item) for app_id, item in value.items()}
