"""``mockserver check`` against a real ``mockserver serve``: a verdict that fails closed."""

from __future__ import annotations

import io
import itertools
import socket
from collections.abc import Iterator

import pytest

from mockserver.cli import ProgressLine, progress_line
from mockserver.conformance import Progress

from .conftest import API_KEY, APP_ID, ServeFactory
from .test_cli import PROGRESS, assert_one_line_error, run_cli

# The smallest run: these tests check the command's verdicts, progress and report. That the mock
# passes with more examples and along the links is checked by tests/test_conformance.py (5 each,
# stateful, in process) and tests/test_schemathesis_cli.py (schemathesis's own command line).
SMALL = ("--max-examples", "1", "--seed", "1")


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections (bound, never listening) for the whole test."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_refused_credentials_fail_in_one_line_naming_the_app_id_and_the_flags(serve: ServeFactory) -> None:
    server = serve("--app-id", APP_ID, "--api-key", API_KEY, "--access-log", "off")
    result = run_cli("check", "--url", server.url, *SMALL)
    assert result.stdout == "", result.stdout
    line = assert_one_line_error(
        result, 1, "refused the credentials", "'conformance'", "--app-id", "--api-key"
    )
    assert "401/403" in line


def test_an_unreachable_server_fails_in_one_line(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    result = run_cli("check", "--url", url, *SMALL)
    assert result.stdout == "", result.stdout
    assert_one_line_error(result, 1, f"cannot reach {url}", "connection refused")


def progress_of(stderr: str) -> list[tuple[int, int, int, int, str]]:
    """The progress lines of stderr as (operations done, operations, requests, failures, phase);
    every line of stderr must be one."""
    lines = stderr.splitlines()
    assert lines, "check printed no progress"
    seen = []
    for line in lines:
        match = PROGRESS.match(line)
        assert match is not None, f"not a progress line: {line!r}"
        words = line.replace("/", " ").replace(",", "").split()
        seen.append((int(words[2]), int(words[3]), int(words[5]), int(words[7]), match.group(1)))
    for earlier, later in itertools.pairwise(seen):
        assert all(a <= b for a, b in zip(earlier[:4], later[:4], strict=True)), (earlier, later)
    return seen


def test_a_server_failing_most_operations_fails_on_coverage(serve: ServeFactory) -> None:
    server = serve("--fail", "*:503", "--access-log", "off")
    result = run_cli("check", "--url", server.url, *SMALL)
    assert result.returncode == 1, result.stdout + result.stderr
    *_, last = progress_of(result.stderr)
    # the 59 Ingestion operations and the 33 Search ones the mock serves
    assert last[:2] == (92, 92) and last[2] > 92 and last[3] > 0 and last[4] == "done", last
    assert "Traceback" not in result.stdout + result.stderr
    verdict = next(line for line in result.stdout.splitlines() if line.startswith("FAILED"))
    assert "coverage too low: 0 of 92 operations got a 2xx (0%)" in verdict
    assert "--min-coverage" in verdict
    assert "listSources                    503 x" in result.stdout  # the statuses seen, per operation


def test_a_correct_server_with_its_credentials_passes_and_tells_the_coverage(serve: ServeFactory) -> None:
    server = serve("--app-id", APP_ID, "--api-key", API_KEY, "--access-log", "off")
    result = run_cli("check", "--url", server.url, "--app-id", APP_ID, "--api-key", API_KEY, *SMALL)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "and linked sequences (stateful)" in lines[1]  # what it ran: stateful too, by default
    coverage = next(line for line in lines if line.strip().startswith("coverage:"))
    assert "of 92 operations got a 2xx" in coverage and "at least 20% required" in coverage
    assert any(line.split()[:2] == ["listSources", "200"] for line in lines), result.stdout
    assert lines[-1].startswith("PASSED: no failures; coverage ")
    seen = progress_of(result.stderr)  # on stderr, while it ran: the report alone is on stdout
    assert seen[-1][:2] == (92, 92) and seen[-1][3:] == (0, "done"), seen[-1]
    requests = int(next(line for line in lines if "requests:" in line).split()[1])
    assert seen[-1][2] > requests  # the stateless ones and those in linked sequences
    assert {"stateless cases", "done"} <= {phase for *_, phase in seen}


def test_coverage_below_the_share_asked_for_fails(serve: ServeFactory) -> None:
    server = serve("--access-log", "off")
    result = run_cli("check", "--url", server.url, *SMALL, "--no-stateful", "--min-coverage", "95%")
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "ran:        stateless cases (positive and negative, up to 1 each per operation) only"
        in result.stdout
    )
    assert "requests:   184 (stateless)\n" in result.stdout  # no linked sequences
    verdict = result.stdout.splitlines()[-1]
    assert verdict.startswith("FAILED: coverage too low: ") and "below the 95% required" in verdict


# --- progress: what a line says, and how often ------------------------------------------------


def at(phase: str = "stateless", requests: int = 0, failures: int = 0, elapsed: float = 0.0) -> Progress:
    return Progress(phase, 12, 59, requests=requests, failures=failures, elapsed=elapsed)


def test_a_progress_line_tells_operations_requests_failures_and_time() -> None:
    assert progress_line(at(requests=236, failures=1, elapsed=14.4)) == (
        "mockserver check: 12/59 operations, 236 requests, 1 failure, 14 s elapsed (stateless cases)"
    )
    assert progress_line(at("stateful", requests=300, failures=2)).endswith(
        ", 300 requests, 2 failures, 0 s elapsed (linked sequences)"
    )
    assert PROGRESS.match(progress_line(at("done")))


def test_progress_is_printed_at_most_once_a_second_and_always_at_the_end() -> None:
    now = [0.0]
    stream = io.StringIO()
    show = ProgressLine(stream, interval=1.0, clock=lambda: now[0])
    for when, requests in [(0.0, 1), (0.4, 2), (0.99, 3), (1.0, 4), (1.5, 5), (2.2, 6), (2.3, 7)]:
        now[0] = when
        show(at(requests=requests))
    show(at("done", requests=8))  # at 2.3 s too: the last line is never held back
    printed = [int(line.split(", ")[1].split()[0]) for line in stream.getvalue().splitlines()]
    assert printed == [1, 4, 6, 8]


def test_progress_to_a_stream_that_went_away_is_dropped_quietly() -> None:
    class Gone(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    show = ProgressLine(Gone(), interval=0.0)
    show(at())
    show(at("done"))
    assert show.stream is None
