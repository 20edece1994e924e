"""The store: reproducible IDs once seeded, one account per application, resets; records, their
metadata apart, and the one view of a record."""

from __future__ import annotations

import copy
import os
import threading
import uuid

from mockserver import Account, Clock, Store
from mockserver.engine.store import RANDOM_READ_AHEAD, AccountMeta, IdFactory, RunMeta, TaskMeta, api_view


def take(factory: IdFactory, n: int) -> list[str]:
    return [factory.new() for _ in range(n)]


def test_seeded_ids_are_reproducible() -> None:
    assert take(IdFactory(42), 20) == take(IdFactory(42), 20)


def test_different_seeds_give_different_ids() -> None:
    assert take(IdFactory(1), 5) != take(IdFactory(2), 5)


def test_ids_are_version_4_uuids() -> None:
    for factory in (IdFactory(7), IdFactory()):
        for text in take(factory, 50):
            parsed = uuid.UUID(text)
            assert parsed.version == 4
            assert parsed.variant == uuid.RFC_4122
            assert str(parsed) == text


def test_ids_do_not_repeat() -> None:
    assert len(set(take(IdFactory(3), 1000))) == 1000
    assert len(set(take(IdFactory(), 1000))) == 1000


def test_unseeded_factories_differ() -> None:
    assert take(IdFactory(), 3) != take(IdFactory(), 3)


def test_random_ids_span_many_reads_of_the_os_randomness() -> None:
    """The OS's randomness is read ahead, 256 IDs at a time: IDs across the reads never repeat."""
    factory = IdFactory()
    ids = take(factory, 3 * RANDOM_READ_AHEAD // 16 + 5)
    assert len(set(ids)) == len(ids)


def test_a_forked_child_never_hands_out_its_parents_ids() -> None:
    """A child forked with randomness read ahead forgets it: parent and child make different IDs."""
    factory = IdFactory()
    factory.new()  # the read-ahead is full now
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next IDs, to the parent, and out
        os.close(reader)
        os.write(writer, " ".join(take(factory, 3)).encode())
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        child = pipe.read().decode().split()
    os.waitpid(pid, 0)
    assert len(child) == 3
    assert not set(child) & set(take(factory, 3))


def test_reseeding_restarts_the_sequence() -> None:
    factory = IdFactory(5)
    first = take(factory, 3)
    take(factory, 10)
    factory.seed(5)
    assert take(factory, 3) == first


def test_seed_none_goes_back_to_random() -> None:
    factory = IdFactory(5)
    factory.seed(None)
    assert take(factory, 3) != take(IdFactory(5), 3)


def test_store_seed_makes_ids_reproducible() -> None:
    assert take(Store(seed=1234).ids, 5) == take(Store(seed=1234).ids, 5)


def test_one_account_per_application() -> None:
    store = Store()
    a = store.account("A")
    assert isinstance(a, Account)
    assert a.app_id == "A"
    assert store.account("A") is a
    b = store.account("B")
    assert b is not a
    assert set(store.accounts) == {"A", "B"}
    a.sources["s1"] = {"sourceID": "s1"}
    assert b.sources == {}
    assert a.family("sources") is a.sources


def fill(store: Store, *app_ids: str) -> None:
    for app_id in app_ids:
        store.account(app_id).sources["s"] = {"sourceID": "s"}


def test_reset_forgets_everything() -> None:
    store = Store()
    fill(store, "A", "B")
    store.reset()
    assert store.accounts == {}
    assert store.account("A").sources == {}


def test_reset_one_application_keeps_the_others() -> None:
    store = Store()
    fill(store, "A", "B")
    store.reset("A")
    assert set(store.accounts) == {"B"}
    assert store.accounts["B"].sources == {"s": {"sourceID": "s"}}
    store.reset("never-seen")
    assert set(store.accounts) == {"B"}


def test_reset_with_a_seed_reseeds_ids() -> None:
    store = Store(seed=9)
    first = take(store.ids, 3)
    fill(store, "A")
    store.reset(seed=9)
    assert store.accounts == {}
    assert take(store.ids, 3) == first


def test_reset_without_a_seed_keeps_the_sequence_going() -> None:
    store = Store(seed=9)
    first = take(store.ids, 3)
    store.reset()
    after = take(store.ids, 3)
    assert after != first
    assert after == take(Store(seed=9).ids, 6)[3:]


def test_store_uses_the_given_clock() -> None:
    clock = Clock()
    assert Store(clock=clock).clock is clock
    assert isinstance(Store().clock, Clock)


def test_seeded_ids_are_the_uuids_the_seed_always_gave() -> None:
    """IDs of a seed stay what they were when the uuid module made them (saved data sets and tests
    that quote an ID keep working)."""
    import random

    rng = random.Random(7)
    expected = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(200)]
    ids = IdFactory(seed=7)
    assert [ids.new() for _ in range(200)] == expected


