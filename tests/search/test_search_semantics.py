"""Search semantics (engine/search): matching, filters, facets, paging, ranking, browse, deleteBy."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.engine import search
from mockserver.engine.errors import BadRequest
from mockserver.engine.indexes import Index, apply

RECORDS = [
    {"objectID": "1", "title": "Crème brûlée", "brand": "Sony", "price": 10, "_tags": ["dessert"], "pop": 5},
    {"objectID": "2", "title": "CREME fraiche", "brand": "LG", "price": 20, "_tags": ["dairy"], "pop": 9},
    {"objectID": "3", "title": "Phone case", "brand": "Sony", "price": 30, "stock": True, "pop": 1},
    {
        "objectID": "4",
        "title": "Smart phone",
        "brand": "Apple",
        "price": 40.5,
        "stock": False,
        "desc": "creme",
    },
    {"objectID": "5", "title": "Phonetics book", "brand": ["LG", "Sony"], "price": 50, "pop": 7},
]
FACETED = {"attributesForFaceting": ["brand", "stock", "searchable(title)", "filterOnly(price)"]}


def index(records: list[dict[str, Any]] | None = None) -> Index:
    indexes: dict[str, Any] = {}
    apply(indexes, "i", "addObject", records if records is not None else RECORDS)
    found: Index = indexes["i"]
    return found


def ids(answer: dict[str, Any]) -> list[str]:
    return [hit["objectID"] for hit in answer["hits"]]


def run(
    body: dict[str, Any] | None, settings: dict[str, Any] | None = None, idx: Index | None = None
) -> dict[str, Any]:
    return search.search(
        idx if idx is not None else index(), FACETED if settings is None else settings, body, "i"
    )


def test_words_are_matched_without_case_or_accents() -> None:
    assert ids(run({"query": "creme"})) == ["1", "2", "4"]
    assert ids(run({"query": "CRÈME Brulee"})) == ["1"]


def test_every_word_must_match_and_only_the_last_is_a_prefix() -> None:
    assert ids(run({"query": "phon"})) == ["3", "4", "5"]
    assert ids(run({"query": "phon case"})) == []  # "phon" is not a prefix: it is not the last word
    assert ids(run({"query": "phone ca"})) == ["3"]
    assert ids(run({"query": "phone xyz"})) == []


def test_searchable_attributes_restrict_and_order_the_match() -> None:
    settings = {"searchableAttributes": ["title"]}
    assert ids(run({"query": "creme"}, settings)) == ["1", "2"]  # desc is not searchable any more
    nested: list[dict[str, Any]] = [
        {"objectID": "a", "info": {"name": "Zed"}},
        {"objectID": "b", "other": "zed"},
    ]
    assert ids(run({"query": "zed"}, {"searchableAttributes": ["unordered(info.name)"]}, index(nested))) == [
        "a"
    ]
    # an earlier attribute ranks first; "a,b" share a priority
    two = [{"objectID": "x", "a": "nothing", "b": "word"}, {"objectID": "y", "a": "word", "b": ""}]
    assert ids(run({"query": "word"}, {"searchableAttributes": ["a", "b"]}, index(two))) == ["y", "x"]
    assert ids(run({"query": "word"}, {"searchableAttributes": ["a,b"]}, index(two))) == ["x", "y"]


def test_restrict_searchable_attributes_narrows_them_for_one_query() -> None:
    assert ids(run({"query": "creme", "restrictSearchableAttributes": ["desc"]})) == ["4"]
    settings = {"searchableAttributes": ["title", "desc"]}
    assert ids(run({"query": "creme", "restrictSearchableAttributes": ["title", "nope"]}, settings)) == [
        "1",
        "2",
    ]


def test_ranking_exact_before_prefix_then_custom_ranking_then_index_order() -> None:
    # "phone" exactly in 3 and 4, only as a prefix in 5 ("phonetics")
    assert ids(run({"query": "phone"})) == ["3", "4", "5"]
    assert ids(run({"query": "phone"}, {"customRanking": ["desc(pop)"]})) == ["3", "4", "5"]
    assert ids(run({"query": ""}, {"customRanking": ["desc(pop)"]})) == [
        "2",
        "5",
        "1",
        "3",
        "4",
    ]  # 4: no pop, last
    assert ids(run({"query": ""}, {"customRanking": ["asc(pop)"]})) == ["3", "1", "5", "2", "4"]
    ties: list[dict[str, Any]] = [{"objectID": str(i), "n": 1} for i in (9, 3, 7)]
    assert ids(run({}, {"customRanking": ["asc(n)"]}, index(ties))) == ["9", "3", "7"]  # ties: index order


def test_facet_filters_need_attributes_for_faceting() -> None:
    answer = run({"filters": "brand:Sony"}, {})
    assert ids(answer) == []
    assert "not in the index's attributesForFaceting" in answer["message"]
    assert ids(run({"filters": "brand:Sony"})) == ["1", "3", "5"]  # an array matches on any element
    assert ids(run({"filters": "brand:sony"})) == []  # facet values are compared exactly


def test_numeric_boolean_tag_and_boolean_operators() -> None:
    assert ids(run({"filters": "price > 20"})) == ["3", "4", "5"]
    assert ids(run({"filters": "price >= 20 AND price < 40"})) == ["2", "3"]
    assert ids(run({"filters": "price:20 TO 40.5"})) == ["2", "3", "4"]
    assert ids(run({"filters": "price = 40.5"})) == ["4"]
    assert ids(run({"filters": "price != 10"})) == ["2", "3", "4", "5"]
    assert ids(run({"filters": "stock:true"})) == ["3"]
    assert ids(run({"filters": "_tags:dessert OR dairy"})) == ["1", "2"]
    assert ids(run({"filters": "NOT brand:Sony"})) == ["2", "4"]
    assert ids(run({"filters": "(brand:LG OR brand:Apple) AND NOT price < 25"})) == ["4", "5"]
    assert ids(
        run({"filters": "price > 5", "numericFilters": ["price < 30"], "facetFilters": [["brand:LG"]]})
    ) == ["2"]
    assert ids(run({"tagFilters": ["-dessert"], "numericFilters": "price <= 20"})) == ["2"]


def test_numeric_attributes_for_filtering_limits_numeric_filters() -> None:
    settings = {**FACETED, "numericAttributesForFiltering": ["pop"]}
    answer = run({"filters": "price > 1"}, settings)
    assert ids(answer) == [] and "numericAttributesForFiltering" in answer["message"]
    assert ids(run({"filters": "pop > 6"}, settings)) == ["2", "5"]


def test_numeric_filters_read_booleans_as_1_and_0() -> None:
    """Published: numericFilters' example filters `inStock = 1`; a boolean compares as 1 or 0."""
    assert ids(run({"filters": "stock = 1"})) == ["3"]
    assert ids(run({"numericFilters": ["stock = 0"]})) == ["4"]
    assert ids(run({"filters": "stock > 0.5"})) == ["3"]
    assert ids(run({"filters": "stock:0 TO 1"})) == ["3", "4"]
    facets = run({"facets": ["stock", "price"], "filters": "stock = 1"})
    assert "stock" not in facets.get("facets_stats", {})  # stats stay the numbers' own


