"""pytest plugin (entry point ``pytest11``): an Ingestion API in every test, nothing to configure.

Fixtures:
  ingestion_mock          the in-process mock (no socket) with a handle on its state and journal
  ingestion_http          a Starlette TestClient (httpx API) bound to it, with credentials
  ingestion_server        the same mock served on 127.0.0.1 (one uvicorn thread per session)
  ingestion_client        a real algoliasearch IngestionClientSync pointed at that server
  ingestion_async_client  the async IngestionClient, to use as ``async with ingestion_async_client as c``

One app per session (per xdist worker); every test starts from a clean state (a reset costs
microseconds). Configure with ``@pytest.mark.ingestion_mock(...)`` or ``ingestion_mock_*`` ini options.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from algoliasearch.ingestion.client import IngestionClient, IngestionClientSync
    from starlette.testclient import TestClient

    from .app import MockApp
    from .journal import Journal
    from .server import LiveServer
    from .store import Account, Record

MARKER = "ingestion_mock"
_INI = {
    "ingestion_mock_app_id": ("Application ID the fixtures use (default: test-app)", "test-app"),
    "ingestion_mock_api_key": ("API key the fixtures use (default: test-api-key)", "test-api-key"),
    "ingestion_mock_strict": (
        "accept only the configured credentials (default: any non-empty pair)",
        "false",
    ),
    "ingestion_mock_fixtures": ("data set loaded before each test: a bundled name or a file path", ""),
    "ingestion_mock_clock": ("'real' (default), 'frozen', or an RFC 3339 instant to freeze at", "real"),
    "ingestion_mock_check_responses": ("check every response of the mock against its spec", "false"),
}
_MARKER_KEYS = {
    "fixtures",
    "data",
    "app_id",
    "api_key",
    "strict",
    "clock",
    "runs",
    "seed",
    "faults",
    "rate_limit",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    for name, (help_text, default) in _INI.items():
        parser.addini(name, help_text, default=default)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(fixtures=None, data=None, app_id=None, api_key=None, strict=None, clock=None, runs=None, "
        "seed=None, faults=None, rate_limit=None): configure the Ingestion API mock for this test",
    )


def _flag(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class IngestionMock:
    """A test's handle on the mock: its state, its journal and the credentials to call it with."""

    def __init__(self, app: MockApp, app_id: str, api_key: str) -> None:
        self.app = app
        self.app_id = app_id
        self.api_key = api_key
        self._server: LiveServer | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"x-algolia-application-id": self.app_id, "x-algolia-api-key": self.api_key}

    @property
    def journal(self) -> Journal:
        return self.app.journal

    @property
    def account(self) -> Account:
        """This test's application data (authentications, sources, tasks, runs, indexes...)."""
        return self.app.store.account(self.app_id)

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("this mock is in-process only; use the ingestion_server fixture for a URL")
        return self._server.url

    def index(self, name: str) -> list[Record]:
        """The records of a fake index, in insertion order ([] when the index doesn't exist)."""
        return self.app.control.index(name, self.app_id) or []

    def seed(self, data_set: str | Path | Mapping[str, Any]) -> dict[str, int]:
        return self.app.control.seed(data_set, self.app_id)

    def reset(self) -> None:
        self.app.control.reset()

    def snapshot(self) -> str:
        return self.app.control.snapshot()

    def restore(self, snapshot_id: str) -> None:
        self.app.control.restore(snapshot_id)

    def set_clock(
        self, now: str | datetime | None = None, *, freeze: bool | None = None, advance: float | None = None
    ) -> dict[str, Any]:
        return self.app.control.clock(now=now, freeze=freeze, advance=advance)

    def set_runs(self, **policy: Any) -> dict[str, Any]:
        """How runs behave: mode ('immediate' or 'deferred'), start_after, finish_after, outcome,
        reason_code, reason."""
        return self.app.control.run_policy(**policy)

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        """Misbehave on purpose: operation, status, message, rate, times, latency, drop, retry_after."""
        return self.app.control.add_fault(**rule)

    def rate_limit(self, enabled: bool = True, **limits: Any) -> dict[str, Any]:
        return self.app.control.rate_limit(enabled, **limits)

    def dump(self) -> dict[str, Any]:
        return self.app.control.dump(self.app_id)


@pytest.fixture(scope="session")
def _ingestion_mock_app(pytestconfig: pytest.Config) -> MockApp:
    from .app import create_app

    return create_app(check_responses=_flag(pytestconfig.getini("ingestion_mock_check_responses")))


@pytest.fixture(scope="session")
def _ingestion_mock_server(_ingestion_mock_app: MockApp) -> Iterator[LiveServer]:
    from .server import LiveServer

    with LiveServer(_ingestion_mock_app) as server:
        yield server


