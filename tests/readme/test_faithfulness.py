"""README's "How faithful is it?" table agrees with the deviation ledger: every row names ledger
entries that exist, its source is their evidence classes, every entry is in some row, and the counts
README gives are the ledger's."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from mockserver.ledger import CLASSES, Entry, Ledger, load_ledger

from . import readme

SECTION = "How faithful is it?"
HEADER = ["Behaviour", "Source", "Ledger", "What the mock does"]


@dataclass(frozen=True)
class Row:
    behaviour: str
    source: str
    ids: tuple[str, ...]

    @property
    def classes(self) -> set[str]:
        """The classes the Source cell names (a parenthesised note after them is prose)."""
        named = self.source.split("(", 1)[0]
        return {word for word in re.split(r"[\s/,]+", named) if word}


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def table_rows() -> list[Row]:
    """The rows of the section's table whose header is HEADER."""
    rows: list[Row] = []
    inside = False
    for line in readme.section(SECTION).prose.splitlines():
        if not line.startswith("|"):
            inside = False
            continue
        cells = _cells(line)
        if cells == HEADER:
            inside = True
        elif inside and not set(line) <= set("|- "):
            rows.append(Row(cells[0], cells[1], tuple(readme.spans(cells[2]))))
    return rows


def problems(rows: list[Row], ledger: Ledger) -> list[str]:
    """What is wrong with the rows, held to the ledger (empty when they agree)."""
    found: list[str] = []
    ids = ledger.ids()
    for row in rows:
        if not row.ids:
            found.append(f"{row.behaviour!r} names no ledger entry")
        unknown = [i for i in row.ids if i not in ids]
        if unknown:
            found.append(f"{row.behaviour!r} names {unknown}, which the ledger does not have")
            continue
        strays = row.classes - set(CLASSES)
        if strays:
            found.append(f"{row.behaviour!r}: source {row.source!r} is not in {list(CLASSES)}")
        classes = {ledger.entry(i).evidence for i in row.ids}
        if row.ids and row.classes != classes:
            found.append(
                f"{row.behaviour!r}: source {row.source!r}, but its entries are "
                + ", ".join(f"{i} ({ledger.entry(i).evidence})" for i in row.ids)
            )
    named = {i for row in rows for i in row.ids}
    found += [
        f"ledger entry {e.id!r} ({e.evidence}) is in no row" for e in ledger.entries if e.id not in named
    ]
    return found


def test_the_table_has_rows() -> None:
    assert len(table_rows()) >= 20, (
        f"found {len(table_rows())} rows under '{SECTION}': has the header changed?"
    )


def test_every_row_agrees_with_the_ledger_and_every_entry_has_a_row() -> None:
    wrong = problems(table_rows(), load_ledger())
    assert not wrong, "README's table and mockserver/data/ledger.yaml disagree:\n" + "\n".join(wrong)


def test_the_counts_readme_gives_are_the_ledgers() -> None:
    ledger = load_ledger()
    counts = ledger.counts()
    said = re.search(
        r"The ledger holds (\d+) entries: (\d+) observed, (\d+) published, (\d+) assumption\.",
        " ".join(readme.section(SECTION).prose.split()),
    )
    assert said is not None, f"'{SECTION}' no longer says how many entries the ledger holds"
    assert [int(n) for n in said.groups()] == [len(ledger.entries), *counts.values()], (
        f"the ledger holds {len(ledger.entries)} entries: {counts}"
    )


# --- the check fails when a row and the ledger disagree -----------------------------------------


def _ledger() -> Ledger:
    return Ledger(
        (
            Entry("seen", "w", "y", "observed", "observed-service-behaviour.md"),
            Entry("guessed", "w", "y", "assumption", "Our choice."),
        )
    )


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([Row("A", "observed", ("seen",)), Row("B", "published", ("guessed",))], "source 'published', but"),
        ([Row("A", "observed", ("seen", "gone")), Row("B", "assumption", ("guessed",))], "which the ledger"),
        ([Row("A", "observed", ("seen",))], "ledger entry 'guessed' (assumption) is in no row"),
        (
            [Row("A", "observed", ()), Row("B", "assumption", ("guessed", "seen"))],
            "'A' names no ledger entry",
        ),
        ([Row("A", "seen live", ("seen",)), Row("B", "assumption", ("guessed",))], "is not in"),
    ],
)
def test_a_row_that_disagrees_with_the_ledger_is_reported(rows: list[Row], message: str) -> None:
    assert any(message in problem for problem in problems(rows, _ledger())), problems(rows, _ledger())


def test_rows_that_agree_are_not_reported() -> None:
    rows = [Row("A", "observed / assumption (a note)", ("seen", "guessed"))]
    assert problems(rows, _ledger()) == []
