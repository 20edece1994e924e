"""The deviation ledger names every difference between the bundled spec and the published one, with a
reason and its evidence; a difference added to the spec without an entry fails the check."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from mockserver.cli import main
from mockserver.ledger import CLASSES, Entry, Ledger, LedgerError, load_ledger, pattern_regex
from mockserver.spec_diff import Difference, SpecDocument, compare
from tests.published import BUNDLED_SEARCH_SPEC, BUNDLED_SPEC, published_search_spec, published_spec


@pytest.fixture(scope="module")
def bundled() -> SpecDocument:
    return SpecDocument.read(BUNDLED_SPEC)


@pytest.fixture(scope="module")
def published() -> SpecDocument:
    return SpecDocument.read(published_spec())


def with_unledgered_changes(document: SpecDocument) -> SpecDocument:
    """A copy of the bundled spec with two differences nobody wrote an entry for: a status createSource
    now documents, and a query parameter getTask now takes."""
    spec: dict[str, Any] = copy.deepcopy(dict(document.document))
    spec["paths"]["/1/sources"]["post"]["responses"]["418"] = {"description": "A teapot."}
    spec["paths"]["/2/tasks/{taskID}"]["get"].setdefault("parameters", []).append(
        {"name": "verbose", "in": "query", "schema": {"type": "boolean"}}
    )
    return SpecDocument(spec, "changed copy")


UNLEDGERED = {
    "createSource.status 418",
    "getTask.query.verbose present",
    "getTask.query.verbose style",
    "getTask.query.verbose type",
}


# --- the check CI runs --------------------------------------------------------------------------


def test_every_difference_from_the_published_spec_is_in_the_ledger(
    bundled: SpecDocument, published: SpecDocument
) -> None:
    checked = load_ledger().check(compare(bundled, published))
    assert checked.total > 0, "the bundled and the published spec differ: the diff found nothing"
    assert checked.ok, "\n" + checked.problems()


def test_every_difference_from_the_published_search_spec_is_in_the_ledger() -> None:
    bundled = SpecDocument.read(BUNDLED_SEARCH_SPEC)
    checked = load_ledger().check(compare(bundled, SpecDocument.read(published_search_spec())), "search")
    assert checked.total > 0, "the bundled and the published Search spec differ: the diff found nothing"
    assert checked.ok, "\n" + checked.problems()
    assert "getIndexTask.operationId" in checked.named  # a renamed operation is compared as one


def test_spec_diff_with_the_ledger_holds_the_search_spec_to_the_search_entries(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["spec-diff", "--ledger", str(BUNDLED_SEARCH_SPEC), str(published_search_spec())]) == 0
    out = capsys.readouterr().out
    assert "Nothing the deviation ledger does not explain." in out
    assert "stale" not in out  # the Ingestion API's entries are not held to the Search spec


def test_an_entry_speaks_of_the_ingestion_api_unless_it_says_otherwise() -> None:
    ledger = load_ledger()
    assert ledger.entry("cron-syntax").apis == ("ingestion",)
    assert ledger.entry("search-error-code-and-status").apis == ("search",)
    assert ledger.entry("error-message-required").apis == ("ingestion", "search")
    assert ledger.entry("error-code-and-status").apis == ("ingestion",)
    assert ledger.entry("search-operation-names").apis == ("search",)
    with pytest.raises(ValueError, match="api 'billing' is not one of"):
        ledger.check([], "billing")


def test_a_difference_added_to_the_spec_without_an_entry_fails_the_check(
    bundled: SpecDocument, published: SpecDocument
) -> None:
    checked = load_ledger().check(compare(with_unledgered_changes(bundled), published))
    assert {d.key for d in checked.unnamed} == UNLEDGERED
    assert not checked.ok
    problems = checked.problems()
    assert problems.startswith("4 difference(s) no ledger entry names (add or widen one):")
    assert "  createSource.status 418    (status 418: documented (only in OLD))" in problems
    assert not checked.stale and not checked.claimed_twice, "only the new differences are reported"


def test_the_check_needs_no_published_spec_to_catch_an_unledgered_change(bundled: SpecDocument) -> None:
    """The same demonstration against the bundled spec itself, so it runs in a clone too: the changed
    copy differs from the original by exactly the unledgered differences, and the check names them."""
    checked = load_ledger().check(compare(with_unledgered_changes(bundled), bundled))
    assert {d.key for d in checked.unnamed} == UNLEDGERED
    assert not checked.ok


def test_spec_diff_with_the_ledger_lists_only_what_it_does_not_explain(
    bundled: SpecDocument, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    published = published_spec()
    assert main(["spec-diff", "--ledger", str(BUNDLED_SPEC), str(published)]) == 0
    out = capsys.readouterr().out
    assert "Nothing the deviation ledger does not explain." in out
    assert "The deviation ledger explains " in out

    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(dict(with_unledgered_changes(bundled).document)), encoding="utf-8")
    assert main(["spec-diff", "--ledger", str(changed), str(published)]) == 1
    out = capsys.readouterr().out
    assert "createSource  (POST /1/sources)\n  status 418: documented (only in OLD)\n" in out
    assert "4 differences in 2 operations" in out
    assert main(["spec-diff", "--ledger", "--keys", str(changed), str(published)]) == 1
    assert set(capsys.readouterr().out.splitlines()) == {f"{key} (only in OLD)" for key in UNLEDGERED}


def test_the_published_spec_moving_at_a_known_place_is_reported_not_explained(
    bundled: SpecDocument, published: SpecDocument
) -> None:
    """The ledger pins the cron pattern as the bundled spec's alone; a published spec that adopts a
    pattern of its own is a change to read, and the entry that no longer matches is reported too."""
    moved: dict[str, Any] = copy.deepcopy(dict(published.document))
    moved["components"]["schemas"]["Cron"]["pattern"] = r"^\S+( \S+){4}$"
    checked = load_ledger().check(compare(bundled, SpecDocument(moved, "moved")))
    assert {d.direction for d in checked.unnamed} == {"changed"}
    assert {d.place.rsplit(".", 1)[-1] for d in checked.unnamed} == {"cron pattern"}
    assert checked.stale == [("cron-syntax", "*.cron pattern (only in OLD)")]


# --- how the ledger matches ---------------------------------------------------------------------


def difference(key: str) -> Difference:
    operation, place = key.split(".", 1)
    return Difference(operation, place, "1", None)


def entry(entry_id: str, *covers: str, evidence: str = "assumption") -> Entry:
    return Entry(entry_id, "what", "why", evidence, "Our choice.", covers)


def test_a_pattern_that_names_nothing_is_stale_and_a_difference_claimed_twice_is_reported() -> None:
    ledger = Ledger(
        (
            entry("statuses", "*.status 503", "*.status 418"),
            entry("unavailable", "createSource.status 503"),
        )
    )
    checked = ledger.check([difference("createSource.status 503"), difference("getTask.status 503")])
    assert checked.stale == [("statuses", "*.status 418")]
    assert checked.claimed_twice == {"createSource.status 503": ["statuses", "unavailable"]}
    assert not checked.unnamed
    assert "ledger pattern(s) that name no difference (stale: remove them):\n  statuses: '*.status 418'" in (
        checked.problems()
    )


def test_a_pattern_may_pin_the_direction() -> None:
    pinned = entry("pinned", "*.status 418 (only in OLD)")
    either = entry("either", "*.status 418")
    gone, added = (
        Difference("x", "status 418", '"documented"', None),
        Difference("x", "status 418", None, "1"),
    )
    assert pinned.matching(gone) == ["*.status 418 (only in OLD)"]
    assert pinned.matching(added) == []
    assert either.matching(gone) == either.matching(added) == ["*.status 418"]


@pytest.mark.parametrize(
    ("pattern", "key", "matches"),
    [
        ("*.response 200[].taskID minLength", "searchTasks.response 200[].taskID minLength", True),
        ("*.response 200[].taskID minLength", "searchTasks.response 2000].taskID minLength", False),
        ("*.input{*} nullable", "getAuthentication.response 200.input{*} nullable", True),
        ("*.response 4??.error present", "customGet.response 402.error present", True),
        ("*.response 4??.error present", "customGet.response 4020.error present", False),
        ("*.status 403", "getTask.status 4030", False),
        ("getTask.*", "getTaskV1.status 403", False),
    ],
)
def test_patterns_are_literal_but_for_star_and_question_mark(pattern: str, key: str, matches: bool) -> None:
    assert bool(pattern_regex(pattern).fullmatch(key)) is matches


# --- the ledger file ----------------------------------------------------------------------------


def test_the_shipped_ledger_is_well_formed_and_each_class_cites_its_kind_of_source() -> None:
    ledger = load_ledger()
    assert 20 <= len(ledger.entries) <= 100, "dozens of entries, not one per difference"
    assert sum(ledger.counts().values()) == len(ledger.entries)
    assert set(ledger.counts()) == set(CLASSES)
    wrong = [
        f"{e.id} ({e.evidence}): {e.source}"
        for e in ledger.entries
        if not (
            (e.evidence == "observed" and "observed-service-behaviour.md" in e.source)
            or (e.evidence == "published" and e.source.startswith("Published spec"))
            or (e.evidence == "assumption" and e.source.startswith("Our "))
        )
    ]
    assert not wrong, "observed cites its record, published the spec, an assumption says it is ours:\n" + (
        "\n".join(wrong)
    )


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"id": "a"}], "entry 'a': 'what' must be a non-empty string"),
        (
            [{"id": "a", "what": "w", "why": "y", "class": "hunch", "source": "s"}],
            "class 'hunch' is not one of",
        ),
        (
            [{"id": "A b", "what": "w", "why": "y", "class": "assumption", "source": "s"}],
            "an id is lower-case",
        ),
        (
            [{"id": "a", "what": "w", "why": "y", "class": "assumption", "source": "s", "apis": ["billing"]}],
            "'apis' must be a non-empty list of",
        ),
        (
            [{"id": "a", "what": "w", "why": "y", "class": "assumption", "source": "s", "note": "n"}],
            r"unknown field\(s\) \['note'\]",
        ),
        (
            [{"id": "a", "what": "w", "why": "y", "class": "assumption", "source": "s", "covers": "*"}],
            "'covers' must be a list of patterns",
        ),
        (
            [{"id": "a", "what": "w", "why": "y", "class": "assumption", "source": "s"}] * 2,
            "entry id 'a' is used twice",
        ),
        (["not a mapping"], "entry 1: not a mapping"),
    ],
)
def test_a_malformed_ledger_is_refused_naming_the_entry(
    tmp_path: Path, entries: list[Any], message: str
) -> None:
    path = tmp_path / "ledger.yaml"
    path.write_text(yaml.safe_dump({"entries": entries}), encoding="utf-8")
    with pytest.raises(LedgerError, match=message):
        load_ledger(path)


def test_a_ledger_that_cannot_be_read_says_so() -> None:
    with pytest.raises(LedgerError, match="cannot read the ledger"):
        load_ledger("/nonexistent/ledger.yaml")
