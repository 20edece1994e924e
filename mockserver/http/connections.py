"""Connection hygiene for ``mockserver serve``: uvicorn's own limits, plus the two it lacks.

uvicorn gives a keep-alive timeout, a concurrency limit (503 beyond it) and a graceful-shutdown
timeout; :func:`uvicorn_options` maps MockSettings onto them. What it lacks:

* a connection that never completes a request head is never closed (its keep-alive timer starts
  only after a first response): :func:`protocol_class` closes it after ``keep_alive_timeout``, and
  one that has sent nothing at all after :data:`SILENT_TIMEOUT` at most;
* uvicorn's concurrency limit counts every open connection, so sockets that send nothing (or idle
  between requests) could hold all of ``--max-connections`` and every real request got 503: here
  only connections with a request under way count (:class:`BusyConnections`);
* when file descriptors run out, asyncio logs a traceback on every failed ``accept()`` (thousands a
  second: it tries its whole backlog each time, and each try leaves a retry timer that fails once
  the server has closed), and uvloop logs nothing at all (libuv closes what it cannot serve):
  the protocol warns when its open connections near the limit of open files, and
  :class:`OncePerSecond` lets one line about it through per second and counts the rest.

(A client stalling mid-body is answered 408 by the HTTP face itself: see ``body_timeout``.)
"""

from __future__ import annotations

import errno
import importlib.util
import logging
import resource
import time
from collections.abc import Iterator
from typing import Any

from mockserver.http.head_limit import limited_protocol, parser_of
from mockserver.settings import MockSettings

RESOURCE_ERRNOS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
# Seconds a connection that has not sent a single byte stays open (at most: the head timeout is
# shorter when set shorter). A client opens a connection to send on it; one that waits is closed.
SILENT_TIMEOUT = 2.0
# File descriptors a serving process holds besides its connections (stdio, the listening socket,
# the event loop's, the state file, the journal's spool): near the limit less these, the protocol warns.
FD_HEADROOM = 32
OUT_OF_FDS = "running out of file descriptors"


class BusyConnections:
    """uvicorn's set of open connections as a protocol sees it: adding and removing go to the
    server's set (its graceful shutdown walks that one), but its size, which uvicorn holds to
    ``limit_concurrency`` before serving a request, counts only the connections that are not
    ``quiet`` (a request under way)."""

    __slots__ = ("_every", "_quiet")

    def __init__(self, every: set[Any], quiet: set[Any]) -> None:
        self._every = every
        self._quiet = quiet

    def add(self, connection: Any) -> None:
        self._every.add(connection)

    def discard(self, connection: Any) -> None:
        self._every.discard(connection)
        self._quiet.discard(connection)

    def remove(self, connection: Any) -> None:
        self._every.remove(connection)
        self._quiet.discard(connection)

    def __contains__(self, connection: object) -> bool:
        return connection in self._every

    def __iter__(self) -> Iterator[Any]:
        return iter(self._every)

    def __len__(self) -> int:
        return len(self._every) - len(self._quiet)


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
    silent_timeout = min(head_timeout, SILENT_TIMEOUT)
    quiet: set[Any] = set()  # this server's connections with no request under way
    fd_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    warn_at = max(1, fd_limit - FD_HEADROOM) if fd_limit != resource.RLIM_INFINITY else None
    log = logging.getLogger("uvicorn.error")
    warned = [0.0, 0]  # when the last warning was logged, and how many were held back since

    class TimelyProtocol(base):  # type: ignore[misc]
        # One timer per connection, re-armed lazily: a response only notes the time (a timer per
        # response cost a cancel and a new heap entry on every request); when the timer fires
        # early because a response came since, it sets itself for the time still to go.
        _head_timer: Any = None
        _idle_from = 0.0
        _heard = False  # a byte came on this connection

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.connections = BusyConnections(self.server_state.connections, quiet)

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            quiet.add(self)
            open_now = len(self.server_state.connections)
            if warn_at is not None and open_now >= warn_at:
                self._warn_of_fds(open_now)
            self._idle_from = self.loop.time()
            self._arm(self._idle_from + silent_timeout)

        def data_received(self, data: bytes) -> None:
            self._heard = True
            quiet.discard(self)
            super().data_received(data)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._idle_from = self.loop.time()
            cycle = self.cycle
            if (cycle is None or cycle.response_complete) and not self.transport.is_closing():
                quiet.add(self)  # idle until its next request (none pipelined behind this one)
            if self._head_timer is None:  # it fired while the request was under way
                self._arm(self._idle_from + head_timeout)

        def connection_lost(self, exc: Exception | None) -> None:
            quiet.discard(self)
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None
            super().connection_lost(exc)

        def _warn_of_fds(self, open_now: int) -> None:
            now = time.monotonic()
            if now - warned[0] < 1.0:  # at most once a second
                warned[1] += 1
                return
            held = f" ({warned[1]} more like it held back)" if warned[1] else ""
            warned[:] = [now, 0]
            log.warning(
                "%s: %d connections open, the limit of open files is %d; new connections wait or are "
                "refused (raise it with ulimit -n)%s",
                OUT_OF_FDS,
                open_now,
                fd_limit,
                held,
            )

        def _arm(self, when: float) -> None:
            self._head_timer = self.loop.call_at(when, self._close_if_idle)

        def _close_if_idle(self) -> None:
            self._head_timer = None
            if self.transport.is_closing():
                return
            cycle = self.cycle
            if cycle is not None and not cycle.response_complete:
                return  # a request under way: its response arms the timer again
            due = self._idle_from + (head_timeout if self._heard else silent_timeout)
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
        text = record.getMessage()
        if _is_accept_retry(record):
            text = f"{OUT_OF_FDS}: accept() retries left pending when the listening socket closed"
        elif not text.startswith(OUT_OF_FDS):  # asyncio's own words, on several lines
            text = f"{OUT_OF_FDS}: {text.splitlines()[0] if text else 'accept() failed'}"
        if self._held:
            text = f"{text} ({self._held} more like it held back)"
            self._held = 0
        record.msg = text
        record.args = ()
        record.exc_info = None  # one line, not a traceback
        record.exc_text = None
        return True


def _about_resources(record: logging.LogRecord) -> bool:
    exc = record.exc_info[1] if record.exc_info else None
    if isinstance(exc, OSError) and exc.errno in RESOURCE_ERRNOS:
        return True
    message = str(record.msg)
    return _is_accept_retry(record) or any(
        words in message for words in ("out of system resource", "Too many open files", OUT_OF_FDS)
    )


def _is_accept_retry(record: logging.LogRecord) -> bool:
    """asyncio's retry of a refused accept(), failing once the listening socket is closed."""
    message = str(record.msg)
    return message.startswith("Exception in callback") and "_start_serving" in message


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
