"""The example project README's examples call is real code: each function does what its name says."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from .readme import EXAMPLE_PROJECT

FAILED_TASK = "0b1b2c3d-0000-4000-8000-000000000402"  # run_history: its reindex run failed


@pytest.fixture
def myproject(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    monkeypatch.syspath_prepend(str(EXAMPLE_PROJECT))
    for module in ("my_wrapper", "runs", "sync"):
        importlib.import_module(f"myproject.{module}")
    yield importlib.import_module("myproject")
    for name in [m for m in sys.modules if m == "myproject" or m.startswith("myproject.")]:
        monkeypatch.delitem(sys.modules, name)


@pytest.mark.ingestion_mock(fixtures="run_history", clock="2026-01-02T00:00:00Z")
def test_rerun_failed_tasks_reruns_the_task_of_each_failed_run(
    myproject: Any, ingestion_client: Any, ingestion_mock: Any
) -> None:
    started = myproject.runs.rerun_failed_tasks(ingestion_client)
    assert len(started) == 1
    ingestion_mock.journal.assert_called("listRuns", query={"status": "finished"})
    ingestion_mock.journal.assert_called("runTask", times=1, path_params={"taskID": FAILED_TASK})
    assert ingestion_mock.journal.call_count("runTask") == 1
    ingestion_mock.journal.assert_order(["listRuns", "runTask"])


def test_rerun_failed_tasks_does_nothing_without_failures(
    myproject: Any, ingestion_client: Any, ingestion_mock: Any
) -> None:
    assert myproject.runs.rerun_failed_tasks(ingestion_client) == []
    ingestion_mock.journal.assert_called("runTask", times=0)


def test_sync_catalogue_reuses_an_existing_pipeline(
    myproject: Any, ingestion_client: Any, ingestion_mock: Any
) -> None:
    assert myproject.sync.sync_catalogue(ingestion_client, index_name="products") == 2
    assert myproject.sync.sync_catalogue(ingestion_client, index_name="products") == 2
    ingestion_mock.journal.assert_called("createTask", times=1)
    assert {r["objectID"] for r in ingestion_mock.index("products")} == {"sku-1", "sku-2"}


def test_my_wrapper_builds_and_explains_source_payloads(myproject: Any) -> None:
    wrapper = myproject.my_wrapper
    good = {"type": "json", "name": "feed", "input": {"url": "https://example.com/feed.json"}}
    assert wrapper.source_from(good).type == "json"
    assert wrapper.explain(good) == ""
    assert "url" in wrapper.explain({"type": "json", "name": "feed", "input": {}})
