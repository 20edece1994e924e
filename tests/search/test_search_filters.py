"""The filter language: what it reads, and where a mistake is."""

from __future__ import annotations

import pytest

from mockserver.engine.search.filters import (
    And,
    Facet,
    FilterError,
    Not,
    Numeric,
    Or,
    Range,
    from_array,
    parse,
)


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("category:Book", Facet("category", "Book")),
        ('author:"John Doe"', Facet("author", "John Doe")),
        ("author:'John Doe'", Facet("author", "John Doe")),
        ('title:"say \\"hi\\""', Facet("title", 'say "hi"')),
        ('"my attr":x', Facet("my attr", "x")),
        ("inStock:true", Facet("inStock", "true")),
        ("_tags:published", Facet("_tags", "published")),
        ("published", Facet("_tags", "published")),
        ("price > 3", Numeric("price", ">", 3.0)),
        ("price<=-2.5", Numeric("price", "<=", -2.5)),
        ("price != 4", Numeric("price", "!=", 4.0)),
        ("price:1 TO 5", Range("price", 1.0, 5.0)),
        ("NOT brand:Sony", Not(Facet("brand", "Sony"))),
        ("NOT (brand:Sony)", Not(Facet("brand", "Sony"))),
        ("a:1 OR a:2", Or((Facet("a", "1"), Facet("a", "2")))),
        ("p > 1 OR p < 0", Or((Numeric("p", ">", 1.0), Numeric("p", "<", 0.0)))),
        (
            "(category:Book OR category:Ebook) AND _tags:published",
            And((Or((Facet("category", "Book"), Facet("category", "Ebook"))), Facet("_tags", "published"))),
        ),
        (
            "ANDROID:x AND ORANGE",
            And((Facet("ANDROID", "x"), Facet("_tags", "ORANGE"))),
        ),  # keywords are whole words
        ("", None),
    ],
)
def test_what_the_filter_language_reads(text: str, tree: object) -> None:
    assert parse(text) == tree


@pytest.mark.parametrize(
    ("text", "position", "why"),
    [
        ("price >", 8, "ends too early"),
        ("(a:b", 5, "ends too early"),
        ("a:b)", 4, "unexpected ')'"),
        ("a:b AND :c", 9, "unexpected ':'"),
        ("price > cheap", 9, "expected a number, found 'cheap'"),
        ("price:1 TO high", 12, "expected a number"),
        ("a:b OR (c:d AND e:f)", 1, "OR cannot join a conjunction"),
        ("a:b AND c:d OR e:f", 1, "OR cannot join a conjunction"),
        ("NOT (a:b OR a:c)", 1, "NOT applies to one filter"),
        ("a:b OR price > 3", 1, "OR joins filters of one kind only"),
        ('a:"open', 3, "unexpected '\"'"),
    ],
)
def test_a_mistake_names_the_parameter_and_the_position(text: str, position: int, why: str) -> None:
    with pytest.raises(FilterError) as raised:
        parse(text)
    message = str(raised.value)
    assert message.startswith("filters: ")
    assert f"at character {position} of {text!r}" in message
    assert why in message


def test_the_array_forms_and_within_or_nested() -> None:
    assert from_array("facetFilters", [["category:Book", "category:-Movie"], "author:John Doe"]) == And(
        (Or((Facet("category", "Book"), Not(Facet("category", "Movie")))), Facet("author", "John Doe"))
    )
    assert from_array("facetFilters", "brand:\\-x") == Facet("brand", "-x")  # an escaped leading dash
    assert from_array("numericFilters", ["price < 1000", "n:1 TO 2"]) == And(
        (Numeric("price", "<", 1000.0), Range("n", 1.0, 2.0))
    )
    assert from_array("tagFilters", [["Book", "Movie"], "-SciFi"]) == And(
        (Or((Facet("_tags", "Book"), Facet("_tags", "Movie"))), Not(Facet("_tags", "SciFi")))
    )
    assert from_array("facetFilters", []) is None


@pytest.mark.parametrize(
    ("name", "value", "where"),
    [
        ("facetFilters", ["brand"], "facetFilters[0]: expected attribute:value"),
        ("facetFilters", [["a:b", 3]], "facetFilters[0][1]: expected a string"),
        ("numericFilters", ["brand:x"], "numericFilters[0]: expected a numeric filter"),
        ("numericFilters", ["price >"], "numericFilters[0]: syntax error at character 8"),
        ("tagFilters", {"a": 1}, "tagFilters: expected a string or an array"),
    ],
)
def test_array_form_mistakes_name_the_item(name: str, value: object, where: str) -> None:
    with pytest.raises(FilterError, match=rf"^{__import__('re').escape(where)}"):
        from_array(name, value)
