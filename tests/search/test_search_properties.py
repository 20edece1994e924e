"""Properties of search: every hit matches the filter as read record by record, nothing matching is
left out, and paging partitions the hits."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from mockserver.engine import search
from mockserver.engine.indexes import Index, apply
from mockserver.engine.search.filters import And, Facet, FilterError, Node, Not, Numeric, Or, Range, parse

BRANDS = ["Sony", "LG", "Apple"]
SETTINGS = {"attributesForFaceting": ["brand"]}

records = st.lists(
    st.fixed_dictionaries(
        {"brand": st.sampled_from(BRANDS), "price": st.integers(0, 20)},
        optional={"_tags": st.lists(st.sampled_from(["a", "b"]), max_size=2)},
    ),
    max_size=25,
)
facet = st.builds(lambda b, neg: f"{'NOT ' if neg else ''}brand:{b}", st.sampled_from(BRANDS), st.booleans())
numeric = st.builds(
    lambda op, n: f"price {op} {n}", st.sampled_from(["<", "<=", "=", "!=", ">=", ">"]), st.integers(0, 20)
)
ranged = st.builds(lambda a, b: f"price:{a} TO {b}", st.integers(0, 20), st.integers(0, 20))
tag = st.sampled_from(["_tags:a", "b", "NOT _tags:b"])


def _disjunction(kind: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(kind, min_size=1, max_size=3).map(lambda parts: "(" + " OR ".join(parts) + ")")


filters = st.lists(
    st.one_of(_disjunction(st.one_of(facet, tag)), _disjunction(st.one_of(numeric, ranged))),
    min_size=1,
    max_size=3,
).map(" AND ".join)


def holds(node: Node, record: dict[str, Any]) -> bool:
    """The filter read on one record, as the README says, without any index structure."""
    if isinstance(node, And):
        return all(holds(part, record) for part in node.parts)
    if isinstance(node, Or):
        return any(holds(part, record) for part in node.parts)
    if isinstance(node, Not):
        return not holds(node.operand, record)
    if isinstance(node, Facet):
        value = record.get(node.attribute)
        return bool(node.value in value if isinstance(value, list) else value == node.value)
    price: int = record["price"]
    if isinstance(node, Range):
        return node.low <= price <= node.high
    assert isinstance(node, Numeric)
    return {
        "<": price < node.number,
        "<=": price <= node.number,
        "=": price == node.number,
        "!=": price != node.number,
        ">=": price >= node.number,
        ">": price > node.number,
    }[node.op]


def _index(rows: list[dict[str, Any]]) -> Index:
    indexes: dict[str, Any] = {}
    apply(indexes, "i", "addObject", [{**row, "objectID": str(i)} for i, row in enumerate(rows)])
    found: Index = indexes["i"]
    return found


@settings(max_examples=150, deadline=None)
@given(rows=records, text=filters)
def test_the_hits_are_exactly_the_records_the_filter_holds_for(rows: list[dict[str, Any]], text: str) -> None:
    node = parse(text)
    assert node is not None
    answer = search.search(_index(rows), SETTINGS, {"filters": text, "hitsPerPage": 1000}, "i")
    expected = [str(i) for i, row in enumerate(rows) if holds(node, row)]
    assert [hit["objectID"] for hit in answer["hits"]] == expected  # (no query, no ranking: index order)
    assert answer["nbHits"] == len(expected)


@settings(max_examples=60, deadline=None)
@given(rows=records, per_page=st.integers(1, 7))
def test_pages_partition_the_hits(rows: list[dict[str, Any]], per_page: int) -> None:
    idx = _index(rows)
    first = search.search(idx, SETTINGS, {"hitsPerPage": per_page}, "i")
    seen: list[str] = []
    for page in range(first["nbPages"] + 1):  # one page past the last is empty
        answer = search.search(idx, SETTINGS, {"hitsPerPage": per_page, "page": page}, "i")
        assert answer["nbHits"] == first["nbHits"]
        seen.extend(hit["objectID"] for hit in answer["hits"])
    assert seen == [str(i) for i in range(len(rows))]
    browsed: list[str] = []
    body: dict[str, Any] = {"hitsPerPage": per_page}
    while True:
        answer = search.browse(idx, SETTINGS, body, "i")
        browsed.extend(hit["objectID"] for hit in answer["hits"])
        if "cursor" not in answer:
            break
        body = {"cursor": answer["cursor"]}
    assert browsed == seen


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(
        alphabet=st.sampled_from(list(" :()\"'\\<>=!-._abcTOANDORNOT0123456789é")) | st.characters(),
        max_size=40,
    )
)
@example(text="\ud800")  # a lone surrogate: read as a tag, echoed in params without a crash
def test_any_filter_text_is_read_or_refused_with_a_filter_error(text: str) -> None:
    try:
        node = parse(text)
    except FilterError as error:
        assert str(error).startswith("filters: ")
        return
    if node is not None:  # and what was read is searchable
        search.search(_index([{"brand": "LG", "price": 1}]), SETTINGS, {"filters": text}, "i")