def test_numeric_comparisons_are_precise_to_3_decimals() -> None:
    """Published: "Comparisons are precise up to 3 decimals"."""
    assert ids(run({"filters": "price = 40.5004"})) == ["4"]
    assert ids(run({"filters": "price = 40.5006"})) == []
    assert ids(run({"filters": "price > 40.5004"})) == ["5"]
    assert ids(run({"filters": "price >= 40.5004"})) == ["4", "5"]
    assert ids(run({"filters": "price:40.5004 TO 40.5004"})) == ["4"]
    idx = index([{"objectID": "a", "n": 1.0001}, {"objectID": "b", "n": 1.0006}])
    assert ids(run({"filters": "n = 1"}, {}, idx)) == ["a"]
    assert ids(run({"filters": "n = 1.001"}, {}, idx)) == ["b"]


def test_an_equal_only_attribute_takes_only_equality_comparisons() -> None:
    """Published: equalOnly(attr) supports only = and !=; a range or an inequality on it matches no
    record, and `message` says why (our choice: ledger search-facet-warnings)."""
    settings = {**FACETED, "numericAttributesForFiltering": ["equalOnly(price)", "pop"]}
    assert ids(run({"filters": "price = 20"}, settings)) == ["2"]
    assert ids(run({"filters": "price != 20"}, settings)) == ["1", "3", "4", "5"]
    for text in ("price > 10", "price <= 10", "price:10 TO 20"):
        answer = run({"filters": text}, settings)
        assert ids(answer) == [] and "equalOnly" in answer["message"], text
    assert ids(run({"numericFilters": ["pop > 6"]}, settings)) == ["2", "5"]


