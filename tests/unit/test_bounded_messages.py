"""A refused body's message costs what it shows, not what the body holds (issue 21: a 1M-key object
refused by the schema cost 33-50 s of CPU, the message sorting and repr-ing every key, per branch).

The bodies here count how much of them validation reads: a refusal may look at the keys the schema
names and the few it shows, never at all of them, and never writes a whole huge value out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mockserver import load_spec
from mockserver.engine.errors import BadRequest
from mockserver.engine.validation import RequestValidators, _brief

WIDE = 100_000


class Counted(dict[str, Any]):
    """A JSON object that counts the keys iterated over and refuses to be written out whole."""

    visited = 0

    def __iter__(self) -> Iterator[str]:
        for key in super().__iter__():
            Counted.visited += 1
            yield key

    def __repr__(self) -> str:
        raise AssertionError(f"the whole object ({len(self):,} keys) was written out")


@pytest.fixture(scope="module")
def validators() -> RequestValidators:
    return RequestValidators(load_spec())


def refusal(validators: RequestValidators, operation_id: str, body: Any) -> str:
    with pytest.raises(BadRequest) as caught:
        validators[operation_id].validate({}, {}, body)
    return caught.value.message


def wide() -> Counted:
    Counted.visited = 0
    return Counted((f"k{i}", i) for i in range(WIDE))


def test_a_wide_closed_object_is_refused_looking_at_a_few_keys(validators: RequestValidators) -> None:
    wide_input = wide()
    wide_input["url"] = "https://example.com/x.json"
    body = {"type": "json", "name": "w", "input": wide_input}
    message = refusal(validators, "createSource", body)
    assert Counted.visited < 2_000, f"{Counted.visited:,} keys looked at"
    assert "are not allowed" in message and "more" in message, message
    assert f"{WIDE - 20:,} more" in message, message
    assert len(message) <= 400


def test_a_huge_value_of_the_wrong_type_is_shown_cut(validators: RequestValidators) -> None:
    message = refusal(validators, "createSource", {"type": "push", "name": wide()})
    assert message.startswith("body.name: {'k0': 0, 'k1': 1"), message
    assert "is not of type 'string'" in message, message
    assert Counted.visited == 0  # (a dict's items are read without iterating its keys)


def test_a_huge_top_level_object_without_its_type_is_refused_cheaply(validators: RequestValidators) -> None:
    message = refusal(validators, "createSource", wide())
    assert message == "body: 'type' is a required property"
    assert Counted.visited < 2_000, f"{Counted.visited:,} keys looked at"


def test_a_few_extra_keys_are_all_named_sorted(validators: RequestValidators) -> None:
    body = {"type": "push", "name": "n", "zeta": 1, "alpha": 2}
    message = refusal(validators, "createSource", body)
    assert "('alpha', 'zeta' were unexpected)" in message, message


@pytest.mark.parametrize(
    "value",
    [{"b": 1, "a": [1, "x", None, True, 1.5, {}]}, [], {}, "it's", [[[[]]]], 10**30, None, False, 1.25],
)
def test_a_short_value_is_shown_as_repr_shows_it(value: Any) -> None:
    assert _brief(value) == repr(value)


def test_a_long_value_is_cut_near_its_budget() -> None:
    assert len(_brief("x" * 100_000)) < 120
    assert len(_brief([list(range(1000))] * 1000)) < 300
    assert len(_brief({str(i): "v" * 50 for i in range(100_000)})) < 300
