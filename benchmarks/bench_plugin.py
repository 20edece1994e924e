"""What the pytest plugin costs: per-test reset, live-server start-up, per-test fixture overhead.

Run with ``python -m benchmarks.bench_plugin``. Prints a table; asserts nothing about timings.

- reset: ``app.control.reset()`` on a mock holding ~1,000 resources (median µs), and on an empty one;
- live server: ``LiveServer`` start, and start + stop (median ms): the session start-up of
  ``ingestion_server``;
- fixture body: one pass of the ``ingestion_mock`` fixture (set-up and tear-down) called directly
  in a loop, with no marker and with ``fixtures="catalog"`` (median µs);
- per test, inside pytest: one inner pytest session (a subprocess) of tests with no fixture, with
  ``ingestion_mock`` and with ``fixtures="catalog"``; the median time between consecutive test
  bodies of each kind, and the one-off cost of the first ``ingestion_mock`` test.
"""

from __future__ import annotations

import copy
import os
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar, cast

from mockserver import MockApp, create_app
from mockserver.engine.store import Account
from mockserver.http.live_server import LiveServer
from mockserver.pytest_plugin import MARKER, ingestion_mock

APP_ID = "bench-app"
PER_FAMILY = 200  # five families: 1,000 resources


def populated_accounts() -> dict[str, Account]:
    """~1,000 resources in one application: 200 of each family, seeded (and so validated) once."""
    app = create_app()
    auths = [
        {"type": "basic", "name": f"auth {i}", "input": {"username": "u", "password": "p"}}
        for i in range(PER_FAMILY)
    ]
    transformations = [
        {"name": f"transformation {i}", "type": "code", "input": {"code": "function t(r) { return r; }"}}
        for i in range(PER_FAMILY)
    ]
    sources = [
        {
            "sourceID": f"source-{i}",
            "type": "json",
            "name": f"source {i}",
            "input": {"url": f"https://e.com/{i}"},
        }
        for i in range(PER_FAMILY)
    ]
    destinations = [
        {"destinationID": f"dest-{i}", "type": "search", "name": f"dest {i}", "input": {"indexName": f"i{i}"}}
        for i in range(PER_FAMILY)
    ]
    tasks = [
        {"sourceID": f"source-{i}", "destinationID": f"dest-{i}", "action": "replace"}
        for i in range(PER_FAMILY)
    ]
    app.control.seed(
        {
            "authentications": auths,
            "transformations": transformations,
            "sources": sources,
            "destinations": destinations,
            "tasks": tasks,
        },
        APP_ID,
    )
    return app.store.accounts


def median_of(samples: list[float]) -> float:
    return statistics.median(samples)


def bench_reset(app: MockApp, template: dict[str, Account], rounds: int) -> float:
    """Median µs of one reset of a mock holding ``template``'s state (refilled between rounds, untimed)."""
    samples = []
    for _ in range(rounds):
        app.store.accounts = copy.deepcopy(template) if template else {}
        start = time.perf_counter()
        app.control.reset()
        samples.append((time.perf_counter() - start) * 1e6)
    assert app.store.accounts == {}
    return median_of(samples)


def bench_live_server(app: MockApp, rounds: int) -> tuple[float, float]:
    """Median ms of (start until serving, start + stop)."""
    starts, cycles = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        server = LiveServer(app).start()
        started = time.perf_counter()
        server.stop()
        starts.append((started - start) * 1e3)
        cycles.append((time.perf_counter() - start) * 1e3)
    return median_of(starts), median_of(cycles)


class _Marker:
    def __init__(self, kwargs: dict[str, Any]) -> None:
        self.args: tuple[Any, ...] = ()
        self.kwargs = kwargs


class _Node:
    def __init__(self, marker: dict[str, Any] | None) -> None:
        self._markers = [_Marker(marker)] if marker is not None else []
        self.stash: dict[Any, Any] = {}

    def iter_markers(self, name: str) -> Iterator[_Marker]:
        assert name == MARKER
        return iter(self._markers)


class _Config:
    _INI: ClassVar[dict[str, str]] = {
        "ingestion_mock_app_id": "test-app",
        "ingestion_mock_api_key": "test-api-key",
        "ingestion_mock_strict": "false",
        "ingestion_mock_fixtures": "",
        "ingestion_mock_clock": "real",
    }

    def getini(self, name: str) -> str:
        return self._INI[name]


class _Request:
    """What the fixture body reads from pytest's FixtureRequest, and nothing more."""

    def __init__(self, marker: dict[str, Any] | None) -> None:
        self.node = _Node(marker)
        self.config = _Config()