def test_a_bad_filter_is_a_400_naming_it() -> None:
    with pytest.raises(BadRequest) as raised:
        run({"filters": "price > "})
    assert raised.value.code == "invalid_filters"
    assert "filters: syntax error at character 9" in raised.value.message


def test_facets_count_every_hit_and_stats_numbers() -> None:
    answer = run({"query": "", "facets": ["*"], "hitsPerPage": 1})  # every facet but filterOnly ones
    assert answer["facets"]["brand"] == {"Sony": 3, "LG": 2, "Apple": 1}  # by count, then value
    assert answer["facets"]["stock"] == {"false": 1, "true": 1}
    assert sorted(answer["facets"]) == ["brand", "stock", "title"]
    settings = {"attributesForFaceting": ["price", "brand"]}
    answer = run(
        {"facets": ["price", "brand", "nope"], "maxValuesPerFacet": 1, "filters": "price < 25"}, settings
    )
    assert answer["facets"] == {"price": {"10": 1}, "brand": {"LG": 1}}
    assert answer["facets_stats"] == {"price": {"min": 10.0, "max": 20.0, "avg": 15.0, "sum": 30.0}}
    assert "'nope'" in answer["message"]
    assert answer["exhaustiveFacetsCount"] is True


def test_paging_and_offset_length() -> None:
    answer = run({"hitsPerPage": 2, "page": 1})
    assert (ids(answer), answer["nbHits"], answer["nbPages"], answer["page"]) == (["3", "4"], 5, 3, 1)
    assert ids(run({"hitsPerPage": 2, "page": 3})) == []
    answer = run({"offset": 1, "length": 3})
    assert (ids(answer), answer["offset"], answer["length"]) == (["2", "3", "4"], 1, 3)
    limited = run({"hitsPerPage": 2}, {"paginationLimitedTo": 3})
    assert (limited["nbHits"], limited["nbPages"]) == (5, 2)
    assert ids(run({"hitsPerPage": 2, "page": 1}, {"paginationLimitedTo": 3})) == ["3"]
    with pytest.raises(BadRequest, match="hitsPerPage: 1001 is outside"):
        run({"hitsPerPage": 1001})


def plain(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in hit.items() if k != "_highlightResult"} for hit in answer["hits"]]


def test_the_params_string_and_attributes_to_retrieve() -> None:
    text = "query=phone&hitsPerPage=1&attributesToRetrieve=%5B%22title%22%5D&attributesToHighlight=%5B%5D"
    answer = run({"params": text})
    assert answer["hits"] == [{"title": "Phone case", "objectID": "3"}]
    assert answer["params"] == text
    assert answer["query"] == "phone"
    assert plain(run({"params": "attributesToRetrieve=title,price", "query": "book"})) == [
        {"title": "Phonetics book", "price": 50, "objectID": "5"}
    ]
    assert plain(run({"attributesToRetrieve": ["*", "-price", "-pop"], "query": "book"})) == [
        {"objectID": "5", "title": "Phonetics book", "brand": ["LG", "Sony"]}
    ]
    with pytest.raises(BadRequest, match=r"body\.params\.hitsPerPage: expected an integer"):
        run({"params": "hitsPerPage=many"})


def test_the_answer_has_the_published_fields() -> None:
    answer = run({"query": "phone"})
    for name in ("hits", "nbHits", "page", "nbPages", "hitsPerPage", "exhaustiveNbHits", "query", "params"):
        assert name in answer
    assert answer["index"] == "i" and isinstance(answer["processingTimeMS"], int)
    assert answer["exhaustive"] == {"nbHits": True, "typo": True}


def test_hits_are_copies() -> None:
    idx = index()
    first = run({"query": "book"}, idx=idx)
    first["hits"][0]["brand"].append("changed")
    assert run({"query": "book"}, idx=idx)["hits"][0]["brand"] == ["LG", "Sony"]


def test_structures_follow_the_index_version() -> None:
    idx = index()
    assert ids(run({"query": "tablet"}, idx=idx)) == []
    before = idx.version
    idx["6"] = {"objectID": "6", "title": "Tablet"}
    assert idx.version > before
    assert ids(run({"query": "tablet"}, idx=idx)) == ["6"]
    del idx["6"]
    assert ids(run({"query": "tablet"}, idx=idx)) == []
    plain = {"x": {"objectID": "x", "title": "tablet"}}  # a plain mapping works too (built each time)
    assert ids(search.search(plain, {}, {"query": "tab"}, "p")) == ["x"]


