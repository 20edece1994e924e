"""``mockserver serve`` is ready when it says so: the socket listens before the banner, and the
ready signal (``mockserver ready URL`` on stdout) comes once connections are served.

The starts below are real processes on ``--port 0``; each is stopped as soon as it has been
checked. A connection refused right after the banner or the signal is what users met (1 start in
3 with ``--fixtures catalog``); the figure asked for is 0 in 100 starts.
"""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import pytest

from .conftest import START_TIMEOUT, STOP_TIMEOUT, mockserver_command

STARTS_PER_CONFIGURATION = 25
CONFIGURATIONS = {  # four ways to start, 25 starts each: 100 starts
    "default": (),
    "catalog": ("--fixtures", "catalog"),
    "run_history": ("--fixtures", "run_history", "--seed", "7"),
    "both-data-sets": ("--fixtures", "catalog", "--fixtures", "run_history"),
}
READY = re.compile(r"^mockserver ready (http://127\.0\.0\.1:(\d+))\n$")
BANNER = re.compile(r"^mockserver: serving .* on (http://127\.0\.0\.1:(\d+)) ")
QUIET = ("--access-log", "off", "--log-level", "warning")  # nothing on stderr after the banner
HEALTH_REQUEST = b"GET /__mock__/health HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n"


@dataclass
class Starts:
    """What the starts of one configuration saw."""

    starts: int = 0
    refused_after_banner: int = 0
    refused_after_ready: int = 0
    problems: list[str] = field(default_factory=list)


@contextmanager
def started(*args: str) -> Iterator[subprocess.Popen[str]]:
    """``mockserver serve --port 0 ARGS`` with both streams piped; killed after START_TIMEOUT (so a
    read of a stream that never comes ends, at EOF), stopped (SIGTERM) on leaving."""
    process = subprocess.Popen(
        [*mockserver_command(), "serve", "--port", "0", *QUIET, *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(START_TIMEOUT, process.kill)
    watchdog.start()
    try:
        yield process
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.communicate(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def _answer(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def start_once(args: tuple[str, ...], seen: Starts) -> None:
    """One start: connect right after the banner's first line (a request sent, its answer read
    later) and right after the ready line; neither connection may be refused."""
    seen.starts += 1
    with started(*args) as process:
        assert process.stdout is not None and process.stderr is not None
        first = process.stderr.readline()
        banner = BANNER.match(first)
        if banner is None:
            seen.problems.append(f"no banner: {first!r} (exit {process.poll()})")
            return
        url, port = banner.group(1), int(banner.group(2))
        early: socket.socket | None = None
        try:
            early = socket.create_connection(("127.0.0.1", port), timeout=START_TIMEOUT)
            early.sendall(HEALTH_REQUEST)
        except ConnectionRefusedError:
            seen.refused_after_banner += 1
        line = process.stdout.readline()
        ready = READY.match(line)
        if ready is None:
            seen.problems.append(f"no ready line on stdout: {line!r} (exit {process.poll()})")
            return
        if ready.group(1) != url or port == 0:
            seen.problems.append(f"the ready line {line!r} and the banner {first!r} disagree")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=START_TIMEOUT) as now:
                now.sendall(HEALTH_REQUEST)
                answer = _answer(now)
            if not answer.startswith(b"HTTP/1.1 200 "):
                seen.problems.append(f"health after the ready line: {answer[:200]!r}")
        except ConnectionRefusedError:
            seen.refused_after_ready += 1
        if early is not None:
            with early:
                answer = _answer(early)
            if not answer.startswith(b"HTTP/1.1 200 "):
                seen.problems.append(f"the request sent after the banner got {answer[:200]!r}")


@pytest.mark.parametrize("args", CONFIGURATIONS.values(), ids=CONFIGURATIONS.keys())
def test_no_connection_is_refused_after_the_banner_or_the_ready_line(args: tuple[str, ...]) -> None:
    seen = Starts()
    for _ in range(STARTS_PER_CONFIGURATION):
        start_once(args, seen)
    assert (seen.starts, seen.refused_after_banner, seen.refused_after_ready, seen.problems) == (
        STARTS_PER_CONFIGURATION,
        0,
        0,
        [],
    ), f"{seen.starts} starts with {args}"


def test_the_ready_line_is_the_only_output_on_stdout_and_the_banner_points_to_it() -> None:
    with started("--fixtures", "catalog") as process:
        assert process.stdout is not None and process.stderr is not None
        line = process.stdout.readline()
        ready = READY.match(line)
        assert ready is not None, line
        url = ready.group(1)
        assert httpx.get(f"{url}/__mock__/health", timeout=30.0).status_code == 200
        process.send_signal(signal.SIGTERM)
        rest, stderr = process.communicate(timeout=STOP_TIMEOUT)
    assert process.returncode == 0, stderr
    assert rest == "", f"stdout holds only the ready line, got more: {rest!r}"
    assert f"ready signal:  'mockserver ready {url}' on stdout" in stderr, stderr


def test_a_closed_stdout_does_not_stop_the_server() -> None:
    """Whoever read the ready line may be gone (``mockserver serve | head -1``): it keeps serving."""
    process = subprocess.Popen(
        [*mockserver_command(), "serve", "--port", "0", "--log-level", "warning"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(START_TIMEOUT, process.kill)
    watchdog.start()
    try:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()  # before the server writes its ready line: the write meets a closed pipe
        banner = BANNER.match(process.stderr.readline())
        assert banner is not None
        for _ in range(3):
            assert httpx.get(f"{banner.group(1)}/__mock__/health", timeout=30.0).status_code == 200
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=STOP_TIMEOUT)
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
        process.communicate()  # (closes the pipes, whatever happened)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
