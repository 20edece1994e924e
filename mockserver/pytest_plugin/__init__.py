"""pytest plugin (entry point ``pytest11``): an Ingestion API in every test, nothing to configure.

Fixtures:
  ingestion_mock          the in-process mock (no socket) with a handle on its state and journal
  ingestion_http          an httpx-style client bound to it (no socket), with credentials
  ingestion_server        the same mock served on 127.0.0.1 (one uvicorn thread per session)
  ingestion_client        a real algoliasearch IngestionClientSync pointed at that server
  ingestion_async_client  the async IngestionClient, to use as ``async with ingestion_async_client as c``
  search_client           a real algoliasearch SearchClientSync pointed at that server (Search API and
                          the Ingestion API behind its transformation helpers alike)
  search_async_client     the async SearchClient, to use as ``async with search_async_client as c``
  ingestion_client_factory  new official clients (Ingestion, Search; sync, async) and their config
  algolia_intercept       every algoliasearch client the code under test builds itself, aimed at
                          Algolia's hosts, answered by this test's mock (pytest_plugin/intercept.py)

One app per session (per xdist worker); every test starts from a clean state (a reset costs
microseconds). Configure with ``@pytest.mark.ingestion_mock(...)`` or ``ingestion_mock_*`` ini options:
both are the fields of :class:`mockserver.settings.MockSettings` that say so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from mockserver import settings as mock_settings

if TYPE_CHECKING:
    from algoliasearch.ingestion.client import IngestionClient, IngestionClientSync
    from algoliasearch.search.client import SearchClient, SearchClientSync

    from mockserver.http.app import MockApp
    from mockserver.http.inprocess import InProcessClient
    from mockserver.http.live_server import LiveServer
    from mockserver.pytest_plugin.clients import ClientFactory
    from mockserver.pytest_plugin.intercept import Interception
    from mockserver.pytest_plugin.mock_handle import IngestionMock

MARKER = "ingestion_mock"
# Every fixture of the plugin; each depends on ingestion_mock, which the marker configures.
PLUGIN_FIXTURES = (
    "ingestion_mock",
    "ingestion_http",
    "ingestion_server",
    "ingestion_client",
    "ingestion_async_client",
    "ingestion_client_factory",
    "search_client",
    "search_async_client",
    "algolia_intercept",
)
FIXTURE_APP_ID = "test-app"
FIXTURE_API_KEY = "test-api-key"


def _ini_value(ini_name: str, field_name: str, text: str) -> Any:
    """An ini option's text as the settings field's value (the field says how it is read), with
    the checks the mock applies later made now (a bad value is the ini's mistake, not a test's)."""
    try:
        value = mock_settings.parse_of(field_name)(text)
        if field_name == "clock" and value not in ("real", "frozen"):
            from mockserver.engine import steering

            steering.instant(value, ini_name)
        elif field_name == "runs" and value is not None:
            from mockserver.engine import steering
            from mockserver.engine.store import RunPolicy
            from mockserver.spec import load_spec

            steering.run_policy(RunPolicy(), value, load_spec())
        elif field_name == "fixtures":
            from mockserver import seeding

            for ref in seeding.data_set_refs(value, None):
                seeding.load_data_set(ref)  # a name or file that is not there, said once, at start
    except (TypeError, ValueError) as exc:
        message = str(exc)
        raise pytest.UsageError(
            message if message.startswith(ini_name) else f"{ini_name}: {message}"
        ) from None
    return value


def _ini_names(config: pytest.Config) -> list[str]:
    """The options the ini file (and -o) sets. pytest has no public listing: its own store, read
    without the deprecation pytest 9 puts on ``config.inicfg``."""
    found = getattr(config, "_inicfg", None)
    if found is None:
        found = getattr(config, "inicfg", None) or {}
    return [str(name) for name in found]


def _refuse_unknown_ini_options(config: pytest.Config) -> None:
    """An ``ingestion_mock_*`` option the plugin does not have is a usage error naming the closest
    (pytest would warn, and under ``-W error`` stop with an INTERNALERROR)."""
    known = mock_settings.ini_options()
    unknown = sorted(n for n in _ini_names(config) if n.startswith(f"{MARKER}_") and n not in known)
    if unknown:
        from mockserver.flags import did_you_mean

        name = unknown[0]
        raise pytest.UsageError(
            f"{name}: not an option of the ingestion mock plugin{did_you_mean(name, known)} "
            f"(its options: {', '.join(sorted(known))})"
        )


def pytest_addoption(parser: pytest.Parser) -> None:
    for ini_name, field_name in mock_settings.ini_options().items():
        parser.addini(ini_name, mock_settings.help_of(field_name), default="")


def pytest_configure(config: pytest.Config) -> None:
    keys = ", ".join(f"{key}=..." for key in sorted(mock_settings.marker_keys()))
    config.addinivalue_line("markers", f"{MARKER}({keys}): configure the Ingestion API mock for this test")
    _refuse_unknown_ini_options(config)
    _ini_settings(config)  # a bad ini value is a usage error at start, not an error in every test


def _ini_settings(config: pytest.Config) -> dict[str, Any]:
    """The ini options that are set, read once per session (every test starts from them)."""
    found = config.stash.get(_INI_SETTINGS, None)
    if found is None:
        found = {}
        for ini_name, field_name in mock_settings.ini_options().items():
            text = str(config.getini(ini_name) or "").strip()
            if text:
                found[field_name] = _ini_value(ini_name, field_name, text)
        config.stash[_INI_SETTINGS] = found
    return dict(found)


_INI_SETTINGS = pytest.StashKey[dict[str, Any]]()


def _near_the_test(ref: Any, test_dir: Path) -> Any:
    """A data set's relative path is read from the current directory, else from the test file's
    directory (so ``fixtures="data/products.yaml"`` beside the tests works from anywhere)."""
    if isinstance(ref, (str, Path)):
        path = Path(ref)
        if not path.is_absolute() and not path.is_file() and (test_dir / path).is_file():
            return test_dir / path
    return ref


def _misused(message: str) -> NoReturn:
    """Fail the test that misuses the marker with ``message`` alone: its setup errors with one
    line, not a traceback through the plugin (the mistake is in the test, not here)."""
    pytest.fail(message, pytrace=False)


def _test_settings(request: pytest.FixtureRequest) -> mock_settings.MockSettings:
    """The ini options, then the markers (the closest wins), as one MockSettings."""
    options: dict[str, Any] = {"app_id": FIXTURE_APP_ID, "api_key": FIXTURE_API_KEY, "strict": False}
    options.update(_ini_settings(request.config))
    allowed = mock_settings.marker_keys()
    for marker in reversed(list(request.node.iter_markers(MARKER))):
        unknown = set(marker.kwargs) - allowed
        if unknown or marker.args:
            from mockserver.flags import did_you_mean

            hint = "".join(did_you_mean(name, allowed) for name in sorted(unknown)[:1])
            _misused(
                f"@pytest.mark.{MARKER}: unknown arguments {sorted(unknown) or list(marker.args)}{hint}; "
                f"known: {sorted(allowed)}"
            )
        options.update(marker.kwargs)
    for name in ("faults", "keys"):
        if name in options and options[name] is not None:
            options[name] = tuple(options[name])
    try:
        return mock_settings.from_options(options)
    except (TypeError, ValueError) as exc:
        mistake = str(exc)
    _misused(f"@pytest.mark.{MARKER}: {mistake}")  # (outside the except: no "during handling" chain)


@pytest.fixture(scope="session")
def _ingestion_mock_app(pytestconfig: pytest.Config) -> MockApp:
    from mockserver.http.app import create_app

    ini = _ini_settings(pytestconfig)
    return create_app(check_responses=bool(ini.get("check_responses", False)))


@pytest.fixture(scope="session")
def _ingestion_mock_server(_ingestion_mock_app: MockApp) -> Iterator[LiveServer]:
    from mockserver.http.live_server import LiveServer

    with LiveServer(_ingestion_mock_app) as server:
        yield server


@pytest.fixture
def ingestion_mock(request: pytest.FixtureRequest, _ingestion_mock_app: MockApp) -> Iterator[IngestionMock]:
    """A clean in-process Ingestion API mock, configured by the test's ingestion_mock marker."""
    from mockserver import seeding
    from mockserver.pytest_plugin.mock_handle import IngestionMock

    app = _ingestion_mock_app
    engine, control = app.engine, app.control
    settings = _test_settings(request)
    session_settings = engine.settings
    control.reset()
    assert settings.app_id is not None and settings.api_key is not None
    handle = IngestionMock(app, settings.app_id, settings.api_key)

    def back_to_the_session() -> None:
        control.reconfigure(session_settings)
        control.reset()

    mistake = None
    try:
        # The test's data sets go into its application (below), not into every new one.
        control.reconfigure(settings.replace(fixtures=session_settings.fixtures, data=session_settings.data))
        for data_set in seeding.data_set_refs(settings.fixtures, settings.data):
            handle.seed(_near_the_test(data_set, request.path.parent))
    except (TypeError, ValueError) as exc:  # SeedError included: it names the file, record and field
        back_to_the_session()
        if isinstance(exc, seeding.SeedError) and not isinstance(exc, seeding.MissingDataSetFile):
            raise
        mistake = str(exc)
    if mistake is not None:  # (outside the except: no "during handling" chain in the report)
        _misused(f"@pytest.mark.{MARKER}: {mistake}")
    engine.journal.clear()  # seeding is not the code under test
    request.node.stash[_HANDLE] = handle
    request.node.stash[_FAIL_ON_REJECTION] = settings.fail_on_rejection
    try:
        yield handle
    finally:
        back_to_the_session()


