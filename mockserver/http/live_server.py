"""LiveServer: a mock served by uvicorn in a background thread on a free loopback port."""

from __future__ import annotations

import logging
import socket
import threading
import time
from types import TracebackType

import uvicorn
from starlette.types import ASGIApp

from mockserver.engine.errors import ConnectionDropped
from mockserver.http.head_limit import HeaderSizeLimit, limited_protocol
from mockserver.http.prompt_stop import PromptServer


class QuietDrops(logging.Filter):
    """Keep connections dropped on purpose (fault rules) out of uvicorn's error log."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped)


def quiet_dropped_connections() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, QuietDrops) for f in logger.filters):
        logger.addFilter(QuietDrops())


class LiveServer:
    """Start with ``start()`` (or ``with LiveServer(app) as server:``); ``server.url`` is where it listens.

    ``parser``: uvicorn's HTTP parser, "h11", "httptools" or "auto" (httptools when installed, as
    uvicorn picks).
    """

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0, parser: str = "auto") -> None:
        self.app = app
        self.protocol = limited_protocol(parser)  # (an unknown parser is refused here, not in the thread)
        self.host = host
        self._requested_port = port
        self.port = port
        self._server: PromptServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> LiveServer:
        # IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on sockets that say they are TCP, and
        # without it every kept-alive answer waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        self.port = sock.getsockname()[1]
        quiet_dropped_connections()
        config = uvicorn.Config(
            HeaderSizeLimit(self.app),
            log_level="warning",
            lifespan="off",
            access_log=False,
            http=self.protocol,
        )
        server = PromptServer(config)
        self._server = server
        self._thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError(f"the mock server did not start on {self.url}")
            time.sleep(0.001)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._server.wake()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
