"""What a conformance run does not count as a finding: a case schemathesis calls invalid that reaches
the server as a valid request, once its query is spelled as text (``mockserver check``)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from mockserver import load_spec
from mockserver.conformance import _spellable, _valid_on_the_wire
from mockserver.engine.validation import RequestValidators

VALIDATORS = RequestValidators.of(load_spec())


def case(operation_id: str | None, query: Any = None, path: Any = None, body: Any = None) -> Any:
    """The parts of a schemathesis case the filters read."""
    raw = {} if operation_id is None else {"operationId": operation_id}
    operation = SimpleNamespace(definition=SimpleNamespace(raw=raw))
    return SimpleNamespace(operation=operation, query=query, path_parameters=path, body=body)


PUSH_BODY = {"action": "addObject", "records": [{"objectID": "a"}]}


@pytest.mark.parametrize(
    ("given", "valid"),
    [
        (case("listSources", {"itemsPerPage": 5}), True),  # a number, spelled "5": an integer
        (case("listSources", {"type": ["json", "csv"]}), True),  # a list, spelled "json,csv"
        (case("listSources", {"type": [123]}), False),  # "123" is no source type
        (case("listSources", {"itemsPerPage": "five"}), False),
        (case("push", {"watch": True}, {"indexName": "products"}, PUSH_BODY), True),  # spelled "true"
        (case("push", {"watch": None}, {"indexName": "products"}, PUSH_BODY), False),  # spelled ""
        (case("push", {}, {"indexName": "products"}, {"action": "addObject"}), False),  # no records
        (case(None, {"itemsPerPage": 5}), False),  # no operationId: nothing to judge it by
        (case("noSuchOperation"), False),
    ],
)
def test_a_case_is_valid_on_the_wire_as_its_query_string_spells_it(given: Any, valid: bool) -> None:
    assert _valid_on_the_wire(given, VALIDATORS) is valid


@pytest.mark.parametrize(
    ("query", "spellable"),
    [
        ({"itemsPerPage": 5}, True),
        ({"itemsPerPage": None}, False),  # a JSON null has no spelling in a query string
        ({"type": [None]}, False),
        ({"type": ""}, False),  # "" spells [], which is valid
        ({"type": []}, False),
        ({"x-algolia-agent": "client"}, False),  # not declared: the service ignores it
    ],
)
def test_a_negative_case_counts_only_when_its_query_can_say_what_it_means(
    query: dict[str, Any], spellable: bool
) -> None:
    known = frozenset({"itemsPerPage", "type"})
    assert _spellable(case("listSources", query), frozenset({"type"}), known) is spellable
