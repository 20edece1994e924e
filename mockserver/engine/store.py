"""All state of a mock: accounts (one per application ID), each holding every resource family.

Records are plain JSON-ready dicts exactly as the API describes them, plus the write-only fields
(secrets) the API never returns: nothing else. What the engine keeps about a record beyond its API
fields (a run's planned timeline, a task's trigger type and critical-failure streak) is its
metadata, kept apart in ``Account.meta``; :func:`api_view` is the one way a record is shown. Dicts
keep insertion order, which is creation order: the default listing (``createdAt`` descending) is a
reversed walk, and a lookup by ID is one dict access.
"""

from __future__ import annotations

import os
import random
import threading
import weakref
from _thread import RLock as _RLock  # threading.RLock's C class, without its Python wrapper
from collections import deque
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Literal

from mockserver.engine.clock import Clock
from mockserver.engine.indexes import PushedTexts

Record = dict[str, Any]

FAMILIES = ("authentications", "destinations", "sources", "tasks", "transformations")


def api_view(record: Mapping[str, Any], fields: frozenset[str] = frozenset()) -> Record:
    """A record as it is shown outside the engine: a new dict of its fields, only those ``fields``
    names (a response schema's fields) when it names some.

    Every way a record leaves the engine goes through here: API answers, the control plane's dump
    (which the inspector shows), the seeding check, strategies' ``State``. Records hold API fields
    only (their metadata is in ``Account.meta``), so there is nothing to strip; the view is a copy,
    so what a caller does with it never reaches the store.
    """
    if not fields or record.keys() <= fields:
        # Every field named (nearly always): the same dict as the filtered one, copied in C.
        # Measured: 1.1 µs instead of 2.3 µs for a source, so ~12 µs off a listSources page of 10.
        return dict(record)
    return {k: v for k, v in record.items() if k in fields}


def _uuid4_text(h: str) -> str:
    """``str(uuid.UUID(hex=h, version=4))`` for 32 lower-case hex digits, without building the UUID
    object or an integer: the version digit (the 13th) becomes 4 and the variant bits (the top two
    of the 17th digit) 10, as the uuid module sets them, the text in its 8-4-4-4-12 form."""
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


class _Issuing(threading.local):
    """Per thread: the list new IDs are appended to (for the state log), or None.

    The class default answers for a thread that never set it: reading it never raises
    AttributeError, as ``getattr(threading.local(), name, None)`` does inside for every new ID
    (measured 1.7 -> 0.15 µs an ID; createSource makes one, a push two).
    """

    issued: list[str] | None = None


RANDOM_READ_AHEAD = 16 * 256  # bytes of the OS's randomness read at once: 256 random IDs


class IdFactory:
    """Random UUIDs, or a reproducible sequence of them once seeded.

    Random IDs come from the OS's randomness (``os.urandom``) read ahead, 256 IDs' worth at a time:
    a system call per ID cost a request more than the call itself (~2 µs a call measured on a
    virtual machine, where entering the kernel is dear). A forked child forgets what its parent
    read ahead, so parent and child never hand out the same IDs.
    """

    def __init__(self, seed: int | None = None) -> None:
        self._rng: random.Random | None = random.Random(seed) if seed is not None else None
        self._local = _Issuing()  # per thread: the list new IDs are appended to (state log)
        self._rng_lock = threading.Lock()
        self.replay: deque[str] = deque()  # IDs to hand out first (when replaying the state log)
        self._random = ""  # the OS's randomness read ahead, in hex; the next ID takes 32 digits at _random_at
        self._random_at = 0
        me = weakref.ref(self)
        os.register_at_fork(after_in_child=lambda: _forget_random(me))

    @property
    def issued(self) -> list[str] | None:
        """When a list, every ID this thread makes is appended to it (for the state log)."""
        return self._local.issued

    @issued.setter
    def issued(self, value: list[str] | None) -> None:
        self._local.issued = value

    def seed(self, seed: int | None) -> None:
        self._rng = random.Random(seed) if seed is not None else None

    def state(self) -> object:
        """An opaque copy of where the sequence is, for ``restore``."""
        return self._rng.getstate() if self._rng is not None else None

    def restore(self, state: object) -> None:
        if state is None:
            self._rng = None
        else:
            self._rng = random.Random()
            self._rng.setstate(state)  # type: ignore[arg-type]

    def new(self) -> str:
        with self._rng_lock:
            if self.replay:
                new_id = self.replay.popleft()
            elif self._rng is None:
                at = self._random_at
                if at >= len(self._random):
                    self._random, at = os.urandom(RANDOM_READ_AHEAD).hex(), 0
                self._random_at = at + 32
                new_id = _uuid4_text(self._random[at : at + 32])
            else:
                new_id = _uuid4_text(f"{self._rng.getrandbits(128):032x}")
        issued = self.issued
        if issued is not None:
            issued.append(new_id)
        return new_id


