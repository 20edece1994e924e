"""The search-query operations through the ASGI app (validation, routing, answers held to the spec)."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver import MockApp
from mockserver.engine.indexes import apply
from mockserver.engine.store import RunPolicy
from mockserver.http.inprocess import InProcessClient
from tests.conftest import APP_ID, CREDENTIALS
from tests.helpers import T0, make_destination, make_source, make_task

RECORDS = [
    {"objectID": "1", "name": "Crème brûlée", "brand": "Sony", "price": 10},
    {"objectID": "2", "name": "red phone", "brand": "LG", "price": 20},
    {"objectID": "3", "name": "blue phone", "brand": "Sony", "price": 30},
]


@pytest.fixture
def products(app: MockApp) -> None:
    account = app.store.account(APP_ID)
    apply(account.indexes, "products", "addObject", RECORDS)
    account.index_settings["products"] = {"attributesForFaceting": ["searchable(brand)"]}


def ids(answer: dict[str, Any]) -> list[str]:
    return [hit["objectID"] for hit in answer["hits"]]


@pytest.mark.usefixtures("products")
def test_search_single_index_with_fields_or_the_params_string(client: InProcessClient) -> None:
    answer = client.post("/1/indexes/products/query", json={"query": "phone", "filters": "brand:Sony"})
    assert answer.status_code == 200, answer.text
    assert ids(answer.json()) == ["3"]
    answer = client.post("/1/indexes/products/query", json={"params": "query=creme&facets=%5B%22brand%22%5D"})
    assert answer.status_code == 200, answer.text
    assert ids(answer.json()) == ["1"] and answer.json()["facets"] == {"brand": {"Sony": 1}}


@pytest.mark.usefixtures("products")
@pytest.mark.parametrize("assumed_rules", [True, False], ids=["assumed-rules", "published-only"])
def test_the_params_string_with_json_fields_is_refused(app: MockApp, assumed_rules: bool) -> None:
    """Published: search parameters are the JSON fields or the `params` string, whose form allows
    no other field; a body with both is a 400 on a query, a browse and each request of a search."""
    app.engine.apply_settings(app.engine.settings.replace(assumed_rules=assumed_rules))
    mixed = {"params": "query=phone", "hitsPerPage": 3}
    with InProcessClient(app, base_url="http://mock", headers=CREDENTIALS) as client:
        for path, body in (
            ("/1/indexes/products/query", mixed),
            ("/1/indexes/products/browse", mixed),
            ("/1/indexes/*/queries", {"requests": [{"indexName": "products", **mixed}]}),
        ):
            answer = client.post(path, json=body)
            assert answer.status_code == 400, (path, answer.text)
            assert answer.json()["message"].startswith("body"), answer.text
        assert ids(
            client.post("/1/indexes/products/query", json={"params": "query=phone&hitsPerPage=1"}).json()
        ) == ["2"]


@pytest.mark.usefixtures("products")
def test_a_bad_filter_is_a_400_naming_the_position(client: InProcessClient) -> None:
    answer = client.post("/1/indexes/products/query", json={"filters": "price >"})
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"]["code"] == "invalid_filters"
    assert "filters: syntax error at character 8 of 'price >'" in body["message"]


def test_a_missing_index_is_a_404(client: InProcessClient) -> None:
    answer = client.post("/1/indexes/nothing/query", json={"query": "x"})
    assert answer.status_code == 404
    assert answer.json()["message"].startswith("Index does not exist")


@pytest.mark.usefixtures("products")
def test_several_queries_browse_and_facet_values(client: InProcessClient) -> None:
    answer = client.post(
        "/1/indexes/*/queries",
        json={
            "requests": [
                {"indexName": "products", "query": "phone"},
                {"indexName": "products", "type": "facet", "facet": "brand", "facetQuery": "s"},
            ]
        },
    )
    assert answer.status_code == 200, answer.text
    hits, facets = answer.json()["results"]
    assert ids(hits) == ["2", "3"] and facets["facetHits"][0]["value"] == "Sony"
    first = client.post("/1/indexes/products/browse", json={"hitsPerPage": 2}).json()
    rest = client.post("/1/indexes/products/browse", json={"cursor": first["cursor"]}).json()
    assert ids(first) + ids(rest) == ["1", "2", "3"]
    stopped = client.post(
        "/1/indexes/*/queries",
        json={
            "strategy": "stopIfEnoughMatches",
            "requests": [
                {"indexName": "products", "query": "phone", "hitsPerPage": 1},
                {"indexName": "products", "query": "creme"},
            ],
        },
    )
    assert stopped.status_code == 200, stopped.text
    assert [r.get("processed") for r in stopped.json()["results"]] == [None, False]
    bad = client.post("/1/indexes/products/browse", json={"cursor": "nope"})
    assert bad.status_code == 400 and "is not a cursor this mock gave" in bad.json()["message"]
    found = client.post("/1/indexes/products/facets/brand/query", json={"facetQuery": "l"})
    assert found.status_code == 200, found.text
    assert found.json()["facetHits"] == [{"value": "LG", "highlighted": "<em>L</em>G", "count": 1}]


@pytest.mark.usefixtures("products")
def test_delete_by_removes_and_answers_a_task(client: InProcessClient, app: MockApp) -> None:
    answer = client.post("/1/indexes/products/deleteByQuery", json={"filters": "price > 15"})
    assert answer.status_code == 200, answer.text
    task = answer.json()["taskID"]
    assert sorted(app.store.account(APP_ID).indexes["products"]) == ["1"]
    status = client.get(f"/1/indexes/products/task/{task}")
    assert status.status_code == 200 and status.json()["status"] == "published"
    empty = client.post("/1/indexes/products/deleteByQuery", json={})
    assert empty.status_code == 400 and "deleteBy needs a filter" in empty.json()["message"]


def test_records_pushed_through_ingestion_are_searchable(client: InProcessClient) -> None:
    make_task(client, make_source(client, "push"), make_destination(client, "shop"))
    pushed = client.post(
        "/1/push/shop",
        json={"action": "addObject", "records": [{"objectID": "a", "title": "Wireless mouse"}]},
    )
    assert pushed.status_code == 200, pushed.text
    answer = client.post("/1/indexes/shop/query", json={"query": "wirel"})
    assert ids(answer.json()) == ["a"]
    client.post(
        "/1/push/shop", json={"action": "addObject", "records": [{"objectID": "b", "title": "Wireless pad"}]}
    )
    assert ids(client.post("/1/indexes/shop/query", json={"query": "wirel"}).json()) == ["a", "b"]


def test_a_deferred_ingestion_run_is_searchable_once_it_finished(
    client: InProcessClient, app: MockApp
) -> None:
    make_task(client, make_source(client, "push"), make_destination(client, "late"))
    app.store.clock.freeze(T0)
    app.store.run_policy = RunPolicy(mode="deferred", start_after=1, finish_after=3)
    pushed = client.post(
        "/1/push/late", json={"action": "addObject", "records": [{"objectID": "a", "t": "x"}]}
    )
    assert pushed.status_code == 200, pushed.text
    assert client.post("/1/indexes/late/query", json={}).status_code == 404  # nothing written yet
    app.store.clock.advance(3)
    answer = client.post("/1/indexes/late/query", json={"query": "x"})  # no other request settled the run
    assert answer.status_code == 200, answer.text
    assert ids(answer.json()) == ["a"]
