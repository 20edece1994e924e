"""Durability, in one place: what survives a restart, how it is logged, imaged, compacted, replayed.

The rule: every write a client is told succeeded (a 2xx of the API or of the control plane) is in
the state file before the answer leaves, and comes back after ``kill -9`` and any restart, with or
without the data sets the server was started with. What is durable:

- every application's state (resources, runs, events, metadata, indexes, source records, URL
  contents, notifications, its own clock and run policy);
- the server's clock, run policy and ID sequence, the API keys added at run time, fault rules and
  the rate limit, stubs, and the snapshots kept.

How: a write runs under the store's lock; before it, a shadow of what it may change is taken
(``changes.py``: references, never a deep copy); after it, one row holding the after-state of what
changed is appended to the log (``log.py``). The first row of an application the log does not hold
yet carries its whole state (data sets it was seeded with included), so replay never needs them.
When the row cannot be appended (disk full, file locked, deleted or replaced), the shadow is put
back and the write answers 503 ``state_file_unavailable``: nothing changed. Requests and their
credentials are never stored.

Replay applies the rows without validating them again. Damage costs only what is damaged: a row
that cannot be read or applied, an application or a record of an image that is damaged, is left
out and named in a warning (a value of a row that JSON spells but the mock cannot hold, such as
``1e400``, costs only the record or part holding it: ``damage.py``); before the file is compacted
with less than it held, the original is kept beside it (``<file>.damaged-<time>``). A file of a
newer release (log schema or image version above ours) is refused. Older files (log schema 1:
requests replayed through the engine; images of versions 1 and 2) are converted as they are read.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from mockserver.durability import changes
from mockserver.durability import image as state_image
from mockserver.durability.damage import damage_of
from mockserver.durability.log import StateFileError, StateLog
from mockserver.engine.core import Engine
from mockserver.engine.errors import StateUnavailable
from mockserver.engine.faults import FaultRule, RateLimit
from mockserver.engine.store import Account, RunPolicy

_LOG = logging.getLogger("mockserver.state")
T = TypeVar("T")
_DAMAGE = (KeyError, TypeError, ValueError, LookupError, AttributeError, RecursionError, OverflowError)


@dataclass(frozen=True)
class Snapshot:
    """A copy of a mock's whole state at one moment (or of one application's)."""

    accounts: dict[str, Account]
    run_policy: RunPolicy
    clock: tuple[datetime | None, Any]
    ids: object
    app_id: str | None = None  # one application's snapshot (its account only), or the whole mock's


def snapshot_to_json(snap: Snapshot) -> dict[str, Any]:
    return {
        "app": snap.app_id,
        "accounts": state_image.accounts_to_json(snap.accounts),
        "policy": dataclasses.asdict(snap.run_policy),
        "clock": state_image.clock_to_json(snap.clock),
        "ids": state_image.ids_to_json(snap.ids),
    }


def snapshot_from_json(value: dict[str, Any], version: int, warn: state_image.Warn, where: str) -> Snapshot:
    for part in ("policy", "clock", "ids", "app"):  # (its accounts are read one by one)
        damage = damage_of(value[part])
        if damage is not None:
            raise ValueError(f"its {part}: {damage}")
    return Snapshot(
        state_image.accounts_from_json(value["accounts"], version, warn, where),
        RunPolicy(**value["policy"]),
        state_image.clock_from_json(value["clock"]),
        state_image.ids_from_json(value["ids"]),
        value["app"],
    )


class Durability:
    """The state file of one mock: start-up (replay, compaction), durable writes, images."""

    def __init__(self, engine: Engine, snapshots: dict[str, Snapshot], log: StateLog) -> None:
        self.engine = engine
        self.snapshots = snapshots  # MockControl's own dict (kept in place, never rebound)
        self.log = log
        self.logged: set[str] = set()  # applications whose whole state the log holds
        self.warnings: list[str] = []  # what start-up could not bring back, each named
        self._initial_keys = tuple(engine.settings.keys)  # keys given at start: not the file's

    # --- start-up ----------------------------------------------------------------------------------
    @classmethod
    def start(
        cls,
        engine: Engine,
        snapshots: dict[str, Snapshot],
        path: str | Path,
        legacy: Callable[[dict[str, Any]], None],
    ) -> Durability:
        """Open the state file, bring its state back and compact it; ``legacy`` replays a control
        entry of schema 1 (reset, seed, clock, runs, snapshot, restore) through the control plane."""
        log = StateLog(path)
        try:
            durability = cls(engine, snapshots, log)
            count = durability._replay(legacy)
            durability.logged = set(engine.store.accounts)
            if count > 1 or durability.warnings:
                durability._compact_at_start()
        except BaseException:
            log.close()
            raise
        engine.attach_durability(durability, log)
        return durability

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        _LOG.warning("%s", message)

    def _replay(self, legacy: Callable[[dict[str, Any]], None]) -> int:
        count = 0
        for seq, entry in self.log.entries(self.warn):
            count += 1
            where = f"{self.log.path}: row {seq}"
            try:
                kind = entry.get("kind")
                if damage_of(kind) is not None:
                    raise ValueError(f"its kind is damaged ({damage_of(kind)})")
                if kind == "change":
                    self._apply_change(entry, where)
                elif kind == "control" and entry.get("action") == "image":
                    self._load_image(entry, where)
                elif damage_of(entry) is not None and kind in ("api", "control"):
                    raise ValueError(f"it holds a value that cannot be read ({damage_of(entry)})")
                elif kind == "api":  # schema 1: a request, replayed through the engine
                    answer = self.engine.replay_write(entry)
                    if not answer.ok:
                        message = (
                            (answer.body or {}).get("message", "") if isinstance(answer.body, dict) else ""
                        )
                        self.warn(
                            f"{where}: the write {entry.get('op')} of application {entry.get('app')!r} is "
                            f"lost: replayed, it answered {answer.status} ({str(message)[:200]})"
                        )
                elif kind == "control":
                    legacy(entry)
                else:
                    raise ValueError(f"unknown kind of entry {str(kind)[:40]!r}")
            except StateFileError:
                raise
            except _DAMAGE as exc:
                self.warn(f"{where} skipped: it cannot be replayed ({str(exc)[:300]!r})")
        return count

    def _compact_at_start(self) -> None:
        """Compact after start-up; with losses, only once the original is kept beside it."""
        if self.warnings:
            try:
                kept = self.log.keep_copy()
            except StateFileError as exc:
                self.warn(f"{exc}; the file is left as it is (not compacted)")
                return
            self.warn(f"{self.log.path}: lost parts of it, named above; the original is kept as {kept}")
        try:
            self.compact()
        except StateFileError as exc:  # e.g. a full disk: serve what is there, writes answer 503
            self.warn(f"{exc}; serving the state read from it")

    # --- images ------------------------------------------------------------------------------------
    def _server(self) -> dict[str, Any]:
        """What the server steers, as JSON (one key per part)."""
        engine, store = self.engine, self.engine.store
        rate = engine.faults.rate_limit
        return {
            "policy": dataclasses.asdict(store.run_policy),
            "clock": state_image.clock_to_json(store.clock.state()),
            "ids": state_image.ids_to_json(store.ids.state()),
            "keys": [dict(k) for k in engine.settings.keys if k not in self._initial_keys],
            "faults": [dataclasses.asdict(rule) for rule in engine.faults.rules],
            "rate_limit": dataclasses.asdict(rate) if rate is not None else None,
            "stubs": engine.stubs.to_json(),
        }

    def _load_server_part(self, name: str, value: Any) -> None:
        engine, store = self.engine, self.engine.store
        damage = damage_of(value)
        if damage is not None:
            raise ValueError(damage)
        if name == "policy":
            store.run_policy = RunPolicy(**value)
        elif name == "clock":
            store.clock.restore(state_image.clock_from_json(value))
        elif name == "ids":
            store.ids.restore(state_image.ids_from_json(value))
        elif name == "keys":
            added = tuple(dict(k) for k in value if isinstance(k, dict) and "apiKey" in k)
            engine.settings = dataclasses.replace(engine.settings, keys=(*self._initial_keys, *added))
        elif name == "faults":
            rules = []
            for item in value:
                rule = FaultRule(**item)
                rule.check()
                rules.append(rule)
            engine.faults.rules = rules
        elif name == "rate_limit":
            engine.faults.set_rate_limit(RateLimit(**value) if value is not None else None)
        elif name == "stubs":
            engine.stubs.load(value)
        else:
            raise ValueError(f"unknown part of the server's state {name[:40]!r}")

    def _load_server(self, parts: dict[str, Any], where: str) -> None:
        for name, value in parts.items():
            try:
                self._load_server_part(name, value)
            except _DAMAGE as exc:
                self.warn(f"{where}: the server's {name} is damaged ({str(exc)[:200]}): it is lost")

    def image(self) -> dict[str, Any]:
        """The whole live state as one entry (what the file compacts to)."""
        store = self.engine.store
        with store.lock:
            return {
                "kind": "control",
                "action": "image",
                "version": state_image.IMAGE_VERSION,
                "accounts": state_image.accounts_to_json(store.accounts),
                **self._server(),
                "snapshots": {sid: snapshot_to_json(snap) for sid, snap in self.snapshots.items()},
            }

    def _load_image(self, entry: dict[str, Any], where: str) -> None:
        version = entry.get("version")
        if damage_of(version) is not None:
            raise ValueError(f"its version is damaged ({damage_of(version)})")
        if isinstance(version, int) and not isinstance(version, bool) and version > state_image.IMAGE_VERSION:
            raise StateFileError(
                f"{where}: a state image of version {version}, written by a newer mockserver (this one "
                f"reads versions {', '.join(map(str, state_image.READABLE_VERSIONS))}): upgrade to read it"
            )
        if version not in state_image.READABLE_VERSIONS:
            raise ValueError(f"state image version {str(version)[:20]!r} is not one this mockserver reads")
        assert isinstance(version, int)
        store = self.engine.store
        with store.lock:
            store.accounts = state_image.accounts_from_json(entry["accounts"], version, self.warn, where)
            self._load_server({k: entry[k] for k in self._server() if k in entry}, where)
            self.snapshots.clear()
            for sid, snap in (entry.get("snapshots") or {}).items():
                try:
                    self.snapshots[sid] = snapshot_from_json(
                        snap, version, self.warn, f"{where}: snapshot {sid}"
                    )
                except _DAMAGE as exc:
                    self.warn(f"{where}: snapshot {sid!r} is damaged ({str(exc)[:200]}): it is lost")

    def _apply_change(self, entry: dict[str, Any], where: str) -> None:
        store = self.engine.store
        with store.lock:
            for app_id, change in (entry.get("apps") or {}).items():
                here = f"{where}: application {app_id!r}"
                try:
                    if change.get("delete"):
                        store.accounts.pop(app_id, None)
                    elif "full" in change:
                        account = state_image.account_from_json(change["full"], warn=self.warn, where=here)
                        store.accounts[app_id] = account
                    else:
                        found = store.accounts.get(app_id)
                        if found is None:  # made without the data sets: the row holds its state
                            found = store.accounts[app_id] = Account(app_id)
                        changes.apply(found, change["diff"], self.warn, here)
                except _DAMAGE as exc:
                    self.warn(f"{here}: the change cannot be applied ({str(exc)[:200]!r}): it is lost")
            self._load_server(entry.get("server") or {}, where)
            snaps = entry.get("snapshots") or {}
            for sid in snaps.get("del", ()):
                self.snapshots.pop(sid, None)
            for sid, snap in (snaps.get("set") or {}).items():
                try:
                    self.snapshots[sid] = snapshot_from_json(
                        snap, state_image.IMAGE_VERSION, self.warn, f"{where}: snapshot {sid}"
                    )
                except _DAMAGE as exc:
                    self.warn(f"{where}: snapshot {sid!r} is damaged ({str(exc)[:200]}): it is lost")
            drawn = entry.get("ids_drawn", 0)
            if damage_of(drawn) is not None:
                self.warn(f"{where}: the count of IDs it drew is damaged: IDs drawn after it may repeat")
                drawn = 0
            if store.ids.state() is not None:  # a seeded sequence goes on where it was
                for _ in range(int(drawn)):
                    store.ids.new()

    # --- durable writes ----------------------------------------------------------------------------
    def _append(self, entry: dict[str, Any]) -> None:
        try:
            self.log.append(entry)
        except StateFileError as exc:
            raise StateUnavailable(f"the write was not applied: {exc}") from None

    def _maybe_compact(self) -> None:
        if self.log.should_compact():
            try:
                self.compact()
            except StateFileError as exc:  # the log still holds every write: compact another time
                _LOG.warning("%s", exc)

    def _change_of(self, app_id: str, shadow: changes.Shadow | None, existed: bool) -> dict[str, Any] | None:
        account = self.engine.store.accounts.get(app_id)
        if account is None:
            return {"delete": True} if existed or app_id in self.logged else None
        if shadow is None or app_id not in self.logged:
            return {"full": state_image.account_to_json(account)}
        found = changes.diff(shadow, account)
        return {"diff": found} if found else None

    def may_change(self, app_id: str) -> bool:
        """Whether a read may change this application: it settles the runs whose time has come
        (their status, events and index writes), which must be as durable as any write."""
        account = self.engine.store.accounts.get(app_id)
        return account is not None and bool(account.unsettled_runs)

    def api_write(self, app_id: str, act: Callable[[], T]) -> T:
        """Run an API write (the caller holds the store's lock) and make what it changed durable
        before it is acknowledged; StateUnavailable (503), with nothing changed, when it cannot be."""
        store = self.engine.store
        account = store.accounts.get(app_id)
        shadow = changes.take(account) if account is not None else None
        ids_before = store.ids.state()
        issued: list[str] = []
        store.ids.issued = issued
        try:
            result = act()
        except BaseException:
            if shadow is not None:
                changes.release(shadow)
            raise
        finally:
            store.ids.issued = None
        usable = shadow if store.accounts.get(app_id) is account else None  # replaced whole: logged whole
        change = self._change_of(app_id, usable, account is not None)
        if shadow is not None:
            changes.release(shadow)  # (a write logged whole did not look at it)
        if change is None:
            return result
        entry: dict[str, Any] = {"kind": "change", "apps": {app_id: change}}
        if issued and ids_before is not None:
            entry["ids_drawn"] = len(issued)
        try:
            self._append(entry)
        except StateUnavailable:
            if account is None:
                store.accounts.pop(app_id, None)
            else:
                assert shadow is not None
                changes.undo(shadow, account)
                store.accounts[app_id] = account
            store.ids.restore(ids_before)
            raise
        self.logged.add(app_id)
        self._maybe_compact()
        return result

    @contextmanager
    def changing(self, apps: Iterable[str] | None, *, lock_apps: bool = True) -> Iterator[None]:
        """Make a control-plane change durable: ``apps``, the applications it may change (None:
        any, the whole state is then logged as one image), and the server's parts always. On a
        failure to log (or any error of the change itself), everything is put back.

        The applications' locks are taken before the store's (the engine's order), unless
        ``lock_apps`` is false (a caller that holds the store's lock already)."""
        store = self.engine.store
        apps = None if apps is None else sorted(set(apps))
        with ExitStack() as held:
            for app_id in apps if lock_apps and apps is not None else ():
                held.enter_context(store.app_lock(app_id))
            held.enter_context(store.lock)
            whole = apps is None
            old_accounts = store.accounts
            shadows: dict[str, tuple[Account | None, changes.Shadow | None]] = {}
            if not whole:
                assert apps is not None
                for app_id in apps:
                    account = store.accounts.get(app_id)
                    shadows[app_id] = (account, changes.take(account) if account is not None else None)
            server = self._server()
            snapshots = dict(self.snapshots)
            try:
                yield
                entry = self._control_entry(whole, shadows, server, snapshots)
                if entry is not None:
                    self._append(entry)
            except BaseException:
                self._undo(whole, old_accounts, shadows, server, snapshots)
                raise
            for _, shadow in shadows.values():
                if shadow is not None:
                    changes.release(shadow)
            if whole:
                self.logged = set(store.accounts)
            else:
                for app_id in shadows:
                    (self.logged.add if app_id in store.accounts else self.logged.discard)(app_id)
            self._maybe_compact()

    def _control_entry(
        self,
        whole: bool,
        shadows: dict[str, tuple[Account | None, changes.Shadow | None]],
        server: dict[str, Any],
        snapshots: dict[str, Snapshot],
    ) -> dict[str, Any] | None:
        if whole:
            return self.image()
        apps: dict[str, Any] = {}
        for app_id, (account, shadow) in shadows.items():
            current = self.engine.store.accounts.get(app_id)
            usable = shadow if current is account else None  # replaced whole: logged whole
            change = self._change_of(app_id, usable, account is not None)
            if change is not None:
                apps[app_id] = change
        after = self._server()
        changed = {name: value for name, value in after.items() if server.get(name) != value}
        added = {sid: snapshot_to_json(s) for sid, s in self.snapshots.items() if sid not in snapshots}
        removed = [sid for sid in snapshots if sid not in self.snapshots]
        if not apps and not changed and not added and not removed:
            return None
        entry: dict[str, Any] = {"kind": "change", "apps": apps, "server": changed}
        if added or removed:
            entry["snapshots"] = {"set": added, "del": removed}
        return entry

    def _undo(
        self,
        whole: bool,
        old_accounts: dict[str, Account],
        shadows: dict[str, tuple[Account | None, changes.Shadow | None]],
        server: dict[str, Any],
        snapshots: dict[str, Snapshot],
    ) -> None:
        store = self.engine.store
        if whole:
            store.accounts = old_accounts
        for app_id, (account, shadow) in shadows.items():
            if account is None:
                store.accounts.pop(app_id, None)
            else:
                if shadow is not None:
                    changes.undo(shadow, account)
                store.accounts[app_id] = account
        for name, value in server.items():
            self._load_server_part(name, value)
        self.snapshots.clear()
        self.snapshots.update(snapshots)

    def compact(self) -> None:
        """Rewrite the state file as one image of the live state (atomically: all or nothing)."""
        with self.engine.store.lock:
            self.log.rewrite([self.image()])
            self.logged = set(self.engine.store.accounts)

    def close(self) -> None:
        self.log.close()