def _forget_random(factory: weakref.ref[IdFactory]) -> None:
    """In a forked child: drop the randomness the parent read ahead (the parent uses it too)."""
    found = factory()
    if found is not None:
        found._random, found._random_at = "", 0


class Records(dict[str, Record]):
    """A family's records by ID, in creation order, that can also hand out a page by position.

    A plain dict would have to be walked up to the page asked for; this one keeps its keys in a
    list beside it, so a page anywhere costs the same as the first. Every way of adding or removing
    a key keeps the two in step (tests may write to it directly).
    """

    def __init__(self, items: Iterable[tuple[str, Record]] = ()) -> None:
        super().__init__()
        self._order: list[str] = []
        for key, value in items:
            self[key] = value

    def __setitem__(self, key: str, value: Record) -> None:
        if key not in self:
            self._order.append(key)
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._order.remove(key)

    def pop(self, key: str, *default: Any) -> Any:
        if key in self:
            self._order.remove(key)
        return super().pop(key, *default)

    def popitem(self) -> tuple[str, Record]:
        key, value = super().popitem()
        self._order.remove(key)
        return key, value

    def clear(self) -> None:
        super().clear()
        self._order.clear()

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def __ior__(self, other: Any) -> Records:  # type: ignore[override,misc]
        self.update(other)
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (list(self.items()),))

    def page(self, start: int, count: int, newest_first: bool) -> list[Record]:
        """``count`` records from position ``start``, newest or oldest first: O(count)."""
        order = self._order
        if newest_first:
            end = len(order) - start
            keys = order[max(0, end - count) : max(0, end)][::-1]
        else:
            keys = order[start : start + count]
        return [self[k] for k in keys]


@dataclass
class RunPolicy:
    """How runs behave: finish at once (default), take time on the mock's clock, or fail on purpose."""

    mode: Literal["immediate", "deferred"] = "immediate"
    start_after: float = 0.0  # seconds after creation a deferred run starts
    finish_after: float = 1.0  # seconds after creation a deferred run finishes
    outcome: Literal["success", "failure"] = "success"
    reason_code: str | None = None  # default: ok on success, critical on failure
    reason: str | None = None


# An index write a run makes when it finishes: index name, push action, records.
IndexWrite = tuple[str, str, list[Record]]


@dataclass(slots=True)
class RunMeta:
    """What the engine knows of a run beyond its API fields: its timeline, planned when it is
    created, and how it ends. Its events are published when it finishes."""

    created: float  # epoch seconds on the mock's clock
    start_at: float
    finish_at: float
    outcome: str | None  # success | failure; None: the run does no work (skipped)
    reason_code: str
    reason: str = ""
    # Index writes applied when the run finishes (if it succeeds); none once it has.
    pending: list[IndexWrite] = field(default_factory=list)


@dataclass(slots=True)
class TaskMeta:
    """What the engine knows of a task beyond its API fields."""

    trigger_type: str = "onDemand"  # onDemand | schedule | subscription | streaming
    blocked: bool = False  # by its policies.criticalThreshold, until it is enabled again
    critical_streak: int = 0  # critical failures in a row of its finished runs


