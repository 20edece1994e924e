"""The fast nesting check agrees with the plain walk."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mockserver.depth import deeper_than, depth_of

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=30,
)


@given(values, st.integers(min_value=0, max_value=8))
def test_the_fast_check_and_the_walk_agree(value: Any, limit: int) -> None:
    assert deeper_than(value, limit) == (depth_of(value) > limit)


def test_a_deep_value_is_refused_without_deep_recursion() -> None:
    value: Any = 1
    for _ in range(5000):  # far deeper than Python's recursion limit
        value = [value]
    assert deeper_than(value, 64)
