"""Requests the *published* spec allows are never refused once the assumed rules are off (issue 22).

schemathesis generates positive data from Algolia's published ingestion.yml and sends it to the
in-process mock. With ``assumed_rules=False`` a 400 may only come from the state (a body naming a
resource that does not exist: ``resource_not_found``) or from a rule the deviation ledger backs with
evidence (class published or observed, listed in :data:`EVIDENCED`); with the defaults, every other
refusal must say it is an assumed rule, naming a ledger entry of class ``assumption``.

Run as a script (``python -m tests.test_published_positive [EXAMPLES]``) it prints the refusals by
kind with the assumed rules on and off.
"""

from __future__ import annotations

import functools
import re
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from mockserver import create_app
from mockserver.ledger import load_ledger
from mockserver.names import API_KEY_HEADER, APP_ID_HEADER
from tests.published import published_spec

EXAMPLES = 6  # per operation: ~60 operations, a few hundred requests, well under a minute
SEED = 3
HEADERS = {APP_ID_HEADER: "APP", API_KEY_HEADER: "KEY"}
STATE_CODES = frozenset({"resource_not_found", "resource_in_use"})  # the state refuses, not a rule

# Rules stricter than the published schemas that the ledger backs with evidence: kept with the
# assumed rules off. (ledger id, operation pattern, message pattern)
EVIDENCED: tuple[tuple[str, str, str], ...] = (
    # An authentication's input follows its type (published: AuthenticationType's description).
    (
        "authentication-input-follows-type",
        r".*",
        r"^body(\.authentications\[\d+\])?\.input.*\(rule for type '",
    ),
    # startDate / endDate are RFC 3339 date-times (published: the parameters' descriptions).
    ("dates-rfc3339", r"list(Runs|Events)$", r"^query\.(startDate|endDate): .* is not a 'date-time'$"),
)
ASSUMED_NOTE = re.compile(r"\[assumed rule ([a-z0-9, -]+) of the deviation ledger.*assumed_rules=False")


@dataclass
class Refusal:
    operation: str
    code: str
    message: str

    @property
    def kind(self) -> str:
        text = re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", self.message.split(" [assumed rule")[0])
        return f"{self.operation} [{self.code}] {re.sub(r'[0-9]+', 'N', text)[:120]}"


def evidenced_rule(refusal: Refusal) -> str | None:
    for rule, operation, message in EVIDENCED:
        if re.fullmatch(operation, refusal.operation) and re.search(message, refusal.message):
            return rule
    return None


def _spellable(case: Any) -> bool:
    """A JSON null has no query-string spelling (schemathesis sends the text 'null' or nothing):
    such a case is not the request it stands for (ledger: query-items-not-null)."""
    for value in (case.query or {}).values():
        items = value if isinstance(value, list) else [value]
        if any(item is None or item == "null" for item in items):  # a null as schemathesis spells it
            return False
    return True


def _for_operation(send_to: Callable[[str, Any], None], op_id: str) -> Callable[[Any], None]:
    return lambda case: send_to(op_id, case)


Outcome = tuple[int, list[Refusal], list[str]]  # requests sent, the 400s, the server errors


def published_refusals(examples: int, seed: int, *configurations: dict[str, Any]) -> list[Outcome]:
    """Positive cases of the published spec, each sent to a fresh mock of every configuration (the
    cases are generated once for all of them): per configuration, (requests, 400s, server errors)."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from schemathesis import GenerationMode
    from schemathesis.core.result import Err

    with open(published_spec(), encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    schema = schemathesis.openapi.from_dict(document)
    apps = [create_app(**options) for options in configurations]
    schema.app = apps[0]
    outcomes: list[Outcome] = [(0, [], []) for _ in apps]

    def send_to(op_id: str, case: Any) -> None:
        if not _spellable(case):
            return
        for index, app in enumerate(apps):
            sent, refusals, crashes = outcomes[index]
            outcomes[index] = (sent + 1, refusals, crashes)
            response = case.call(headers=HEADERS, base_url="http://mock.test", app=app)
            if response.status_code >= 500:
                crashes.append(f"{op_id}: {response.status_code} {response.text[:300]}")
            elif response.status_code == 400:
                body = response.json()
                refusals.append(Refusal(op_id, body["error"]["code"], body["message"]))

    for result in schema.get_all_operations():
        assert not isinstance(result, Err), result.err()
        operation = result.ok()
        op_id = str(operation.definition.raw.get("operationId"))
        strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)

        send = _for_operation(send_to, op_id)
        test: Callable[[], None] = settings(
            max_examples=examples,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )(given(strategy)(send))
        hypothesis_seed(seed)(test)()
    return outcomes


@functools.cache
def outcomes() -> dict[str, Outcome]:
    """The same cases against a mock with the assumed rules off and one with the defaults, made by
    the first test that asks (the module runs on one worker: tests/heavy.py, TOGETHER). Not a
    fixture: a fixture's setup would run under coverage's trace hook, which ``no_cover`` lifts
    only from the test itself (tests/heavy.py, UNTRACED)."""
    off, defaults = published_refusals(EXAMPLES, SEED, {"assumed_rules": False}, {})
    return {"off": off, "defaults": defaults}


def test_with_the_assumed_rules_off_published_valid_requests_are_never_refused() -> None:
    requests, refusals, crashes = outcomes()["off"]
    assert requests > 200, requests
    assert crashes == []
    ledger = load_ledger()
    wrong = [
        r.kind
        for r in refusals
        if r.code not in STATE_CODES and evidenced_rule(r) is None  # refused by no rule with evidence
    ]
    assert wrong == [], "\n".join(sorted(set(wrong)))
    for rule, _, _ in EVIDENCED:
        assert ledger.entry(rule).evidence in ("published", "observed"), rule
    assert not any(ASSUMED_NOTE.search(r.message) for r in refusals)


def test_with_the_defaults_every_refusal_by_an_assumed_rule_says_so() -> None:
    requests, refusals, crashes = outcomes()["defaults"]
    assert requests > 200, requests
    assert crashes == []
    ledger = load_ledger()
    assumed = 0
    for refusal in refusals:
        if refusal.code in STATE_CODES or evidenced_rule(refusal) is not None:
            continue
        said = ASSUMED_NOTE.search(refusal.message)
        assert said is not None, (
            f"a refusal of published-valid data that does not say it is assumed: {refusal}"
        )
        for rule in said.group(1).split(", "):
            assert ledger.entry(rule).evidence == "assumption", (rule, refusal)
        assumed += 1
    assert assumed > 0  # the defaults do refuse some published-valid data: each says why


def main(argv: list[str]) -> None:
    examples = int(argv[1]) if len(argv) > 1 else 20
    configurations: list[dict[str, Any]] = [{}, {"assumed_rules": False}]
    for options, (requests, refusals, crashes) in zip(
        configurations, published_refusals(examples, SEED, *configurations), strict=True
    ):
        print(f"--- {options or 'defaults'}: {requests} requests, {len(refusals)} refused with 400")
        for kind, count in Counter(r.kind for r in refusals).most_common():
            print(f"{count:6}  {kind}")
        for crash in crashes:
            print("CRASH", crash)


if __name__ == "__main__":
    main(sys.argv)