_HANDLE = pytest.StashKey["IngestionMock"]()
_FAIL_ON_REJECTION = pytest.StashKey[bool]()


@pytest.fixture
def ingestion_http(ingestion_mock: IngestionMock) -> Iterator[InProcessClient]:
    """An httpx client bound to the in-process mock (no socket, no thread per request), credentials set."""
    from mockserver.http.inprocess import InProcessClient

    with InProcessClient(
        ingestion_mock.app, base_url="http://ingestion.mock", headers=ingestion_mock.headers
    ) as client:
        yield client


@pytest.fixture
def ingestion_server(ingestion_mock: IngestionMock, _ingestion_mock_server: LiveServer) -> IngestionMock:
    """The mock served over HTTP on 127.0.0.1 (``.url``), state clean per test."""
    ingestion_mock._server = _ingestion_mock_server
    return ingestion_mock


@pytest.fixture
def ingestion_client_factory(
    request: pytest.FixtureRequest, ingestion_server: IngestionMock
) -> Iterator[ClientFactory]:
    """Makes official clients (Ingestion and Search, sync and async) pointed at the live mock, with
    the test's credentials or others; closes them at teardown. ``.config()`` is the config alone."""
    from mockserver.pytest_plugin.clients import ClientFactory

    server = ingestion_server._server
    assert server is not None
    factory = ClientFactory(ingestion_server, server.host, server.port)
    yield factory
    leaks = factory._close_all()
    if leaks:
        _misused(f"{request.node.name}: " + "; ".join(dict.fromkeys(leaks)))


