"""The deviation ledger: where the mock differs from the published specs, and on what evidence.

The ledger (``mockserver/data/ledger.yaml``, shipped with the package) has one entry per deviation:
every difference ``mockserver spec-diff`` finds between the bundled spec and the one Algolia
publishes for its clients, and every behaviour the mock adds beyond both. An entry says what differs,
which differences it covers (glob patterns over :attr:`~mockserver.spec_diff.Difference.key`), why,
which published spec those differences are of (``apis``: ``ingestion`` unless it says ``search``
or both), and its evidence class:

- ``observed``: a public record of a live answer of the service (cited);
- ``published``: what the published spec says (operation or schema, and field, cited);
- ``assumption``: our guess or our choice, said plainly.

:meth:`Ledger.check` holds a list of differences against the ledger: a difference no entry names, a
difference two entries claim and a pattern that names nothing are all reported. The suite runs it
between the bundled spec and the published one, so the spec cannot drift without a word of why.

Patterns: ``*`` is any run of characters (dots and spaces included), ``?`` one character; everything
else is literal (``[]`` and ``{*}`` in keys are not character classes). A pattern matches a
difference's key (``*.cron pattern``), or its key and direction as ``spec-diff --keys`` prints them
(``*.cron pattern (only in OLD)``): pinning the direction makes a change of the published spec at a
known place (it adopts a pattern of its own) a new difference instead of a known one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Final

import yaml

from mockserver.spec_diff import Difference, render

__all__ = ["APIS", "CLASSES", "Entry", "Ledger", "LedgerCheck", "LedgerError", "load_ledger", "pattern_regex"]

CLASSES: Final = ("observed", "published", "assumption")
APIS: Final = ("ingestion", "search")  # the published specs an entry may speak of
_ID: Final = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_FIELDS: Final = ("id", "what", "why", "class", "source")


class LedgerError(ValueError):
    """A ledger file that is not well formed; the message names the entry and the field."""


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """A ledger pattern as a regular expression over a whole key."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL)


@dataclass(frozen=True)
class Entry:
    """One deviation: ``covers`` is empty for a behaviour the specs do not describe at all."""

    id: str
    what: str
    why: str
    evidence: str  # one of CLASSES
    source: str
    covers: tuple[str, ...] = ()
    apis: tuple[str, ...] = ("ingestion",)  # the APIs whose spec differences the patterns name

    @cached_property
    def _regexes(self) -> tuple[re.Pattern[str], ...]:
        return tuple(pattern_regex(p) for p in self.covers)

    def matching(self, difference: Difference) -> list[str]:
        """The entry's patterns that match the difference's key, or its key and direction."""
        return [
            pattern
            for pattern, regex in zip(self.covers, self._regexes, strict=True)
            if regex.fullmatch(difference.key) or regex.fullmatch(difference.signature)
        ]


@dataclass(frozen=True)
class LedgerCheck:
    """Differences held against the ledger."""

    named: dict[str, list[str]]  # difference key -> the ids of the entries that name it
    unnamed: list[Difference]
    claimed_twice: dict[str, list[str]]  # difference key -> entry ids, when more than one
    stale: list[tuple[str, str]]  # (entry id, pattern) that named no difference
    total: int

    @property
    def ok(self) -> bool:
        return not (self.unnamed or self.claimed_twice or self.stale)

    def problems(self) -> str:
        """What is wrong, in lines a person reads ('' when nothing)."""
        lines: list[str] = []
        if self.unnamed:
            lines.append(f"{len(self.unnamed)} difference(s) no ledger entry names (add or widen one):")
            lines += [f"  {d.key}    ({d.change})" for d in self.unnamed]
        if self.claimed_twice:
            lines.append(f"{len(self.claimed_twice)} difference(s) named by several entries (keep one):")
            lines += [f"  {key}: {', '.join(ids)}" for key, ids in sorted(self.claimed_twice.items())]
        if self.stale:
            lines.append(f"{len(self.stale)} ledger pattern(s) that name no difference (stale: remove them):")
            lines += [f"  {entry}: {pattern!r}" for entry, pattern in self.stale]
        return "\n".join(lines)

    def report(self, old: str, new: str) -> str:
        """For ``spec-diff --ledger``: what the ledger does not explain, then what it does."""
        lines = [render(self.unnamed, old, new, empty="Nothing the deviation ledger does not explain.")]
        entries = len({entry for ids in self.named.values() for entry in ids})
        lines.append(
            f"The deviation ledger explains {len(self.named)} difference(s) with {entries} "
            "entry(ies): known deviations of the bundled spec."
        )
        if self.stale:
            lines.append("Ledger patterns that match nothing (NEW moved at those places):")
            lines += [f"  {entry}: {pattern!r}" for entry, pattern in self.stale]
        if self.claimed_twice:
            lines.append("Differences several ledger entries claim:")
            lines += [f"  {key}: {', '.join(ids)}" for key, ids in sorted(self.claimed_twice.items())]
        return "\n".join(lines)


