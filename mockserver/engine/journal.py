"""Every request the mock saw and what it answered, queryable and assertable from tests.

Secrets sent in authentication payloads are masked before they are recorded.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import threading
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict, Unpack, overload

import msgspec

from mockserver.engine import jsonio
from mockserver.engine.call_matching import UNSET, Matcher, closest, explain
from mockserver.engine.errors import BadRequest
from mockserver.suggest import did_you_mean

MASK = "***"
MAX_PAGE = 1000  # calls one journal query answers at most
UNPAGED_LIMIT = MAX_PAGE  # the newest calls the unpaged form (no limit given) answers at most
REJECTED_BODY_BYTES = 64 * 1024  # a rejected request's body larger than this is kept as a marker
CALL_OVERHEAD = 512  # bytes a call costs beyond its bodies (the dataclass, its dicts, small strings)
MEMORY_FACTOR = 4  # Python objects take about this many times their JSON size in memory (a value kept
# unpacked: one that MessagePack cannot carry exactly, e.g. an integer beyond 64 bits)
# Journal query parameters beyond the first two (operationId, appID); any of them asks for the paged answer.
PAGING_PARAMS = (
    *("status", "rejected", "stubbed", "body", "query", "pathParams"),
    *("order", "limit", "offset", "before", "after"),
)


@dataclass(frozen=True, init=False, repr=False, eq=False, slots=True, weakref_slot=True)
class Call:
    """One request and its answer.

    The request body and the answer are kept packed (as the JSON text that came or went on the
    wire, else MessagePack) and decoded again on each read of ``body`` and ``response``: a journal
    of 100,000 calls would otherwise hold every pushed record and every listing as Python objects,
    and a served mock would spend its time allocating them and walking them in full garbage
    collections (listSources served 15% faster with the journal off, measured). Two calls are
    equal when their fields read equal, however each was kept.
    """

    operation_id: str | None  # None when no operation matched (wrong method; with a spec that has no
    # custom /{path} operations, also an unknown path — the bundled spec records those as customGet & co.)
    method: str
    path: str
    app_id: str | None
    path_params: dict[str, str]
    query: dict[str, list[str]]
    _body: Any  # a _Packed, or the body itself when it does not pack exactly
    status: int
    _response: Any  # a _Packed, or the answer itself when it does not pack exactly
    # The answer said "not there yet" to a poller (a 404 for an event its run has not published):
    # an answer the client expects and polls again on, not a rejection (see ``rejections``).
    not_ready: bool
    stub_id: str | None  # the stub that answered the call (engine/stubs.py), None when the mock acted

    def __init__(
        self,
        operation_id: str | None,
        method: str,
        path: str,
        app_id: str | None,
        path_params: dict[str, str] | None = None,
        query: dict[str, list[str]] | None = None,
        body: Any = None,
        status: int = 200,
        response: Any = None,
        *,
        body_json: bytes | None = None,
        response_json: bytes | None = None,
        not_ready: bool = False,
        stub_id: str | None = None,
    ) -> None:
        """``body_json``: the JSON text ``body`` was parsed from, when the caller has it (kept as
        is, nothing encoded again; it must be valid JSON and say exactly what ``body`` holds).
        ``response_json``: likewise, the JSON text ``response`` was sent as."""
        # One Call is made per request and a served journal keeps up to 100,000: slotted, a call
        # takes ~120 bytes beside its values where an instance dict took ~460.
        _SET(self, "operation_id", operation_id)
        _SET(self, "method", method)
        _SET(self, "path", path)
        _SET(self, "app_id", app_id)
        _SET(self, "path_params", {} if path_params is None else path_params)
        _SET(self, "query", {} if query is None else query)
        _SET(self, "_body", _pack_body(body, body_json))
        _SET(self, "status", status)
        _SET(self, "_response", _pack_response(response, response_json))
        _SET(self, "not_ready", not_ready)
        _SET(self, "stub_id", stub_id)

    @classmethod
    def of_kept(cls, kept: KeptCall) -> Call:
        """The call :func:`kept_call` packed."""
        call = object.__new__(cls)
        for name, value in zip(_KEPT_FIELDS, kept, strict=True):
            _SET(call, name, value)
        return call

    @property
    def body(self) -> Any:
        """The request body (a fresh copy on every read), None when there was none."""
        kept = self._body
        return kept.value() if isinstance(kept, _Packed) else copy.deepcopy(kept)

    def kept_bytes(self) -> int:
        """The memory this call holds, for the journal's budget: its packed body and answer exactly
        (their bytes), a value that could not be packed estimated from its size as JSON."""
        return _kept_bytes(self._body, self._response)

    @property
    def response(self) -> Any:
        """The answer's body (a fresh copy on every read), None when there was none."""
        kept = self._response
        return kept.value() if isinstance(kept, _Packed) else copy.deepcopy(kept)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Call):
            return NotImplemented
        return _same(self._compared(), other._compared())

    __hash__ = None  # type: ignore[assignment]  # (equal calls hold dicts: no hash, as before)

    def _compared(self) -> list[Any]:
        return [
            *(self.operation_id, self.method, self.path, self.app_id, self.path_params, self.query),
            *(self.body, self.status, self.response, self.not_ready, self.stub_id),
        ]

    def __repr__(self) -> str:
        return (
            f"Call(operation_id={self.operation_id!r}, method={self.method!r}, path={self.path!r}, "
            f"app_id={self.app_id!r}, path_params={self.path_params!r}, query={self.query!r}, "
            f"body={self.body!r}, status={self.status!r}, response={self.response!r}"
            + (", not_ready=True" if self.not_ready else "")
            + (f", stub_id={self.stub_id!r})" if self.stub_id is not None else ")")
        )

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def rejected(self) -> bool:
        return self.status >= 400

    @property
    def stubbed(self) -> bool:
        """Whether a stub answered the call (the mock did not act on it: no state changed)."""
        return self.stub_id is not None

    @property
    def message(self) -> str | None:
        """The error message the mock answered with, if any."""
        response = self.response
        if isinstance(response, dict) and isinstance(response.get("message"), str):
            return str(response["message"])
        return None

    @property
    def detail(self) -> str | None:
        """The mock's own diagnosis of an error (``error.detail``), if any."""
        response = self.response
        error = response.get("error") if isinstance(response, dict) else None
        detail = error.get("detail") if isinstance(error, dict) else None
        return detail if isinstance(detail, str) else None

    def describe(self) -> str:
        """One line: the request, the status and, for an error, its message (and the mock's
        diagnosis, where the message is the service's wording and leaves it out)."""
        name = self.operation_id or "no operation"
        text = f"{self.method} {self.path} ({name}) -> {self.status}"
        if self.stub_id is not None:
            text += f" (stub {self.stub_id})"
        message, detail = self.message, self.detail
        if not self.rejected or not message:
            return text
        if detail and detail not in message:
            return f"{text}: {message} (mock: {detail})"
        return f"{text}: {message}"

    def to_json(self) -> dict[str, Any]:
        return {
            "operation_id": self.operation_id,
            "method": self.method,
            "path": self.path,
            "app_id": self.app_id,
            "path_params": copy.deepcopy(self.path_params),
            "query": copy.deepcopy(self.query),
            "body": self.body,
            "status": self.status,
            "response": self.response,
            "stubbed": self.stub_id is not None,
            "stub_id": self.stub_id,
        }


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON values: as ``==``, but true is not 1 and 1.0 is not 1 (they are other JSON)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(value, b[key]) for key, value in a.items())
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


