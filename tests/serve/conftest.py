"""Fixtures for tests of ``mockserver serve`` as a real process: start it, wait for it, always stop it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest

from tests.helpers import TLS

APP_ID = "SERVEAPP"
API_KEY = "serve-api-key"
CREDENTIALS = {"x-algolia-application-id": APP_ID, "x-algolia-api-key": API_KEY}
START_TIMEOUT = 60.0  # seconds: a loaded 2-core machine imports slowly
STOP_TIMEOUT = 20.0
_URL = re.compile(r" on (http://\S+?) ")


def mockserver_command() -> list[str]:
    """The ``mockserver`` console script of this environment (or ``python -m`` as a fallback)."""
    script = Path(sys.executable).with_name("mockserver")
    if script.exists():
        return [str(script)]
    found = shutil.which("mockserver")
    return [found] if found else [sys.executable, "-m", "mockserver.cli"]


def credentials(app_id: str = APP_ID, api_key: str = API_KEY) -> dict[str, str]:
    return {"x-algolia-application-id": app_id, "x-algolia-api-key": api_key}


@dataclass
class Served:
    """One ``mockserver serve`` process: where it listens and what it said on stderr."""

    process: subprocess.Popen[bytes]
    stderr_path: Path
    args: list[str]
    url: str = ""
    port: int = 0
    _stderr_file: Any = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def client(self, app_id: str = APP_ID, api_key: str = API_KEY, timeout: float = 30.0) -> httpx.Client:
        """An httpx client bound to this server, sending these credentials (use it in a ``with``)."""
        return httpx.Client(
            base_url=self.url, headers=credentials(app_id, api_key), timeout=timeout, verify=TLS
        )

    def control(self, timeout: float = 30.0) -> httpx.Client:
        """An httpx client for the ``/__mock__/`` control plane (no credentials)."""
        return httpx.Client(base_url=self.url, timeout=timeout, verify=TLS)

    def describe(self) -> str:
        return f"mockserver {' '.join(self.args)} (pid {self.pid}); stderr:\n{self.stderr()}"

    def wait(self, timeout: float = STOP_TIMEOUT) -> int:
        try:
            return self.process.wait(timeout)
        finally:
            self._close_stderr()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int | None:
        """Send ``sig`` and wait; SIGKILL when it does not stop in time. Returns the exit status."""
        if self.process.poll() is None:
            try:
                self.process.send_signal(sig)
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self._close_stderr()
        return self.process.returncode

    def kill(self) -> int:
        """kill -9, as a crash would."""
        self.process.kill()
        return self.wait()

    def _close_stderr(self) -> None:
        if self._stderr_file is not None and not self._stderr_file.closed:
            self._stderr_file.close()


class ServeFactory(Protocol):
    def __call__(
        self, *args: str, wait: bool = True, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> Served: ...


def start_mockserver(
    args: Sequence[str],
    stderr_path: Path,
    *,
    wait: bool = True,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Served:
    """Start ``mockserver serve ARGS`` (on a free port unless --port is given) and wait until healthy."""
    argv = ["serve", *args]
    if "--port" not in args and not any(a.startswith("--port=") for a in args):
        argv += ["--port", "0"]  # the kernel picks a free port; the banner tells which
    stderr_file = stderr_path.open("wb")
    process = subprocess.Popen(
        [*mockserver_command(), *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr_file,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        cwd=cwd,
    )
    served = Served(process, stderr_path, argv, _stderr_file=stderr_file)
    if wait:
        try:
            wait_until_healthy(served)
        except BaseException:
            served.stop(signal.SIGKILL)
            raise
    return served


def wait_until_healthy(served: Served, timeout: float = START_TIMEOUT) -> None:
    """Until the banner names the URL, then until /__mock__/health answers (polled every 10 ms: the
    suite starts ~300 servers, and the wait past the moment they are up is idle time)."""
    deadline = time.monotonic() + timeout
    while not served.url:
        match = _URL.search(served.stderr())
        if match:
            served.url = match.group(1)
            served.port = int(served.url.rsplit(":", 1)[1])
            break
        if served.process.poll() is not None:
            raise AssertionError(f"the server exited with {served.process.returncode}: {served.describe()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no banner after {timeout:.0f} s: {served.describe()}")
        time.sleep(0.01)
    while True:
        try:
            response = httpx.get(f"{served.url}/__mock__/health", timeout=5.0, verify=TLS)
            if response.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if served.process.poll() is not None:
            raise AssertionError(f"the server exited with {served.process.returncode}: {served.describe()}")
        if time.monotonic() > deadline:
            raise AssertionError(
                f"/__mock__/health did not answer within {timeout:.0f} s: {served.describe()}"
            )
        time.sleep(0.01)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[ServeFactory]:
    """Start ``mockserver serve`` with the given args; every process started is stopped at teardown.

    ``serve("--seed", "7")`` returns a healthy ``Served`` (``.url``, ``.process``, ``.stderr()``).
    """
    started: list[Served] = []

    def start(
        *args: str, wait: bool = True, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> Served:
        path = tmp_path / f"mockserver-{len(started) + 1}.stderr"
        served = start_mockserver(args, path, wait=wait, env=env, cwd=cwd)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop(signal.SIGTERM, timeout=STOP_TIMEOUT)  # SIGKILL if it does not stop in time


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One default ``mockserver serve`` for a whole module (tests reset what they change)."""
    path = tmp_path_factory.mktemp("shared") / "mockserver.stderr"
    served = start_mockserver([], path)
    try:
        yield served
    finally:
        served.stop(signal.SIGTERM)


@pytest.fixture
def server(shared_server: Served) -> Iterator[Served]:
    """The module's server, reset (state, journal, faults) before and after each test."""
    if shared_server.process.poll() is not None:
        pytest.fail(f"the shared server died: {shared_server.describe()}")
    with shared_server.control() as control:
        control.post("/__mock__/reset").raise_for_status()
        yield shared_server
        if shared_server.process.poll() is None:
            control.post("/__mock__/reset")
