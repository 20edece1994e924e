"""A limit on the size of a request's head, whichever HTTP parser uvicorn picked.

uvicorn's default parser (h11) refuses a request line plus headers over 16 KiB; httptools, which
uvicorn prefers when it is installed (the ``speed`` extra), has no such limit. Wrapping the served
app in :class:`HeaderSizeLimit` keeps the same bound with either parser.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.engine import jsonio

MAX_HEAD_BYTES = 16 * 1024  # uvicorn's h11_max_incomplete_event_size


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


async def _refuse(send: Send, size: int, limit: int) -> None:
    status = 431
    message = f"header: the request's target and headers are {size} bytes, more than the {limit} accepted"
    body = jsonio.dumps({"message": message, "status": status})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
