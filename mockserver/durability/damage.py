"""A state file's row the fast decoder refuses, read again with its unreadable values marked.

``jsonio`` (msgspec) refuses a whole document for one value it cannot hold: a number out of a
double's range (``1e400``), an integer of more than 4,300 digits, ``NaN``/``Infinity``, a string
holding a lone UTF-16 surrogate. In a state file, such a value may sit in one record of an image
that holds every application; refusing the row would lose them all. :func:`loads` reads the row
with the standard library instead, puts a :class:`Damaged` marker in place of each such value, and
marks every array and object holding one (:class:`DamagedDict`, :class:`DamagedList`, with the
first damage found and where it is). An object's key holding a lone surrogate is taken out with its
value (the object is marked). The readers of a row (``image.py``, ``changes.py``,
``state.py``) descend through marked containers as through any other, and leave out, named in a
warning, the smallest part they own that :func:`damage_of` says is damaged: a record, a field, an
application (:class:`PartReader` leaves out the parts of lists, objects and change pairs, for both).
A marker never reaches the state: nothing that holds one is kept.

A row that is not JSON at all (torn, nested too deep) is refused here as there: ``ValueError``
or ``RecursionError``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from typing import Any

MAX_DIGITS = 4300  # the longest integer the fast decoder (and int() of a string) reads


class Damaged:
    """A value of the row that could not be read (``what``: what it was)."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what

    def __bool__(self) -> bool:  # a marker is never taken for a flag
        raise TypeError(f"a damaged value ({self.what}) has no truth value")

    def __repr__(self) -> str:
        return f"Damaged({self.what!r})"


class DamagedDict(dict[str, Any]):
    """A JSON object holding a damaged value: the first one (``what``) and where (``path``)."""

    what: str = ""
    path: str = ""
    dropped: tuple[str, ...] = ()  # the paths of the entries taken out with their keys, in it


class DamagedList(list[Any]):
    """A JSON array holding a damaged value: the first one (``what``) and where (``path``)."""

    what: str = ""
    path: str = ""
    dropped: tuple[str, ...] = ()  # the paths of the entries taken out with their keys, in it


def damage_of(value: Any) -> str | None:
    """What is damaged in ``value`` and where (``the number 1e400 is out of range, at ['price']``),
    or None: O(1), the marks were made when the row was read."""
    if isinstance(value, Damaged):
        return value.what
    if isinstance(value, DamagedDict | DamagedList):
        path = value.path if len(value.path) <= 200 else f"{value.path[:200]}..."
        return f"{value.what}, at {path}"
    return None


def dropped(value: Any) -> tuple[str, ...]:
    """The paths of the entries of ``value`` taken out with a key holding a lone surrogate (no
    reader could name them: the owner of each must be told by the reader of the row)."""
    return value.dropped if isinstance(value, DamagedDict | DamagedList) else ()


def loads(text: str) -> Any:
    """The row ``text`` with its unreadable values marked; ``ValueError``/``RecursionError`` when
    it is not JSON at all."""
    value = json.loads(text, parse_float=_float, parse_int=_int, parse_constant=_constant)
    return _mark(value)


def _float(text: str) -> Any:
    number = float(text)
    if math.isinf(number):
        return Damaged(f"the number {text[:40]} is out of range")
    return number


def _int(text: str) -> Any:
    digits = len(text.lstrip("-"))
    if digits > MAX_DIGITS:
        return Damaged(f"an integer of {digits} digits is out of range")
    return int(text)


def _constant(name: str) -> Damaged:
    return Damaged(f"{name} is not a number JSON holds")


def _lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


_SURROGATE = "a string holds a lone surrogate (\\ud800-\\udfff)"


def _mark(value: Any) -> Any:
    """``value`` with each damaged string marked, and each container holding damage marked."""
    if isinstance(value, str):
        return Damaged(_SURROGATE) if _lone_surrogate(value) else value
    if isinstance(value, dict):
        found: DamagedDict | None = None
        bad_keys = []
        gone: list[str] = []
        for key, item in value.items():
            marked = _mark(item)
            if marked is not item:
                value[key] = marked
            bad_key = _lone_surrogate(key)
            step = f"[{key[:40]!r}]"
            if bad_key:
                bad_keys.append(key)
                gone.append(step)
            gone.extend(step + path for path in dropped(marked))
            if found is None and (bad_key or _is_damaged(marked)):
                found = DamagedDict()
                found.what, found.path = _where(step, marked, bad_key)
        if found is None:
            return value
        for key in bad_keys:  # (no key could name it again: its entry is gone, ``dropped`` says where)
            del value[key]
        found.update(value)
        found.dropped = tuple(gone)
        return found
    if isinstance(value, list):
        found_list: DamagedList | None = None
        gone = []
        for i, item in enumerate(value):
            marked = _mark(item)
            if marked is not item:
                value[i] = marked
            gone.extend(f"[{i}]{path}" for path in dropped(marked))
            if found_list is None and _is_damaged(marked):
                found_list = DamagedList()
                found_list.what, found_list.path = _where(f"[{i}]", marked, False)
        if found_list is None:
            return value
        found_list.extend(value)
        found_list.dropped = tuple(gone)
        return found_list
    return value


