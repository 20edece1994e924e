"""Connection hygiene for ``mockserver serve``: uvicorn's own limits, plus the two it lacks.

uvicorn gives a keep-alive timeout, a concurrency limit (503 beyond it) and a graceful-shutdown
timeout; :func:`uvicorn_options` maps MockSettings onto them. What it lacks:

* a connection that never completes a request head is never closed (its keep-alive timer starts
  only after a first response): :func:`protocol_class` closes it after ``keep_alive_timeout``;
* when file descriptors run out, asyncio logs a traceback on every failed ``accept()``:
  :class:`OncePerSecond` lets one such line through per second and counts the rest.

(A client stalling mid-body is answered 408 by the HTTP face itself: see ``body_timeout``.)
"""

from __future__ import annotations

import errno
import importlib.util
import logging
import resource
import time
from typing import Any

from mockserver.http.head_limit import limited_protocol, parser_of
from mockserver.settings import MockSettings

RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


def uvicorn_options(settings: MockSettings) -> dict[str, Any]:
    """uvicorn.Config keyword arguments for the connection settings."""
    return {
        "timeout_keep_alive": max(1, round(settings.keep_alive_timeout)),
        "limit_concurrency": settings.max_connections,
        "timeout_graceful_shutdown": max(1, round(settings.shutdown_timeout)),
        "http": protocol_class(settings.keep_alive_timeout),
    }


def auto_stack() -> tuple[str, str]:
    """The event loop and HTTP parser uvicorn's "auto" picks here: uvloop and httptools when
    installed (the ``speed`` extra), else asyncio and h11."""
    loop = "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"
    return loop, parser_of("auto")


def protocol_class(head_timeout: float, parser: str = "auto") -> type[Any]:
    """uvicorn's HTTP protocol, closing a connection that has no request under way ``head_timeout``
    seconds after it opened (or after its last response): idle and half-sent heads alike.

    ``parser``: "httptools", "h11", or "auto" (httptools when installed, as uvicorn's own "auto"
    picks: the ``speed`` extra), so the mock is served on the parser uvicorn would choose.
    """
    base: type[Any] = limited_protocol(parser)  # (431 to a head over the limit, on either parser)

    class TimelyProtocol(base):  # type: ignore[misc]
        # One timer per connection, re-armed lazily: a response only notes the time (a timer per
        # response cost a cancel and a new heap entry on every request); when the timer fires
        # early because a response came since, it sets itself for the time still to go.
        _head_timer: Any = None
        _idle_from = 0.0

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._idle_from = self.loop.time()
            self._arm(self._idle_from + head_timeout)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._idle_from = self.loop.time()
            if self._head_timer is None:  # it fired while the request was under way
                self._arm(self._idle_from + head_timeout)

        def connection_lost(self, exc: Exception | None) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None
            super().connection_lost(exc)

        def _arm(self, when: float) -> None:
            self._head_timer = self.loop.call_at(when, self._close_if_idle)

        def _close_if_idle(self) -> None:
            self._head_timer = None
            if self.transport.is_closing():
                return
            cycle = self.cycle
            if cycle is not None and not cycle.response_complete:
                return  # a request under way: its response arms the timer again
            due = self._idle_from + head_timeout
            if self.loop.time() < due:
                self._arm(due)  # a response came since this was set
                return
            self.transport.close()

    TimelyProtocol.__name__ = TimelyProtocol.__qualname__ = f"Timely{base.__name__}"
    return TimelyProtocol


class OncePerSecond(logging.Filter):
    """At most one log record per second about running out of file descriptors (or buffers); the
    next one let through says how many were held back."""

    def __init__(self) -> None:
        super().__init__()
        self._last = 0.0
        self._held = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if not _about_resources(record):
            return True
        now = time.monotonic()
        if now - self._last < 1.0:
            self._held += 1
            return False
        self._last = now
        if self._held:
            record.msg = f"{record.getMessage()} ({self._held} more like it held back)"
            record.args = ()
            self._held = 0
        record.exc_info = None  # one line, not a traceback
        record.exc_text = None
        return True


def _about_resources(record: logging.LogRecord) -> bool:
    exc = record.exc_info[1] if record.exc_info else None
    if isinstance(exc, OSError) and exc.errno in RESOURCE_ERRNOS:
        return True
    message = str(record.msg)
    return "out of system resource" in message or "Too many open files" in message


def limit_resource_logs() -> None:
    """Install :class:`OncePerSecond` on the loggers that report failed accepts."""
    for name in ("asyncio", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, OncePerSecond) for f in logger.filters):
            logger.addFilter(OncePerSecond())


def raise_fd_limit() -> int:
    """Raise the soft limit on open files to the hard one; returns the limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            return target
        except (ValueError, OSError):
            return soft
    return soft
