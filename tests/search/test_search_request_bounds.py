"""What one search request or one setting may ask for is bounded (a 400 naming the field and the
bound), and what remains costs little: no quadratic facets or highlights, no per-record work
multiplied by the number of searchable attributes, no RecursionError from a deeply nested filter."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from mockserver.engine import search
from mockserver.engine.errors import BadRequest
from mockserver.engine.search import filters as flt
from mockserver.engine.search.query import search as run_search
from mockserver.resources import search_indexes, search_queries
from tests.search.handler_kit import call
from tests.search.test_search_queries import store_with

RECORDS = {
    str(i): {"objectID": str(i), "name": f"item {i}", "brand": f"b{i % 5}", "price": i} for i in range(200)
}
FACETING = {"attributesForFaceting": ["brand"]}


def refused(body: dict[str, Any], settings: dict[str, Any] | None = None) -> str:
    with pytest.raises(BadRequest) as raised:
        run_search(RECORDS, settings or FACETING, body, "items")
    return str(raised.value)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"query": "item " * 200}, "body.query"),
        (
            {"query": "item", "restrictSearchableAttributes": [f"a{i}" for i in range(400)]},
            "body.restrictSearchableAttributes",
        ),
        ({"filters": "brand:b1 OR " * 60 + "brand:b2"}, "body.filters"),
        ({"facets": [f"f{i}" for i in range(200)]}, "body.facets"),
        ({"params": "query=" + "x" * 600}, "body.query"),
    ],
)
def test_a_parameter_value_over_512_bytes_is_a_400_naming_it(body: dict[str, Any], field: str) -> None:
    message = refused(body)
    assert field in message and "512 bytes" in message


def test_a_value_of_512_bytes_is_accepted() -> None:
    answer = run_search(RECORDS, FACETING, {"query": "item " + "x" * 507}, "items")
    assert answer["nbHits"] == 0


def test_a_browse_cursor_and_facet_values_are_bounded_too() -> None:
    with pytest.raises(BadRequest, match=r"body\.query"):
        search.browse(RECORDS, FACETING, {"query": "x" * 513}, "items")
    with pytest.raises(BadRequest, match="facetQuery"):
        search.facet_values(
            RECORDS, {"attributesForFaceting": ["searchable(brand)"]}, "brand", {"facetQuery": "b" * 513}
        )


def test_a_multi_query_holds_at_most_the_bound_and_names_it() -> None:
    store = store_with()
    requests = [{"indexName": "products", "query": "x"}] * (search.MAX_QUERIES + 1)
    with pytest.raises(BadRequest) as raised:
        call(search_queries.search_many, store, body={"requests": requests})
    assert "body.requests" in str(raised.value) and str(search.MAX_QUERIES) in str(raised.value)
    answer = call(search_queries.search_many, store, body={"requests": requests[:3]})
    assert len(answer["results"]) == 3


def test_a_query_inside_a_multi_query_is_named_by_its_place() -> None:
    store = store_with()
    requests = [{"indexName": "products", "query": "x"}, {"indexName": "products", "query": "y" * 600}]
    with pytest.raises(BadRequest, match=r"requests\[1\]\.query"):
        call(search_queries.search_many, store, body={"requests": requests})


def test_many_searchable_attributes_do_not_multiply_the_per_record_work() -> None:
    settings = {"searchableAttributes": [f"a{i}" for i in range(10000)] + ["name"]}
    started = time.perf_counter()
    answer = run_search(RECORDS, settings, {"query": "item"}, "items")
    assert answer["nbHits"] == 200
    assert time.perf_counter() - started < 1.0  # 3 s before (200 records x 10,001 attributes)


def test_restricting_keeps_the_searchable_attributes_it_names() -> None:
    settings = {"searchableAttributes": ["brand", "name"]}
    answer = run_search(
        RECORDS, settings, {"query": "item", "restrictSearchableAttributes": ["brand"]}, "items"
    )
    assert answer["nbHits"] == 0
    answer = run_search(
        RECORDS, settings, {"query": "item", "restrictSearchableAttributes": ["name"]}, "items"
    )
    assert answer["nbHits"] == 200


@pytest.mark.parametrize(
    ("text", "column"),
    [("(" * 900 + "price > 1" + ")" * 900, 65), ("NOT " * 10000 + "brand:b1", 257)],
)
def test_a_filter_nesting_beyond_the_bound_is_invalid_filters_naming_the_position(
    text: str, column: int
) -> None:
    with pytest.raises(flt.FilterError) as raised:
        flt.parse(text)
    assert f"deeper than {flt.MAX_DEPTH} levels" in str(raised.value)
    assert f"at character {column}" in str(raised.value)
    with pytest.raises(BadRequest) as refused_filter:
        search.filter_tree({"numericFilters": ["(" * 100 + "price > 1" + ")" * 100]})
    assert refused_filter.value.code == "invalid_filters"


def test_nesting_within_the_bound_still_reads() -> None:
    depth = flt.MAX_DEPTH
    node = flt.parse("(" * depth + "price > 1" + ")" * depth)
    assert node == flt.Numeric("price", ">", 1.0)
    assert flt.parse("NOT " * 2 + "brand:b1") == flt.Not(flt.Not(flt.Facet("brand", "b1")))
    assert flt.parse('brand:"((((" AND (NOT a:b)') is not None


def test_deleteby_filters_are_bounded_in_depth() -> None:
    with pytest.raises(BadRequest) as raised:
        search.matching_ids(RECORDS, FACETING, {"filters": "(" * 900 + "price > 1" + ")" * 900})
    assert raised.value.code == "invalid_filters"


def test_a_list_setting_holds_at_most_the_bound_and_nothing_changes() -> None:
    store = store_with()
    path = {"indexName": "products"}
    names = [f"a{i}" for i in range(search.MAX_SETTING_NAMES)] + ["name"]
    with pytest.raises(BadRequest, match=r"body\.searchableAttributes: 1001 names"):
        call(search_indexes.set_settings, store, path=path, body={"searchableAttributes": names})
    joined = [",".join(names)]
    with pytest.raises(BadRequest, match=r"body\.searchableAttributes"):
        call(search_indexes.set_settings, store, path=path, body={"searchableAttributes": joined})
    assert store.account("APP").index_settings["products"] == {"attributesForFaceting": ["searchable(brand)"]}
    call(search_indexes.set_settings, store, path=path, body={"searchableAttributes": names[-1000:]})
    assert len(store.account("APP").index_settings["products"]["searchableAttributes"]) == 1000


def test_a_hand_made_cursor_with_a_negative_offset_is_refused() -> None:
    raw = json.dumps({"i": "items", "o": -5, "p": {}}).encode()
    cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    with pytest.raises(BadRequest, match="is not a cursor this mock gave"):
        search.browse(RECORDS, FACETING, {"cursor": cursor}, "items")
    first = search.browse(RECORDS, FACETING, {"hitsPerPage": 150}, "items")
    second = search.browse(RECORDS, FACETING, {"cursor": first["cursor"]}, "items")
    assert len(second["hits"]) == 50 and second["page"] == 1
