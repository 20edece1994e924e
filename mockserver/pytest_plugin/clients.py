"""The official algoliasearch clients pointed at a test's live mock, and closing what a test opened.

:class:`ClientFactory` is the type of the ``ingestion_client_factory`` fixture; the
``ingestion_client`` and ``ingestion_async_client`` fixtures are clients it made. Every client it
makes is closed at the test's teardown. An async client's HTTP session belongs to the event loop
that opened it: when that loop is still there, the session is closed in it; when it is gone (an
``asyncio.run`` that ended without ``async with client`` or ``await client.close()``), the session
can no longer be closed properly: its sockets are let go quietly (aiohttp would warn during some
later test, with nothing pointing to this one) and the test errors at teardown, saying how to close it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
import warnings
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from algoliasearch.http.base_config import BaseConfig
    from algoliasearch.ingestion.client import IngestionClient, IngestionClientSync
    from algoliasearch.ingestion.config import IngestionConfig
    from algoliasearch.search.client import SearchClient, SearchClientSync
    from algoliasearch.search.config import SearchConfig

    from mockserver.pytest_plugin.mock_handle import IngestionMock

_Client = TypeVar("_Client")
_Config = TypeVar("_Config", bound="BaseConfig")
REGIONS = ("us", "eu")  # the Ingestion API's regions (a client's config requires one)


class ClientFactory:
    """Official clients pointed at this test's mock (served live), with the test's credentials.

    ``ingestion()`` (also ``factory()``) and ``ingestion_async()`` make Ingestion clients,
    ``search()`` and ``search_async()`` Search clients: both the Search API and the Ingestion API
    behind their helpers (``save_objects_with_transformation`` & co.) reach the mock, so the
    Ingestion hosts are set on the config's ``TransformationOptions`` too (a ``transformation_options``
    of your own gets the mock's hosts when it has none). Each takes ``app_id`` / ``api_key``
    (default: the test's), ``region`` (``us`` or ``eu``) and any attribute of the client's config as
    a keyword (``read_timeout=1000``, ``compression_type="gzip"``...). ``config()`` /
    ``search_config()`` give the config alone, to make a client yourself (then closing it is yours).
    Every client made here is closed at teardown.
    """

    def __init__(self, mock: IngestionMock, host: str, port: int) -> None:
        self.mock = mock
        self.host = host
        self.port = port
        self._sync: list[Any] = []
        self._async: list[Any] = []

    # --- configs ---------------------------------------------------------------------------------
    def config(
        self, *, app_id: str | None = None, api_key: str | None = None, region: str = "us", **options: Any
    ) -> IngestionConfig:
        """An IngestionConfig pointed at the mock (a host of its own: one client marking its host
        down after a 5xx leaves the others alone)."""
        from algoliasearch.ingestion.config import IngestionConfig

        config = IngestionConfig(*self._credentials(app_id, api_key), _region(region))
        config.hosts = self._hosts()
        return _with_options(config, options)

    def search_config(
        self, *, app_id: str | None = None, api_key: str | None = None, region: str = "us", **options: Any
    ) -> SearchConfig:
        """A SearchConfig pointed at the mock, its transformation (Ingestion) options too."""
        from algoliasearch.search.config import SearchConfig

        credentials = self._credentials(app_id, api_key)
        try:
            from algoliasearch.search.config import TransformationOptions
        except ImportError:  # an algoliasearch before transformation options: no Ingestion helpers
            config = SearchConfig(*credentials)
        else:
            transformation = TransformationOptions(_region(region), hosts=self._hosts())
            config = SearchConfig(*credentials, transformation_options=transformation)
        config.hosts = self._hosts()
        config = _with_options(config, options)
        own = getattr(config, "transformation_options", None)
        if own is not None and own.hosts is None:  # the second place a Search client needs hosts
            own.hosts = self._hosts()
        return config

    # --- clients ---------------------------------------------------------------------------------
    def ingestion(self, **options: Any) -> IngestionClientSync:
        """A new IngestionClientSync (options: as ``config``)."""
        from algoliasearch.ingestion.client import IngestionClientSync

        return self._kept(self._sync, IngestionClientSync.create_with_config(self.config(**options)))

    __call__ = ingestion

    def ingestion_async(self, **options: Any) -> IngestionClient:
        """A new async IngestionClient (options: as ``config``); use it as ``async with client:``."""
        from algoliasearch.ingestion.client import IngestionClient

        return self._kept(self._async, IngestionClient.create_with_config(self.config(**options)))

    def search(self, **options: Any) -> SearchClientSync:
        """A new SearchClientSync (options: as ``search_config``)."""
        from algoliasearch.search.client import SearchClientSync

        return self._kept(self._sync, SearchClientSync.create_with_config(self.search_config(**options)))

    def search_async(self, **options: Any) -> SearchClient:
        """A new async SearchClient (options: as ``search_config``); use it as ``async with client:``."""
        from algoliasearch.search.client import SearchClient

        return self._kept(self._async, SearchClient.create_with_config(self.search_config(**options)))

    # --- teardown --------------------------------------------------------------------------------
    def _close_all(self) -> list[str]:
        """Close every client made here (at the test's teardown); the messages of async clients
        left open in a loop that is gone (each closed as far as it can be)."""
        for client in self._sync:
            client.close()
        leaks = [message for client in self._async if (message := close_async_client(client))]
        self._sync.clear()
        self._async.clear()
        return leaks

    # --- helpers ---------------------------------------------------------------------------------
    def _credentials(self, app_id: str | None, api_key: str | None) -> tuple[str, str]:
        return (app_id if app_id is not None else self.mock.app_id, api_key or self.mock.api_key)

    def _hosts(self) -> Any:
        from algoliasearch.http.hosts import Host, HostsCollection

        return HostsCollection([Host(self.host, scheme="http", port=self.port)])

    @staticmethod
    def _kept(clients: list[Any], client: _Client) -> _Client:
        clients.append(client)
        return client


def _region(region: str) -> str:
    if region not in REGIONS:
        raise ValueError(f"region: {region!r} is not one of {list(REGIONS)}")
    return region


def _with_options(config: _Config, options: dict[str, Any]) -> _Config:
    """``config`` with each option set; an option the config does not have is a TypeError."""
    known = sorted(name for name in vars(config) if not name.startswith("_"))
    unknown = sorted(set(options) - set(known))
    if unknown:
        from mockserver.flags import did_you_mean

        raise TypeError(
            f"{type(config).__name__} has no option {unknown[0]!r}{did_you_mean(unknown[0], known)} "
            f"(its options: {', '.join(known)}; app_id, api_key and region are arguments)"
        )
    for name, value in options.items():
        setattr(config, name, value)
    return config


def _transporters(client: Any) -> list[Any]:
    """The async transporters a client holds: its own, and a Search client's Ingestion one."""
    found = []
    for holder in (client, getattr(client, "_ingestion_transporter", None)):
        transporter = getattr(holder, "_transporter", holder)
        if transporter is not None and hasattr(transporter, "_session"):
            found.append(transporter)
    return found


def close_async_client(client: Any) -> str | None:
    """Close an async client's open HTTP sessions: in their event loop when it is still there
    (None: nothing to say), else quietly as far as possible (a message saying how to close it)."""
    gone = False
    for transporter in _transporters(client):
        session = transporter._session
        if session is None or session.closed:
            continue
        loop = getattr(session, "_loop", None)
        if isinstance(loop, asyncio.AbstractEventLoop) and not loop.is_closed() and not loop.is_running():
            loop.run_until_complete(transporter.close())
            continue
        transporter._session = None
        _let_go(session)
        gone = True
    if not gone:
        return None
    name = type(client).__name__
    return (
        f"an async {name} was left open when its event loop ended; its HTTP session could not be "
        f"closed any more (the plugin let go of its sockets). Close it in the loop that uses it: "
        f"`async with client:` or `await client.close()`"
    )


def _let_go(session: Any) -> None:
    """Drop a session whose event loop is closed without the warnings it would raise when
    collected (they would surface in another test): mark it closed, close its connector as far as a
    closed loop allows, and collect its sockets now, warnings off."""
    connector = session.connector
    session.detach()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        if connector is not None and not connector.closed:
            closing = connector.close()  # with its loop closed, nothing is left to wait for
            if inspect.isawaitable(closing):
                with contextlib.suppress(Exception):
                    asyncio.run(_wait(closing))
        del connector, session
        gc.collect()


async def _wait(awaitable: Any) -> None:
    await awaitable
