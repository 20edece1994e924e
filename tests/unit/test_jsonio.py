"""mockserver.engine.jsonio: strict JSON in, compact JSON out; and the compact forms the journal keeps."""

from __future__ import annotations

import math
from typing import Any

import pytest

from mockserver.engine import jsonio
from mockserver.engine.errors import BadRequest
from mockserver.engine.journal import Call


def refusal(raw: bytes) -> str:
    with pytest.raises(BadRequest) as caught:
        jsonio.loads(raw)
    return caught.value.message


def test_a_key_given_twice_keeps_its_last_value() -> None:
    assert jsonio.loads(b'{"a":1,"b":{"c":1,"c":[2]},"a":3}') == {"a": 3, "b": {"c": [2]}}


def test_integers_beyond_64_bits_stay_exact() -> None:
    assert jsonio.loads(b"[123456789012345678901234567890, -18446744073709551617]") == [
        123456789012345678901234567890,
        -18446744073709551617,
    ]


@pytest.mark.parametrize(
    ("raw", "where"),
    [
        (b'{"records":[{"objectID":"a","price":1e400}]}', "body.records[0].price: the number 1e400"),
        (b"[1, -1e309]", "body[1]: the number -1e309"),
        (b'{"a":["\\ud800"]}', "body.a[0]: a string holds a lone surrogate"),
        (b'{"\\udfff":1}', "body: a string holds a lone surrogate"),
        (b'{"a":1} x', "body: invalid JSON at line 1 column 9"),
        (b'{"a":NaN}', "body: invalid JSON"),
        (b'["a\xffb"]', "body: not valid UTF-8 (byte 3)"),
        (b"[" * 5000 + b"]" * 5000, "body: JSON nested too deeply"),
        (b"[" + b"9" * 5000 + b"]", "body[0]: an integer of 5000 digits; at most 4300 are accepted"),
        (b'{"r":[{"v":-' + b"1" * 4301 + b"}]}", "body.r[0].v: an integer of 4301 digits"),
        (b"[" + b"1" * 500 + b".5]", "body[0]: the number " + "1" * 40 + "... (502 characters) is out"),
    ],
)
def test_refusals_say_what_and_where(raw: bytes, where: str) -> None:
    assert where in refusal(raw)


def test_nesting_too_deep_for_the_parser_names_the_limit_the_caller_set() -> None:
    """Nested past what the parser itself can follow, the refusal still names ``max_depth``, as
    one nested just past the limit does."""
    for levels in (65, 5000):
        with pytest.raises(BadRequest) as refused:
            jsonio.loads(b"[" * levels + b"]" * levels, max_depth=64)
        assert "body: nested more than 64 levels deep (arrays and objects); the limit is max_depth" in str(
            refused.value
        )


def test_dumps_is_compact_utf8_with_non_ascii_kept() -> None:
    assert jsonio.dumps({"name": "café ☕", "n": [1, 2.5, None, True]}) == (
        '{"name":"café ☕","n":[1,2.5,null,true]}'.encode()
    )


@pytest.mark.parametrize("value", [math.nan, [math.inf], {"a": {"b": -math.inf}}, {"k": [1, (math.nan,)]}])
def test_dumps_refuses_nan_and_infinities(value: object) -> None:
    with pytest.raises(ValueError, match="NaN"):
        jsonio.dumps(value)
    with pytest.raises(ValueError, match="NaN"):
        jsonio.dumps_many([{"ok": None}, value])


def test_dumps_refuses_lone_surrogates_and_objects_json_has_no_type_for() -> None:
    with pytest.raises(ValueError, match="surrogate"):
        jsonio.dumps({"a": "\ud800"})
    with pytest.raises(TypeError):
        jsonio.dumps({"a": object()})


def test_a_journal_call_keeps_its_body_packed_and_reads_back_a_fresh_copy() -> None:
    body: dict[str, Any] = {"action": "addObject", "records": [{"objectID": "a", "n": 1}]}
    call = Call("push", "POST", "/1/push/p", "APP", body=body)
    body["records"].append({"objectID": "later"})  # the caller's object is not what was recorded
    assert call.body == {"action": "addObject", "records": [{"objectID": "a", "n": 1}]}
    call.body["records"].clear()
    assert len(call.body["records"]) == 1
    assert call.to_json()["body"] == call.body
    assert "records" in repr(call)


def test_a_journal_call_keeps_a_body_that_is_not_json_as_it_is() -> None:
    not_json = complex(1, 2)  # (MessagePack has no complex numbers: the value is kept, copied on reads)
    assert Call("x", "POST", "/", None, body=[not_json]).body == [not_json]
    assert Call("x", "POST", "/", None, body="text").body == "text"
    assert Call("x", "GET", "/", None).body is None


def test_a_journal_call_given_the_json_text_keeps_it_as_it_is() -> None:
    raw = b'{"action": "addObject", "records": [{"objectID": "a", "n": 1, "n": 2}]}'
    call = Call("push", "POST", "/1/push/p", "APP", body=jsonio.loads(raw), body_json=raw)
    assert call._body.data is raw
    assert call.body == {"action": "addObject", "records": [{"objectID": "a", "n": 2}]}


def test_a_gzip_body_is_inflated_then_parsed() -> None:
    import gzip

    from mockserver.engine.validation import MISSING
    from mockserver.http.bodies import decode_json_body

    text = b'{"name": "x"}'
    assert decode_json_body(gzip.compress(text), {"content-encoding": "gzip"}, 1000) == {"name": "x"}
    assert decode_json_body(b"", {}, 1000) is MISSING