@dataclass
class AccountMeta:
    """The metadata of an account's records, by record ID: apart from the records, so that the API
    view of a record is the record itself and the metadata is copied, saved and restored with it."""

    runs: dict[str, RunMeta] = field(default_factory=dict)  # runID -> its timeline
    tasks: dict[str, TaskMeta] = field(default_factory=dict)  # taskID -> trigger type, policy state
    # runID -> [the clock's reading, first poll (time.monotonic()), polls since]: a run polled while
    # the mock's clock is frozen before it finishes (not kept across restarts: monotonic readings)
    polls: dict[str, list[float]] = field(default_factory=dict)

    def task(self, task_id: str) -> TaskMeta:
        """A task's metadata, to write to (made when the task has none yet)."""
        found = self.tasks.get(task_id)
        if found is None:
            found = self.tasks[task_id] = TaskMeta()
        return found

    def trigger_type(self, task_id: str) -> str:
        """A task's trigger type (the default one for a task the engine did not make: a test's)."""
        found = self.tasks.get(task_id)
        return found.trigger_type if found is not None else TaskMeta().trigger_type

    def forget(self, record_id: str) -> None:
        """A record is gone: so is what was kept about it."""
        self.runs.pop(record_id, None)
        self.tasks.pop(record_id, None)
        self.polls.pop(record_id, None)


@dataclass
class SearchTasks:
    """The Search API's tasks of one application: every write through it answers a task ID.

    IDs are issued in order, one more each time (``last``: the newest issued, 0 for none). A task
    is published at once under the default run policy; under a deferred one it waits in
    ``pending`` (taskID -> epoch seconds on the mock's clock when it is published) until then. Every
    ID up to ``last`` not pending is published, so the published ones need no room of their own.
    """

    last: int = 0
    pending: dict[int, float] = field(default_factory=dict)


@dataclass
class Account:
    """One Algolia application's Ingestion resources, runs, events and fake indexes, and the Search
    API's state of those indexes (settings, synonyms, rules, tasks)."""

    app_id: str
    authentications: Records = field(default_factory=Records)
    destinations: Records = field(default_factory=Records)
    sources: Records = field(default_factory=Records)
    tasks: Records = field(default_factory=Records)
    transformations: Records = field(default_factory=Records)
    runs: dict[str, Record] = field(default_factory=dict)
    events: dict[str, dict[str, Record]] = field(default_factory=dict)  # runID -> eventID -> event
    meta: AccountMeta = field(default_factory=AccountMeta)  # what the engine keeps about the records
    # index name -> objectID -> record (an indexes.Index once written to; tests may put plain dicts)
    indexes: dict[str, MutableMapping[str, Record]] = field(default_factory=dict)
    # Records a source "holds": what a run of a task on that source fetches (tests set them).
    source_records: dict[str, list[Record]] = field(default_factory=dict)
    # What a URL serves, as text: a run of a JSON or CSV source on that URL parses it by the
    # source's format when no records are registered for the source itself.
    url_contents: dict[str, str] = field(default_factory=dict)
    # Notifications the service would send (a task blocked by its policies): taskID, runID,
    # createdAt, reason, message, criticalFailures, email (whether e-mail notifications are on).
    notifications: list[Record] = field(default_factory=list)
    # Runs whose status may still change, in creation order (those finishing together settle in it).
    unsettled_runs: dict[str, None] = field(default_factory=dict)
    # The Search API's state of each index beside its records (index name -> ...), each value
    # replaced, never edited in place, by a write (durability compares them by identity): settings
    # as setSettings takes them (API field names); synonyms and rules, objectID -> the object as
    # saved; an index's createdAt and updatedAt. An index exists when it is in ``indexes``.
    index_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    synonyms: dict[str, dict[str, Record]] = field(default_factory=dict)
    rules: dict[str, dict[str, Record]] = field(default_factory=dict)
    index_dates: dict[str, tuple[str, str]] = field(default_factory=dict)
    search_tasks: SearchTasks = field(default_factory=SearchTasks)
    # This application's own clock and run policy, once its tests steered them (None: the server's).
    clock: Clock | None = None
    run_policy: RunPolicy | None = None

    def stamp_index(self, name: str, when: str) -> None:
        """Index ``name`` was written at ``when`` (RFC 3339): its ``updatedAt``, and its
        ``createdAt`` when it had none (what listIndices shows)."""
        dates = self.index_dates.get(name)
        self.index_dates[name] = (dates[0] if dates is not None else when, when)

    def drop_index(self, name: str) -> None:
        """An index is gone: its records, settings, synonyms, rules and dates with it."""
        self.indexes.pop(name, None)
        self.index_settings.pop(name, None)
        self.synonyms.pop(name, None)
        self.rules.pop(name, None)
        self.index_dates.pop(name, None)

    def family(self, name: str) -> dict[str, Record]:
        records: dict[str, Record] = getattr(self, name)
        return records

    def remove(self, family: str, record_id: str) -> None:
        """Delete a record of ``family`` and its metadata."""
        del self.family(family)[record_id]
        self.meta.forget(record_id)

    def counts(self) -> dict[str, int]:
        """How many resources of each family, runs and fake indexes this application holds."""
        counts = {name: len(self.family(name)) for name in FAMILIES}
        return {
            **counts,
            "runs": len(self.runs),
            "indexes": len(self.indexes),
            "synonyms": sum(map(len, self.synonyms.values())),
            "rules": sum(map(len, self.rules.values())),
        }


