"""One nesting limit for every JSON value the mock accepts, checked once at the door.

Whatever passes can be stored, journaled, snapshotted (``copy.deepcopy``), dumped and encoded:
each of those recurses, and a limit far below Python's recursion limit keeps them all safe.
"""

from __future__ import annotations

from typing import Any

from mockserver.engine.errors import BadRequest


def depth_of(value: Any, stop_at: int | None = None) -> int:
    """How deeply arrays and objects nest in ``value`` (a scalar is 0, ``[]`` is 1); iterative, and it
    stops walking once ``stop_at`` is passed."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        level += 1
        if level > deepest:
            deepest = level
            if stop_at is not None and deepest > stop_at:
                return deepest
        stack.extend((child, level) for child in children if isinstance(child, (dict, list)))
    return deepest


def deeper_than(value: Any, limit: int) -> bool:
    """Whether arrays and objects nest in ``value`` more than ``limit`` deep. Recursive, but never
    more than ``limit`` + 1 frames: it stops as soon as the answer is known (about twice as fast as
    :func:`depth_of` on a large body, which matters on every push)."""
    kind = type(value)
    if kind is dict:
        children: Any = value.values()
    elif kind is list:
        children = value
    else:
        return limit < 0  # a scalar nests 0 deep
    if limit < 1:  # this array or object is one level already
        return True
    below = limit - 1
    for child in children:
        child_kind = type(child)
        if (child_kind is dict or child_kind is list) and deeper_than(child, below):
            return True
    return False


def check_depth(value: Any, limit: int, where: str = "body") -> None:
    """Refuse (400) a value nested deeper than ``limit`` levels of arrays and objects."""
    if deeper_than(value, limit):
        raise BadRequest(too_deep_message(where, limit))


def too_deep_message(where: str, limit: int) -> str:
    return f"{where}: nested more than {limit} levels deep (arrays and objects); the limit is max_depth"