class _Packed:
    """A value kept as its MessagePack encoding: a fifth smaller than compact JSON, with nothing
    to check (NaN, integers up to 64 bits and every JSON type round-trip exactly).

    (A slotted class rather than a frozen dataclass: one is made per request with a body, and a
    frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``.)"""

    __slots__ = ("data", "json")

    def __init__(self, data: bytes, json: bool = False) -> None:
        self.data = data
        self.json = json  # data is JSON text rather than MessagePack

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Packed):
            return NotImplemented
        return self.data == other.data and self.json == other.json

    def __hash__(self) -> int:
        return hash((self.data, self.json))

    @staticmethod
    def exact(text: bytes) -> _Packed:
        """JSON text kept in a bytes object of its own size: msgspec's results hold ~20% spare room,
        which the journal's budget would not see."""
        return _Packed(bytes(memoryview(text)), True)

    @staticmethod
    def of(value: Any) -> Any:
        """``value`` packed when it is an object or array that packs exactly, else a copy of it."""
        if not isinstance(value, dict | list):
            return value
        try:
            return _Packed(bytes(memoryview(_PACK(value))))  # (its own size: see exact)
        except (TypeError, ValueError, OverflowError):  # big integers, lone surrogates, odd objects
            return copy.deepcopy(value)  # (kept as a value: the caller's own objects stay theirs)

    def value(self) -> Any:
        return jsonio.load_trusted(self.data) if self.json else _UNPACK(self.data)


