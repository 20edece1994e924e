"""Fake Algolia indexes: the seven push actions applied to an in-memory index."""

from __future__ import annotations

import itertools
import operator
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any, TypeVar

from mockserver.engine import jsonio

Record = dict[str, Any]
T = TypeVar("T")

# A text holds more records than the index keeps from all texts together beyond this (see
# Index._compact): a few pushes' worth, so that a small index is not scanned after every push.
HELD_SLACK = 4096


class PushedText:
    """The JSON text of a push body (an object whose ``records`` member is the array of records),
    kept by an index for the records it still holds from it, until one of them is read.

    ``ids``: the records' objectIDs, in the order sent (one per record, repeats included). The text
    was decoded into exactly those records: it holds nothing the mock refuses.
    """

    __slots__ = ("ids", "text")

    def __init__(self, text: bytes, ids: list[str]) -> None:
        self.text = text
        self.ids = ids

    def records(self) -> dict[str, bytes]:
        """objectID -> that record's compact JSON (a repeated objectID: its last record, as the
        push stored it)."""
        records = jsonio.load_trusted(self.text)["records"]
        if len(records) != len(self.ids):  # cannot happen: the ids were read from these records
            raise RuntimeError(f"a pushed text holds {len(records)} records for {len(self.ids)} objectIDs")
        return dict(zip(self.ids, _pack_many(records, finite=True), strict=True))


