"""The Search side of the plugin: search_client and its async twin, the factory's Search configs, and
the journal, stubs and fault rules read the same for Search operations as for Ingestion ones."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest

from mockserver.http.inprocess import InProcessClient

from .test_plugin import run_inner

pytest_plugins = ["pytester"]

SHOES = [
    {"objectID": "sku-1", "name": "Trail shoe", "price": 89},
    {"objectID": "sku-2", "name": "Road shoe", "price": 120},
    {"objectID": "sku-3", "name": "Wool socks", "price": 12},
]


def _batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {"requests": [{"action": "addObject", "body": r} for r in records]}


# --- journal, faults and stubs over Search operations (in process) ------------------------------


def test_journal_assertions_read_search_calls(ingestion_http: InProcessClient, ingestion_mock: Any) -> None:
    assert ingestion_http.post("/1/indexes/products/batch", json=_batch(SHOES)).status_code == 200
    assert ingestion_http.get("/1/indexes/products/sku-2").json()["name"] == "Road shoe"
    found = ingestion_http.post("/1/indexes/products/query", json={"query": "shoe", "filters": "price < 100"})
    assert [h["objectID"] for h in found.json()["hits"]] == ["sku-1"]
    assert ingestion_http.get("/1/indexes/products/sku-404").status_code == 404

    journal = ingestion_mock.journal
    journal.assert_called("batch", times=1, path_params={"indexName": "products"})
    journal.assert_called("getObject", path_params={"indexName": "products", "objectID": "sku-2"}, status=200)
    journal.assert_called("searchSingleIndex", body={"query": "shoe"})
    journal.assert_not_called("searchSingleIndex", body={"query": "sock"})
    journal.assert_order(["batch", "getObject", "searchSingleIndex"])
    assert [c.operation_id for c in journal.rejections()] == ["getObject"]
    with pytest.raises(ValueError, match="did you mean searchSingleIndex"):
        journal.assert_called("searchSingleIndexes")


def test_fault_rules_match_search_operations_and_their_path(
    ingestion_http: InProcessClient, ingestion_mock: Any
) -> None:
    ingestion_http.post("/1/indexes/products/batch", json=_batch(SHOES))
    ingestion_http.post("/1/indexes/archive/batch", json=_batch(SHOES[:1]))
    ingestion_mock.add_fault(
        operation="searchSingleIndex", path_params={"indexName": "products"}, status=503, times=1
    )
    assert ingestion_http.post("/1/indexes/archive/query", json={}).status_code == 200  # another index
    down = ingestion_http.post("/1/indexes/products/query", json={})
    assert down.status_code == 503 and down.json()["status"] == 503
    assert ingestion_http.post("/1/indexes/products/query", json={}).json()["nbHits"] == 3  # times=1
    ingestion_mock.journal.assert_called("searchSingleIndex", times=1, status=503)


def test_a_stubbed_search_answer_changes_nothing(
    ingestion_http: InProcessClient, ingestion_mock: Any
) -> None:
    ingestion_mock.stub("deleteIndex", path_params={"indexName": "products"}, status=403, check=False)
    ingestion_http.post("/1/indexes/products/batch", json=_batch(SHOES))
    assert ingestion_http.delete("/1/indexes/products").status_code == 403
    assert len(ingestion_mock.index("products")) == 3
    ingestion_mock.journal.assert_called("deleteIndex", stubbed=True)


# --- the fixtures in a user's project ------------------------------------------------------------


def test_search_fixtures_and_the_factory_in_a_project(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_search=textwrap.dedent(
            """
            import asyncio

            import pytest
            from algoliasearch.search.client import SearchClient, SearchClientSync
            from algoliasearch.search.config import TransformationOptions


            def push_connector(client, index_name):
                source = client.create_source({"type": "push", "name": "p"}).source_id
                destination = client.create_destination(
                    {"type": "search", "name": "d", "input": {"indexName": index_name}}
                ).destination_id
                client.create_task({"sourceID": source, "destinationID": destination, "action": "save"})


            def test_search_client_shares_the_mock_with_ingestion_client(
                search_client, ingestion_client, ingestion_mock
            ):
                assert isinstance(search_client, SearchClientSync)
                push_connector(ingestion_client, "products")
                ingestion_client.push("products", {"action": "addObject", "records": [{"objectID": "a"}]})
                assert search_client.get_object("products", "a") == {"objectID": "a"}
                search_client.save_objects_with_transformation(
                    "products", [{"objectID": "b"}], wait_for_tasks=True
                )
                assert [r["objectID"] for r in ingestion_mock.index("products")] == ["a", "b"]


            def test_search_async_client(search_async_client, ingestion_mock):
                assert isinstance(search_async_client, SearchClient)

                async def main():
                    async with search_async_client as client:
                        saved = await client.save_object("products", {"objectID": "c", "name": "Tent"})
                        await client.wait_for_task("products", saved.task_id)
                        return (await client.search_single_index("products", {"query": "tent"})).nb_hits

                assert asyncio.run(main()) == 1


            def test_the_factory_sets_the_hosts_in_both_places(ingestion_client_factory, ingestion_client):
                push_connector(ingestion_client, "products")
                own = TransformationOptions("eu", read_timeout=2000)
                search = ingestion_client_factory.search(transformation_options=own)
                assert own.hosts is not None  # the mock's, set by the factory
                search.save_objects_with_transformation("products", [{"objectID": "d"}], wait_for_tasks=True)
                assert search.index_exists("products")
                config = ingestion_client_factory.search_config(app_id="OTHER")
                assert config.transformation_options.hosts is not None and config.hosts is not None
                with SearchClientSync.create_with_config(config) as other:
                    assert other.index_exists("products") is False  # another application
            """
        )
    )
    result = run_inner(pytester)
    result.assert_outcomes(passed=3)