# --- records and their metadata ------------------------------------------------------------------


def test_api_view_is_a_copy_of_the_records_fields() -> None:
    record = {"runID": "r", "status": "created", "progress": {"expectedNbOfEvents": 1}}
    shown = api_view(record)
    assert shown == record and shown is not record
    shown["status"] = "finished"
    assert record["status"] == "created"  # a view never writes to the store


def test_api_view_keeps_only_the_named_fields_in_the_records_order() -> None:
    record = {"taskID": "t", "secret": "s", "enabled": True, "createdAt": "c"}
    assert list(api_view(record, frozenset({"createdAt", "taskID", "nextRun"}))) == ["taskID", "createdAt"]
    assert api_view(record, frozenset()) == record  # a schema naming no field: every field


def test_a_records_metadata_is_kept_apart_and_goes_with_it() -> None:
    account = Account("A")
    account.tasks["t"] = {"taskID": "t", "enabled": True}
    account.meta.tasks["t"] = TaskMeta("streaming", blocked=True, critical_streak=3)
    account.runs["r"] = {"runID": "r", "taskID": "t", "status": "created"}
    account.meta.runs["r"] = RunMeta(1.0, 2.0, 3.0, "success", "ok")
    account.meta.polls["r"] = [3.0, 4.0, 1]
    assert account.meta.trigger_type("t") == "streaming"
    copied = copy.deepcopy(account)
    assert copied == account and copied.meta is not account.meta
    account.remove("tasks", "t")
    assert "t" not in account.tasks and "t" not in account.meta.tasks
    assert copied.meta.tasks["t"].blocked  # the copy kept its own
    account.meta.forget("r")
    account.meta.forget("e")
    assert account.meta == AccountMeta()


def test_a_task_the_engine_did_not_make_reads_as_on_demand_until_written_to() -> None:
    meta = AccountMeta()
    assert meta.trigger_type("made-by-a-test") == "onDemand"
    assert meta.tasks == {}  # reading made nothing
    meta.task("made-by-a-test").critical_streak += 1
    assert meta.tasks == {"made-by-a-test": TaskMeta(critical_streak=1)}
    assert meta.task("made-by-a-test") is meta.tasks["made-by-a-test"]


def test_an_application_lock_is_reentrant_kept_while_held_and_forgotten_after() -> None:
    store = Store()
    assert not store.app_busy("A")
    with store.app_lock("A"):
        assert store.app_busy("A") and not store.app_busy("B")
        with store.app_lock("A"):  # re-entrant: the same thread takes it again
            assert store.app_locks["A"].users == 2
        assert store.app_locks["A"].users == 1
    assert store.app_locks == {}


def test_an_application_lock_is_let_go_when_its_block_raises() -> None:
    store = Store()
    try:
        with store.app_lock("A"):
            raise KeyError("boom")
    except KeyError:
        pass
    assert store.app_locks == {}
    taken: list[bool] = []

    def other() -> None:
        with store.app_lock("A"):
            taken.append(True)

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert taken == [True] and store.app_locks == {}