_SET = object.__setattr__  # (a frozen, slotted class sets its fields through it)

# A call as the journal keeps it until somebody reads it: Call's fields in this order, the body and
# the answer packed. The served mock records every request and nearly nobody reads most of them, so
# the Call object is made on the first read (making it on every request cost ~2 µs of a ~40 µs
# getSource: eleven object.__setattr__ calls and a keyword call).
KeptCall = tuple[Any, ...]
_KEPT_FIELDS = (
    *("operation_id", "method", "path", "app_id", "path_params", "query"),
    *("_body", "status", "_response", "not_ready", "stub_id"),
)


def kept_call(
    operation_id: str | None,
    method: str,
    path: str,
    app_id: str | None,
    path_params: dict[str, str],
    query: dict[str, list[str]],
    body: Any,
    body_json: bytes | None,
    status: int,
    response: Any,
    response_json: bytes | None,
    not_ready: bool,
    stub_id: str | None,
) -> tuple[KeptCall, int]:
    """What ``Call(...)`` with these fields would hold, packed as it packs them, and the bytes the
    journal counts for it (:meth:`Call.kept_bytes`): for :meth:`Journal.record_kept`."""
    packed_body, packed_response = _pack_body(body, body_json), _pack_response(response, response_json)
    fields = (operation_id, method, path, app_id, path_params, query)
    kept = (*fields, packed_body, status, packed_response, not_ready, stub_id)
    return kept, _kept_bytes(packed_body, packed_response)


def _pack_body(body: Any, body_json: bytes | None) -> Any:
    """A request body as a call keeps it: the JSON text it came as, else packed (see _Packed.of)."""
    return _Packed.of(body) if body_json is None else _Packed(body_json, True)


def _pack_response(response: Any, response_json: bytes | None) -> Any:
    """An answer as a call keeps it: the JSON text sent, in a bytes object of its own size, else packed."""
    return _Packed.of(response) if response_json is None else _Packed.exact(response_json)


def _kept_bytes(body: Any, response: Any) -> int:
    """What a call holding this kept body and answer counts for in the journal's budget."""
    size = CALL_OVERHEAD
    for kept in (body, response):
        if isinstance(kept, _Packed):
            size += len(kept.data)
        elif kept is not None:
            size += MEMORY_FACTOR * estimate_size(kept)
    return size


_PACK = msgspec.msgpack.Encoder().encode
_UNPACK = msgspec.msgpack.Decoder().decode


def truncated_body(size: int) -> dict[str, Any]:
    """What the journal keeps instead of a large body of a rejected request."""
    return {"truncated": True, "bytes": size, "kept": 0}


def estimate_size(value: Any, budget: int = 100_000) -> int:
    """Roughly how many bytes ``value`` takes as JSON, walking at most ``budget`` nodes (a larger
    value is extrapolated from the part walked), so the estimate stays cheap for any value."""
    size = 0
    walked = 0
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        walked += 1
        if walked > budget:  # extrapolate from what was walked
            return size * 2 + 8 * len(stack)
        if isinstance(item, str):
            size += len(item) + 2
        elif isinstance(item, dict):
            size += 2
            for key, child in item.items():
                size += len(key) + 4 if isinstance(key, str) else 8
                stack.append(child)
        elif isinstance(item, (list, tuple)):
            size += 2
            stack.extend(item)
        else:
            size += 8
    return size


