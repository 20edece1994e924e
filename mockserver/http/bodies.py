"""Decode a request body safely: size limits after gzip, content types, strict JSON. (Reading it,
within its size and time limits, is the HTTP face's: :func:`mockserver.http.wire.read_body`.)"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

from mockserver.engine import jsonio
from mockserver.engine.errors import BadRequest, PayloadTooLarge
from mockserver.engine.validation import MISSING

JSON_TYPES = ("application/json", "text/plain")  # the JavaScript client sends JSON as text/plain


def decode_json_body(raw: bytes, headers: Mapping[str, str], limit: int, max_depth: int | None = None) -> Any:
    """A body as received (see :func:`mockserver.http.wire.read_body`) decoded (gzip) and parsed,
    or MISSING when empty."""
    if not raw:
        return MISSING
    return parse_json(json_text(raw, headers, limit), max_depth)


def json_text(raw: bytes, headers: Mapping[str, str], limit: int) -> bytes:
    """The JSON text a non-empty body carries: inflated (gzip), its content type checked."""
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
    return raw


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


def parse_json(raw: bytes, max_depth: int | None = None) -> Any:
    """Strict JSON (see :func:`mockserver.engine.jsonio.loads`): a key given twice keeps its last value;
    NaN/Infinity, numbers too large for a double, lone surrogate escapes, invalid UTF-8, trailing
    data and nesting deeper than ``max_depth`` are refused with a BadRequest that says where."""
    return jsonio.loads(raw, max_depth)