def _is_damaged(value: Any) -> bool:
    return isinstance(value, Damaged | DamagedDict | DamagedList)


def _where(step: str, item: Any, bad_key: bool) -> tuple[str, str]:
    """What is damaged under ``step`` (a key or an index) and its path from the container."""
    if bad_key:
        return "a key holds a lone surrogate (\\ud800-\\udfff)", step
    if isinstance(item, Damaged):
        return item.what, step
    assert isinstance(item, DamagedDict | DamagedList)
    return item.what, f"{step}{item.path}"


class PartReader:
    """The parts of a row (an image or a change) holding a value that could not be read left out,
    each named to ``warn`` as lost (without one, such a part is a ``ValueError``). Each check costs
    O(1) when nothing is damaged: the marks were made when the row was read."""

    def __init__(self, warn: Callable[[str], None] | None, where: str) -> None:
        self.warn = warn
        self.where = where

    def _lost(self, what: str, damage: str) -> None:
        if self.warn is None:
            raise ValueError(f"{what} is damaged ({damage})")
        self.warn(f"{self.where}: {what} is damaged ({damage}): it is lost")

    def whole(self, name: str, value: Any) -> bool:
        """Whether ``value`` (a part read as one) can be applied."""
        damage = damage_of(value)
        if damage is not None:
            self._lost(name, damage)
        return damage is None

    def pairs(
        self, name: str, change: Any, *, by_part: type[list[Any]] | type[dict[str, Any]] | None = None
    ) -> Any:
        """``change`` ({"set": [[key, value]...], "del": [key...]}) without the pairs it sets that
        hold damage; damage elsewhere in it is a ``ValueError`` (the whole change is lost).

        ``by_part``: the kind of value (list, dict) the caller reads part by part (a source's
        records, a run's events), leaving out its damaged parts: a pair whose value is of that kind
        goes only when its key is damaged."""
        if damage_of(change) is None or not isinstance(change, dict):
            return change
        for key, part in change.items():
            damage = damage_of(part)
            if key != "set" and damage is not None:
                raise ValueError(f"{name}.{key} is damaged ({damage})")
        pairs = change.get("set")
        if damage_of(pairs) is None or not isinstance(pairs, list):
            return change

        def named(i: Any, pair: Any) -> str:
            key = pair[0] if isinstance(pair, list) and pair and isinstance(pair[0], str) else None
            return f"{name} record {key[:100]!r}" if key is not None else f"{name}.set[{i}]"

        def checked(pair: Any) -> Any:  # (what of a pair must be undamaged for it to be kept)
            kind = by_part
            if kind is not None and isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], kind):
                return pair[0]
            return pair

        return {**change, "set": [pair for _, pair in self._undamaged(enumerate(pairs), named, checked)]}

    def events(self, value: Any) -> dict[str, Any]:
        """A run's events (eventID -> event) without those holding damage."""
        if damage_of(value) is None or not isinstance(value, dict):
            return dict(value)
        return dict(self._undamaged(value.items(), lambda event_id, _: f"event {str(event_id)[:100]!r}"))

    def records(self, name: str, value: Any) -> Any:
        """A list (a source's records, notifications) without the items holding damage."""
        if damage_of(value) is None or not isinstance(value, list):
            return value
        return [record for _, record in self._undamaged(enumerate(value), lambda i, _: f"{name}[{i}]")]

    def _undamaged(
        self,
        items: Iterable[tuple[Any, Any]],
        named: Callable[[Any, Any], str],
        checked: Callable[[Any], Any] | None = None,
    ) -> list[tuple[Any, Any]]:
        """The (key, value) items whose value (or the part of it ``checked`` picks) holds no damage;
        each other one named (by ``named``) as lost."""
        kept = []
        for key, value in items:
            damage = damage_of(value if checked is None else checked(value))
            if damage is None:
                kept.append((key, value))
            else:
                self._lost(named(key, value), damage)
        return kept
