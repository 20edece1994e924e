"""``mockserver check`` against a real ``mockserver serve``: a verdict that fails closed."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from .conftest import API_KEY, APP_ID, ServeFactory
from .test_cli import assert_one_line_error, run_cli

SMALL = ("--max-examples", "2", "--seed", "1")  # a small run keeps these tests fast


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


def test_a_server_failing_most_operations_fails_on_coverage(serve: ServeFactory) -> None:
    server = serve("--fail", "*:503", "--access-log", "off")
    result = run_cli("check", "--url", server.url, *SMALL)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    verdict = next(line for line in result.stdout.splitlines() if line.startswith("FAILED"))
    assert "coverage too low: 0 of 59 operations got a 2xx (0%)" in verdict
    assert "--min-coverage" in verdict
    assert "listSources                    503 x" in result.stdout  # the statuses seen, per operation


def test_a_correct_server_with_its_credentials_passes_and_tells_the_coverage(serve: ServeFactory) -> None:
    server = serve("--app-id", APP_ID, "--api-key", API_KEY, "--access-log", "off")
    result = run_cli("check", "--url", server.url, "--app-id", APP_ID, "--api-key", API_KEY, *SMALL)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert "and linked sequences (stateful)" in lines[1]  # what it ran: stateful too, by default
    coverage = next(line for line in lines if line.strip().startswith("coverage:"))
    assert "of 59 operations got a 2xx" in coverage and "at least 20% required" in coverage
    assert any(line.split()[:2] == ["listSources", "200"] for line in lines), result.stdout
    assert lines[-1].startswith("PASSED: no failures; coverage ")


def test_coverage_below_the_share_asked_for_fails(serve: ServeFactory) -> None:
    server = serve("--access-log", "off")
    result = run_cli("check", "--url", server.url, *SMALL, "--no-stateful", "--min-coverage", "95%")
    assert result.returncode == 1, result.stdout + result.stderr
    assert (
        "ran:        stateless cases (positive and negative, up to 2 each per operation) only"
        in result.stdout
    )
    assert "requests:   236 (stateless)\n" in result.stdout  # no linked sequences
    verdict = result.stdout.splitlines()[-1]
    assert verdict.startswith("FAILED: coverage too low: ") and "below the 95% required" in verdict
