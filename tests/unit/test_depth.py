"""The nesting checks (the fast walk, the decoder's typed check) agree with the plain walk."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver.engine import jsonio
from mockserver.engine.depth import deeper_than, depth_of
from mockserver.engine.errors import BadRequest
from mockserver.engine.jsonio import SHALLOW

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


# --- the decoder's own depth check (jsonio.loads with max_depth) -----------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=3),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=40,
)


@given(json_values, st.integers(min_value=0, max_value=12))
def test_loads_refuses_exactly_what_is_deeper_than_max_depth(value: Any, limit: int) -> None:
    """Below and above the depth the typed decoder checks in C (SHALLOW), the verdict is the walk's,
    and an accepted document decodes to the value the plain decoder gives."""
    raw = jsonio.dumps(value)
    if depth_of(value) > limit:
        with pytest.raises(BadRequest, match="nested more than"):
            jsonio.loads(raw, max_depth=limit)
    else:
        decoded = jsonio.loads(raw, max_depth=limit)
        assert decoded == jsonio.loads(raw)
        assert jsonio.dumps(decoded) == raw  # same types too: ints stay ints, -0.0 stays a float


@pytest.mark.parametrize("depth", [SHALLOW - 1, SHALLOW, SHALLOW + 1, 64])
def test_the_limit_itself_is_accepted_and_one_more_refused(depth: int) -> None:
    at_limit = b"[" * depth + b"]" * depth
    assert depth_of(jsonio.loads(at_limit, max_depth=depth)) == depth
    deeper = b'{"a":' * (depth + 1) + b"1" + b"}" * (depth + 1)
    with pytest.raises(BadRequest, match=f"nested more than {depth} levels"):
        jsonio.loads(deeper, max_depth=depth)


def test_a_broken_document_is_explained_whatever_the_depth_limit() -> None:
    with pytest.raises(BadRequest, match="out of range"):
        jsonio.loads(b'{"records": [{"price": 1e400}]}', max_depth=64)
    with pytest.raises(BadRequest, match="invalid JSON"):
        jsonio.loads(b'{"records": [', max_depth=64)
