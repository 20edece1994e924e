"""One nesting limit for every JSON value the mock accepts, checked once at the door.

Whatever passes can be stored, journaled, snapshotted (``copy.deepcopy``), dumped and encoded:
each of those recurses, and a limit far below Python's recursion limit keeps them all safe.
"""

from __future__ import annotations

from typing import Any

from .errors import BadRequest


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


def check_depth(value: Any, limit: int, where: str = "body") -> None:
    """Refuse (400) a value nested deeper than ``limit`` levels of arrays and objects."""
    if depth_of(value, stop_at=limit) > limit:
        raise BadRequest(
            f"{where}: nested more than {limit} levels deep (arrays and objects); the limit is max_depth"
        )