def _read(entry: list[Any]) -> Call:
    """The call a journal entry holds, made from what it kept on the first read (under the lock)."""
    call = entry[1]
    if type(call) is tuple:
        call = entry[1] = Call.of_kept(call)
    return call  # type: ignore[no-any-return]


def _app_of(call: Call | KeptCall) -> str | None:
    return call[3] if type(call) is tuple else call.app_id  # type: ignore[union-attr]


class Journal:
    """An ordered record of calls, bounded by count and by their bytes. Thread-safe; cleared by the
    mock's reset.

    Over a bound, the call that goes is the oldest of the application holding the most (bytes over
    ``max_bytes``, calls over ``maxlen``): one tenant's flood of calls pushes out its own, not
    another's few. Each call keeps its sequence number (0 for the first ever recorded); a call gone
    leaves a gap a reader sees."""

    def __init__(
        self,
        maxlen: int | None = 100_000,
        max_bytes: int | None = None,
        operations: Collection[str] | None = None,
    ) -> None:
        """``operations``: the spec's operationIds (a name that is none of them is refused, with
        the likely one); None accepts any name."""
        self.operation_names = frozenset(operations) if operations is not None else None
        # Each kept call is an entry [sequence number, call, bytes], in the order of all calls and in
        # its application's order. A call pushed out of the middle (another application's is older)
        # is marked gone (call None) and left where it is until it reaches the front, or until
        # gone entries outnumber kept ones (then the order is rebuilt without them).
        self._order: deque[list[Any]] = deque()
        self._by_app: dict[str | None, deque[list[Any]]] = {}
        self._app_bytes: dict[str | None, int] = {}
        self._kept = 0  # calls kept (entries in _order that are not gone)
        self.maxlen = maxlen
        self.max_bytes = max_bytes
        self.bytes = 0  # bytes of the calls kept
        self._lock = threading.Lock()
        self._recorded = 0  # calls ever recorded: the next call's sequence number

    def record(self, call: Call, size: int | None = None) -> None:
        """Keep ``call`` (``size``: its bytes, when the caller knows them; else :meth:`Call.kept_bytes`)."""
        self._keep(call, call.app_id, call.kept_bytes() if size is None else size)

    def record_kept(self, kept: KeptCall, size: int) -> None:
        """Keep a call as :func:`kept_call` packed it (made a :class:`Call` when first read)."""
        self._keep(kept, kept[3], size)

    def _keep(self, call: Call | KeptCall, app_id: str | None, size: int) -> None:
        with self._lock:
            entry = [self._recorded, call, size]
            self._recorded += 1
            self._order.append(entry)
            mine = self._by_app.get(app_id)
            if mine is None:
                mine = self._by_app[app_id] = deque()
            mine.append(entry)
            self._app_bytes[app_id] = self._app_bytes.get(app_id, 0) + size
            self.bytes += size
            self._kept += 1
            while self._kept > 1:
                if self.maxlen is not None and self._kept > self.maxlen:
                    holder = self._holding_most(lambda app: len(self._by_app[app]))
                elif self.max_bytes is not None and self.bytes > self.max_bytes:
                    holder = self._holding_most(self._app_bytes.__getitem__)
                else:
                    break
                if self._by_app[holder][0] is entry:  # the newest call stays: the oldest of all goes
                    holder = _app_of(self._order[0][1])
                self._drop_oldest_of(holder)

    def _holding_most(self, measure: Callable[[str | None], int]) -> str | None:
        """The application holding the most by ``measure`` (the only one, without measuring)."""
        holders = self._by_app
        return next(iter(holders)) if len(holders) == 1 else max(holders, key=measure)

    def _drop_oldest_of(self, app_id: str | None) -> None:
        held = self._by_app[app_id]
        entry = held.popleft()
        size = entry[2]
        entry[1] = None  # gone
        self.bytes -= size
        self._kept -= 1
        if held:
            self._app_bytes[app_id] -= size
        else:
            del self._by_app[app_id], self._app_bytes[app_id]
        self._forget_gone()

    def _forget_gone(self) -> None:
        order = self._order
        while order and order[0][1] is None:
            order.popleft()
        if len(order) > 2 * self._kept + 64:
            self._order = deque(entry for entry in order if entry[1] is not None)

    def clear(self, app_id: str | None = None) -> None:
        """Forget the calls (or one application's); sequence numbers go on from where they were
        (a reader sees the gap)."""
        with self._lock:
            if app_id is None:
                self._order.clear()
                self._by_app.clear()
                self._app_bytes.clear()
                self._kept = 0
                self.bytes = 0
                return
            for entry in self._by_app.pop(app_id, ()):
                entry[1] = None
                self._kept -= 1
            self.bytes -= self._app_bytes.pop(app_id, 0)
            self._forget_gone()

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return [_read(entry) for entry in self._order if entry[1] is not None]

    def __len__(self) -> int:
        with self._lock:
            return self._kept

    def __iter__(self) -> Iterator[Call]:
        return iter(self.calls)

    # --- the one matcher set every method takes --------------------------------------------------
    def selection(
        self, operation_id: str | None, criteria: Mapping[str, Any], where: str = "operation_id"
    ) -> CallFilter:
        """The calls ``operation_id`` and ``criteria`` (see :class:`Criteria`) select, checked: an
        unknown operation or matcher, or a value of the wrong kind, raises naming it."""
        if operation_id is not None:
            self.check_operation(operation_id, where)
        unknown = sorted(set(criteria) - CRITERIA)
        if unknown:
            raise TypeError(
                f"journal: unknown matcher {unknown[0]!r}{did_you_mean(unknown[0], CRITERIA)}; "
                f"the matchers are {sorted(CRITERIA)}"
            )
        fields: dict[str, Any] = {}
        for name in ("method", "path", "app_id"):
            value = criteria.get(name)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"journal: {name}={value!r} is not a string")
            if value is not None:
                fields[name] = value.upper() if name == "method" else value
        status = criteria.get("status")
        if status is not None:
            if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
                raise TypeError(f"journal: status={status!r} is not an HTTP status (100-599)")
            fields["status"] = status
        for name in ("rejected", "stubbed"):
            flag = criteria.get(name)
            if flag is not None and not isinstance(flag, bool):
                raise TypeError(f"journal: {name}={flag!r} is not True or False")
            if flag is not None:
                fields[name] = flag
        query = criteria.get("query")
        if query is not None and (
            not isinstance(query, Mapping)
            or not all(
                isinstance(k, str)
                and (isinstance(v, str) or (isinstance(v, Sequence) and all(isinstance(i, str) for i in v)))
                for k, v in query.items()
            )
        ):
            raise TypeError(f"journal: query={query!r} is not a mapping of names to a string or strings")
        path_params = criteria.get("path_params")
        if path_params is not None and (
            not isinstance(path_params, Mapping)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in path_params.items())
        ):
            raise TypeError(f"journal: path_params={path_params!r} is not a mapping of names to strings")
        matcher = Matcher(criteria.get("body", UNSET), query, path_params, fields)
        return CallFilter(operation_id, matcher)

    def check_operation(self, operation_id: str, where: str = "operation_id") -> None:
        """Refuse an operation the spec does not have (a typo would otherwise read as "never called")."""
        if self.operation_names is not None and operation_id not in self.operation_names:
            raise ValueError(
                f"{where}: {operation_id!r} is not an operation of the spec"
                f"{did_you_mean(operation_id, self.operation_names)}"
            )

    # --- queries -------------------------------------------------------------------------------
    def filter(self, operation_id: str | None = None, **criteria: Unpack[Criteria]) -> list[Call]:
        """The calls that match every matcher given (see :class:`Criteria`)."""
        selected = self.selection(operation_id, criteria)
        return [c for c in self.calls if selected.selects(c)]

    def numbered(self, app_id: str | None = None) -> list[tuple[int, Call]]:
        """The kept calls with their sequence numbers (0 for the first call ever recorded), oldest
        first; with ``app_id``, that application's only (read without walking the others')."""
        with self._lock:
            kept = self._order if app_id is None else self._by_app.get(app_id, ())
            return [(entry[0], _read(entry)) for entry in kept if entry[1] is not None]

    def page(self, query: JournalQuery) -> JournalPage:
        """The calls ``query`` selects, in its order, one page of them, and how many matched."""
        selected = self.selection(query.operation_id, query.criteria, "query.operationId")
        numbered = self.numbered(query.app_id)
        matching = [(seq, c) for seq, c in numbered if query.selects(seq, c, selected)]
        if query.newest_first:
            matching.reverse()
        if query.limit is None and not query.numbered:
            # The unpaged form: the newest UNPAGED_LIMIT calls matching, oldest first, and a flag
            # when more matched (page with limit/offset/before to read the rest).
            kept = matching[-UNPAGED_LIMIT:] if not query.newest_first else matching[:UNPAGED_LIMIT]
            return JournalPage(kept, len(matching), False, more=len(matching) > len(kept))
        limit = query.limit if query.limit is not None else MAX_PAGE
        page = matching[query.offset : query.offset + limit]
        return JournalPage(page, len(matching), query.numbered, more=query.offset + len(page) < len(matching))

    def operations(self) -> list[str]:
        """The operationIds called, in order (unmatched requests left out)."""
        return [c.operation_id for c in self.calls if c.operation_id is not None]

    def called(self, operation_id: str | None = None, **criteria: Unpack[Criteria]) -> bool:
        """Whether a call matches (``operation_id`` and every matcher given)."""
        return self.call_count(operation_id, **criteria) > 0

    def call_count(self, operation_id: str | None = None, **criteria: Unpack[Criteria]) -> int:
        """How many calls match ``operation_id`` and every matcher given."""
        return len(self.filter(operation_id, **criteria))

    def last(self, operation_id: str | None = None, **criteria: Unpack[Criteria]) -> Call:
        """The latest call that matches; AssertionError when none does."""
        found = self.filter(operation_id, **criteria)
        if not found:
            what = self.selection(operation_id, criteria).describe()
            raise AssertionError(f"no call{' ' + what if what else ''} was recorded")
        return found[-1]

    def rejections(self) -> list[Call]:
        """The calls the mock refused: answered 400 or more, except the "not there yet" answers a
        poller expects (``Call.not_ready``)."""
        return [c for c in self.calls if c.rejected and not c.not_ready]

    # --- assertions ----------------------------------------------------------------------------
    @overload
    def assert_called(
        self, operation_id: str | None = None, *, times: None = None, **criteria: Unpack[Criteria]
    ) -> Call: ...
    @overload
    def assert_called(
        self, operation_id: str | None = None, *, times: Literal[0], **criteria: Unpack[Criteria]
    ) -> None: ...
    @overload
    def assert_called(
        self, operation_id: str | None = None, *, times: int, **criteria: Unpack[Criteria]
    ) -> Call | None: ...
    def assert_called(
        self, operation_id: str | None = None, *, times: int | None = None, **criteria: Unpack[Criteria]
    ) -> Call | None:
        """Assert a call of ``operation_id`` matches every matcher given: at least once, or exactly
        ``times`` times when given (``times=0``: never with them).

        ``times`` counts the matching calls. ``body`` matches when every key it gives equals the
        sent body's, at every depth (a subset match); ``query`` values may be a string or a list of
        strings; ``path_params``, ``status``, ``rejected``, ``stubbed``, ``app_id``, ``method`` and
        ``path`` are compared exactly. Returns the last matching call (None when ``times=0``). A
        failure shows the call that came closest, and how it differs.
        """
        __tracebackhide__ = True  # pytest: show the test's line, not this one
        if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 0):
            raise TypeError(f"journal: times={times!r} is not a count of calls (0 or more)")
        selected = self.selection(operation_id, criteria)
        name = operation_id or "a call"
        calls = self.filter(operation_id)
        matching = [c for c in calls if selected.matcher.matches(c)]
        if (times is None and matching) or (times is not None and len(matching) == times):
            return matching[-1] if matching else None
        if times is None:
            if not calls:
                never = f"{operation_id} was never called" if operation_id else "no call was recorded"
                raise AssertionError(f"{never}\n{self._summary()}")
            head = f"{name} was made {len(calls)} times, never with the expected arguments"
            if operation_id is not None:
                head = f"{operation_id} was called {len(calls)} times, never with the expected arguments"
            raise AssertionError(
                "\n".join([head, *explain(selected.matcher, closest(selected.matcher, calls))])
            )
        verb = f"{operation_id} was called" if operation_id else "calls were made"
        if not selected.matcher.given:
            raise AssertionError(f"{verb} {len(calls)} times, expected {times}\n{self._summary()}")
        lines = [
            f"{verb} {len(matching)} times with the expected arguments ({len(calls)} times in all), "
            f"expected {times}"
        ]
        if len(matching) > times:
            lines += ["matching calls:", *(f"  {c.describe()}" for c in matching)]
        elif len(matching) < len(calls):
            others = [c for c in calls if not selected.matcher.matches(c)]
            lines += explain(selected.matcher, closest(selected.matcher, others))
        elif not calls:
            lines.append(self._summary())
        raise AssertionError("\n".join(lines))

    def assert_not_called(self, operation_id: str | None = None, **criteria: Unpack[Criteria]) -> None:
        """Assert no call of ``operation_id`` matches every matcher given (no call at all when none given)."""
        __tracebackhide__ = True
        selected = self.selection(operation_id, criteria)
        calls = self.filter(operation_id)
        matching = [c for c in calls if selected.matcher.matches(c)]
        if not matching:
            return
        verb = f"{operation_id} was called" if operation_id else "calls were made"
        head = (
            f"{verb} {len(matching)} times with the expected arguments "
            f"({len(calls)} times in all), expected never"
            if selected.matcher.given
            else f"{verb} {len(calls)} times, expected never"
        )
        raise AssertionError("\n".join([head, *(f"  {c.describe()}" for c in matching)]))

    def assert_order(self, operation_ids: Sequence[str]) -> None:
        """Assert these operations were called in this order (others may come between)."""
        __tracebackhide__ = True
        for wanted in operation_ids:
            self.check_operation(wanted, "assert_order")
        seen = self.operations()
        position = 0
        for wanted in operation_ids:
            try:
                position = seen.index(wanted, position) + 1
            except ValueError:
                raise AssertionError(
                    f"expected {list(operation_ids)} in this order; "
                    f"{wanted} not found after position {position}\n"
                    f"calls were: {seen}"
                ) from None

    def assert_no_rejections(self) -> None:
        __tracebackhide__ = True
        rejected = self.rejections()
        if rejected:
            raise AssertionError(
                "the mock rejected requests:\n" + "\n".join(f"  {c.describe()}" for c in rejected)
            )

    def _summary(self) -> str:
        calls = self.calls
        if not calls:
            return "no calls were recorded"
        return "calls were:\n" + "\n".join(f"  {c.describe()}" for c in calls)


