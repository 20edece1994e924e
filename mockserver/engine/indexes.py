"""Fake Algolia indexes: the seven push actions applied to an in-memory index."""

from __future__ import annotations

import itertools
import operator
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any, TypeVar

from mockserver.engine import jsonio
from mockserver.engine.errors import BadRequest
from mockserver.engine.partial_updates import partial

Record = dict[str, Any]
T = TypeVar("T")

# The pushed texts all indexes of one mock keep, at most (see PushedTexts): past it, the oldest
# still kept is turned into per-record JSON. A text may hold what its records do not (indentation,
# a key given twice, records replaced since): this bounds what that can cost.
TEXT_BYTES = 64 * 1024 * 1024


class PushedText:
    """The JSON text of a push body (an object whose ``records`` member is the array of records),
    kept by an index for the records it still holds from it, until one of them is read.

    The text was decoded into exactly the records the index holds from it (their objectIDs strings,
    as a validated push's are): it holds nothing the mock refuses. It holds nothing else either (no
    list of objectIDs: they are read again from the text), so its bytes are all it costs.
    """

    __slots__ = ("__weakref__", "text")

    def __init__(self, text: bytes) -> None:
        self.text = text

    def records(self) -> dict[str, bytes]:
        """objectID -> that record's compact JSON (a repeated objectID: its last record, as the
        push stored it)."""
        records = jsonio.load_trusted(self.text)["records"]
        return dict(zip(map(_OBJECT_ID, records), _pack_many(records, finite=True), strict=True))


class PushedTexts:
    """The pushed texts the indexes of one mock keep, oldest first, at most ``max_bytes`` of them
    (one store's: no import-time state). Past it, the oldest text still kept is spread into its
    index's per-record JSON; a text no index refers to any more (its records all replaced or gone)
    is already freed, and only leaves the count when its turn comes."""

    def __init__(self, max_bytes: int = TEXT_BYTES) -> None:
        self.max_bytes = max_bytes
        self.bytes = 0  # the texts counted: kept, or freed and not yet past their turn
        self._kept: deque[tuple[weakref.ref[Index], weakref.ref[PushedText], int]] = deque()

    def keep(self, index: Index, pushed: PushedText) -> None:
        size = len(pushed.text)
        self._kept.append((weakref.ref(index), weakref.ref(pushed), size))
        self.bytes += size
        while self.bytes > self.max_bytes and len(self._kept) > 1:
            index_ref, text_ref, size = self._kept.popleft()
            self.bytes -= size
            oldest, holder = text_ref(), index_ref()
            if oldest is not None and holder is not None:
                holder._spread(oldest)

    def __len__(self) -> int:
        """Texts counted (kept, or freed and not yet past their turn)."""
        return len(self._kept)


class Index(MutableMapping[str, Record]):
    """objectID -> record, each record kept as its compact JSON (bytes): about 100 B for a small
    record where its dict takes 330. Decoded again on every read, so a read is always a fresh dict
    and nothing done to it changes the index.

    A push's records may instead be kept as the push's own JSON text (a :class:`PushedText`, one
    object shared by all of them: see :func:`apply`); the first read of any of them, a copy, or the
    mock's bound on kept texts (:class:`PushedTexts`) turns the text's records still held here into
    their own compact JSON, so every read sees the one form. (Encoding a push's records one by one
    was a third of the mock's work on a push of 1,000 records; a push replaced before anything
    reads it never pays it.)

    A record must be JSON (``ValueError``/``TypeError`` otherwise, from :func:`jsonio.dumps`) and
    must hold its key as objectID.

    Not thread-safe, reads included (a first read of a pushed record rewrites entries): the engine,
    the control plane and the plugin read and write indexes under the store's lock.
    """

    __slots__ = ("__weakref__", "_derived", "_packed", "_saved", "_texts", "version")

    def __init__(self, records: Mapping[str, Record] | None = None) -> None:
        self._packed: dict[str, bytes | PushedText] = {}
        self._texts = False  # whether a pushed text may be kept here (False: every record is bytes)
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

    def _spread_all(self) -> None:
        """Spread every pushed text kept here."""
        if self._texts:
            texts = {id(data): data for data in self._packed.values() if isinstance(data, PushedText)}
            for pushed in texts.values():
                self._spread(pushed)
            self._texts = False

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
        self._texts = False

    def copy(self) -> Index:
        """A twin holding the same records as bytes (a text stays with the one index that kept it,
        so the bound on kept texts sees every one)."""
        self._spread_all()
        twin = Index()
        twin._packed = dict(self._packed)  # bytes are immutable: sharing them is a copy
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
    texts: PushedTexts | None = None,
) -> list[Record]:
    """Apply ``action`` to index ``name``; with ``results``, one result per record (what happened to it).

    ``checked``: the records are a validated request's own (decoded from strict JSON, objectIDs
    strings as the spec requires), so neither NaN nor a non-string objectID needs looking for.

    ``text`` (with ``checked``): the JSON text the records were decoded from, an object whose
    ``records`` member they are, unchanged since; ``texts``: the mock's bound on kept texts. With
    both, an addObject or updateObject without ``results`` on an unwatched index keeps that text
    for the records instead of encoding each one (see :class:`Index`).

    addObject / updateObject: the record replaces any record with its objectID.
    partialUpdateObject: given attributes are set (a well-formed built-in operation applied, any
    other value set as it is: see :mod:`mockserver.engine.partial_updates`), the record is created
    when missing; a record whose operation would leave what JSON carries is left as it was.
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
        if text is not None and texts is not None and checked and not results and index._saved is None:
            _keep_text(index, text, records, texts)
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
        else:  # well-formed built-in operations apply; any other value is set as it is
            existing = index.get(object_id)
            try:
                after = partial(existing, object_id, record, action == "partialUpdateObject", lenient=True)
            except BadRequest:  # an operation past what JSON carries: the record stays as it was
                after = existing
            if after is None or after is existing:
                outcome = "skipped"
            else:
                after["objectID"] = record["objectID"]  # as given: a number stays a number
                index[object_id] = after
                outcome = "updated" if existing is not None else "created"
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


def _keep_text(index: Index, text: bytes, records: Iterable[Record], texts: PushedTexts) -> None:
    """addObject / updateObject of a validated push's records: each objectID refers to the push's
    text (one object for all), nothing is encoded now."""
    ids = list(map(_OBJECT_ID, records))
    pushed = PushedText(text)
    index._save(ids)
    index._packed.update(zip(ids, itertools.repeat(pushed)))
    index._texts = True
    texts.keep(index, pushed)


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