@pytest.fixture
def ingestion_mock(request: pytest.FixtureRequest, _ingestion_mock_app: MockApp) -> Iterator[IngestionMock]:
    """A clean in-process Ingestion API mock, configured by the test's ingestion_mock marker."""
    app = _ingestion_mock_app
    ini = request.config.getini
    options: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers(MARKER))):  # closest marker wins
        unknown = set(marker.kwargs) - _MARKER_KEYS
        if unknown or marker.args:
            raise pytest.UsageError(
                f"@pytest.mark.{MARKER}: unknown arguments {sorted(unknown) or marker.args}"
            )
        options.update(marker.kwargs)
    app_id = str(options.get("app_id") or ini("ingestion_mock_app_id"))
    api_key = str(options.get("api_key") or ini("ingestion_mock_api_key"))
    strict = options["strict"] if "strict" in options else _flag(ini("ingestion_mock_strict"))
    app.control.reset()
    saved_config = (app.config.app_id, app.config.api_key)
    app.config.app_id, app.config.api_key = (app_id, api_key) if strict else (None, None)
    if options.get("seed") is not None:
        app.store.ids.seed(int(options["seed"]))
    clock = options.get("clock", ini("ingestion_mock_clock"))
    if isinstance(clock, datetime):
        app.store.clock.freeze(clock)
    elif clock == "frozen":
        app.store.clock.freeze()
    elif isinstance(clock, str) and clock not in ("", "real"):
        app.control.clock(now=clock, freeze=True)
    if options.get("runs"):
        app.control.run_policy(**options["runs"])
    for rule in options.get("faults") or []:
        app.control.add_fault(**rule)
    if options.get("rate_limit"):
        limits = options["rate_limit"]
        app.control.rate_limit(True, **(limits if isinstance(limits, Mapping) else {}))
    handle = IngestionMock(app, app_id, api_key)
    data_sets = options.get("fixtures", ini("ingestion_mock_fixtures")) or []
    for data_set in [data_sets] if isinstance(data_sets, (str, Path)) else data_sets:
        handle.seed(data_set)
    if options.get("data"):
        handle.seed(options["data"])
    app.journal.clear()  # seeding is not the code under test
    request.node.stash[_HANDLE] = handle
    try:
        yield handle
    finally:
        app.config.app_id, app.config.api_key = saved_config
        app.control.reset()


_HANDLE = pytest.StashKey[IngestionMock]()


@pytest.fixture
def ingestion_http(ingestion_mock: IngestionMock) -> Iterator[TestClient]:
    """An httpx-style client bound to the in-process mock (no socket), credentials set."""
    from starlette.testclient import TestClient

    with TestClient(
        ingestion_mock.app, base_url="http://ingestion.mock", headers=ingestion_mock.headers
    ) as client:
        yield client


@pytest.fixture
def ingestion_server(ingestion_mock: IngestionMock, _ingestion_mock_server: LiveServer) -> IngestionMock:
    """The mock served over HTTP on 127.0.0.1 (``.url``, ``.host``-independent), state clean per test."""
    ingestion_mock._server = _ingestion_mock_server
    return ingestion_mock


def _client_config(server: IngestionMock) -> Any:
    from algoliasearch.http.hosts import Host, HostsCollection
    from algoliasearch.ingestion.config import IngestionConfig

    assert server._server is not None
    config = IngestionConfig(server.app_id, server.api_key, "us")
    config.hosts = HostsCollection([Host(server._server.host, scheme="http", port=server._server.port)])
    return config


@pytest.fixture
def ingestion_client(ingestion_server: IngestionMock) -> Iterator[IngestionClientSync]:
    """algoliasearch's IngestionClientSync, pointed at the live mock."""
    from algoliasearch.ingestion.client import IngestionClientSync

    client = IngestionClientSync.create_with_config(_client_config(ingestion_server))
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def ingestion_async_client(ingestion_server: IngestionMock) -> IngestionClient:
    """algoliasearch's async IngestionClient, pointed at the live mock.

    Use it as ``async with ingestion_async_client as client:`` inside your event loop, so its HTTP
    session is closed in the loop that opened it.
    """
    from algoliasearch.ingestion.client import IngestionClient

    return IngestionClient.create_with_config(_client_config(ingestion_server))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """When a test fails, show what the mock rejected during it: its message, not just a status."""
    report = yield
    handle = item.stash.get(_HANDLE, None)
    if handle is not None and report.failed and call.when == "call":
        rejected = handle.journal.rejections()
        if rejected:
            lines = [c.describe() for c in rejected]
            report.sections.append(("ingestion mock: rejected requests", "\n".join(lines)))
    return report