@pytest.fixture
def ingestion_client(ingestion_client_factory: ClientFactory) -> IngestionClientSync:
    """algoliasearch's IngestionClientSync, pointed at the live mock (closed at teardown)."""
    return ingestion_client_factory.ingestion()


@pytest.fixture
def ingestion_async_client(ingestion_client_factory: ClientFactory) -> IngestionClient:
    """algoliasearch's async IngestionClient, pointed at the live mock.

    Use it as ``async with ingestion_async_client as client:`` inside your event loop, so its HTTP
    session is closed in the loop that opened it. Left open, it is closed at teardown when its loop
    is still there; when the loop is gone, the test errors at teardown saying so.
    """
    return ingestion_client_factory.ingestion_async()


@pytest.fixture
def search_client(ingestion_client_factory: ClientFactory) -> SearchClientSync:
    """algoliasearch's SearchClientSync, pointed at the live mock (the same one as
    ``ingestion_client``): Search operations and its Ingestion helpers alike; closed at teardown."""
    return ingestion_client_factory.search()


@pytest.fixture
def search_async_client(ingestion_client_factory: ClientFactory) -> SearchClient:
    """algoliasearch's async SearchClient, pointed at the live mock; use it as
    ``async with search_async_client as client:`` inside your event loop (as ``ingestion_async_client``)."""
    return ingestion_client_factory.search_async()


