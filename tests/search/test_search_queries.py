"""The search-query handlers called directly: the index and its settings found, a missing index a
404, several queries and their strategy, deleteBy's task."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.engine.errors import BadRequest, NotFound
from mockserver.engine.indexes import apply
from mockserver.engine.store import Store
from mockserver.resources import search_queries, search_tasks
from tests.search.handler_kit import call

RECORDS = [
    {"objectID": "1", "name": "red phone", "brand": "Sony", "price": 10},
    {"objectID": "2", "name": "blue phone", "brand": "LG", "price": 20},
    {"objectID": "3", "name": "red laptop", "brand": "Sony", "price": 30},
]


def store_with(records: list[dict[str, Any]] = RECORDS) -> Store:
    store = Store()
    account = store.account("APP")
    apply(account.indexes, "products", "addObject", records)
    account.index_settings["products"] = {"attributesForFaceting": ["searchable(brand)"]}
    return store


def ids(answer: dict[str, Any]) -> list[str]:
    return [hit["objectID"] for hit in answer["hits"]]


def test_search_single_index_reads_the_index_and_its_settings() -> None:
    store = store_with()
    path = {"indexName": "products"}
    answer = call(
        search_queries.search_single_index, store, path=path, body={"query": "red", "filters": "brand:Sony"}
    )
    assert ids(answer) == ["1", "3"] and answer["index"] == "products"
    assert ids(call(search_queries.search_single_index, store, path=path)) == [
        "1",
        "2",
        "3",
    ]  # no body: everything
    assert (
        call(search_queries.search_single_index, store, path=path, body={"params": "query=blue"})["nbHits"]
        == 1
    )


@pytest.mark.parametrize(
    ("handler", "path"),
    [
        (search_queries.search_single_index, {"indexName": "nope"}),
        (search_queries.browse, {"indexName": "nope"}),
        (search_queries.search_for_facet_values, {"indexName": "nope", "facetName": "brand"}),
        (search_queries.delete_by, {"indexName": "nope"}),
    ],
)
def test_a_missing_index_is_a_404_naming_it(handler: Any, path: dict[str, str]) -> None:
    with pytest.raises(NotFound) as raised:
        call(handler, store_with(), path=path, body={"filters": "brand:x"})
    assert raised.value.message == "Index does not exist"
    assert "path.indexName: application 'APP' has no index 'nope' (its indexes: 'products')" in str(
        raised.value.detail
    )


def test_several_queries_in_order_and_the_stop_strategy() -> None:
    store = store_with()
    requests = [
        {"indexName": "products", "query": "phone", "hitsPerPage": 2},
        {"indexName": "products", "params": "query=laptop"},
        {"indexName": "products", "type": "facet", "facet": "brand", "facetQuery": "so"},
    ]
    answer = call(search_queries.search_many, store, body={"requests": requests})
    first, second, third = answer["results"]
    assert (ids(first), ids(second)) == (["1", "2"], ["3"])
    assert third["facetHits"] == [{"value": "Sony", "highlighted": "<em>So</em>ny", "count": 2}]
    stopped = call(
        search_queries.search_many, store, body={"requests": requests, "strategy": "stopIfEnoughMatches"}
    )
    assert ids(stopped["results"][0]) == ["1", "2"]  # 2 hits fill its page of 2: the others are not run
    assert [r.get("processed") for r in stopped["results"]] == [None, False, False]
    assert stopped["results"][1]["hits"] == []
    with pytest.raises(NotFound) as raised:
        call(search_queries.search_many, store, body={"requests": [*requests, {"indexName": "gone"}]})
    assert "requests[3].indexName" in str(raised.value.detail)


def test_browse_and_facet_values_through_the_handlers() -> None:
    store = store_with()
    path = {"indexName": "products"}
    first = call(search_queries.browse, store, path=path, body={"hitsPerPage": 2})
    rest = call(search_queries.browse, store, path=path, body={"cursor": first["cursor"]})
    assert ids(first) + ids(rest) == ["1", "2", "3"] and "cursor" not in rest
    facets = call(
        search_queries.search_for_facet_values,
        store,
        path={**path, "facetName": "brand"},
        body={"facetQuery": ""},
    )
    assert [(h["value"], h["count"]) for h in facets["facetHits"]] == [("Sony", 2), ("LG", 1)]


def test_delete_by_removes_the_matches_and_answers_a_task() -> None:
    store = store_with()
    path = {"indexName": "products"}
    answer = call(search_queries.delete_by, store, path=path, body={"numericFilters": ["price >= 20"]})
    assert answer["taskID"] == 1 and isinstance(answer["updatedAt"], str)
    assert sorted(store.accounts["APP"].indexes["products"]) == ["1"]
    assert call(search_tasks.get_index_task, store, path={**path, "taskID": 1}) == {"status": "published"}
    assert call(search_queries.search_single_index, store, path=path, body={"query": "laptop"})["nbHits"] == 0
    with pytest.raises(BadRequest, match="deleteBy needs a filter"):
        call(search_queries.delete_by, store, path=path, body={})
    assert sorted(store.accounts["APP"].indexes["products"]) == ["1"]  # a refusal changes nothing
