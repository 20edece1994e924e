"""Whole workflows through the real algoliasearch clients (sync and async) against the live mock."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from algoliasearch.http.hosts import Host, HostsCollection
from algoliasearch.ingestion.client import IngestionClient, IngestionClientSync
from algoliasearch.ingestion.config import IngestionConfig
from algoliasearch.ingestion.models.action import Action
from algoliasearch.ingestion.models.run_list_response import RunListResponse
from algoliasearch.ingestion.models.watch_response import WatchResponse

from mockserver.engine.store import RunPolicy
from mockserver.http.app import MockApp
from mockserver.http.live_server import LiveServer
from tests.conftest import API_KEY, APP_ID

NB_RECORDS = 10_000
BATCH_SIZE = 1000


def product(i: int) -> dict[str, Any]:
    return {
        "objectID": f"sku-{i:05d}",
        "name": f"Product {i}",
        "price": round(i * 1.25, 2),
        "inStock": i % 3 != 0,
        "tags": [f"t{i % 7}", f"t{i % 11}"],
        "dimensions": {"w": i % 100, "h": (i * 7) % 100},
    }


def products(n: int = NB_RECORDS) -> Iterator[dict[str, Any]]:
    """A generator: chunked_push accepts any iterable."""
    return (product(i) for i in range(n))


def _index(live_app: MockApp, name: str) -> dict[str, dict[str, Any]]:
    return dict(live_app.store.account(APP_ID).indexes[name])


def _push_setup(ingestion: IngestionClientSync, index_name: str = "products") -> str:
    """A push source, a destination on ``index_name`` and the task linking them; the task's ID."""
    source_id = ingestion.create_source({"type": "push", "name": "push"}).source_id
    destination_id = ingestion.create_destination(
        {"type": "search", "name": index_name, "input": {"indexName": index_name}}
    ).destination_id
    task_id: str = ingestion.create_task(
        {"sourceID": source_id, "destinationID": destination_id, "action": "save"}
    ).task_id
    return task_id


def _check_pushed(
    live_app: MockApp, responses: list[WatchResponse], runs: RunListResponse, task_id: str
) -> None:
    assert len(responses) == NB_RECORDS // BATCH_SIZE
    assert all(r.event_id for r in responses)

    index = _index(live_app, "products")
    assert len(index) == NB_RECORDS
    for i in (0, 1, 4999, 9998, 9999):
        assert index[f"sku-{i:05d}"] == product(i)
    assert index == {p["objectID"]: p for p in products()}

    assert runs.pagination.nb_items == NB_RECORDS // BATCH_SIZE
    assert len(runs.runs) == NB_RECORDS // BATCH_SIZE
    assert {r.run_id for r in runs.runs} == {r.run_id for r in responses}
    for run in runs.runs:
        assert run.task_id == task_id
        assert run.type == "push"
        assert run.status == "finished"
        assert run.outcome == "success"


# ---------------------------------------------------------------------------------------------
# (a) source -> destination -> task -> run -> events


def test_task_run_to_events(ingestion: IngestionClientSync, live_app: MockApp) -> None:
    source = ingestion.create_source(
        {"type": "json", "name": "catalog", "input": {"url": "https://example.com/catalog.json"}}
    )
    destination = ingestion.create_destination(
        {"type": "search", "name": "catalog", "input": {"indexName": "catalog"}}
    )
    task = ingestion.create_task(
        {"sourceID": source.source_id, "destinationID": destination.destination_id, "action": "replace"}
    )
    held = [product(i) for i in range(2500)]
    live_app.store.account(APP_ID).source_records[source.source_id] = held  # what the feed serves

    started = ingestion.run_task(task.task_id)
    run = ingestion.get_run(started.run_id)
    assert run.run_id == started.run_id
    assert run.task_id == task.task_id
    assert run.type == "reindex"
    assert run.status == "finished"
    assert run.outcome == "success"
    assert run.reason_code == "ok"
    assert run.finished_at

    events = ingestion.list_events(started.run_id, sort="publishedAt", order="asc")
    assert events.pagination.nb_items == len(events.events) > 0
    assert [e.type for e in events.events] == ["fetch", "record", "record", "record"]
    assert [e.batch_size for e in events.events if e.type == "record"] == [1000, 1000, 500]
    assert all(e.status == "succeeded" and e.run_id == started.run_id for e in events.events)
    for event in events.events:
        assert ingestion.get_event(started.run_id, event.event_id) == event

    assert _index(live_app, "catalog") == {p["objectID"]: p for p in held}
    runs = ingestion.list_runs(task_id=task.task_id)
    assert [r.run_id for r in runs.runs] == [started.run_id]
    assert ingestion.get_task(task.task_id).last_run == run.created_at


# ---------------------------------------------------------------------------------------------
# (b) chunked_push with the sync client


