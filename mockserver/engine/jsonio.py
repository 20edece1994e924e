"""JSON in and out at C speed (msgspec), as strict as the mock needs.

``loads`` accepts what every mainstream decoder accepts (a key given twice: the last value wins) and
refuses what no JSON answer could carry back: numbers too large for a double (``1e400``) or with
more than 4,300 digits, ``NaN``/``Infinity``, lone UTF-16 surrogate escapes, invalid UTF-8 (a
byte-order mark included), data after the document, nesting deeper than the interpreter's
recursion limit. Integers beyond 64 bits are kept exact.

``loads(raw, max_depth)`` also refuses nesting deeper than ``max_depth`` arrays and objects, and
for bodies nested at most :data:`SHALLOW` deep (nearly all of them) that costs nothing: the msgspec
decoder is given a type that allows exactly that much nesting, so it checks the depth in C as it
decodes. A deeper body is decoded again without that type and its depth counted in Python.

The fast path is one msgspec call. When it refuses a body, the body is parsed again by the
standard library, on that error path only, to say *where* it is wrong in the words the mock has
always used (``body.records[0].price: the number 1e400 is out of range``).

``dumps`` writes compact UTF-8 (non-ASCII kept as is) and refuses NaN, infinities, lone
surrogates and objects JSON has no type for. (A dict key that is a number is written as a string,
as the standard library does; msgspec writes a NaN key as "nan".)
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable
from typing import Any, Union

import msgspec

from mockserver.engine.depth import check_depth, too_deep_message
from mockserver.engine.errors import BadRequest

_DECODER = msgspec.json.Decoder()
_ENCODER = msgspec.json.Encoder()
SHALLOW = 8  # the deepest nesting the typed decoder checks in C (its type grows 4x per level)
_Scalar = Union[str, int, float, bool, None]  # noqa: UP007 (a runtime type for msgspec)


def loads(raw: bytes, max_depth: int | None = None) -> Any:
    """The JSON document ``raw`` holds; ``BadRequest`` naming what is wrong and where otherwise.

    With ``max_depth``, a document whose arrays and objects nest deeper than that is refused too.
    """
    if max_depth is not None:
        try:
            # Success proves the depth is within min(max_depth, SHALLOW), and the value is the one
            # the untyped decoder gives (the type admits every JSON value, only not deeper).
            return _bounded(min(max_depth, SHALLOW)).decode(raw)
        except (msgspec.DecodeError, RecursionError):  # (a ValidationError is a DecodeError)
            pass  # too deep for the type, or not valid at all: the plain path says which
    try:
        value = _DECODER.decode(raw)
    except (msgspec.DecodeError, RecursionError) as error:
        # (made by a call, never held in a local here: a raised exception kept in a local of the
        # frame it is raised from makes a cycle, and the body stays until the collector runs)
        raise _explain(raw, error, max_depth) from None
    if max_depth is not None:
        check_depth(value, max_depth)
    return value


@functools.cache
def _bounded(depth: int) -> msgspec.json.Decoder[Any]:
    """A decoder for JSON values whose arrays and objects nest at most ``depth`` deep (immutable,
    built on first use: about 4 ms for depth 8)."""
    kind: Any = _Scalar
    for _ in range(depth):
        kind = Union[dict[str, kind], list[kind], str, int, float, bool, None]  # noqa: UP007
    return msgspec.json.Decoder(kind)


def check_text(text: str, field: str, *, key: bool = False) -> None:
    """``ValueError`` naming ``field`` when ``text`` (a value, or with ``key`` an object's key) holds
    a lone surrogate (U+D800 to U+DFFF), which UTF-8, and so an answer or the journal, cannot carry."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        what = f"the key {text[:60]!r} holds" if key else "a string holds"
        raise ValueError(
            f"{field}: {what} a lone surrogate ({text[exc.start]!r}), which UTF-8 cannot encode"
        ) from None


def load_trusted(encoded: bytes) -> Any:
    """Decode JSON this process wrote with :func:`dumps` (no error path: it cannot be malformed)."""
    return _DECODER.decode(encoded)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON. ``ValueError`` for NaN, infinities and lone surrogates; ``TypeError`` for
    objects JSON has no type for (msgspec's own extensions, e.g. ``datetime``, are written as it
    writes them)."""
    try:
        encoded = _ENCODER.encode(value)
    except UnicodeEncodeError:
        raise ValueError("a string holds a lone surrogate, which UTF-8 cannot encode") from None
    if _may_hold_non_finite(encoded) and _holds_non_finite(value):
        raise ValueError("NaN and infinities are not JSON")
    return encoded


def dumps_many(values: list[Any], *, finite: bool = False) -> list[bytes]:
    """``[dumps(v) for v in values]`` in one C call (JSON lines, split), checked once for the lot.
    (Each result is an exact-size bytes object; msgspec's own results keep some spare capacity.)

    ``finite``: the caller knows the values hold no NaN or infinity (they were decoded by
    :func:`loads`, which refuses them), so the scan for them is skipped."""
    if not values:
        return []
    try:
        lines = _ENCODER.encode_lines(values)
    except UnicodeEncodeError:
        raise ValueError("a string holds a lone surrogate, which UTF-8 cannot encode") from None
    if not finite and _may_hold_non_finite(lines) and _holds_non_finite(values):
        raise ValueError("NaN and infinities are not JSON")
    encoded = lines.split(b"\n")  # JSON escapes every newline inside a string: each line is a value
    encoded.pop()  # the empty piece after the last newline
    return encoded


def _may_hold_non_finite(encoded: bytes) -> bool:
    """msgspec writes a non-finite float as null: only a document holding null can hold one (one
    scan of the bytes, where a walk of the value is many times slower)."""
    return b"null" in encoded


def _holds_non_finite(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


# --- the error path: where and why, in the mock's words -------------------------------------------


def _explain(raw: bytes, error: Exception, max_depth: int | None) -> BadRequest:
    """Why ``raw`` was refused, found again by the standard library (slow, but only on refusal).
    Nested past what the parser itself follows: with ``max_depth`` set, refused as deeper than it
    (as a body just past it is)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return BadRequest(f"body: not valid UTF-8 (byte {exc.start})")
    try:
        value = json.loads(
            text, parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_short_integer
        )
    except json.JSONDecodeError as exc:
        return BadRequest(f"body: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
    except _OutOfRange as exc:
        return BadRequest(f"{_where_infinite(text)}: the number {exc} is out of range")
    except _TooManyDigits as exc:
        return BadRequest(
            f"{_where_long_integer(text)}: an integer of {exc} digits; at most {INT_DIGITS} are accepted"
        )
    except ValueError as exc:
        return BadRequest(f"body: invalid JSON: {exc}")
    except RecursionError:
        return _too_deep(max_depth)
    if _SURROGATE_ESCAPE.search(text) is not None:
        where = _find(value, "body", _lone_surrogate)
        if where is not None:
            return BadRequest(f"{where}: a string holds a lone surrogate escape (\\ud800-\\udfff)")
    if isinstance(error, RecursionError):
        return _too_deep(max_depth)
    # The standard library took what msgspec refused: msgspec's reason is the one that counts.
    return BadRequest(f"body: invalid JSON: {str(error)[:200]}")


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# The longest integer a body may hold, in digits: Python's limit on converting a decimal text to an
# int (sys.get_int_max_str_digits), so also the longest the mock can answer.
INT_DIGITS = 4300


def _too_deep(max_depth: int | None) -> BadRequest:
    if max_depth is None:
        return BadRequest("body: JSON nested too deeply")
    return BadRequest(too_deep_message("body", max_depth))


def _digits(text: str) -> int:
    """How many digits a JSON integer's text has."""
    return len(text) - text.startswith("-")


class _TooManyDigits(ValueError):
    pass


class _LongInteger(int):
    pass


def _short_integer(text: str) -> int:
    digits = _digits(text)
    if digits > INT_DIGITS:
        raise _TooManyDigits(digits)
    return int(text)


def _where_long_integer(text: str) -> str:
    def mark(t: str) -> int:
        return _LongInteger(0) if _digits(t) > INT_DIGITS else int(t)

    value = json.loads(text, parse_int=mark)
    return _find(value, "body", lambda v: isinstance(v, _LongInteger)) or "body"


class _OutOfRange(ValueError):
    pass


class _Infinite(float):
    pass


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise _OutOfRange(text if len(text) <= 40 else f"{text[:40]}... ({len(text)} characters)")
    return number


def _where_infinite(text: str) -> str:
    value = json.loads(text, parse_float=lambda t: _Infinite(t) if math.isinf(float(t)) else float(t))
    return _find(value, "body", lambda v: isinstance(v, _Infinite)) or "body"


def _lone_surrogate(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _find(value: Any, where: str, test: Callable[[Any], bool]) -> str | None:
    """The path of the first value (or key) in ``value`` that passes ``test``."""
    if test(value):
        return where
    if isinstance(value, dict):
        for key, item in value.items():
            if test(key):
                return where
            found = _find(item, f"{where}.{key}", test)
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _find(item, f"{where}[{i}]", test)
            if found is not None:
                return found
    return None
