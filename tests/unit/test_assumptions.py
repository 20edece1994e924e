"""Every assumed rule is a ledger entry of class assumption, and relaxing a schema drops only it."""

from __future__ import annotations

from typing import Any

from mockserver.engine import assumptions
from mockserver.ledger import load_ledger
from mockserver.spec import load_spec


def test_every_assumed_rule_is_an_assumption_of_the_ledger() -> None:
    ledger = load_ledger()
    marked = assumptions.rules_in(load_spec().resolved)
    assert {"cron-syntax", "ids-non-empty-in-requests", "query-lists-non-empty"} <= set(marked)
    for rule in {*marked, *assumptions.CODE_RULES}:
        assert ledger.entry(rule).evidence == "assumption", rule


def test_relaxing_drops_the_marked_keywords_or_puts_the_published_shape_in() -> None:
    mark = {"rule": "cron-syntax", "keywords": ["pattern"]}
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {"cron": {"type": "string", "pattern": "^x$", "x-assumption": mark}},
    }
    assert assumptions.relaxed(schema) == {"type": "object", "properties": {"cron": {"type": "string"}}}
    assert assumptions.relaxed(schema, frozenset({"other"})) == schema
    replaced = {"oneOf": [{"const": 1}], "x-assumption": {"rule": "r", "otherwise": {"type": "integer"}}}
    assert assumptions.relaxed(replaced) == {"type": "integer"}
    assert schema["properties"]["cron"]["pattern"] == "^x$"  # the spec's schema is not changed


def test_a_refusal_by_an_assumed_rule_names_it_and_the_switch() -> None:
    error = assumptions.refuse("window-start-after-end", "query.startDate: must not be after query.endDate")
    assert error.status == 400
    assert "[assumed rule window-start-after-end of the deviation ledger" in error.message
    assert "--no-assumed-rules" in error.message and "assumed_rules=False" in error.message
