"""algolia_intercept: clients the code under test builds itself reach the test's mock, unchanged.

The fast tests use the fixture in this suite (the plugin is loaded from its entry point): every
request stays in the process. The project test runs a user's project (its own module building its
own clients) through ``pytester``.
"""

from __future__ import annotations

import asyncio
import textwrap
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
import requests
from algoliasearch.http.exceptions import AlgoliaUnreachableHostException
from algoliasearch.ingestion.client import IngestionClient, IngestionClientSync
from algoliasearch.search.client import SearchClient, SearchClientSync
from algoliasearch.search.config import SearchConfig

from mockserver.pytest_plugin.intercept import Interception, api_of, is_algolia

from .test_plugin import run_inner

pytest_plugins = ["pytester"]

PUSH = {"action": "addObject", "records": [{"objectID": "sku-9", "name": "Tent"}]}


# --- which hosts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "api"),
    [
        ("app.algolia.net", "search"),
        ("APP-dsn.algolia.net", "search"),
        ("my-app-2.algolianet.com", "search"),
        ("7S9VW8B2KA-3.algolianet.com", "search"),
        ("data.eu.algolia.com", "ingestion"),
        ("DATA.US.algolia.com", "ingestion"),
        ("data.de.algolia.com", None),  # no such Ingestion region
        ("analytics.us.algolia.com", None),
        ("insights.algolia.io", None),
        ("app-4.algolianet.com", None),
        ("a.b.algolia.net", None),
        ("algolia.net.example.com", None),
        ("example.com", None),
        ("127.0.0.1", None),
    ],
)
def test_which_hosts_the_mock_answers_for(host: str, api: str | None) -> None:
    assert api_of(host) == api


@pytest.mark.parametrize(
    ("host", "algolia"),
    [
        ("analytics.us.algolia.com", True),
        ("insights.algolia.io", True),
        ("app.algolia.net", True),
        ("algolia.net.example.com", False),
        ("notalgolia.net", False),
        ("localhost", False),
    ],
)
def test_which_hosts_are_algolias(host: str, algolia: bool) -> None:
    assert is_algolia(host) is algolia


# --- the clients, as the code under test builds them --------------------------------------------


@pytest.mark.ingestion_mock(fixtures="catalog", app_id="app", api_key="key")
def test_a_sync_ingestion_client_built_by_the_code_reaches_the_mock(
    algolia_intercept: Interception, ingestion_mock: Any
) -> None:
    client = IngestionClientSync("app", "key", "eu")
    try:
        client.push("stock", PUSH)
        assert len(client.list_sources(items_per_page=100).sources) == 5
    finally:
        client.close()
    assert {r["objectID"] for r in ingestion_mock.index("stock")} == {"sku-1", "sku-2", "sku-9"}
    assert [(r.method, r.api, r.status) for r in algolia_intercept.requests] == [
        ("POST", "ingestion", 200),
        ("GET", "ingestion", 200),
    ]
    assert algolia_intercept.hosts == ["data.eu.algolia.com"]
    ingestion_mock.journal.assert_called("push", times=1, app_id="app")


@pytest.mark.ingestion_mock(fixtures="catalog")
def test_an_async_ingestion_client_reaches_the_mock_in_the_application_it_names(
    algolia_intercept: Interception, ingestion_mock: Any
) -> None:
    async def main() -> int:
        async with IngestionClient("OTHER", "key", "us") as client:
            await client.create_source({"type": "push", "name": "mine"})
            return len((await client.list_sources()).sources)

    assert asyncio.run(main()) == 1  # the code's application, not the test's seeded one
    assert len(ingestion_mock.account.sources) == 5
    other = algolia_intercept.application("OTHER")
    assert [s["name"] for s in other.account.sources.values()] == ["mine"]
    assert algolia_intercept.hosts == ["data.us.algolia.com"]


def test_a_search_client_built_by_the_code_reaches_the_mock(
    algolia_intercept: Interception, ingestion_mock: Any
) -> None:
    with SearchClientSync("app", "key") as client:
        client.list_indices()
    assert {r.api for r in algolia_intercept.requests} == {"search"}
    assert algolia_intercept.hosts[0].lower() in {"app-dsn.algolia.net", "app.algolia.net"} | {
        f"app-{n}.algolianet.com" for n in (1, 2, 3)
    }
    ingestion_mock.journal.assert_called("listIndices", times=1, app_id="app", status=200)


def test_an_async_search_client_built_by_the_code_reaches_the_mock(
    algolia_intercept: Interception, ingestion_mock: Any
) -> None:
    async def main() -> None:
        async with SearchClient("app", "key") as client:
            await client.list_indices()

    asyncio.run(main())
    assert {r.api for r in algolia_intercept.requests} == {"search"}
    ingestion_mock.journal.assert_called("listIndices", times=1, app_id="app", status=200)


# --- what is refused, what is left alone --------------------------------------------------------