@dataclass(frozen=True)
class Ledger:
    entries: tuple[Entry, ...]
    published: Mapping[str, Any] = field(default_factory=dict)  # which published spec it was held to

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for entry in self.entries:
            if entry.id in seen:
                raise LedgerError(f"entry id {entry.id!r} is used twice")
            seen.add(entry.id)

    def entry(self, entry_id: str) -> Entry:
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)

    def ids(self) -> set[str]:
        return {e.id for e in self.entries}

    def counts(self) -> dict[str, int]:
        """Entries by evidence class, in the order of CLASSES."""
        found = Counter(e.evidence for e in self.entries)
        return {c: found[c] for c in CLASSES}

    def check(self, differences: Iterable[Difference], api: str = "ingestion") -> LedgerCheck:
        """The differences between our spec of ``api`` (one of APIS) and the published one, held
        against the entries that speak of that API."""
        if api not in APIS:
            raise ValueError(f"api {api!r} is not one of {list(APIS)}")
        entries = [e for e in self.entries if api in e.apis]
        found = list(differences)
        named: dict[str, list[str]] = {}
        unnamed: list[Difference] = []
        used: set[tuple[str, str]] = set()
        for difference in found:
            ids = []
            for entry in entries:
                patterns = entry.matching(difference)
                if patterns:
                    ids.append(entry.id)
                    used.update((entry.id, p) for p in patterns)
            if ids:
                named[difference.key] = ids
            else:
                unnamed.append(difference)
        stale = [(e.id, p) for e in entries for p in e.covers if (e.id, p) not in used]
        twice = {key: ids for key, ids in named.items() if len(ids) > 1}
        return LedgerCheck(named, unnamed, twice, stale, len(found))


def load_ledger(path: str | Path | None = None) -> Ledger:
    """The ledger in ``path`` (default: the one shipped with the package), checked for form."""
    if path is None:
        from mockserver.data import ledger

        path = ledger()
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise LedgerError(f"{path}: cannot read the ledger: {exc}") from None
    if not isinstance(document, Mapping) or not isinstance(document.get("entries"), list):
        raise LedgerError(f"{path}: a ledger is a mapping with a list of 'entries'")
    entries = tuple(_entry(raw, index) for index, raw in enumerate(document["entries"]))
    published = document.get("published") or {}
    if not isinstance(published, Mapping):
        raise LedgerError(f"{path}: 'published' must be a mapping")
    return Ledger(entries, published)


def _entry(raw: Any, index: int) -> Entry:
    where = f"entry {index + 1}"
    if not isinstance(raw, Mapping):
        raise LedgerError(f"{where}: not a mapping")
    if isinstance(raw.get("id"), str):
        where = f"entry {raw['id']!r}"
    unknown = set(raw) - {*_FIELDS, "covers", "apis"}
    if unknown:
        known = [*_FIELDS, "covers", "apis"]
        raise LedgerError(f"{where}: unknown field(s) {sorted(unknown)} (fields: {known})")
    for name in _FIELDS:
        if not isinstance(raw.get(name), str) or not raw[name].strip():
            raise LedgerError(f"{where}: '{name}' must be a non-empty string")
    if not _ID.match(raw["id"]):
        raise LedgerError(f"{where}: an id is lower-case words joined by '-'")
    if raw["class"] not in CLASSES:
        raise LedgerError(f"{where}: class {raw['class']!r} is not one of {list(CLASSES)}")
    covers = raw.get("covers") or []
    if not isinstance(covers, list) or not all(isinstance(p, str) and p.strip() for p in covers):
        raise LedgerError(f"{where}: 'covers' must be a list of patterns (strings)")
    apis = raw.get("apis", ["ingestion"])
    if not isinstance(apis, list) or not apis or not all(a in APIS for a in apis):
        raise LedgerError(f"{where}: 'apis' must be a non-empty list of {list(APIS)}")
    return Entry(
        id=raw["id"],
        what=" ".join(raw["what"].split()),
        why=" ".join(raw["why"].split()),
        evidence=raw["class"],
        source=" ".join(raw["source"].split()),
        covers=tuple(covers),
        apis=tuple(apis),
    )
