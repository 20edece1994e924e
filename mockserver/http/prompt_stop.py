"""uvicorn's server, stopping as soon as it is asked to (``mockserver serve`` and LiveServer).

uvicorn notices a stop (``should_exit``) at its next tick, up to 0.1 s later, and its graceful
shutdown then pauses 0.1 s for open connections to finish, even when none is open: a stop took
0.16 s on average, waited for nothing (a suite starting hundreds of servers waits minutes for it).
:class:`PromptServer` wakes its main loop when a stop is asked for (:meth:`PromptServer.wake`), and
with no connection open and no request under way it closes without the pause. With connections
open, uvicorn's graceful shutdown runs as it is (``--shutdown-timeout``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

import uvicorn

_LOG = logging.getLogger("uvicorn.error")
TICK = 0.1  # seconds between two of uvicorn's ticks (its date header, its checks for a stop)


class PromptServer(uvicorn.Server):
    _loop: asyncio.AbstractEventLoop | None = None
    _asked: asyncio.Future[None] | None = None

    def wake(self) -> None:
        """After ``should_exit`` is set: end the main loop's wait for its next tick now. Safe from a
        signal handler and from another thread; before the main loop runs, it finds the flag itself."""
        loop, asked = self._loop, self._asked
        if loop is not None and asked is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: it has stopped already
                loop.call_soon_threadsafe(_settle, asked)

    async def main_loop(self) -> None:
        """uvicorn's main loop (a tick every 0.1 s until a stop is asked for), woken by :meth:`wake`."""
        self._loop = loop = asyncio.get_running_loop()
        self._asked = asked = loop.create_future()
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            await asyncio.wait((asked,), timeout=TICK)
            if asked.done():  # woken: the next wait is a tick again (a wake without a stop waits on)
                self._asked = asked = loop.create_future()
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.server_state.connections or self.server_state.tasks:
            await super().shutdown(sockets=sockets)  # graceful: uvicorn's own
            return
        # Nothing to wait for: uvicorn's steps without its pause for connections to finish.
        _LOG.info("Shutting down")
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
