"""Control of a running mock: reset, seed, inspect, snapshot, steer the clock and the runs.

One implementation, used by the pytest plugin's Python API and by the ``/__mock__/`` HTTP control
plane alike.
"""

from __future__ import annotations

import copy
import dataclasses
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import seeding
from .clock import parse_rfc3339, rfc3339
from .faults import FaultRule, RateLimit
from .resources import authentications
from .resources.runs import settle_account
from .store import FAMILIES, Account, Record, RunPolicy

if TYPE_CHECKING:
    from .app import MockApp


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """A copy of a mock's whole state at one moment (kept in memory, never serialised with secrets)."""

    accounts: dict[str, Account]
    run_policy: RunPolicy
    clock: tuple[datetime | None, Any]
    ids: object


class MockControl:
    def __init__(self, app: MockApp) -> None:
        self.app = app
        self._snapshots: dict[str, Snapshot] = {}
        self._replaying = False

    # --- durability ----------------------------------------------------------------------------
    def _log(self, entry: dict[str, Any]) -> None:
        log = self.app.state_log
        if log is not None and not self._replaying:
            log.append({"kind": "control", **entry})

    def replay(self, entries: Iterable[dict[str, Any]]) -> int:
        """Rebuild the state from a state log (see persistence.py); returns how many entries."""
        count = 0
        self._replaying = True
        try:
            for entry in entries:
                count += 1
                if entry["kind"] == "api":
                    self.app.replay_api_write(entry)
                    continue
                action = entry["action"]
                if action == "reset":
                    self.reset(entry.get("app"))
                elif action == "seed":
                    self.seed(entry["data"], entry["app"])
                elif action == "clock":
                    frozen, offset = entry["state"]
                    self.app.store.clock.restore(
                        (parse_rfc3339(frozen) if frozen else None, timedelta(seconds=offset))
                    )
                elif action == "runs":
                    self.app.store.run_policy = RunPolicy(**entry["policy"])
                elif action == "snapshot":
                    self._take_snapshot(entry["id"])
                elif action == "restore":
                    self.restore(entry["id"])
        finally:
            self._replaying = False
        return count

    # --- state ---------------------------------------------------------------------------------
    def reset(self, app_id: str | None = None) -> None:
        """Empty one application's data, or everything (then the journal, runs and clock settings too)."""
        store = self.app.store
        with store.lock:
            store.reset(app_id)
            if app_id is None:
                self.app.journal.clear()
                self.app.faults.clear()
                store.run_policy = RunPolicy()
                store.clock.restore(self.app.initial_clock)
                store.ids.restore(self.app.initial_ids)
            self._log({"action": "reset", "app": app_id})

    def seed(self, data_set: str | Path | Mapping[str, Any], app_id: str) -> dict[str, int]:
        loaded = seeding.load_data_set(data_set)
        counts = seeding.seed(self.app, loaded.data, app_id, label=loaded.label)
        self._log({"action": "seed", "app": app_id, "data": dict(loaded.data)})
        return counts

    def dump(self, app_id: str | None = None) -> dict[str, Any]:
        """The state as JSON: every application's resources as the API shows them (no secrets)."""
        store = self.app.store
        with store.lock:
            accounts = store.accounts if app_id is None else {app_id: store.account(app_id)}
            return {"applications": {aid: self._dump_account(account) for aid, account in accounts.items()}}

    def _dump_account(self, account: Account) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for family in FAMILIES:
            records = account.family(family).values()
            if family == "authentications":
                out[family] = [_public(authentications.without_secrets(r, self.app.checks)) for r in records]
            else:
                out[family] = [_public(r) for r in records]
        out["runs"] = [_public(r) for r in account.runs.values()]
        out["events"] = {rid: [_public(e) for e in evs.values()] for rid, evs in account.events.items()}
        out["indexes"] = {name: list(index.values()) for name, index in account.indexes.items()}
        return out

    def index(self, name: str, app_id: str) -> list[Record] | None:
        """A fake index's records, once the runs that write to it have done so by the mock's clock."""
        with self.app.store.lock:
            account = self.app.store.accounts.get(app_id)
            if account is not None:
                settle_account(account, self.app.store.clock.now().timestamp())
            found = account.indexes.get(name) if account is not None else None
            return [dict(r) for r in found.values()] if found is not None else None

    def snapshot(self) -> str:
        """Keep a copy of the whole state; returns its ID for ``restore``."""
        snapshot_id = self._take_snapshot(None)
        self._log({"action": "snapshot", "id": snapshot_id})
        return snapshot_id

    def _take_snapshot(self, snapshot_id: str | None) -> str:
        store = self.app.store
        with store.lock:
            snap = Snapshot(
                copy.deepcopy(store.accounts), store.run_policy, store.clock.state(), store.ids.state()
            )
            snapshot_id = snapshot_id or uuid.uuid4().hex
            self._snapshots[snapshot_id] = snap
            return snapshot_id

    def restore(self, snapshot_id: str) -> None:
        snap = self._snapshots.get(snapshot_id)
        if snap is None:
            raise KeyError(snapshot_id)
        store = self.app.store
        with store.lock:
            store.accounts = copy.deepcopy(snap.accounts)
            store.run_policy = snap.run_policy
            store.clock.restore(snap.clock)
            store.ids.restore(snap.ids)
        self._log({"action": "restore", "id": snapshot_id})

    # --- clock and runs ------------------------------------------------------------------------
    def clock(
        self,
        *,
        now: str | datetime | None = None,
        freeze: bool | None = None,
        advance: float | None = None,
    ) -> dict[str, Any]:
        clock = self.app.store.clock
        if freeze is True:
            clock.freeze()
        elif freeze is False:
            clock.unfreeze()
        if now is not None:
            clock.set(parse_rfc3339(now) if isinstance(now, str) else now)
        if advance is not None:
            clock.advance(advance)
        frozen, offset = clock.state()
        self._log(
            {
                "action": "clock",
                "state": [frozen.isoformat() if frozen else None, offset.total_seconds()],
            }
        )
        return {"now": rfc3339(clock.now()), "frozen": clock.frozen}

    def run_policy(self, **changes: Any) -> dict[str, Any]:
        """Read or change how runs behave (fields of RunPolicy); unknown fields raise TypeError."""
        store = self.app.store
        if changes:
            policy = dataclasses.replace(store.run_policy, **changes)
            if policy.mode not in ("immediate", "deferred"):
                raise ValueError(f"mode: {policy.mode!r} is not immediate or deferred")
            if policy.outcome not in ("success", "failure"):
                raise ValueError(f"outcome: {policy.outcome!r} is not success or failure")
            codes = (
                self.app.spec.schema("RunReasonCode").get("enum", [])
                if self.app.spec.has_schema("RunReasonCode")
                else []
            )
            if policy.reason_code is not None and codes and policy.reason_code not in codes:
                raise ValueError(f"reason_code: {policy.reason_code!r} is not one of {codes}")
            store.run_policy = policy
            self._log({"action": "runs", "policy": dataclasses.asdict(policy)})
        return dataclasses.asdict(store.run_policy)

    # --- faults -------------------------------------------------------------------------------
    def add_fault(self, **rule: Any) -> dict[str, Any]:
        """Add a fault rule (FaultRule fields); raises TypeError/ValueError on a bad rule."""
        self.app.faults.add(FaultRule(**rule))
        return self.app.faults.describe()

    def rate_limit(self, enabled: bool = True, **limits: Any) -> dict[str, Any]:
        """Turn on the documented rate limits (or custom ones: limit, window, observability_*)."""
        self.app.faults.set_rate_limit(RateLimit(**limits) if enabled else None)
        return self.app.faults.describe()

    def clear_faults(self) -> dict[str, Any]:
        self.app.faults.clear()
        return self.app.faults.describe()

    def faults(self) -> dict[str, Any]:
        return self.app.faults.describe()


def _public(record: Record) -> Record:
    return {k: v for k, v in record.items() if not k.startswith("_")}
