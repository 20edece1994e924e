"""Search tasks: IDs in order per application, published at once or when the run policy says."""

from __future__ import annotations

import pytest

from mockserver.engine.errors import NotFound
from mockserver.engine.store import RunPolicy, Store
from mockserver.resources import search_tasks
from tests.search.handler_kit import call


def status(store: Store, task_id: int, app_id: str = "APP") -> str:
    answer = call(search_tasks.get_index_task, store, app_id, path={"indexName": "x", "taskID": task_id})
    assert call(search_tasks.get_app_task, store, app_id, path={"taskID": task_id}) == answer
    return str(answer["status"])


def test_tasks_are_numbered_per_application_and_published_at_once_by_default() -> None:
    store = Store()
    first = call(lambda ctx: search_tasks.new_task(ctx, "products"), store)
    second = call(lambda ctx: search_tasks.new_task(ctx, "products"), store)
    other = call(lambda ctx: search_tasks.new_task(ctx, "products"), store, "OTHER")
    assert (first, second, other) == ({"taskID": 1}, {"taskID": 2}, {"taskID": 1})
    assert status(store, 2) == "published"
    assert store.accounts["APP"].search_tasks.pending == {}


def test_a_task_never_issued_is_a_404_naming_it() -> None:
    store = Store()
    call(lambda ctx: search_tasks.new_task(ctx, "products"), store)
    with pytest.raises(NotFound) as raised:
        status(store, 2)
    assert raised.value.message == "Task 2 does not exist"
    assert "IDs 1 to 1" in str(raised.value.detail)
    with pytest.raises(NotFound):
        status(store, 1, "OTHER")  # another application's task is not this one's
    with pytest.raises(NotFound) as by_app:
        call(search_tasks.get_app_task, store, path={"taskID": 2})
    assert by_app.value.message == "Task 2 does not exist"


def test_under_a_deferred_policy_a_task_waits_for_the_mock_clock() -> None:
    store = Store()
    store.clock.freeze(store.clock.now())
    store.run_policy = RunPolicy(mode="deferred", start_after=1, finish_after=30)
    task = call(lambda ctx: search_tasks.new_task(ctx, "products"), store)["taskID"]
    assert status(store, task) == "notPublished"
    store.clock.advance(29)
    assert status(store, task) == "notPublished"
    store.clock.advance(1)
    assert status(store, task) == "published"
    store.run_policy = RunPolicy()
    call(lambda ctx: search_tasks.new_task(ctx, "products"), store)
    assert store.accounts["APP"].search_tasks.pending == {}  # the published one is forgotten


def test_a_write_stamps_the_index_it_leaves_in_place() -> None:
    store = Store()
    store.clock.freeze(store.clock.now())
    account = store.account("APP")
    account.indexes["products"] = {}
    call(lambda ctx: search_tasks.new_task(ctx, "products"), store)
    created, updated = account.index_dates["products"]
    store.clock.advance(5)
    call(lambda ctx: search_tasks.new_task(ctx, "products"), store)
    call(lambda ctx: search_tasks.new_task(ctx, "gone"), store)
    assert account.index_dates["products"][0] == created
    assert account.index_dates["products"][1] > updated
    assert "gone" not in account.index_dates