def test_an_algolia_host_of_an_api_the_mock_does_not_serve_is_refused(
    algolia_intercept: Interception,
) -> None:
    with pytest.raises(requests.ConnectionError, match=r"analytics\.us\.algolia\.com is an Algolia host"):
        requests.get("https://analytics.us.algolia.com/2/searches", timeout=5)

    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            with pytest.raises(aiohttp.ClientConnectionError, match=r"insights\.algolia\.io .*not serve"):
                await session.post("https://insights.algolia.io/1/events", json={})

    asyncio.run(main())
    assert algolia_intercept.requests == []


def test_a_connection_the_mock_drops_is_the_stacks_connection_error(
    algolia_intercept: Interception, ingestion_mock: Any
) -> None:
    ingestion_mock.add_fault(operation="listSources", drop=True, times=1)
    client = IngestionClientSync("test-app", "test-api-key", "eu")
    try:
        with pytest.raises(requests.ConnectionError, match="dropped the connection"):
            client.list_sources()
    finally:
        client.close()


def test_a_5xx_fault_marks_the_only_ingestion_host_down_as_the_service_would(
    algolia_intercept: Interception, ingestion_mock: Any
) -> None:
    ingestion_mock.add_fault(operation="listSources", status=503, times=1)
    client = IngestionClientSync("test-app", "test-api-key", "eu")
    try:
        with pytest.raises(AlgoliaUnreachableHostException):
            client.list_sources()
    finally:
        client.close()
    ingestion_mock.journal.assert_called("listSources", times=1, status=503)


def test_outside_the_fixture_nothing_is_intercepted(ingestion_mock: Any) -> None:
    with Interception(ingestion_mock):
        pass
    import responses

    with responses.RequestsMock() as guard:  # the interception's patch is gone: this one answers
        guard.add(responses.GET, "https://app.algolia.net/1/indexes", json={"items": []})
        assert requests.get("https://app.algolia.net/1/indexes", timeout=5).json() == {"items": []}


# --- a user's project ----------------------------------------------------------------------------


def test_a_project_whose_code_builds_its_own_clients_pushes_and_reads_back(pytester: pytest.Pytester) -> None:
    """The issue's case: the module builds ``SearchClientSync("app", "key")`` and
    ``IngestionClientSync("app", "key", "eu")`` itself; its test changes nothing of it."""
    pytester.makepyfile(
        catalogue=textwrap.dedent(
            """
            from algoliasearch.ingestion.client import IngestionClient, IngestionClientSync
            from algoliasearch.search.client import SearchClient, SearchClientSync

            APP_ID, API_KEY = "app", "key"


            def publish(products):
                search = SearchClientSync(APP_ID, API_KEY)
                ingestion = IngestionClientSync(APP_ID, API_KEY, "eu")
                try:
                    source = ingestion.create_source({"type": "push", "name": "catalogue"}).source_id
                    destination = ingestion.create_destination(
                        {"type": "search", "name": "products", "input": {"indexName": "products"}}
                    ).destination_id
                    task = {"sourceID": source, "destinationID": destination, "action": "save"}
                    ingestion.create_task(task)
                    ingestion.push("products", {"action": "addObject", "records": products})
                    return [search.get_object("products", p["objectID"]) for p in products]
                finally:
                    search.close()
                    ingestion.close()


            async def count(index_name):
                async with SearchClient(APP_ID, API_KEY) as search:
                    return (await search.search_single_index(index_name, {"query": ""})).nb_hits
            """
        )
    )
    pytester.makepyfile(
        test_catalogue=textwrap.dedent(
            """
            import asyncio

            import pytest

            from catalogue import count, publish

            pytestmark = pytest.mark.usefixtures("algolia_intercept")


            @pytest.mark.ingestion_mock(app_id="app", api_key="key", strict=True)
            def test_publish_reads_back_what_it_pushed(ingestion_mock):
                products = [{"objectID": "sku-1", "name": "Tent"}, {"objectID": "sku-2", "name": "Stove"}]
                assert publish(products) == products
                assert [r["objectID"] for r in ingestion_mock.index("products")] == ["sku-1", "sku-2"]
                assert asyncio.run(count("products")) == 2
                ingestion_mock.journal.assert_order(["push", "getObject", "getObject", "searchSingleIndex"])


            def test_the_live_mock_is_left_alone(ingestion_client, ingestion_mock):
                assert ingestion_client.list_sources().sources == []  # 127.0.0.1: not intercepted
            """
        )
    )
    result = run_inner(pytester)
    result.assert_outcomes(passed=2)


# --- what the client sends arrives as sent ----------------------------------------------------


