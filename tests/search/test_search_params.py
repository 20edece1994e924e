"""Search parameters: the URL-encoded params string read to the JSON fields' types."""

from __future__ import annotations

import pytest

from mockserver.engine.errors import BadRequest
from mockserver.engine.search import params


def test_the_params_string_is_read_to_the_fields_types() -> None:
    read = params.from_string(
        "query=red%20shoe&hitsPerPage=5&getRankingInfo=true&facets=brand,color"
        "&attributesToRetrieve=%5B%22a%22%5D&facetFilters=%5B%5B%22a%3Ab%22%5D%5D&numericFilters=p%3E3"
    )
    assert read == {
        "query": "red shoe",
        "hitsPerPage": 5,
        "getRankingInfo": True,
        "facets": ["brand", "color"],
        "attributesToRetrieve": ["a"],
        "facetFilters": [["a:b"]],
        "numericFilters": "p>3",
    }


def test_json_fields_win_over_the_string() -> None:
    assert params.read({"params": "query=a&page=2", "query": "b"}) == {"query": "b", "page": 2}
    assert params.read(None) == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("page=two", "body.params.page: expected an integer, found 'two'"),
        ("analytics=maybe", "body.params.analytics: expected true or false, found 'maybe'"),
        ("facets=%5Bbroken", "body.params.facets: '[broken' is not a JSON array"),
    ],
)
def test_a_bad_value_in_the_string_is_a_400_naming_it(text: str, message: str) -> None:
    with pytest.raises(BadRequest) as raised:
        params.read({"params": text})
    assert raised.value.message == message


def test_the_echoed_string_reads_back() -> None:
    given = {"query": "a b", "hitsPerPage": 3, "facets": ["x"], "analytics": False}
    assert params.from_string(params.to_string(given)) == given