class Criteria(TypedDict, total=False):
    """The matchers every journal method takes besides the operation (None: not given).

    ``body`` is a deep subset of the sent body (``body=None`` matches a call without one);
    ``query`` maps a parameter to a string (a comma-separated list matches the list) or a list of
    strings; ``path_params`` are equal; ``status``, ``rejected`` (answered 400 or more),
    ``stubbed`` (answered by a stub), ``app_id``, ``method`` and ``path`` are equal.
    """

    body: Any
    query: Mapping[str, str | Sequence[str]] | None
    path_params: Mapping[str, str] | None
    status: int | None
    rejected: bool | None
    stubbed: bool | None
    app_id: str | None
    method: str | None
    path: str | None


CRITERIA = frozenset(Criteria.__annotations__)


@dataclass(frozen=True)
class CallFilter:
    """An operation (None: any) and a matcher: which calls a journal method looks at."""

    operation_id: str | None
    matcher: Matcher

    def selects(self, call: Call) -> bool:
        return (self.operation_id is None or call.operation_id == self.operation_id) and self.matcher.matches(
            call
        )

    def describe(self) -> str:
        """``createSource with status=200`` (empty when nothing is asked)."""
        given = [f"{k}={v!r}" for k, v in (self.matcher.fields or {}).items()]
        given += [f"{k}={v!r}" for k, v in self.matcher.wanted().items()]
        head = f"to {self.operation_id}" if self.operation_id else ""
        return " ".join(part for part in (head, f"with {', '.join(given)}" if given else "") if part)


