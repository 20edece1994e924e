"""Shared fixtures of our own suite: every mock built here checks its responses against the spec."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from algoliasearch.http.hosts import Host, HostsCollection
from algoliasearch.ingestion.client import IngestionClientSync
from algoliasearch.ingestion.config import IngestionConfig

from mockserver import MockApp, create_app
from mockserver.http.inprocess import InProcessClient
from mockserver.http.live_server import LiveServer
from tests import heavy

APP_ID = "TESTAPP"
API_KEY = "test-api-key"
CREDENTIALS = {"x-algolia-application-id": APP_ID, "x-algolia-api-key": API_KEY}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-screenshots",
        action="store_true",
        help="the browser tests write their screenshots to docs/ (README shows docs/inspector.png) "
        "instead of a temporary folder",
    )


def pytest_configure(config: pytest.Config) -> None:
    heavy.install()
    heavy.stop_the_workers_stray_coverage(config)
    _cache_bytecode()


def _cache_bytecode() -> None:
    """Where PYTHONDONTWRITEBYTECODE is set (as on the project's machines), every Python process
    compiles every module it imports afresh, and pytest rewrites every test module and plugin (a few
    seconds of CPU each time): the suite's processes, the xdist workers and the many processes the
    heavy tests start (``mockserver serve``, pytest inside pytest) then cache their bytecode in a
    folder of the temporary directory instead (PYTHONPYCACHEPREFIX), so the tree stays as clean as
    the variable keeps it. A prefix the developer set is kept."""
    if not os.environ.get("PYTHONDONTWRITEBYTECODE"):
        return
    prefix = os.environ.get("PYTHONPYCACHEPREFIX") or str(
        Path(tempfile.gettempdir()) / "mockserver-tests-pycache"
    )
    os.environ.pop("PYTHONDONTWRITEBYTECODE")
    os.environ["PYTHONPYCACHEPREFIX"] = prefix
    sys.pycache_prefix = prefix
    sys.dont_write_bytecode = False


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """A folder or file whose tests ``-m`` deselects whole (tests/heavy.py) is not even imported."""
    return True if heavy.deselected_whole(collection_path, config.getoption("markexpr")) else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    heavy.mark(items)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> heavy.Scheduling | None:
    """With ``-n``, xdist's load scheduling, some modules kept on one worker (see tests/heavy.py)."""
    return heavy.Scheduling(config, log) if config.getoption("dist") == "load" else None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    with heavy.watching(item):
        return (yield)


@pytest.fixture(autouse=True)
def _heavy_work_is_marked(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails a test that starts a process or a server without a heavy marker (see tests/heavy.py)."""
    yield
    problem = heavy.verdict(request.node)
    if problem:
        pytest.fail(problem, pytrace=False)


@pytest.fixture
def app() -> MockApp:
    """A fresh in-process mock that fails loudly if it ever answers against its own spec."""
    return create_app(check_responses=True, seed=1234)


@pytest.fixture
def client(app: MockApp) -> Iterator[InProcessClient]:
    """An httpx-style client bound to the in-process app (no socket, no thread), with credentials."""
    with InProcessClient(app, base_url="http://mock", headers=CREDENTIALS) as c:
        yield c


@pytest.fixture
def opened() -> Iterator[Callable[..., MockApp]]:
    """Opens a checking mock on a state file (``opened(path, **options)``), as a restart would: the
    mock opened before is closed first, and every one is closed after the test."""
    apps: list[MockApp] = []

    def open_app(path: Path, **options: Any) -> MockApp:
        for app in apps:
            app.engine.close()
        app = create_app(state_file=str(path), **{"check_responses": True, **options})
        apps.append(app)
        return app

    yield open_app
    for app in apps:
        app.engine.close()


@pytest.fixture(scope="session")
def live_app() -> MockApp:
    return create_app(check_responses=True)


@pytest.fixture(scope="session")
def live_server(live_app: MockApp) -> Iterator[LiveServer]:
    with LiveServer(live_app) as server:
        yield server


@pytest.fixture
def live(live_app: MockApp, live_server: LiveServer) -> LiveServer:
    """The session's live server, emptied before each test."""
    live_app.store.reset()
    return live_server


@pytest.fixture
def ingestion(live: LiveServer) -> Iterator[IngestionClientSync]:
    """The real algoliasearch IngestionClientSync, pointed at the live mock."""
    config = IngestionConfig(APP_ID, API_KEY, "us")
    config.hosts = HostsCollection([Host(live.host, scheme="http", port=live.port)])
    client = IngestionClientSync.create_with_config(config)
    yield client
    client.close()
