"""mockserver.engine.partial_updates: the built-in operations, and their refusals before anything changes."""

from __future__ import annotations

import pytest

from mockserver.engine.errors import BadRequest
from mockserver.engine.partial_updates import partial

HUGE = int("9" * 400)  # an integer no double can hold
LONGEST = int("9" * 4300)  # the longest integer the mock accepts in JSON


@pytest.mark.parametrize(
    ("current", "operation", "value", "said"),
    [
        (HUGE, "Increment", 1.5, "leaves the finite numbers"),
        (HUGE, "Decrement", 0.5, "leaves the finite numbers"),
        (1.7e308, "Increment", 1e308, "leaves the finite numbers"),
        (LONGEST, "Increment", 1, "more than 4300 digits"),
        (-LONGEST, "Decrement", 1, "more than 4300 digits"),
    ],
    ids=[
        "huge-int-plus-float",
        "huge-int-minus-float",
        "double-overflow",
        "too-many-digits",
        "too-many-negative",
    ],
)
def test_an_operation_whose_result_json_cannot_carry_is_refused_naming_the_attribute(
    current: object, operation: str, value: object, said: str
) -> None:
    existing = {"objectID": "a", "n": current}
    with pytest.raises(BadRequest) as refused:
        partial(existing, "a", {"n": {"_operation": operation, "value": value}}, True, "body")
    assert str(refused.value).startswith("body.n: ") and said in str(refused.value)
    assert existing == {"objectID": "a", "n": current}


def test_increments_within_reach_are_exact() -> None:
    after = partial(
        {"objectID": "a", "n": LONGEST - 1}, "a", {"n": {"_operation": "Increment", "value": 1}}, True
    )
    assert after == {"objectID": "a", "n": LONGEST}


def test_remove_and_add_unique_tell_true_from_1_and_false_from_0() -> None:
    listed = {"objectID": "a", "l": [True, 1, 1.0, "1", False, 0]}
    removed = partial(listed, "a", {"l": {"_operation": "Remove", "value": 1}}, True)
    assert removed is not None and removed["l"] == [True, "1", False, 0]
    flags = {"objectID": "a", "l": [True, False]}
    added = partial(flags, "a", {"l": {"_operation": "AddUnique", "value": 1}}, True)
    assert added is not None and added["l"] == [True, False, 1]
    same = partial({"objectID": "a", "l": [1.0]}, "a", {"l": {"_operation": "AddUnique", "value": 1}}, True)
    assert same is not None and same["l"] == [1.0]  # 1 and 1.0 are one JSON number