@dataclass(frozen=True)
class JournalQuery:
    """Which calls to read: an operation and matchers (:class:`Criteria`), then an order, then a
    page (``offset``, ``limit``).

    ``before``/``after`` keep only calls with a sequence number below/above them, so a reader can
    page back from what it saw, or ask for what came since, however many calls arrive meanwhile.
    """

    operation_id: str | None = None
    criteria: Criteria = field(default_factory=lambda: Criteria())
    before: int | None = None
    after: int | None = None
    newest_first: bool = False
    offset: int = 0
    limit: int | None = None
    numbered: bool = True  # answer with seq and total (False: the first answer's shape, calls only)

    @property
    def app_id(self) -> str | None:
        return self.criteria.get("app_id")

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> JournalQuery:
        """Read a query from ``/__mock__/journal``'s query parameters; bad values raise BadRequest."""
        order = params.get("order", "asc")
        if order not in ("asc", "desc"):
            raise BadRequest(f"query.order: {order[:20]!r} is not asc or desc")
        criteria = Criteria()
        for name in ("rejected", "stubbed"):
            flag = params.get(name)
            if flag is not None and flag not in ("true", "false"):
                raise BadRequest(f"query.{name}: {flag[:20]!r} is not a boolean (true or false)")
            if flag is not None:
                criteria[name] = flag == "true"
        if "appID" in params:
            criteria["app_id"] = params["appID"]
        status = _whole(params, "status", 100, 599)
        if status is not None:
            criteria["status"] = status
        if "body" in params:
            criteria["body"] = _json_param(params, "body")
        for param, name in (("query", "query"), ("pathParams", "path_params")):
            if param in params:
                value = _json_param(params, param)
                if not isinstance(value, dict) or not all(
                    isinstance(v, str)
                    or (name == "query" and isinstance(v, list) and all(isinstance(i, str) for i in v))
                    for v in value.values()
                ):
                    kind = "strings or lists of strings" if name == "query" else "strings"
                    raise BadRequest(f"query.{param}: a JSON object of {kind}")
                criteria[name] = value  # type: ignore[literal-required]
        return cls(
            operation_id=params.get("operationId"),
            criteria=criteria,
            before=_whole(params, "before", 0, None),
            after=_whole(params, "after", -1, None),
            newest_first=order == "desc",
            offset=_whole(params, "offset", 0, None) or 0,
            limit=_whole(params, "limit", 1, MAX_PAGE),
            numbered=any(name in params for name in PAGING_PARAMS),
        )

    def with_app(self, app_id: str | None) -> JournalQuery:
        """This query, for one application's calls (``None``: any application's)."""
        criteria = Criteria(**{k: v for k, v in self.criteria.items() if k != "app_id"})  # type: ignore[typeddict-item]
        if app_id is not None:
            criteria["app_id"] = app_id
        return dataclasses.replace(self, criteria=criteria)

    def selects(self, seq: int, call: Call, selected: CallFilter) -> bool:
        return (
            (self.before is None or seq < self.before)
            and (self.after is None or seq > self.after)
            and selected.selects(call)
        )


@dataclass(frozen=True)
class JournalPage:
    """One page of calls with their sequence numbers, and how many calls the query matched in all."""

    calls: list[tuple[int, Call]]
    total: int
    numbered: bool = True
    more: bool = False  # calls matched beyond this page

    def to_json(self) -> dict[str, Any]:
        if not self.numbered:
            out: dict[str, Any] = {"calls": [c.to_json() for _, c in self.calls]}
            if self.more:
                out["truncated"] = {"total": self.total, "kept": len(self.calls)}
            return out
        return {"calls": [{"seq": seq, **c.to_json()} for seq, c in self.calls], "total": self.total}


def _whole(params: Mapping[str, str], name: str, low: int, high: int | None) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if re.fullmatch(r"-?[0-9]{1,18}", raw) is None:
        raise BadRequest(f"query.{name}: {raw[:20]!r} is not an integer")
    value = int(raw)
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise BadRequest(f"query.{name}: {value} is out of range (must be {bound})")
    return value


def _json_param(params: Mapping[str, str], name: str) -> Any:
    try:
        return jsonio.loads(params[name].encode(), max_depth=64)
    except BadRequest as exc:
        raise BadRequest(f"query.{name}: not JSON ({exc.message.removeprefix('body: ')})") from None
