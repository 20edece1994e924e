"""Read a request body safely: size limits (also after gzip), content types, strict JSON."""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from .errors import BadRequest, PayloadTooLarge
from .validation import MISSING

JSON_TYPES = ("application/json", "text/plain")  # the JavaScript client sends JSON as text/plain


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def read_json_body(request: Request, limit: int) -> Any:
    """The parsed JSON body, or MISSING when there is none. Raises ApiError on anything else."""
    return decode_json_body(await read_body_bytes(request, limit), request.headers, limit)


async def read_body_bytes(request: Request, limit: int) -> bytes:
    """The body as sent, at most ``limit`` bytes (PayloadTooLarge beyond)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"body: {declared} bytes is more than the {limit} bytes accepted")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body: more than the {limit} bytes accepted")
        chunks.append(chunk)
    return b"".join(chunks)


def decode_json_body(raw: bytes, headers: Mapping[str, str], limit: int) -> Any:
    """A body read by :func:`read_body_bytes` decoded (gzip) and parsed, or MISSING when empty."""
    if not raw:
        return MISSING
    encoding = headers.get("content-encoding", "identity").strip().lower()
    if encoding == "gzip":
        raw = _gunzip(raw, limit)
    elif encoding not in ("identity", ""):
        raise BadRequest(f"header.content-encoding: {encoding!r} is not supported; send gzip or no encoding")
    content_type = headers.get("content-type", "application/json").split(";", 1)[0].strip().lower()
    if content_type not in JSON_TYPES and not content_type.endswith("+json"):
        raise BadRequest(
            f"header.content-type: {content_type!r} is not supported; send a JSON body as application/json"
        )
    return parse_json(raw)


def _gunzip(raw: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise BadRequest(f"body: not valid gzip data ({exc})") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise PayloadTooLarge(f"body: more than the {limit} bytes accepted once decompressed")
    if not inflater.eof:
        raise BadRequest("body: truncated gzip data")
    if inflater.unused_data:
        raise BadRequest(
            "body: data after the end of the gzip stream (send one gzip member, nothing after it)"
        )
    return out


def parse_json(raw: bytes) -> Any:
    """Strict JSON: UTF-8, no NaN/Infinity, no number too large for a double, no duplicate keys,
    no lone surrogate escapes (they would break every answer that later includes the value)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"body: not valid UTF-8 (byte {exc.start})") from None
    try:
        value = json.loads(
            text, parse_constant=_reject_constant, parse_float=_finite_float, object_pairs_hook=_unique_keys
        )
    except json.JSONDecodeError as exc:
        raise BadRequest(f"body: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except _OutOfRange as exc:
        raise BadRequest(f"{_where_infinite(text)}: the number {exc} is out of range") from None
    except ValueError as exc:
        raise BadRequest(f"body: invalid JSON: {exc}") from None
    except RecursionError:
        raise BadRequest("body: JSON nested too deeply") from None
    if _SURROGATE_ESCAPE.search(text) is not None:
        _check_surrogates(value, "body")
    return value


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class _OutOfRange(ValueError):
    pass


class _Infinite(float):
    pass


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise _OutOfRange(text[:40])
    return number


def _where_infinite(text: str) -> str:
    """Where the first number too large for a double is (parsed again, on this error path only)."""
    value = json.loads(text, parse_float=lambda t: _Infinite(t) if math.isinf(float(t)) else float(t))
    found = _find(value, "body", lambda v: isinstance(v, _Infinite))
    return found or "body"


def _find(value: Any, where: str, test: Any) -> str | None:
    if test(value):
        return where
    if isinstance(value, dict):
        items: Any = ((f"{where}.{k}", v) for k, v in value.items())
    elif isinstance(value, list):
        items = ((f"{where}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for path, item in items:
        found = _find(item, path, test)
        if found is not None:
            return found
    return None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate key {key[:100]!r} in an object")
            seen.add(key)
    return result


def _check_surrogates(value: Any, where: str) -> None:
    """Refuse strings holding a lone UTF-16 surrogate (valid pairs were already joined by the parser)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest(f"{where}: a string holds a lone surrogate escape (\\ud800-\\udfff)") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_surrogates(key, where)
            _check_surrogates(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_surrogates(item, f"{where}[{i}]")