@pytest.fixture
def algolia_intercept(ingestion_mock: IngestionMock) -> Iterator[Interception]:
    """Every algoliasearch client the code under test builds itself (sync or async, Search or
    Ingestion, any application or region), aimed at Algolia's own hosts, is answered by this test's
    in-process mock, without a change to how the code builds it; other hosts are left alone.
    See :mod:`mockserver.pytest_plugin.intercept` for what it catches and what it cannot."""
    from mockserver.pytest_plugin.intercept import Interception

    with Interception(ingestion_mock) as interception:
        yield interception


def _intercept_wanted(request: pytest.FixtureRequest) -> bool:
    """``intercept`` as the test's closest marker says, else as the ini option says (off)."""
    for marker in request.node.iter_markers(MARKER):
        if "intercept" in marker.kwargs:
            return bool(marker.kwargs["intercept"])
    return bool(_ini_settings(request.config).get("intercept", False))


@pytest.fixture(autouse=True)
def _ingestion_mock_intercept(request: pytest.FixtureRequest) -> None:
    """``intercept=True`` (marker key, or ini ``ingestion_mock_intercept = true`` for the suite): the
    test gets ``algolia_intercept`` without asking, so a client the code builds itself never reaches
    the real Algolia. (Off, the plugin adds nothing to a test that does not ask for it.)"""
    if _intercept_wanted(request):
        request.getfixturevalue("algolia_intercept")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A marker put on a test that uses none of the plugin's fixtures would configure nothing:
    that test errors, saying so. (A marker on a class or module configures the tests under it that
    use the mock; the others are left alone.)"""
    own = [m for m in item.own_markers if m.name == MARKER]
    intercepts = any(m.kwargs.get("intercept") for m in own)
    if own and not intercepts and MARKER not in getattr(item, "fixturenames", ()):
        _misused(
            f"@pytest.mark.{MARKER} does nothing on {item.name}: the test uses none of the plugin's "
            f"fixtures ({', '.join(PLUGIN_FIXTURES)}); use one, or remove the marker"
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """When a test fails, show what the mock rejected during it: its message, not just a status.

    With ``fail_on_rejection``, a test that passed fails when the mock rejected a request the test
    did not declare with ``ingestion_mock.expect_rejection(...)``.
    """
    report = yield
    handle = item.stash.get(_HANDLE, None)
    if handle is None or call.when != "call":
        return report
    if report.passed and item.stash.get(_FAIL_ON_REJECTION, False):
        unexpected = handle.unexpected_rejections()
        if unexpected:
            report.outcome = "failed"
            lines = [c.describe() for c in unexpected]
            report.longrepr = (
                "the mock rejected requests this test did not expect (fail_on_rejection is on; declare "
                "intended ones with ingestion_mock.expect_rejection(operation_id, status)):\n  "
                + "\n  ".join(lines)
            )
            return report
    if report.failed:
        rejected = handle.journal.rejections()
        if rejected:
            lines = [c.describe() for c in rejected]
            report.sections.append(("ingestion mock: rejected requests", "\n".join(lines)))
    return report