def test_browse_pages_through_a_cursor() -> None:
    idx = index()
    first = search.browse(idx, FACETED, {"hitsPerPage": 2, "filters": "price >= 20"}, "i")
    assert (ids(first), first["nbHits"]) == (["2", "3"], 4)
    second = search.browse(idx, FACETED, {"cursor": first["cursor"], "hitsPerPage": 1000}, "i")
    assert ids(second) == ["4", "5"] and "cursor" not in second  # a cursor keeps its first parameters
    with pytest.raises(BadRequest, match="is not a cursor this mock gave for index 'i'"):
        search.browse(idx, FACETED, {"cursor": "garbage!"}, "i")
    with pytest.raises(BadRequest, match="is not a cursor this mock gave for index 'other'"):
        search.browse(idx, FACETED, {"cursor": first["cursor"]}, "other")


def test_facet_values_prefix_and_counts() -> None:
    idx = index()
    answer = search.facet_values(idx, FACETED, "title", {"facetQuery": "pho"})
    assert answer["facetHits"] == [
        {"value": "Phone case", "highlighted": "<em>Pho</em>ne case", "count": 1},
        {"value": "Phonetics book", "highlighted": "<em>Pho</em>netics book", "count": 1},
        {"value": "Smart phone", "highlighted": "Smart <em>pho</em>ne", "count": 1},
    ]
    limited = search.facet_values(
        idx, FACETED, "title", {"facetQuery": "pho", "maxFacetHits": 1, "params": "filters=price>35"}
    )
    assert [hit["value"] for hit in limited["facetHits"]] == ["Phonetics book"]
    with pytest.raises(BadRequest, match=r"must hold searchable\(brand\)"):
        search.facet_values(idx, FACETED, "brand", {})


def test_delete_by_matches_and_refuses_an_empty_filter() -> None:
    idx = index()
    assert search.matching_ids(idx, FACETED, {"filters": "brand:Sony AND price > 10"}) == ["3", "5"]
    with pytest.raises(BadRequest, match="deleteBy needs a filter"):
        search.matching_ids(idx, FACETED, {"filters": ""})
    with pytest.raises(
        BadRequest, match=r"does not model geographic filters.*assumed rule search-geo-not-modelled"
    ):
        search.matching_ids(idx, FACETED, {"filters": "brand:Sony", "aroundLatLng": "1,2"})
    # with the assumed rules off, a geographic filter matches nothing: nothing is deleted on its account
    assert (
        search.matching_ids(
            idx, FACETED, {"filters": "brand:Sony", "aroundLatLng": "1,2"}, assumed_rules=False
        )
        == []
    )
    assert search.matching_ids(idx, FACETED, {"insideBoundingBox": [[1, 2, 3, 4]]}, assumed_rules=False) == []
    answer = search.search(idx, FACETED, {"aroundLatLng": "1,2"}, "i")
    assert answer["nbHits"] == 5 and "geographic search is not modelled" in answer["message"]


def test_highlight_results_mark_the_matched_words() -> None:
    answer = run({"query": "creme bru", "highlightPreTag": "[", "highlightPostTag": "]"})
    result = answer["hits"][0]["_highlightResult"]
    assert result["title"] == {
        "value": "[Crème] [brû]lée",
        "matchLevel": "full",
        "matchedWords": ["creme", "bru"],
        "fullyHighlighted": False,
    }
    assert result["brand"] == {"value": "Sony", "matchLevel": "none", "matchedWords": []}
    assert result["_tags"] == [{"value": "dessert", "matchLevel": "none", "matchedWords": []}]
    assert "price" not in result  # numbers are not highlighted
    settings = {"searchableAttributes": ["title"], "attributesToHighlight": ["title", "desc"]}
    hit = run({"query": "creme"}, settings)["hits"][1]
    assert hit["_highlightResult"]["title"]["matchLevel"] == "full"
    assert sorted(hit["_highlightResult"]) == ["title"]  # only what the settings name (and the hit has)
    whole = run({"query": "smart phone"})["hits"][0]["_highlightResult"]["title"]
    assert whole == {
        "value": "<em>Smart</em> <em>phone</em>",
        "matchLevel": "full",
        "matchedWords": ["smart", "phone"],
        "fullyHighlighted": True,
    }
    assert "_highlightResult" not in run({"attributesToHighlight": []})["hits"][0]
