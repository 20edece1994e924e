"""Read a request body safely: size limits (also after gzip), content types, strict JSON."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

from starlette.requests import Request

from . import jsonio
from .errors import BadRequest, PayloadTooLarge
from .validation import MISSING

JSON_TYPES = ("application/json", "text/plain")  # the JavaScript client sends JSON as text/plain


async def read_json_body(request: Request, limit: int, max_depth: int | None = None) -> Any:
    """The parsed JSON body, or MISSING when there is none. Raises ApiError on anything else."""
    return decode_json_body(await read_body_bytes(request, limit), request.headers, limit, max_depth)


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


def decode_json_body(raw: bytes, headers: Mapping[str, str], limit: int, max_depth: int | None = None) -> Any:
    """A body read by :func:`read_body_bytes` decoded (gzip) and parsed, or MISSING when empty."""
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
    """Strict JSON (see :func:`mockserver.jsonio.loads`): a key given twice keeps its last value;
    NaN/Infinity, numbers too large for a double, lone surrogate escapes, invalid UTF-8, trailing
    data and nesting deeper than ``max_depth`` are refused with a BadRequest that says where."""
    return jsonio.loads(raw, max_depth)