def test_chunked_push_10k_records(ingestion: IngestionClientSync, live_app: MockApp) -> None:
    task_id = _push_setup(ingestion)
    responses = ingestion.chunked_push(
        "products", products(), action=Action.ADDOBJECT, wait_for_tasks=True, batch_size=BATCH_SIZE
    )
    runs = ingestion.list_runs(type=["push"], task_id=task_id, items_per_page=100)
    _check_pushed(live_app, responses, runs, task_id)
    for response in responses[:2]:
        assert response.event_id is not None
        event = ingestion.get_event(response.run_id, response.event_id)
        assert event.type == "record"
        assert event.batch_size == BATCH_SIZE


def test_chunked_push_then_partial_update_and_delete(
    ingestion: IngestionClientSync, live_app: MockApp
) -> None:
    _push_setup(ingestion)
    ingestion.chunked_push("products", products(2500), wait_for_tasks=True)
    ingestion.chunked_push(
        "products",
        ({"objectID": f"sku-{i:05d}", "price": 0} for i in range(0, 2500, 2)),
        action=Action.PARTIALUPDATEOBJECT,
        wait_for_tasks=True,
    )
    ingestion.chunked_push(
        "products",
        ({"objectID": f"sku-{i:05d}"} for i in range(2000, 2500)),
        action=Action.DELETEOBJECT,
        wait_for_tasks=True,
    )
    index = _index(live_app, "products")
    assert len(index) == 2000
    assert index["sku-00000"] == {**product(0), "price": 0}
    assert index["sku-00001"] == product(1)
    assert "sku-02000" not in index


def test_chunked_push_waits_for_runs_that_take_time(
    ingestion: IngestionClientSync, live_app: MockApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deferred runs: the events 404 until the run finishes; chunked_push polls until they appear."""
    monkeypatch.setattr(live_app.store, "run_policy", RunPolicy(mode="deferred", finish_after=0.5))
    task_id = _push_setup(ingestion)
    responses = ingestion.chunked_push("products", products(300), wait_for_tasks=True, batch_size=100)
    assert len(responses) == 3
    runs = ingestion.list_runs(task_id=task_id)
    assert [r.status for r in runs.runs] == ["finished"] * 3
    assert len(_index(live_app, "products")) == 300


def test_a_frozen_clock_with_deferred_runs_fails_the_wait_within_seconds(
    ingestion: IngestionClientSync, live_app: MockApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run could never finish: instead of polling for minutes, the client is told why."""
    import time

    from algoliasearch.http.exceptions import RequestException

    from mockserver import Clock

    monkeypatch.setattr(live_app.store, "run_policy", RunPolicy(mode="deferred", finish_after=5))
    frozen = Clock()
    frozen.freeze()
    monkeypatch.setattr(live_app.store, "clock", frozen)
    _push_setup(ingestion)
    started = time.monotonic()
    with pytest.raises(RequestException) as raised:
        ingestion.chunked_push("products", products(10), wait_for_tasks=True)
    assert time.monotonic() - started < 30
    assert raised.value.status_code == 400
    assert "the mock's clock is frozen" in str(raised.value)
    assert "set_clock(advance=5)" in str(raised.value)


def test_chunked_push_into_failing_runs(
    ingestion: IngestionClientSync, live_app: MockApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed run still publishes its (failed) event: chunked_push returns, nothing lands."""
    monkeypatch.setattr(live_app.store, "run_policy", RunPolicy(outcome="failure", reason="quota"))
    task_id = _push_setup(ingestion)
    responses = ingestion.chunked_push("products", products(2000), wait_for_tasks=True)
    assert len(responses) == 2
    for response in responses:
        run = ingestion.get_run(response.run_id)
        assert run.outcome == "failure"
        assert run.reason == "quota"
        assert response.event_id is not None
        assert ingestion.get_event(response.run_id, response.event_id).status == "failed"
    assert ingestion.list_runs(task_id=task_id, status=["finished"]).pagination.nb_items == 2
    assert "products" not in live_app.store.account(APP_ID).indexes


# ---------------------------------------------------------------------------------------------
# (c) chunked_push with the async client


async def _async_chunked_push(live: LiveServer) -> tuple[list[WatchResponse], RunListResponse, str]:
    config = IngestionConfig(APP_ID, API_KEY, "us")
    config.hosts = HostsCollection([Host(live.host, scheme="http", port=live.port)])
    async with IngestionClient.create_with_config(config) as client:
        source = await client.create_source({"type": "push", "name": "push"})
        destination = await client.create_destination(
            {"type": "search", "name": "products", "input": {"indexName": "products"}}
        )
        task = await client.create_task(
            {"sourceID": source.source_id, "destinationID": destination.destination_id, "action": "save"}
        )
        responses = await client.chunked_push(
            "products", products(), action=Action.ADDOBJECT, wait_for_tasks=True, batch_size=BATCH_SIZE
        )
        runs = await client.list_runs(type=["push"], task_id=task.task_id, items_per_page=100)
        return responses, runs, task.task_id


def test_chunked_push_10k_records_async_client(live: LiveServer, live_app: MockApp) -> None:
    responses, runs, task_id = asyncio.run(_async_chunked_push(live))
    _check_pushed(live_app, responses, runs, task_id)