def test_gzip_bodies_and_awkward_names_arrive_as_sent(
    algolia_intercept: Interception, ingestion_mock: Any
) -> None:
    config = SearchConfig("app", "key")
    config.compression_type = "gzip"
    config.compression_threshold = 10
    record = {"objectID": "a/b c?d#e", "name": "Ünïcode " * 20}
    with SearchClientSync.create_with_config(config) as client:
        saved = client.save_object("my index", record)
        client.wait_for_task("my index", saved.task_id)
        assert client.get_object("my index", "a/b c?d#e") == record
    call = ingestion_mock.journal.last("saveObject")
    assert call.path_params == {"indexName": "my index"}
    ingestion_mock.journal.assert_called(
        "getObject", path_params={"indexName": "my index", "objectID": "a/b c?d#e"}
    )
    assert call.body == record  # sent gzipped (over the threshold), read as sent


def test_async_requests_run_concurrently_and_each_gets_its_own_answer(
    algolia_intercept: Interception, ingestion_mock: Any
) -> None:
    async def main() -> list[Any]:
        async with SearchClient("app", "key") as client:
            saved = await asyncio.gather(
                *(client.save_object("shelf", {"objectID": f"o {n}/x?", "n": n}) for n in range(8))
            )
            for answer in saved:
                await client.wait_for_task("shelf", answer.task_id)
            return list(await asyncio.gather(*(client.get_object("shelf", f"o {n}/x?") for n in range(8))))

    got = asyncio.run(main())
    assert [g["n"] for g in got] == list(range(8))
    assert len(algolia_intercept.application("app").index("shelf")) == 8


def test_a_5xx_sends_the_search_client_to_its_next_host_which_is_the_mock_too(
    algolia_intercept: Interception, ingestion_mock: Any
) -> None:
    ingestion_mock.add_fault(operation="listIndices", status=503, times=1)
    with SearchClientSync("app", "key") as client:
        assert client.list_indices().items == []
    ingestion_mock.journal.assert_called("listIndices", times=2)
    first, second = (urlsplit(r.url).hostname for r in algolia_intercept.requests)
    assert first != second  # the retry strategy ran unchanged: another of Algolia's hosts


# --- interception without asking for the fixture -------------------------------------------------

_CODE_THAT_BUILDS_ITS_CLIENT = """
from algoliasearch.search.client import SearchClientSync


def index_names():
    with SearchClientSync("MYAPP", "key") as search:
        return [index.name for index in search.list_indices().items]
"""


def test_the_marker_key_intercept_answers_a_test_that_does_not_ask_for_the_fixture(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(catalogue=_CODE_THAT_BUILDS_ITS_CLIENT)
    pytester.makepyfile(
        test_catalogue=textwrap.dedent(
            """
            import pytest

            from catalogue import index_names


            @pytest.mark.ingestion_mock(intercept=True, app_id="MYAPP")
            def test_no_fixture_named(request):
                assert index_names() == []
                assert "algolia_intercept" in request.fixturenames


            @pytest.mark.ingestion_mock(app_id="MYAPP", data={"indexes": {"products": [{"objectID": "a"}]}})
            def test_not_asked_not_intercepted(request, ingestion_mock):
                assert "algolia_intercept" not in request.fixturenames
            """
        )
    )
    result = run_inner(pytester)
    result.assert_outcomes(passed=2)


def test_the_ini_option_intercept_answers_every_test_of_the_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(catalogue=_CODE_THAT_BUILDS_ITS_CLIENT)
    pytester.makeini("[pytest]\ningestion_mock_intercept = true\ningestion_mock_app_id = MYAPP\n")
    pytester.makepyfile(
        test_catalogue=textwrap.dedent(
            """
            import pytest

            from catalogue import index_names


            def test_a_test_without_the_plugins_fixtures():
                assert index_names() == []


            def test_with_the_mock(ingestion_mock, request):
                ingestion_mock.seed({"indexes": {"products": [{"objectID": "a"}]}})
                assert index_names() == ["products"]
                ingestion_mock.journal.assert_called("listIndices")


            @pytest.mark.ingestion_mock(intercept=False)
            def test_the_closest_marker_wins(request, ingestion_mock):
                assert "algolia_intercept" not in request.fixturenames
            """
        )
    )
    result = run_inner(pytester)
    result.assert_outcomes(passed=3)


def test_reading_an_index_another_application_has_says_which(ingestion_mock: Any) -> None:
    """The code used other credentials than the marker's: the index is in the application they name."""
    from mockserver.pytest_plugin.mock_handle import IngestionMock

    other = IngestionMock(ingestion_mock.app, "MYAPP", ingestion_mock.api_key)
    other.seed({"indexes": {"products": [{"objectID": "a"}]}})
    with pytest.raises(LookupError) as raised:
        ingestion_mock.index("products")
    message = str(raised.value)
    assert f"nothing in application {ingestion_mock.app_id!r} wrote to it" in message
    assert "application(s) ['MYAPP'] of this mock have an index 'products'" in message
    assert "algolia_intercept.application('MYAPP').index('products')" in message
    assert other.index("products") == [{"objectID": "a"}]
