"""Control of a mock: reset, seed, inspect, snapshot, steer the clock, the runs and the faults.

One implementation over the engine, used by the pytest plugin's Python API, the ``/__mock__/`` HTTP
control plane (``control/http.py``), ``mockserver serve`` and the state file's replay alike.
"""

from __future__ import annotations

import copy
import dataclasses
import uuid
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from mockserver import seeding
from mockserver.durability.state import Durability, Snapshot
from mockserver.engine import steering
from mockserver.engine.clock import Clock, parse_rfc3339, rfc3339
from mockserver.engine.core import Engine
from mockserver.engine.faults import RateLimit
from mockserver.engine.journal import Call, JournalQuery
from mockserver.engine.keys import key_id
from mockserver.engine.store import FAMILIES, Account, Record, RunPolicy, api_view
from mockserver.resources import runs
from mockserver.settings import (
    PER_TEST_FIELDS,
    RUNTIME_FIELDS,
    MockSettings,
    check_key,
    from_options,
    to_json,
)

MAX_SNAPSHOTS = 32
__all__ = ["MAX_SNAPSHOTS", "MockControl", "Snapshot"]


class MockControl:
    """Steers one engine. Every change it makes is logged to the state file when there is one."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._snapshots: dict[str, Snapshot] = {}
        self._default_data_sets: list[seeding.DataSet] = []
        self.durability: Durability | None = None  # the state file (see start_up)
        self.replay_warnings: list[str] = []  # what the state file could not bring back, named

    # --- start-up ---------------------------------------------------------------------------------
    def start_up(self) -> None:
        """What the engine cannot do alone, once, for :func:`mockserver.open_mock`: install the
        default data sets and bring the state file back (the engine applied the rest of its settings)."""
        settings = self.engine.settings
        self._install_default_data_sets(settings)
        if settings.state_file is not None:
            self.durability = Durability.start(
                self.engine, self._snapshots, settings.state_file, self._replay_legacy
            )
            self.replay_warnings = self.durability.warnings

    def image(self) -> dict[str, Any]:
        """The whole live state as one state-file entry (see durability/state.py)."""
        if self.durability is None:
            raise ValueError("this mock has no state file")
        return self.durability.image()

    def compact(self) -> None:
        """Rewrite the state file as one image of the live state (atomically: all or nothing)."""
        if self.durability is not None:
            self.durability.compact()

    def _settling(self, apps: Iterable[str]) -> AbstractContextManager[None]:
        """A read that settles runs (their end, by the clock) changes state: made durable too."""
        durability = self.durability
        if durability is None:
            return nullcontext()
        # (the caller holds the store's lock: the applications' locks are not taken after it)
        return durability.changing([a for a in apps if durability.may_change(a)], lock_apps=False)

    def _durably(self, apps: Iterable[str] | None) -> AbstractContextManager[None]:
        """Every control-plane change runs in here: made durable before it is acknowledged, or
        undone and refused (503 ``state_file_unavailable``). ``apps``: the applications it may
        change (None: any; the server's own state is always covered)."""
        if self.durability is None:
            return nullcontext()
        return self.durability.changing(apps)

    def _install_default_data_sets(self, settings: MockSettings) -> None:
        """Every application starts with these data sets (checked once now, so errors show at start)."""
        refs = seeding.data_set_refs(settings.fixtures, settings.data)
        if not refs:
            return
        self._default_data_sets = [seeding.load_data_set(ref) for ref in refs]
        probe = "__mockserver_fixture_check__"
        try:
            for data_set in self._default_data_sets:
                seeding.seed(self.engine, data_set, probe)
        finally:
            self.engine.store.accounts.pop(probe, None)

        def seed_new(account: Account) -> None:
            for data_set in self._default_data_sets:
                seeding.seed(self.engine, data_set, account.app_id)

        self.engine.store.on_new_account = seed_new

    def settings(self, app_id: str | None = None) -> dict[str, Any]:
        """The settings in force, as JSON (secrets masked). As ``app_id`` sees them when given: the
        keys, fault rules and stubs of other applications left out, and the configured application
        masked unless it is ``app_id``."""
        shown = to_json(self.engine.settings)
        if app_id is None:
            return shown
        default_app = self.engine.settings.app_id
        if default_app is not None and default_app != app_id:
            shown["app_id"] = "***"
        shown["keys"] = [key for key in shown["keys"] if key.get("appID", default_app) in (None, app_id)]
        for name in ("faults", "stubs"):
            shown[name] = [rule for rule in shown[name] if rule.get("app") in (None, app_id)]
        return shown

    def change_settings(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change run-time settings (seed, clock, runs, faults, rate_limit) of the running mock: each
        one given replaces what was in force (``faults`` replaces the server-wide rules)."""
        fixed = sorted(set(changes) - set(RUNTIME_FIELDS))
        if fixed:
            raise ValueError(
                f"settings {fixed} are fixed when the mock starts; "
                f"the control plane changes {list(RUNTIME_FIELDS)}"
            )
        options = dict(changes)
        if "faults" in options:
            options["faults"] = tuple(options["faults"] or ())
        with self._durably(()):
            self._apply(from_options(options, self.engine.settings), options)
        return self.settings()

    def reconfigure(self, settings: MockSettings) -> None:
        """Put ``settings`` in force on a running mock, in place of the settings it had: credentials
        and keys, what the pytest plugin reads (``fail_on_rejection``, test data sets) and the run-time
        fields. Fields fixed when the mock started (limits, checks, the state file) must not differ."""
        current = self.engine.settings
        may_change = {*RUNTIME_FIELDS, *PER_TEST_FIELDS}
        differ = sorted(
            f.name
            for f in dataclasses.fields(MockSettings)
            if f.name not in may_change and getattr(settings, f.name) != getattr(current, f.name)
        )
        if differ:
            raise ValueError(f"settings {differ} are fixed when the mock starts")
        settings.check()
        with self._durably(()):
            self._apply(settings, RUNTIME_FIELDS)
            self.engine.settings = settings

    def _apply(self, settings: MockSettings, fields: Iterable[str]) -> None:
        """Apply run-time fields through the engine (the caller makes them durable)."""
        self.engine.apply_settings(settings, list(fields))

    def add_key(
        self,
        api_key: str,
        acl: list[str],
        app_id: str | None = None,
        granted: frozenset[str] | None = None,
    ) -> dict[str, Any]:
        """Accept one more API key, with only these ACLs (for the application ``app_id``, or any),
        in place of a key of the same application and value.

        ``granted``: the ACLs of whoever asks (None: every ACL); a key is never given, nor is one
        replaced that holds, an ACL the asker lacks. The configured API key is not an extra key: it
        keeps every ACL (registering it would lock its owner out)."""
        key: dict[str, Any] = {"apiKey": api_key, "acl": list(acl)}
        if app_id is not None:
            key["appID"] = app_id
        key = check_key(key)
        engine = self.engine
        settings = engine.settings
        owner = key.get("appID", settings.app_id)
        if settings.api_key is not None and api_key == settings.api_key and owner in (None, settings.app_id):
            raise PermissionError(
                "body.apiKey: this is the mock's configured API key, which keeps every ACL; "
                "choose another key"
            )
        _need_acls(granted, key["acl"], "body.acl: a key cannot be given")
        replaced = engine.key_index().get(owner, api_key)
        if replaced is not None:
            _need_acls(granted, replaced.get("acl", ()), "body.apiKey: this key exists and holds")
        with self._durably(()):
            owner = engine.put_key(key)
        return {"appID": owner, "apiKey": "***", "acl": key["acl"], "keyID": key_id(owner, api_key)}

    def keys(self, app_id: str | None = None) -> dict[str, Any]:
        """The extra keys of ``app_id`` and of every application (all of them when None), the keys
        themselves masked: each named by its keyID."""
        found = self.engine.key_index().of(app_id)
        return {
            "keys": [
                {
                    "keyID": key_id(owner, str(key["apiKey"])),
                    "appID": owner,
                    "apiKey": "***",
                    "acl": list(key.get("acl", ())),
                }
                for owner, key in found
            ]
        }

    def remove_key(
        self, found_id: str, app_id: str | None = None, granted: frozenset[str] | None = None
    ) -> dict[str, Any]:
        """Forget the extra key named ``found_id`` (a keyID) among those ``app_id`` may see (every
        key when None); LookupError when there is none. ``granted`` as for :meth:`add_key`: a key
        holding an ACL the asker lacks is not removed (PermissionError)."""
        for owner, key in self.engine.key_index().of(app_id):
            api_key = str(key["apiKey"])
            if key_id(owner, api_key) == found_id:
                _need_acls(granted, key.get("acl", ()), f"keyID {found_id!r}: this key holds")
                with self._durably(()):
                    self.engine.drop_key(owner, api_key)
                return {"deleted": found_id}
        raise LookupError(f"No API key with keyID {found_id[:40]!r} (GET /__mock__/keys lists them)")

    # --- state files of schema 1 -----------------------------------------------------------------
    def _replay_legacy(self, entry: dict[str, Any]) -> None:
        """Replay a control entry of a schema-1 state file (read once, then compacted away)."""
        action = entry["action"]
        store = self.engine.store
        if action == "reset":
            self.reset(entry.get("app"))
        elif action == "seed":
            self.seed(entry["data"], entry["app"])
        elif action == "clock":
            frozen, offset = entry["state"]
            state = (parse_rfc3339(frozen) if frozen else None, timedelta(seconds=offset))
            self._clock_for(entry.get("app")).restore(state)
        elif action == "runs":
            policy = RunPolicy(**entry["policy"])
            if entry.get("app") is None:
                store.run_policy = policy
            else:
                store.account(entry["app"]).run_policy = policy
        elif action == "snapshot":
            self._take_snapshot(entry["id"], entry.get("app"))
        elif action == "restore":
            self.restore(entry["id"], app_id=entry.get("app"))
        else:
            raise ValueError(f"unknown action {str(action)[:40]!r}")

    # --- state ---------------------------------------------------------------------------------
    def reset(self, app_id: str | None = None) -> None:
        """Empty one application's data (and its own fault rules, stubs and snapshots), or everything
        (then the journal, snapshots, faults, stubs, runs and clock settings too)."""
        engine = self.engine
        store = engine.store
        with self._durably(None if app_id is None else [app_id]), store.lock:
            store.reset(app_id)
            if app_id is not None:
                engine.faults.clear(app_id)
                engine.stubs.clear(app_id)
                for sid in [k for k, snap in self._snapshots.items() if snap.app_id == app_id]:
                    del self._snapshots[sid]
            if app_id is None:
                engine.journal.clear()
                engine.faults.clear()
                engine.stubs.clear()
                self._snapshots.clear()
                store.run_policy = RunPolicy()
                store.clock.restore(engine.initial_clock)
                store.ids.restore(engine.initial_ids)

    def seed(self, data_set: str | Path | Mapping[str, Any], app_id: str) -> dict[str, int]:
        loaded = seeding.load_data_set(data_set)
        with self._durably([app_id]):
            return seeding.seed(self.engine, loaded, app_id)

    def applications(self, app_id: str | None = None) -> list[dict[str, Any]]:
        """Every application the mock holds (or just ``app_id``), with how many resources of each kind."""
        store = self.engine.store
        with store.lock:
            return [
                {"appID": aid, "counts": account.counts()}
                for aid, account in store.accounts.items()
                if app_id is None or aid == app_id
            ]

    def dump(self, app_id: str | None = None) -> dict[str, Any]:
        """The state as JSON: every application's resources as the API shows them (no secrets), runs,
        events, indexes (their records, settings, synonyms and rules) and what sources fetch. A dump
        of one application is a data set: seeding it gives the same dump (seeding.py says how
        secrets, left out, come back)."""
        store = self.engine.store
        with store.lock:
            if app_id is None:
                accounts = dict(store.accounts)
            else:
                found = store.accounts.get(app_id)
                accounts = {app_id: found if found is not None else Account(app_id)}
            with self._settling(accounts):
                for account in accounts.values():
                    self.engine.hooks.settle(account, store.clock_of(account).now().timestamp())
            return {"applications": {aid: self._dump_account(account) for aid, account in accounts.items()}}

    def _dump_account(self, account: Account) -> dict[str, Any]:
        hooks, checks = self.engine.hooks, self.engine.checks
        out: dict[str, Any] = {}
        for family in FAMILIES:
            out[family] = [
                api_view(hooks.view(family, r, checks, account)) for r in account.family(family).values()
            ]
        out["runs"] = [api_view(r) for r in account.runs.values()]
        out["events"] = {rid: [api_view(e) for e in evs.values()] for rid, evs in account.events.items()}
        out["indexes"] = {name: list(index.values()) for name, index in account.indexes.items()}
        out["index_settings"] = {name: dict(settings) for name, settings in account.index_settings.items()}
        out["synonyms"] = {name: [dict(s) for s in held.values()] for name, held in account.synonyms.items()}
        out["rules"] = {name: [dict(r) for r in held.values()] for name, held in account.rules.items()}
        out["source_records"] = {sid: [dict(r) for r in recs] for sid, recs in account.source_records.items()}
        out["url_contents"] = dict(account.url_contents)
        return out

    def index(self, name: str, app_id: str) -> list[Record] | None:
        """A fake index's records, once the runs that write to it have done so by the mock's clock."""
        store = self.engine.store
        with store.lock:
            account = store.accounts.get(app_id)
            if account is None:
                return None
            with self._settling([app_id]):
                self.engine.hooks.settle(account, store.clock_of(account).now().timestamp())
            found = account.indexes.get(name)
            return [dict(r) for r in found.values()] if found is not None else None

    def index_names(self, app_id: str) -> set[str]:
        """The index names an application knows: indexes written, indexes a destination targets
        and indexes a run still working will write to (the names a test may read, empty or not)."""
        store = self.engine.store
        with store.lock:
            account = store.accounts.get(app_id)
            if account is None:
                return set()
            with self._settling([app_id]):
                self.engine.hooks.settle(account, store.clock_of(account).now().timestamp())
            targeted = {
                name
                for destination in account.destinations.values()
                if isinstance(name := (destination.get("input") or {}).get("indexName"), str)
            }
            return set(account.indexes) | targeted | runs.pending_index_names(account)

    def source_records(self, source_id: str, records: list[Record], app_id: str) -> int:
        """Give a source the records a run of its tasks fetches (what its URL or database holds)."""
        for i, record in enumerate(records):
            if not isinstance(record, dict):
                raise ValueError(f"records[{i}]: a record is a JSON object")
        store = self.engine.store
        with self._durably([app_id]), store.lock:
            account = store.account(app_id)
            if source_id not in account.sources:
                raise LookupError(f"No source with ID {source_id!r} exists in application {app_id!r}")
            account.source_records[source_id] = [dict(r) for r in records]
        return len(records)

    def snapshot(self, app_id: str | None = None) -> str:
        """Keep a copy of the whole state (or of one application's); returns its ID for ``restore``."""
        with self._durably(()):
            return self._take_snapshot(None, app_id)

    def _take_snapshot(self, snapshot_id: str | None, app_id: str | None = None) -> str:
        store = self.engine.store
        with store.lock:
            if len(self._snapshots) >= MAX_SNAPSHOTS:
                raise ValueError(f"snapshots: {MAX_SNAPSHOTS} are kept at most; reset the mock to free them")
            if app_id is None:
                accounts = copy.deepcopy(store.accounts)
            else:
                accounts = {app_id: copy.deepcopy(store.account(app_id))}
            snap = Snapshot(accounts, store.run_policy, store.clock.state(), store.ids.state(), app_id)
            snapshot_id = snapshot_id or uuid.uuid4().hex
            self._snapshots[snapshot_id] = snap
            return snapshot_id

    def restore(self, snapshot_id: str, *, app_id: str | None = None) -> None:
        """Go back to a snapshot. With ``app_id``, only that application's own snapshots are found."""
        snap = self._snapshots.get(snapshot_id)
        if snap is None or (app_id is not None and snap.app_id != app_id):
            raise KeyError(snapshot_id)
        store = self.engine.store
        with self._durably(None if snap.app_id is None else [snap.app_id]), store.lock:
            if snap.app_id is not None:
                store.accounts[snap.app_id] = copy.deepcopy(snap.accounts[snap.app_id])
            else:
                store.accounts = copy.deepcopy(snap.accounts)
                store.run_policy = snap.run_policy
                store.clock.restore(snap.clock)
                store.ids.restore(snap.ids)

    def snapshots(self) -> dict[str, Snapshot]:
        return self._snapshots

    # --- journal and health --------------------------------------------------------------------
    def journal(self, operation_id: str | None = None, *, app_id: str | None = None) -> list[Call]:
        return self.engine.journal.filter(operation_id, app_id=app_id)

    def journal_page(self, query: JournalQuery) -> dict[str, Any]:
        """One page of the journal as JSON (filters, order, offset, limit: see JournalQuery)."""
        return self.engine.journal.page(query).to_json()

    def clear_journal(self, app_id: str | None = None) -> None:
        self.engine.journal.clear(app_id)

    def health(self) -> dict[str, Any]:
        spec = self.engine.spec
        return {"status": "ok", "spec": spec.title, "operations": len(spec.operations)}

    # --- clock and runs ------------------------------------------------------------------------
    def clock(
        self,
        *,
        now: str | datetime | None = None,
        freeze: bool | None = None,
        advance: float | None = None,
        app_id: str | None = None,
        now_name: str = "now",
    ) -> dict[str, Any]:
        """Read or steer the clock: the server's, or (``app_id``) that application's own, which
        starts where the server's is and from then on moves only when that application steers it.
        ``now_name``: what the caller's users call ``now`` (an error about it names that)."""
        store = self.engine.store
        if now is None and freeze is None and advance is None:  # a read: nothing made, nothing logged
            shown = store.clock_of(store.accounts.get(app_id)) if app_id is not None else store.clock
            return {"now": rfc3339(shown.now()), "frozen": shown.frozen}
        with self._durably([] if app_id is None else [app_id]), store.lock:
            clock = self._clock_for(app_id) if app_id is not None else store.clock
            target = steering.instant(now, now_name) if now is not None else None
            if advance is not None:
                steering.advanced(target or clock.now(), advance)
            if freeze is True:
                clock.freeze()
            elif freeze is False:
                clock.unfreeze()
            if target is not None:
                clock.set(target)
            if advance is not None:
                clock.advance(advance)
            return {"now": rfc3339(clock.now()), "frozen": clock.frozen}

    def _clock_for(self, app_id: str | None) -> Clock:
        """The clock to steer: the server's, or the application's own (made on first use)."""
        store = self.engine.store
        if app_id is None:
            return store.clock
        account = store.account(app_id)
        if account.clock is None:
            own = Clock()
            own.restore(store.clock.state())
            account.clock = own
        return account.clock

    def run_policy(self, *, app_id: str | None = None, **changes: Any) -> dict[str, Any]:
        """Read or change how runs behave (fields of RunPolicy): the server's, or (``app_id``) that
        application's own. Unknown fields raise TypeError."""
        store = self.engine.store
        if not changes:  # a read makes no application
            return dataclasses.asdict(store.policy_of(store.accounts.get(app_id) if app_id else None))
        with self._durably([] if app_id is None else [app_id]), store.lock:
            account = store.account(app_id) if app_id is not None else None
            policy = steering.run_policy(store.policy_of(account), changes, self.engine.spec)
            if account is not None:
                account.run_policy = policy
            else:
                store.run_policy = policy
            return dataclasses.asdict(policy)

    # --- faults -------------------------------------------------------------------------------
    def add_fault(self, **rule: Any) -> dict[str, Any]:
        """Add a fault rule (FaultRule fields; ``app`` limits it to one application's calls);
        raises TypeError/ValueError on a bad rule."""
        fault = steering.fault_rule(rule, self.engine.spec)
        with self._durably(()):
            self.engine.faults.add(fault)
        return self.engine.faults.describe(fault.app)

    def rate_limit(self, enabled: bool = True, **limits: Any) -> dict[str, Any]:
        """Turn on the documented rate limits (or custom ones: limit, window, observability_*)."""
        limit = RateLimit(**limits) if enabled else None
        with self._durably(()):
            self.engine.faults.set_rate_limit(limit)
        return self.engine.faults.describe()

    def clear_faults(self, app_id: str | None = None) -> dict[str, Any]:
        """Remove every fault rule and the rate limit, or (``app_id``) that application's rules."""
        with self._durably(()):
            self.engine.faults.clear(app_id)
        return self.engine.faults.describe(app_id)

    def faults(self, app_id: str | None = None) -> dict[str, Any]:
        return self.engine.faults.describe(app_id)

    # --- stubs --------------------------------------------------------------------------------
    def add_stub(self, **rule: Any) -> dict[str, Any]:
        """Answer the requests matching ``rule`` as it says (fields of a stub: operation,
        path_params, query, body, status, response, headers, times, check, app); the stub with its
        ID. TypeError/ValueError on a bad rule, or an answer the spec does not document."""
        stub = steering.stub_rule(rule, self.engine.spec)
        with self._durably(()):
            return self.engine.stubs.add(stub).to_json()

    def stubs(self, app_id: str | None = None) -> dict[str, Any]:
        """The stubs in force (``app_id``: those matching that application's calls), oldest first."""
        return {"stubs": self.engine.stubs.describe(app_id)}

    def remove_stub(self, stub_id: str, app_id: str | None = None) -> dict[str, Any]:
        """Remove one stub (``app_id``: only one of that application's own); LookupError if none."""
        with self._durably(()):
            removed = self.engine.stubs.remove(stub_id, app_id)
        if not removed:
            owner = f" of application {app_id!r}" if app_id is not None else ""
            raise LookupError(f"No stub{owner} with ID {stub_id[:100]!r}")
        return self.stubs(app_id)

    def clear_stubs(self, app_id: str | None = None) -> dict[str, Any]:
        """Remove every stub, or (``app_id``) that application's own."""
        with self._durably(()):
            self.engine.stubs.clear(app_id)
        return self.stubs(app_id)


def _need_acls(granted: frozenset[str] | None, acl: Iterable[str], what: str) -> None:
    """PermissionError when ``acl`` holds an ACL beyond ``granted`` (None: every ACL)."""
    if granted is None:
        return
    beyond = sorted({str(a) for a in acl} - granted)
    if beyond:
        raise PermissionError(
            f"{what} {', '.join(beyond)}, which the credentials of this request lack "
            f"(they hold {', '.join(sorted(granted)) or 'no ACL'})"
        )
