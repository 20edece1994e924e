"""Partial updates of a record (the Search API's "add or update attributes", and the push actions
partialUpdateObject / partialUpdateObjectNoCreate, which the published spec says are the same):
given attributes are set, and a value ``{"_operation": ..., "value": ...}`` applies one of the
published built-in operations to the attribute instead of being stored."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mockserver.engine.errors import BadRequest, shown
from mockserver.engine.jsonio import INT_DIGITS

Record = dict[str, Any]
_TOO_LONG = 10**INT_DIGITS
_LONG_BITS = _TOO_LONG.bit_length() - 1  # below this many bits an integer is shorter for sure
BUILT_IN = ("Increment", "Decrement", "Add", "Remove", "AddUnique", "IncrementFrom", "IncrementSet")
NUMERIC = frozenset({"Increment", "Decrement", "IncrementFrom", "IncrementSet"})


class _Ignored(Exception):
    """IncrementFrom / IncrementSet whose condition does not hold: the whole update is ignored."""


def _operation_of(value: Any) -> tuple[str, Any] | None:
    if isinstance(value, dict) and "_operation" in value:
        return value["_operation"], value.get("value")
    return None


def check_partial(changes: Mapping[str, Any], where: str) -> None:
    """Refuse a partial update the service cannot apply (an unknown built-in operation, a text
    where a number is needed), before anything changes."""
    for name, value in changes.items():
        problem = _problem(value, f"{where}.{name}")
        if problem is not None:
            raise BadRequest(problem)


def _problem(value: Any, at: str) -> str | None:
    """What is wrong with ``value`` as a built-in operation (None: nothing, or it is none)."""
    found = _operation_of(value)
    if found is None:
        return None
    operation, operand = found
    if operation not in BUILT_IN:
        return (
            f"{at}._operation: {shown(operation)} is not a built-in operation (one of {', '.join(BUILT_IN)})"
        )
    if set(value) - {"_operation", "value"} or "value" not in value:
        return f"{at}: a built-in operation is {{_operation, value}} and nothing else"
    number = isinstance(operand, int | float) and not isinstance(operand, bool)
    if operation in NUMERIC and not number:
        return f"{at}.value: {operation} takes a number, not {shown(operand)}"
    if not number and not isinstance(operand, str):
        return f"{at}.value: {operation} takes a string or a number, not {shown(operand)}"
    return None


def _number(value: Any) -> float | int:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


def well_formed(value: Any) -> bool:
    """Whether ``value`` is a built-in operation :func:`check_partial` would let through."""
    return _operation_of(value) is not None and _problem(value, "") is None


def partial(
    existing: Record | None,
    object_id: str,
    changes: Mapping[str, Any],
    create: bool,
    where: str = "body",
    *,
    lenient: bool = False,
) -> Record | None:
    """The record after a partial update (``changes`` checked by :func:`check_partial`), or None
    when there is none (missing and not created, or the update is ignored and it was missing).
    400 naming the attribute when an Increment or Decrement leaves the finite numbers (JSON has no
    infinity): nothing is changed.

    ``lenient`` (a push: its published records are any objects): ``changes`` are not checked, and a
    value that is not a well-formed built-in operation is set as it is, ``_operation`` and all."""
    if existing is None and not create:
        return None
    record = dict(existing) if existing is not None else {}
    try:
        for name, value in changes.items():
            if name == "objectID":
                continue
            found = _operation_of(value)
            if found is None or (lenient and not well_formed(value)):
                record[name] = value
                continue
            try:
                result = _built_in(found[0], found[1], record.get(name), existing is None)
            except OverflowError:  # an integer too large for a double, with a fraction
                result = math.inf
            if isinstance(result, float) and not math.isfinite(result):
                raise BadRequest(
                    f"{where}.{name}: {found[0]} by {found[1]!r} of {shown(record.get(name))} leaves the "
                    "finite numbers (the largest is about 1.8e308); nothing was changed"
                )
            if type(result) is int and result.bit_length() >= _LONG_BITS and abs(result) >= _TOO_LONG:
                raise BadRequest(
                    f"{where}.{name}: {found[0]} by {found[1]!r} gives an integer of more than "
                    f"{INT_DIGITS} digits, which JSON bodies here cannot carry; nothing was changed"
                )
            record[name] = result
    except _Ignored:
        return existing
    record["objectID"] = object_id
    return record


def _same(a: Any, b: Any) -> bool:
    """JSON equality for list items: 1 and 1.0 are one number; true is not 1, nor false 0."""
    return a == b and (type(a) is bool) == (type(b) is bool)


def _built_in(operation: str, operand: Any, current: Any, new_record: bool) -> Any:
    listed = list(current) if isinstance(current, list) else []
    if operation == "Increment":
        return _number(current) + operand
    if operation == "Decrement":
        return _number(current) - operand
    if operation == "Add":
        return [*listed, operand]
    if operation == "AddUnique":
        return listed if any(_same(item, operand) for item in listed) else [*listed, operand]
    if operation == "Remove":
        return [item for item in listed if not _same(item, operand)] if isinstance(current, list) else current
    if operation == "IncrementFrom":  # only from the value given (a missing record: from 0)
        if _number(current) != operand or (new_record and operand != 0):
            raise _Ignored
        return operand + 1
    # IncrementSet: only to a value above the current one (a missing record: above 0)
    if operand <= _number(current):
        raise _Ignored
    return operand