class AppLock:
    """An application's lock and how many requests hold it or wait for it."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = _RLock()
        self.users = 0


class AppLockHold:
    """``Store.app_lock``'s context manager: counts itself among the lock's users and holds the
    lock for the ``with`` block; the last user to leave forgets the lock.

    A class, not a ``@contextmanager`` generator: every API request enters one, and the generator's
    machinery (four Python calls more) was a measurable part of a ``getSource``."""

    __slots__ = ("_app_id", "_held", "_store")

    def __init__(self, store: Store, app_id: str) -> None:
        self._store = store
        self._app_id = app_id
        self._held: AppLock | None = None

    def __enter__(self) -> None:
        store, app_id = self._store, self._app_id
        with store._app_locks_guard:
            held = store.app_locks.get(app_id)
            if held is None:
                held = store.app_locks[app_id] = AppLock()
            held.users += 1
        self._held = held
        try:
            held.lock.acquire()
        except BaseException:
            self._leave(held)
            raise

    def __exit__(self, *exc: object) -> None:
        held = self._held
        assert held is not None
        try:
            held.lock.release()
        finally:
            store = self._store
            with store._app_locks_guard:  # (_leave, written out: every request passes here)
                held.users -= 1
                if held.users == 0:
                    del store.app_locks[self._app_id]

    def _leave(self, held: AppLock) -> None:
        store = self._store
        with store._app_locks_guard:
            held.users -= 1
            if held.users == 0:
                del store.app_locks[self._app_id]


class Store:
    """The one place state lives. Handlers mutate it under ``lock``; tests read it directly."""

    def __init__(self, clock: Clock | None = None, seed: int | None = None) -> None:
        self.clock = clock or Clock()
        self.ids = IdFactory(seed)
        self.lock = threading.RLock()  # the store's: held by whatever reads or writes state
        # One lock per application, taken before ``lock`` by the engine: a request may let go of
        # ``lock`` while it runs transformations, and only its own application waits for it. A lock
        # is kept only while a request holds it or waits for it: an application ID that was refused
        # (or one never seen again) leaves nothing behind.
        self.app_locks: dict[str, AppLock] = {}
        self._app_locks_guard = threading.Lock()
        self.accounts: dict[str, Account] = {}
        self.run_policy = RunPolicy()
        self.on_new_account: Callable[[Account], None] | None = None  # e.g. seed a default data set
        # The push bodies' texts the indexes keep for their records, bounded in bytes (indexes.py)
        self.pushed_texts = PushedTexts()

    def app_lock(self, app_id: str) -> AppLockHold:
        """Hold ``app_id``'s lock (re-entrant) for the ``with`` block."""
        return AppLockHold(self, app_id)

    def app_busy(self, app_id: str) -> bool:
        """Whether a request of ``app_id`` holds its lock or waits for it (a glance, not a promise)."""
        return app_id in self.app_locks

    def clock_of(self, account: Account | None) -> Clock:
        """The clock an application's requests see: its own once steered, else the server's."""
        return account.clock if account is not None and account.clock is not None else self.clock

    def policy_of(self, account: Account | None) -> RunPolicy:
        """How an application's runs behave: its own policy once set, else the server's."""
        if account is not None and account.run_policy is not None:
            return account.run_policy
        return self.run_policy

    def account(self, app_id: str) -> Account:
        found = self.accounts.get(app_id)
        if found is None:
            found = self.accounts[app_id] = Account(app_id)
            if self.on_new_account is not None:
                self.on_new_account(found)
        return found

    def reset(self, app_id: str | None = None, seed: int | None = None) -> None:
        """Forget everything (or one application's data); optionally reseed the ID sequence."""
        with self.lock:
            if app_id is None:
                self.accounts = {}
            else:
                self.accounts.pop(app_id, None)
            if seed is not None:
                self.ids.seed(seed)
