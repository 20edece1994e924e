"""The official Python client's helpers end to end, Search and Ingestion together (issue 23, item 4).

Each test runs against three mocks, with the real ``algoliasearch`` client, unchanged:

- ``fixtures``: the plugin's ``search_client`` / ``ingestion_client`` (the in-process mock served by a
  thread on 127.0.0.1);
- ``intercepted``: clients built as production code builds them (``SearchClientSync("app", "key",
  ...)``), answered in process under ``algolia_intercept``;
- ``served``: ``mockserver serve`` in its own process, clients pointed at it.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from algoliasearch.http.hosts import Host, HostsCollection
from algoliasearch.ingestion.client import IngestionClient, IngestionClientSync
from algoliasearch.ingestion.config import IngestionConfig
from algoliasearch.search.client import SearchClient, SearchClientSync
from algoliasearch.search.config import SearchConfig, TransformationOptions
from algoliasearch.search.models.action import Action
from algoliasearch.search.models.browse_params_object import BrowseParamsObject

from tests.serve.conftest import Served, start_mockserver

TARGETS = ("fixtures", "intercepted", "served")
PRODUCTS = [
    {"objectID": "sku-1", "name": "Trail shoe", "brand": "Peak", "price": 89},
    {"objectID": "sku-2", "name": "Rain jacket", "brand": "Peak", "price": 129},
    {"objectID": "sku-3", "name": "Wool socks", "brand": "Knit", "price": 12},
]


@dataclass
class Target:
    """One mock and the official clients pointed at it."""

    name: str
    search: SearchClientSync
    ingestion: IngestionClientSync

    def push_connector(self, index_name: str) -> None:
        """What the transformation helpers need first (the service's documented setup): a push
        source, a destination on the index and a task linking them."""
        source = self.ingestion.create_source({"type": "push", "name": f"push {index_name}"}).source_id
        destination = self.ingestion.create_destination(
            {"type": "search", "name": index_name, "input": {"indexName": index_name}}
        ).destination_id
        self.ingestion.create_task({"sourceID": source, "destinationID": destination, "action": "save"})

    def records(self, index_name: str) -> list[dict[str, Any]]:
        """Every record of an index, read back through the Search API's browse helper."""
        found: list[dict[str, Any]] = []
        self.search.browse_objects(index_name, lambda page: found.extend(h.to_dict() for h in page.hits))
        return sorted(found, key=lambda r: str(r["objectID"]))

    def index_names(self) -> set[str]:
        return {i.name for i in self.search.list_indices().items}


def _pointed(url: str) -> tuple[SearchConfig, IngestionConfig]:
    host, port = url.removeprefix("http://").rsplit(":", 1)

    def hosts() -> HostsCollection:
        return HostsCollection([Host(host, scheme="http", port=int(port))])

    search = SearchConfig("SERVEAPP", "serve-api-key", TransformationOptions("us", hosts=hosts()))
    search.hosts = hosts()
    ingestion = IngestionConfig("SERVEAPP", "serve-api-key", "us")
    ingestion.hosts = hosts()
    return search, ingestion


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    server = start_mockserver([], tmp_path_factory.mktemp("served") / "mockserver.stderr")
    try:
        yield server
    finally:
        server.stop(signal.SIGTERM)


@pytest.fixture(params=TARGETS)
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    if request.param == "fixtures":
        yield Target(
            "fixtures", request.getfixturevalue("search_client"), request.getfixturevalue("ingestion_client")
        )
    elif request.param == "intercepted":
        request.getfixturevalue("algolia_intercept")
        config = SearchConfig("app", "key", TransformationOptions("eu"))
        with (
            SearchClientSync.create_with_config(config) as search,
            IngestionClientSync("app", "key", "eu") as ingestion,
        ):
            yield Target("intercepted", search, ingestion)
    else:
        server: Served = request.getfixturevalue("served")
        with server.control() as control:
            control.post("/__mock__/reset").raise_for_status()
        search_config, ingestion_config = _pointed(server.url)
        with (
            SearchClientSync.create_with_config(search_config) as search,
            IngestionClientSync.create_with_config(ingestion_config) as ingestion,
        ):
            yield Target("served", search, ingestion)


def _object(target: Target, index_name: str, object_id: str) -> dict[str, Any]:
    found = target.search.get_object(index_name, object_id)
    assert isinstance(found, dict), found
    return found


def _ids(records: list[dict[str, Any]]) -> list[str]:
    return [str(r["objectID"]) for r in records]


# --- writing through the Search API -------------------------------------------------------------


def test_save_objects_then_read_back(target: Target) -> None:
    responses = target.search.save_objects("products", PRODUCTS, wait_for_tasks=True)
    assert len(responses) == 1 and responses[0].object_ids == _ids(PRODUCTS)
    assert _object(target, "products", "sku-2") == PRODUCTS[1]
    found = target.search.search_single_index("products", {"query": "jacket"})
    assert found.nb_hits == 1 and found.hits[0].object_id == "sku-2"
    assert target.search.index_exists("products") is True
    assert target.search.index_exists("nothing") is False


def test_chunked_batch_sends_one_batch_per_chunk(target: Target) -> None:
    responses = target.search.chunked_batch(
        "products", PRODUCTS, action=Action.ADDOBJECT, wait_for_tasks=True, batch_size=2
    )
    assert [r.object_ids for r in responses] == [["sku-1", "sku-2"], ["sku-3"]]
    assert len({r.task_id for r in responses}) == 2
    assert target.records("products") == PRODUCTS


def test_partial_update_objects_with_and_without_create(target: Target) -> None:
    target.search.save_objects("products", PRODUCTS, wait_for_tasks=True)
    target.search.partial_update_objects(
        "products",
        [{"objectID": "sku-1", "price": 79}, {"objectID": "sku-9", "name": "Tent"}],
        wait_for_tasks=True,
    )
    assert _object(target, "products", "sku-1")["price"] == 79
    assert "sku-9" not in _ids(target.records("products"))  # not created without create_if_not_exists
    target.search.partial_update_objects(
        "products", [{"objectID": "sku-9", "name": "Tent"}], create_if_not_exists=True, wait_for_tasks=True
    )
    assert _object(target, "products", "sku-9") == {"objectID": "sku-9", "name": "Tent"}


def test_delete_objects(target: Target) -> None:
    target.search.save_objects("products", PRODUCTS, wait_for_tasks=True)
    target.search.delete_objects("products", ["sku-1", "sku-3"], wait_for_tasks=True)
    assert _ids(target.records("products")) == ["sku-2"]


def test_replace_all_objects_keeps_settings_and_leaves_no_temporary_index(target: Target) -> None:
    target.search.save_objects("products", PRODUCTS, wait_for_tasks=True)
    settings = target.search.set_settings("products", {"searchableAttributes": ["name"]})
    target.search.wait_for_task("products", settings.task_id)
    replacement = [{"objectID": "sku-7", "name": "Headlamp"}]
    answer = target.search.replace_all_objects("products", replacement, batch_size=1)
    assert answer.move_operation_response.task_id
    assert target.records("products") == replacement
    assert target.index_names() == {"products"}
    assert target.search.get_settings("products").searchable_attributes == ["name"]


def test_browse_objects_follows_the_cursor(target: Target) -> None:
    many = [{"objectID": f"r-{n:03d}", "n": n} for n in range(25)]
    target.search.save_objects("records", many, wait_for_tasks=True)
    pages: list[int] = []
    target.search.browse_objects(
        "records", lambda page: pages.append(len(page.hits)), BrowseParamsObject(hits_per_page=10)
    )
    assert pages == [10, 10, 5]
    assert target.records("records") == many


def test_wait_for_task_and_wait_for_app_task(target: Target) -> None:
    (saved,) = target.search.save_objects("products", PRODUCTS[:1])
    assert target.search.wait_for_task("products", saved.task_id).status == "published"
    assert target.search.wait_for_app_task(saved.task_id).status == "published"


# --- the helpers that cross into the Ingestion API ----------------------------------------------


def test_save_objects_with_transformation_is_readable_through_search(target: Target) -> None:
    target.push_connector("products")
    target.search.save_objects_with_transformation("products", PRODUCTS, wait_for_tasks=True)
    assert _object(target, "products", "sku-3") == PRODUCTS[2]
    assert target.search.search_single_index("products", {"query": "peak"}).nb_hits == 2


def test_partial_update_objects_with_transformation(target: Target) -> None:
    target.push_connector("products")
    target.search.save_objects("products", PRODUCTS, wait_for_tasks=True)
    target.search.partial_update_objects_with_transformation(
        "products", [{"objectID": "sku-2", "price": 99}], wait_for_tasks=True
    )
    assert _object(target, "products", "sku-2") == {**PRODUCTS[1], "price": 99}


def test_replace_all_objects_with_transformation(target: Target) -> None:
    target.push_connector("products")
    target.search.save_objects("products", PRODUCTS, wait_for_tasks=True)
    replacement = [{"objectID": "sku-8", "name": "Stove"}, {"objectID": "sku-9", "name": "Tent"}]
    answer = target.search.replace_all_objects_with_transformation("products", replacement, batch_size=1)
    assert len(answer.watch_responses) == 2
    assert target.records("products") == replacement
    assert target.index_names() == {"products"}


# --- reading what Ingestion pushed, the other way round -----------------------------------------


def test_a_push_through_ingestion_is_read_through_search_and_back(target: Target) -> None:
    target.push_connector("products")
    target.ingestion.push("products", {"action": "addObject", "records": PRODUCTS[:2]}, watch=True)
    assert _ids(target.records("products")) == ["sku-1", "sku-2"]
    target.search.delete_objects("products", ["sku-1"], wait_for_tasks=True)
    target.ingestion.push(
        "products", {"action": "partialUpdateObject", "records": [{"objectID": "sku-2", "price": 1}]}
    )
    assert _object(target, "products", "sku-2")["price"] == 1
    assert _ids(target.records("products")) == ["sku-2"]


# --- the async client, and tasks that take time ---------------------------------------------------


def test_the_async_client_replaces_all_objects_with_transformation(algolia_intercept: Any) -> None:
    async def main() -> list[str]:
        config = SearchConfig("app", "key", TransformationOptions("eu"))
        async with (
            SearchClient.create_with_config(config) as search,
            IngestionClient("app", "key", "eu") as ingestion,
        ):
            source = (await ingestion.create_source({"type": "push", "name": "p"})).source_id
            destination = (
                await ingestion.create_destination(
                    {"type": "search", "name": "d", "input": {"indexName": "shop"}}
                )
            ).destination_id
            await ingestion.create_task({"sourceID": source, "destinationID": destination, "action": "save"})
            await search.save_objects("shop", PRODUCTS, wait_for_tasks=True)
            await search.replace_all_objects_with_transformation("shop", PRODUCTS[:1])
            found = await search.search_single_index("shop", {"query": ""})
            return [str(hit.object_id) for hit in found.hits]

    assert asyncio.run(main()) == ["sku-1"]
    assert {r.api for r in algolia_intercept.requests} == {"search", "ingestion"}


@pytest.mark.ingestion_mock(runs={"mode": "deferred", "finish_after": 1})
def test_wait_for_task_polls_until_a_deferred_task_is_published(
    algolia_intercept: Any, ingestion_mock: Any
) -> None:
    with SearchClientSync("app", "key") as search:
        (saved,) = search.save_objects("products", PRODUCTS)
        assert search.get_task("products", saved.task_id).status == "notPublished"
        assert search.wait_for_task("products", saved.task_id).status == "published"
    polls = ingestion_mock.journal.call_count("getIndexTask")
    assert polls >= 3, polls  # the first read, then the helper's polls until the run policy published it
