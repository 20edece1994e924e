"""Assumed rules: refusals stricter than the published spec, on no evidence, and the switch for them.

Each assumed rule has an entry of class ``assumption`` in the deviation ledger (``data/ledger.yaml``)
and is on by default. ``assumed_rules=False`` (``mockserver serve --no-assumed-rules``, marker key
``assumed_rules``, ini ``ingestion_mock_assumed_rules``) switches them all off; with them on, every
refusal one of them makes says so, naming its ledger entry and the switch (:func:`note`).

Two kinds:

- constraints the bundled spec states as schema keywords: the schema object holding them carries
  ``x-assumption: {rule: <ledger id>, keywords: [<keyword>, ...]}`` (those keywords are the assumed
  rule), or ``x-assumption: {rule: <ledger id>, otherwise: <schema>}`` (the whole object is, and
  ``otherwise`` is what the published spec allows instead). :func:`relaxed` is a schema without
  them; request validators are compiled once for each variant (engine/validation.py);
- checks in code, named here (:data:`CODE_RULES`): the handlers and the query-string reader ask
  :func:`refuse` for their refusal, which is the same message with the note.
"""

from __future__ import annotations

from typing import Any, Final

from mockserver.engine.errors import BadRequest
from mockserver.spec import Schema

MARK: Final = "x-assumption"

# Assumed rules checked in code rather than by a schema keyword (ledger id -> what it refuses).
CODE_RULES: Final[dict[str, str]] = {
    "query-strings-non-empty": "an empty query value (`name=`)",
    "query-lists-non-empty": "an empty list in the query (`type=`)",
    "query-items-not-null": "an item spelled `null` in platform (listAuthentications) or status (listEvents)",
    "window-start-after-end": "a startDate after the endDate (listRuns, listEvents)",
    "source-input-follows-type": "an update's input of another type than the stored source's",
    "task-input-follows-source-type": "a task's input of another shape than its source's type takes",
    "transformation-input-follows-type": "a transformation without the code or steps of its type",
    "transformation-in-use": "deleting a transformation a destination uses",
    "validate-source-body-required": "validateSource without a body",
    "validate-url-source": "validating a source whose fields the service could not use (a non-http URL)",
    "frozen-clock-polls": "polling a run that cannot finish under a frozen clock",
    "cron-syntax": "a cron expression the mock cannot read (beyond the spec's pattern)",
    "search-geo-not-modelled": "deleteBy with a geographic filter (the mock does not model geography)",
    "search-list-indices-page-size": "listIndices with hitsPerPage below 1",
}

SWITCH: Final = (
    "off: assumed_rules=False (mockserver serve --no-assumed-rules, the marker key or the ini "
    "option ingestion_mock_assumed_rules)"
)


def note(rules: list[str] | tuple[str, ...] | str) -> str:
    """What a refusal by assumed ``rules`` appends to its message."""
    ids = [rules] if isinstance(rules, str) else list(rules)
    return f"[assumed rule {', '.join(ids)} of the deviation ledger, not known of the service; {SWITCH}]"


def refuse(rule: str, message: str) -> BadRequest:
    """The 400 of the assumed check ``rule`` (one of :data:`CODE_RULES`): ``message`` and the note."""
    if rule not in CODE_RULES:
        raise KeyError(f"{rule!r} is not an assumed rule checked in code: {sorted(CODE_RULES)}")
    return BadRequest(f"{message} {note(rule)}")


def rules_in(schema: Any) -> list[str]:
    """The ledger ids of the assumed rules marked anywhere in ``schema`` (in order, each once)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            mark = node.get(MARK)
            if isinstance(mark, dict) and isinstance(mark.get("rule"), str) and mark["rule"] not in found:
                found.append(mark["rule"])
            for key, value in node.items():
                if key != MARK:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return found


def relaxed(schema: Schema, rules: frozenset[str] | None = None) -> Schema:
    """``schema`` without the assumed rules marked in it (only those of ``rules`` when given).

    A copy: the schema given is the spec's, shared. Marks of rules not dropped stay, so the copy can
    be relaxed again."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            mark = node.get(MARK)
            if isinstance(mark, dict) and (rules is None or mark.get("rule") in rules):
                if "otherwise" in mark:
                    return strip(mark["otherwise"])
                dropped = set(mark.get("keywords", ())) | {MARK}
                return {k: strip(v) for k, v in node.items() if k not in dropped}
            return {k: (v if k == MARK else strip(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    result: Schema = strip(schema)
    return result
