"""A limit on the size of a request's head, whichever HTTP parser uvicorn picked.

uvicorn's default parser (h11) refuses a request line plus headers over 16 KiB; httptools, which
uvicorn prefers when it is installed (the ``speed`` extra), has no such limit. The limit is kept
in two places, so that either parser answers the same 431 (Algolia-style JSON):

* :class:`HeaderSizeLimit` wraps the served app and counts a complete head: its target and its
  headers (name, value and the 4 bytes of ": " and CRLF each);
* :func:`limited_protocol` is uvicorn's protocol for a parser, refusing a head still incomplete
  after :data:`MAX_HEAD_BYTES` plus :data:`WIRE_SLACK` bytes on the wire: h11 answers such a head
  400 in plain text on its own, and httptools would buffer it without end.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.engine import jsonio
from mockserver.engine.errors import error_body

MAX_HEAD_BYTES = 16 * 1024  # uvicorn's h11_max_incomplete_event_size
# Wire bytes an incomplete head may take beyond MAX_HEAD_BYTES before the protocol refuses it: the
# request line's method and version, and the separators, which HeaderSizeLimit does not count. A
# head HeaderSizeLimit accepts is never refused on the wire, however it is cut into packets.
WIRE_SLACK = 1024
STATUS = 431
REASON = "Request Header Fields Too Large"
CODE = "request_header_fields_too_large"


class HeaderSizeLimit:
    """Answers 431 (Algolia-style JSON) to an HTTP request whose target and headers exceed ``limit``
    bytes; passes everything else to ``app`` untouched."""

    def __init__(self, app: ASGIApp, limit: int = MAX_HEAD_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            size = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
            for name, value in scope["headers"]:
                size += len(name) + len(value) + 4  # ": " and CRLF
            if size > self.limit:
                await _refuse(send, size, self.limit)
                return
        await self.app(scope, receive, send)


def refusal(size: int | None, limit: int) -> bytes:
    """The 431 answer's JSON body (``size``: the head's size, when it is known)."""
    if size is None:  # refused on the wire, before the head ended
        told = f"are more than the {limit} bytes accepted"
    else:
        told = f"are {size} bytes, more than the {limit} accepted"
    return jsonio.dumps(error_body(STATUS, f"header: the request's target and headers {told}", code=CODE))


async def _refuse(send: Send, size: int, limit: int) -> None:
    body = refusal(size, limit)
    await send(
        {
            "type": "http.response.start",
            "status": STATUS,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def parser_of(parser: str) -> str:
    """``parser`` checked, "auto" resolved as uvicorn resolves it: httptools when installed, else h11."""
    if parser == "auto":
        return "httptools" if importlib.util.find_spec("httptools") is not None else "h11"
    if parser not in ("h11", "httptools"):
        raise ValueError(f"unknown HTTP parser {parser!r}: h11, httptools or auto")
    return parser


def limited_protocol(parser: str = "auto", limit: int = MAX_HEAD_BYTES) -> type[Any]:
    """uvicorn's HTTP protocol for ``parser`` ("h11", "httptools" or "auto"), answering 431 to a head
    still incomplete after ``limit`` plus :data:`WIRE_SLACK` bytes, and closing the connection.

    (A complete head is left to :class:`HeaderSizeLimit`, which counts it exactly.)
    """
    wire_limit = limit + WIRE_SLACK
    if parser_of(parser) == "h11":
        return _h11_protocol(wire_limit, limit)
    return _httptools_protocol(wire_limit, limit)


def _answer(default_headers: list[tuple[bytes, bytes]], limit: int) -> bytes:
    """The whole 431 response, as bytes for the transport."""
    body = refusal(None, limit)
    lines = [f"HTTP/1.1 {STATUS} {REASON}".encode()]
    lines += [name + b": " + value for name, value in default_headers]
    lines += [
        b"content-type: application/json",
        b"content-length: " + str(len(body)).encode(),
        b"connection: close",
    ]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def _h11_protocol(wire_limit: int, limit: int) -> type[Any]:
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeadTracking(h11.Connection):
        """h11's connection, noting when it refused a request head for its size: h11 raises then
        with a 431 hint, which uvicorn answers as any bad request (400, plain text)."""

        head_too_large = False

        def next_event(self) -> Any:
            in_head = self.their_state is h11.IDLE  # no request head parsed yet
            try:
                return super().next_event()
            except h11.RemoteProtocolError as error:
                if in_head and error.error_status_hint == STATUS:
                    self.head_too_large = True
                raise

    class HeadLimitedH11Protocol(H11Protocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.conn = HeadTracking(h11.SERVER, max_incomplete_event_size=wire_limit)

        def send_400_response(self, msg: str) -> None:
            conn = self.conn
            if not (isinstance(conn, HeadTracking) and conn.head_too_large):
                super().send_400_response(msg)
                return
            self.transport.write(_answer(self.server_state.default_headers, limit))
            self.transport.close()

    return HeadLimitedH11Protocol


class _TargetTooLong(Exception):
    """Raised from httptools' callback for a request target over the limit: the parser stops there
    and uvicorn answers through ``send_400_response``, which answers 431 instead."""


def _httptools_protocol(wire_limit: int, limit: int) -> type[Any]:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class HeadLimitedHttpToolsProtocol(HttpToolsProtocol):
        # The bytes received since the current head began (counted by whole reads: a read that
        # ends a message and begins the next head is not counted, so at most one read more).
        _in_head = True
        _head_bytes = 0
        _target_too_long = False

        def data_received(self, data: bytes) -> None:
            if self._in_head:
                self._head_bytes += len(data)
            super().data_received(data)
            if self._in_head and self._head_bytes > wire_limit and not self.transport.is_closing():
                self.transport.write(_answer(self.server_state.default_headers, limit))
                self.transport.close()

        def on_url(self, url: bytes) -> None:
            super().on_url(url)
            if len(self.url) > limit + 1:  # (the "?" is not counted)
                # Refused here, not at the head's end: uvicorn parses a whole target with httptools'
                # parse_url, whose offsets are 16-bit, so a target of ~64 KiB and more failed there
                # as a bad request (400, plain text) before any count was made.
                self._target_too_long = True
                raise _TargetTooLong(len(self.url))

        def send_400_response(self, msg: str) -> None:
            if not self._target_too_long:
                super().send_400_response(msg)
                return
            self.transport.write(_answer(self.server_state.default_headers, limit))
            self.transport.close()

        def on_headers_complete(self) -> None:
            self._in_head = False
            self._head_bytes = 0
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._in_head = True
            super().on_message_complete()

    return HeadLimitedHttpToolsProtocol