def bench_fixture_body(app: MockApp, marker: dict[str, Any] | None, rounds: int) -> float:
    """Median µs of the ingestion_mock fixture's set-up plus tear-down, without pytest around it."""
    body = cast(Callable[[Any, MockApp], Iterator[Any]], ingestion_mock.__wrapped__)  # type: ignore[attr-defined]
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        generator = body(_Request(marker), app)
        next(generator)
        for _ in generator:  # tear-down
            pass
        samples.append((time.perf_counter() - start) * 1e6)
    return median_of(samples)


INNER_SESSION = """
import statistics
import time

import pytest

STAMPS = {{"plain": [], "mock": [], "catalog": []}}


@pytest.mark.parametrize("i", range({n}))
def test_1_plain(i):
    STAMPS["plain"].append(time.perf_counter())


@pytest.mark.parametrize("i", range({n}))
def test_2_mock(ingestion_mock, i):
    STAMPS["mock"].append(time.perf_counter())


@pytest.mark.ingestion_mock(fixtures="catalog")
@pytest.mark.parametrize("i", range({n_catalog}))
def test_3_catalog(ingestion_mock, i):
    STAMPS["catalog"].append(time.perf_counter())


def test_4_report():
    for kind, stamps in STAMPS.items():
        gaps = [b - a for a, b in zip(stamps[1:], stamps[2:])]  # the first gap holds one-off costs
        print("GAP", kind, statistics.median(gaps) * 1e6, flush=True)
    print("FIRST", (STAMPS["mock"][0] - STAMPS["plain"][-1]) * 1e6, flush=True)
"""


def bench_per_test(n: int, n_catalog: int) -> dict[str, float]:
    """Median µs between consecutive test bodies in one inner pytest session, by kind of test.

    ``plain`` tests use no fixture, ``mock`` tests use ``ingestion_mock``, ``catalog`` tests add
    ``fixtures="catalog"``; ``first`` is the gap before the first ``ingestion_mock`` test (the
    session-scoped app is built there).
    """
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = textwrap.dedent(INNER_SESSION.format(n=n, n_catalog=n_catalog))
        (folder / "test_inner.py").write_text(source, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
        command = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider"]
        command += ["-p", "no:hypothesispytest", "-p", "no:schemathesis", "test_inner.py"]
        done = subprocess.run(command, cwd=folder, env=env, check=True, capture_output=True, text=True)
    found = {kind: float(value) for kind, value in re.findall(r"GAP (\w+) ([0-9.e+-]+)", done.stdout)}
    first = re.search(r"FIRST ([0-9.e+-]+)", done.stdout)
    assert first is not None and len(found) == 3, done.stdout
    found["first"] = float(first.group(1))
    return found


def main() -> None:
    template = populated_accounts()
    resources = sum(
        len(a.family(f))
        for a in template.values()
        for f in ("authentications", "transformations", "sources", "destinations", "tasks")
    )
    app = create_app()
    live_start, live_cycle = bench_live_server(app, 10)
    rows: list[tuple[str, str]] = [
        (f"reset, {resources} resources (median)", f"{bench_reset(app, template, 200):10.1f} µs"),
        ("reset, empty mock (median)", f"{bench_reset(app, {}, 2000):10.1f} µs"),
        ("LiveServer start, until serving (median of 10)", f"{live_start:10.1f} ms"),
        ("LiveServer start + stop (median of 10)", f"{live_cycle:10.1f} ms"),
        ("ingestion_mock fixture body, no marker", f"{bench_fixture_body(app, None, 2000):10.1f} µs"),
        (
            'ingestion_mock fixture body, fixtures="catalog"',
            f"{bench_fixture_body(app, {'fixtures': 'catalog'}, 200):10.1f} µs",
        ),
    ]
    gaps = bench_per_test(1000, 100)
    rows += [
        ("test with no fixture, pytest's own cost (median gap)", f"{gaps['plain']:10.1f} µs"),
        ("test using ingestion_mock (median gap)", f"{gaps['mock']:10.1f} µs"),
        ("  => ingestion_mock overhead per test", f"{gaps['mock'] - gaps['plain']:10.1f} µs"),
        ('test using ingestion_mock(fixtures="catalog") (median gap)', f"{gaps['catalog']:10.1f} µs"),
        ("first ingestion_mock test of a session (app built)", f"{gaps['first'] / 1e3:10.1f} ms"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'measure':<{width}}  {'value':>13}")
    print("-" * (width + 15))
    for name, value in rows:
        print(f"{name:<{width}}  {value:>13}")


if __name__ == "__main__":
    main()