class Index(MutableMapping[str, Record]):
    """objectID -> record, each record kept as its compact JSON (bytes): about 100 B for a small
    record where its dict takes 330. Decoded again on every read, so a read is always a fresh dict
    and nothing done to it changes the index.

    A push's records may instead be kept as the push's own JSON text (a :class:`PushedText`, one
    object shared by all of them: see :func:`apply`); the first read of any of them, or a scan when
    texts hold many more records than the index, turns the text's records still held here into
    their own compact JSON, so every read sees the one form. (Encoding a push's records one by one
    was a third of the mock's work on a push of 1,000 records; a push that is never read never pays
    it.)

    A record must be JSON (``ValueError``/``TypeError`` otherwise, from :func:`jsonio.dumps`) and
    must hold its key as objectID.

    Not thread-safe, reads included (a first read of a pushed record rewrites entries): the engine,
    the control plane and the plugin read and write indexes under the store's lock.
    """

    __slots__ = ("_derived", "_held", "_packed", "_saved", "version")

    def __init__(self, records: Mapping[str, Record] | None = None) -> None:
        self._packed: dict[str, bytes | PushedText] = {}
        # Records the pushed texts this index refers to hold, repeats and replaced ones included
        # (counted when a text is stored, recounted by _compact).
        self._held = 0
        # A cheap change counter: bumped by every change, so what is built from the records (the
        # search structures of engine/search) is kept until the index changes.
        self.version = 0
        self._derived: dict[Callable[[Index], Any], tuple[int, Any]] = {}
        # While a write is watched (the state file): each objectID it touched and its JSON before
        # (None: there was none), so a write costs what it touches to log or undo.
        self._saved: dict[str, bytes | PushedText | None] | None = None
        if records:
            self.update(records)

    def watch(self) -> None:
        """Start keeping what each change replaces (see :meth:`touched`)."""
        self._saved = {}

    def touched(self) -> dict[str, bytes | None]:
        """What was changed since :meth:`watch`: objectID -> its JSON before (None: absent then);
        watching stops."""
        saved, self._saved = self._saved or {}, None
        texts: dict[int, dict[str, bytes]] = {}
        out: dict[str, bytes | None] = {}
        for object_id, data in saved.items():
            if isinstance(data, PushedText):
                records = texts.get(id(data))
                if records is None:
                    records = texts[id(data)] = data.records()
                data = records[object_id]
            out[object_id] = data
        return out

    def derived(self, make: Callable[[Index], T]) -> T:
        """What ``make(self)`` builds from the records, kept (one per ``make``) until the index
        changes: the search structures are built once per version, not per query."""
        kept = self._derived.get(make)
        if kept is not None and kept[0] == self.version:
            built: T = kept[1]
            return built
        made = make(self)
        self._derived[make] = (self.version, made)
        return made

    def packed_record(self, object_id: str) -> bytes | None:
        """One record's JSON, or None."""
        data = self._packed.get(object_id)
        if isinstance(data, PushedText):
            return self._spread(data)[object_id]
        return data

    def _spread(self, pushed: PushedText) -> dict[str, bytes]:
        """Keep each record of ``pushed`` still held here as its own compact JSON (not a change:
        the records read the same), so the text goes once nothing refers to it; its records."""
        packed = self._packed
        records = pushed.records()
        # The entries still referring to the text, chosen and replaced in C (no Python loop).
        still = map(operator.is_, map(packed.get, records), itertools.repeat(pushed))
        packed.update(itertools.compress(records.items(), still))
        return records

    def _compact(self) -> None:
        """Spread each pushed text of which fewer than half the records are still held here (so a
        text mostly replaced is not kept for a few records), and count what the others hold."""
        uses = Counter(data for data in self._packed.values() if type(data) is PushedText)
        held = 0
        for pushed, used in uses.items():
            if 2 * used < len(pushed.ids):
                self._spread(pushed)
            else:
                held += len(pushed.ids)
        self._held = held

    def put_back(self, saved: Mapping[str, bytes | None]) -> None:
        """Undo the changes :meth:`touched` returned."""
        self.version += 1
        for object_id, data in saved.items():
            if data is None:
                self._packed.pop(object_id, None)
            else:
                self._packed[object_id] = data

    def _save(self, object_ids: Iterable[str]) -> None:
        """Every change goes through here first: the version moves, and a watched write keeps
        what it replaces."""
        self.version += 1
        saved = self._saved
        if saved is not None:
            packed = self._packed
            for object_id in object_ids:
                if object_id not in saved:
                    saved[object_id] = packed.get(object_id)

    def __getitem__(self, object_id: str) -> Record:
        data = self._packed[object_id]
        if isinstance(data, PushedText):
            data = self._spread(data)[object_id]
        return _unpack(data)

    def __setitem__(self, object_id: str, record: Record) -> None:
        if str(record.get("objectID")) != object_id:
            raise ValueError(f"a record stored as {object_id!r} has objectID {record.get('objectID')!r}")
        data = _pack_many([record])[0]
        self._save((object_id,))
        self._packed[object_id] = data

    def __delitem__(self, object_id: str) -> None:
        self._save((object_id,))
        del self._packed[object_id]

    def __contains__(self, object_id: object) -> bool:
        return object_id in self._packed

    def __iter__(self) -> Iterator[str]:
        return iter(self._packed)

    def __len__(self) -> int:
        return len(self._packed)

    def __repr__(self) -> str:
        return f"Index({dict(self.items())!r})"

    def pop_packed(self, object_id: str) -> bytes | None:
        """Remove a record without decoding it; its JSON, or None when there was none."""
        data = self._packed.get(object_id)
        if isinstance(data, PushedText):
            data = self._spread(data)[object_id]  # (its other records are likely removed next)
        self._save((object_id,))
        self._packed.pop(object_id, None)
        return data

    def clear(self) -> None:
        self._save(self._packed)
        self._packed.clear()
        self._held = 0

    def copy(self) -> Index:
        twin = Index()
        # bytes and pushed texts are never changed in place: sharing them is a copy
        twin._packed = dict(self._packed)
        twin._held = self._held
        return twin

    def __copy__(self) -> Index:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, Any]) -> Index:
        return self.copy()


def apply(
    indexes: MutableMapping[str, Any],
    name: str,
    action: str,
    records: Iterable[Record],
    *,
    results: bool = True,
    checked: bool = False,
    text: bytes | None = None,
) -> list[Record]:
    """Apply ``action`` to index ``name``; with ``results``, one result per record (what happened to it).

    ``checked``: the records are a validated request's own (decoded from strict JSON, objectIDs
    strings as the spec requires), so neither NaN nor a non-string objectID needs looking for.

    ``text`` (with ``checked``): the JSON text the records were decoded from, an object whose
    ``records`` member they are, unchanged since. An addObject or updateObject without ``results``
    on an unwatched index then keeps that text for them instead of encoding each record (see
    :class:`Index`).

    addObject / updateObject: the record replaces any record with its objectID.
    partialUpdateObject: given attributes are set, the record is created when missing.
    partialUpdateObjectNoCreate: likewise, but a missing record stays missing.
    deleteObject: the record with that objectID is removed.
    clear: every record is removed; the index stays. delete: the index itself goes.

    The index keeps each record as compact JSON (see :class:`Index`), never the request's objects.
    """
    if action == "delete":
        indexes.pop(name, None)
        return []
    index = indexes.get(name)
    if index is None:
        index = indexes[name] = Index()
    if action == "clear":
        index.clear()
        return []
    if action not in _ACTIONS:
        raise ValueError(f"unknown push action {action!r}")
    replace = action in ("addObject", "updateObject")
    if replace and isinstance(index, Index):
        if text is not None and checked and not results and index._saved is None:
            _keep_text(index, text, records)
            return []
        return _replace(index, action, list(records), results, checked)
    answers: list[Record] = []
    for record in records:  # (also any mapping a caller put in place of an Index, e.g. a plain dict)
        object_id = str(record["objectID"])
        if replace:
            outcome = "updated" if object_id in index else "created"
            index[object_id] = record
        elif action == "deleteObject":
            gone = index.pop_packed(object_id) if isinstance(index, Index) else index.pop(object_id, None)
            outcome = "deleted" if gone is not None else "skipped"
        else:
            existing = index.get(object_id)
            if existing is not None:
                index[object_id] = {**existing, **record}
                outcome = "updated"
            elif action == "partialUpdateObject":
                index[object_id] = record
                outcome = "created"
            else:
                outcome = "skipped"
        if results:
            answers.append({"objectID": object_id, "action": action, "outcome": outcome})
    return answers


def _pack_many(records: list[Record], finite: bool = False) -> list[bytes]:
    return jsonio.dumps_many(records, finite=finite)


def _unpack(packed: bytes) -> Record:
    record: Record = jsonio.load_trusted(packed)
    return record


def _replace(
    index: Index, action: str, records: list[Record], results: bool, checked: bool = False
) -> list[Record]:
    """addObject / updateObject, the bulk of every push: the records encoded in one C call and,
    when every objectID is a string already (a validated push's are), stored in another."""
    packed = index._packed
    encoded = _pack_many(records, finite=checked)
    ids: Iterable[str] = map(_OBJECT_ID, records)
    if not checked or index._saved is not None:
        ids = list(ids)
        if not _ONLY_STR.issuperset(map(type, ids)):
            ids = [str(object_id) for object_id in ids]
    index._save(ids)
    if not results:
        packed.update(zip(ids, encoded, strict=True))
        return []
    answers: list[Record] = []
    for object_id, data in zip(ids, encoded, strict=True):
        outcome = "updated" if object_id in packed else "created"  # (a repeated objectID: updated)
        answers.append({"objectID": object_id, "action": action, "outcome": outcome})
        packed[object_id] = data
    return answers


def _keep_text(index: Index, text: bytes, records: Iterable[Record]) -> None:
    """addObject / updateObject of a validated push's records: each objectID refers to the push's
    text (one object for all), nothing is encoded now."""
    ids = list(map(_OBJECT_ID, records))
    pushed = PushedText(text, ids)
    index._save(ids)
    packed = index._packed
    packed.update(zip(ids, itertools.repeat(pushed)))
    index._held += len(ids)
    if index._held > 3 * len(packed) + HELD_SLACK:
        index._compact()


_OBJECT_ID = operator.itemgetter("objectID")
_ONLY_STR = frozenset({str})


_ACTIONS = frozenset(
    {"addObject", "updateObject", "partialUpdateObject", "partialUpdateObjectNoCreate", "deleteObject"}
)


# How a task's action maps onto a push action when a run moves a source's records.
TASK_ACTION_TO_PUSH = {
    "replace": "updateObject",
    "save": "updateObject",
    "append": "addObject",
    "partial": "partialUpdateObject",
    "partialNoCreate": "partialUpdateObjectNoCreate",
}
