"""The pytest plugin as a downstream project sees it: inner pytest sessions run through ``pytester``.

Every inner project is a bare folder of test files (and sometimes a pytest.ini): no conftest, no
``-p mockserver``. The plugin is there because the installed package declares it under the
``pytest11`` entry point. Inner sessions run in a subprocess, like a user's ``pytest`` would, with
warnings as errors and strict markers; unrelated third-party plugins are switched off only to keep
their start-up time out of this suite.
"""

from __future__ import annotations

import re
import textwrap

import pytest

pytest_plugins = ["pytester"]

INNER_OPTIONS = (
    "-p",
    "no:cacheprovider",
    "-p",
    "no:hypothesispytest",
    "-p",
    "no:schemathesis",
    "-W",
    "error",
    "--strict-markers",
)
CATALOG_SOURCE = "0a1b2c3d-0000-4000-8000-000000000201"


def run_inner(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Run the downstream project as its own pytest process; our plugin comes from its entry point."""
    assert not list(pytester.path.rglob("conftest.py")), "the downstream project must have no conftest"
    return pytester.runpytest_subprocess(*INNER_OPTIONS, *args, timeout=300)


def write_tests(pytester: pytest.Pytester, source: str, name: str = "test_downstream") -> None:
    pytester.makepyfile(**{name: textwrap.dedent(source)})


# --- the fixtures ------------------------------------------------------------------------------


def test_every_fixture_works_in_a_project_without_conftest(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        import asyncio
        import json
        import urllib.request

        import pytest
        from algoliasearch.ingestion.client import IngestionClient, IngestionClientSync
        from mockserver.http.inprocess import InProcessClient


        def test_the_plugin_comes_from_its_entry_point(pytestconfig):
            plugin = pytestconfig.pluginmanager.get_plugin("ingestion_mockserver")
            assert plugin is not None and plugin.__name__ == "mockserver.pytest_plugin"


        def test_ingestion_mock(ingestion_mock):
            assert ingestion_mock.app_id == "test-app"
            assert ingestion_mock.headers == {
                "x-algolia-application-id": "test-app",
                "x-algolia-api-key": "test-api-key",
            }
            assert ingestion_mock.dump()["applications"]["test-app"]["sources"] == []
            assert len(ingestion_mock.journal) == 0
            assert "products" not in ingestion_mock.account.indexes
            with pytest.raises(RuntimeError, match="ingestion_server"):
                ingestion_mock.url
            counts = ingestion_mock.seed({"sources": [{"type": "push", "name": "seeded"}]})
            assert counts["sources"] == 1
            assert [s["name"] for s in ingestion_mock.account.sources.values()] == ["seeded"]


        def test_ingestion_http(ingestion_http, ingestion_mock):
            assert isinstance(ingestion_http, InProcessClient)
            created = ingestion_http.post("/1/sources", json={"type": "push", "name": "over http"})
            assert created.status_code == 200, created.text
            listed = ingestion_http.get("/1/sources").json()
            assert [s["name"] for s in listed["sources"]] == ["over http"]
            ingestion_mock.journal.assert_called("createSource", times=1, body={"name": "over http"})


        def test_ingestion_server(ingestion_server):
            assert ingestion_server.url.startswith("http://127.0.0.1:")
            headers = {**ingestion_server.headers, "content-type": "application/json"}
            body = json.dumps({"type": "push", "name": "over a socket"}).encode()
            request = urllib.request.Request(
                ingestion_server.url + "/1/sources", data=body, headers=headers, method="POST"
            )
            with urllib.request.urlopen(request) as response:
                assert response.status == 200
                source_id = json.load(response)["sourceID"]
            request = urllib.request.Request(ingestion_server.url + "/1/sources", headers=headers)
            with urllib.request.urlopen(request) as response:
                assert [s["sourceID"] for s in json.load(response)["sources"]] == [source_id]
            assert ingestion_server.journal.operations() == ["createSource", "listSources"]


        def test_ingestion_client(ingestion_client, ingestion_mock):
            assert isinstance(ingestion_client, IngestionClientSync)
            source_id = ingestion_client.create_source({"type": "push", "name": "from the client"}).source_id
            assert [s.source_id for s in ingestion_client.list_sources().sources] == [source_id]
            call = ingestion_mock.journal.assert_called("createSource", body={"name": "from the client"})
            assert call.app_id == "test-app"


        def test_ingestion_async_client(ingestion_async_client, ingestion_mock):
            assert isinstance(ingestion_async_client, IngestionClient)

            async def main():
                async with ingestion_async_client as client:
                    await client.create_source({"type": "push", "name": "async"})
                    return await client.list_sources()

            listed = asyncio.run(main())
            assert [s.name for s in listed.sources] == ["async"]
            ingestion_mock.journal.assert_order(["createSource", "listSources"])
        """,
    )
    result = run_inner(pytester, "-v")
    result.assert_outcomes(passed=6)


def test_the_client_factory_and_what_it_closes(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        import asyncio
        import gc

        import pytest
        from algoliasearch.http.exceptions import AlgoliaUnreachableHostException
        from algoliasearch.ingestion.client import IngestionClientSync
        from algoliasearch.search.client import SearchClientSync


        def push_task_on(client, index_name):
            source = client.create_source({"type": "push", "name": "p"}).source_id
            destination = client.create_destination(
                {"type": "search", "name": "d", "input": {"indexName": index_name}}
            ).destination_id
            client.create_task({"sourceID": source, "destinationID": destination, "action": "save"})


        def test_sync_clients(ingestion_client_factory, ingestion_client, ingestion_mock):
            push_task_on(ingestion_client, "products")
            search = ingestion_client_factory.search()
            assert isinstance(search, SearchClientSync)
            search.save_objects_with_transformation("products", [{"objectID": "1"}], wait_for_tasks=True)
            assert [r["objectID"] for r in ingestion_mock.index("products")] == ["1"]
            # after a fault the client's only host is down for a while: a fresh client is not
            ingestion_mock.add_fault(operation="listSources", status=503, times=1)
            with pytest.raises(AlgoliaUnreachableHostException):
                ingestion_client.list_sources()
            fresh = ingestion_client_factory()
            assert isinstance(fresh, IngestionClientSync)
            assert len(fresh.list_sources().sources) == 1
            config = ingestion_client_factory.config()
            assert (config.app_id, config.api_key, config.region) == ("test-app", "test-api-key", "us")
            IngestionClientSync.create_with_config(config).close()
            other = ingestion_client_factory(app_id="OTHER", api_key="k", region="eu", read_timeout=900)
            assert other.list_sources().sources == []
            assert ingestion_mock.journal.last().app_id == "OTHER"
            with pytest.raises(TypeError, match="no option 'read_timout'; did you mean read_timeout?"):
                ingestion_client_factory(read_timout=1)


        def test_async_clients_closed_in_their_loop(ingestion_client_factory, ingestion_mock):
            ingestion_mock.seed("catalog")

            async def main():
                async with ingestion_client_factory.search_async() as search:
                    assert search is not None
                async with ingestion_client_factory.ingestion_async() as client:
                    return await client.list_sources(items_per_page=100)

            assert len(asyncio.run(main()).sources) == 5


        def test_an_async_client_left_open(ingestion_async_client):
            asyncio.run(ingestion_async_client.list_sources())


        def test_the_next_test_sees_no_leak(ingestion_client):
            gc.collect()  # a session or socket left behind would warn here, under -W error
            assert ingestion_client.list_sources().sources == []
        """,
    )
    result = run_inner(pytester)
    result.assert_outcomes(passed=4, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_an_async_client_left_open*",
            "test_an_async_client_left_open: an async IngestionClient was left open when its event loop "
            "ended*`async with client:` or `await client.close()`",
        ]
    )
    assert "unclosed" not in result.stdout.str().lower()  # nothing warns later, in another test


# --- the marker --------------------------------------------------------------------------------


def test_marker_loads_the_bundled_catalog_with_fixed_ids_and_timestamps(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        f"""
        import pytest

        SOURCE = "{CATALOG_SOURCE}"
        SEEN = []


        @pytest.mark.ingestion_mock(fixtures="catalog", clock="2026-01-01T01:00:00Z")
        def test_through_the_client(ingestion_client, ingestion_mock):
            SEEN.append(ingestion_mock.dump())  # as seeded, before any call
            sources = ingestion_client.list_sources(items_per_page=100).sources
            assert len(sources) == 5
            feed = ingestion_client.get_source(SOURCE)
            assert feed.name == "Product feed (JSON)"
            assert feed.created_at.startswith("2026-01-01T00:")
            assert len(ingestion_client.list_tasks().tasks) == 3
            assert len(ingestion_client.list_authentications().authentications) == 4
            assert len(ingestion_mock.journal) == 4  # seeding is not recorded: only this test's calls


        @pytest.mark.ingestion_mock(fixtures="catalog", clock="2026-01-01T01:00:00Z")
        def test_again_identical(ingestion_http, ingestion_mock):
            assert ingestion_mock.dump() == SEEN[0]
            sources = ingestion_http.get("/1/sources", params={{"itemsPerPage": 100}}).json()["sources"]
            assert SOURCE in {{s["sourceID"] for s in sources}}
            assert all(s["createdAt"].startswith("2026-01-01T00:") for s in sources)


        def test_unmarked_tests_start_empty(ingestion_http):
            assert ingestion_http.get(f"/1/sources/{{SOURCE}}").status_code == 404
        """,
    )
    run_inner(pytester).assert_outcomes(passed=3)


def test_marker_inline_data_alone_and_on_top_of_a_data_set(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        import pytest

        INLINE = {
            "sources": [
                {"sourceID": "11111111-2222-4333-8444-555555555555", "type": "push", "name": "Inline push"}
            ],
            "indexes": {"inline": [{"objectID": "1", "title": "hello"}]},
        }


        @pytest.mark.ingestion_mock(data=INLINE)
        def test_inline_data(ingestion_client, ingestion_mock):
            source = ingestion_client.get_source("11111111-2222-4333-8444-555555555555")
            assert source.name == "Inline push"
            assert len(ingestion_client.list_sources().sources) == 1
            assert ingestion_mock.index("inline") == [{"objectID": "1", "title": "hello"}]


        @pytest.mark.ingestion_mock(fixtures="catalog", data=INLINE)
        def test_inline_data_added_to_the_catalog(ingestion_mock):
            assert len(ingestion_mock.account.sources) == 6


        @pytest.mark.ingestion_mock(fixtures="catalog", app_id="CLASSAPP")
        class TestMarkersMerge:
            @pytest.mark.ingestion_mock(app_id="METHODAPP")
            def test_the_closest_marker_wins_per_argument(self, ingestion_mock):
                assert ingestion_mock.app_id == "METHODAPP"
                assert len(ingestion_mock.account.sources) == 5
        """,
    )
    run_inner(pytester).assert_outcomes(passed=3)


def test_marker_loads_the_users_own_yaml_file(pytester: pytest.Pytester) -> None:
    data = pytester.mkdir("data")
    (data / "shop.yaml").write_text(
        textwrap.dedent(
            """\
            authentications:
              - authenticationID: 22222222-0000-4000-8000-000000000001
                type: basic
                name: Shop login
                input: {username: shop, password: shop-secret}
            sources:
              - sourceID: 22222222-0000-4000-8000-000000000002
                type: json
                name: Shop feed
                authenticationID: 22222222-0000-4000-8000-000000000001
                input: {url: "https://shop.example.com/feed.json"}
            indexes:
              shop:
                - {objectID: sku-1, name: Boot}
            """
        ),
        encoding="utf-8",
    )
    write_tests(
        pytester,
        """
        from pathlib import Path

        import pytest

        SHOP = Path(__file__).parent / "data" / "shop.yaml"


        @pytest.mark.ingestion_mock(fixtures=SHOP)
        def test_a_path(ingestion_client, ingestion_mock):
            source = ingestion_client.get_source("22222222-0000-4000-8000-000000000002")
            assert source.name == "Shop feed"
            assert source.authentication_id == "22222222-0000-4000-8000-000000000001"
            assert ingestion_mock.index("shop") == [{"objectID": "sku-1", "name": "Boot"}]


        @pytest.mark.ingestion_mock(fixtures=["catalog", str(SHOP)])
        def test_a_list_mixing_a_bundled_name_and_a_file(ingestion_mock):
            assert len(ingestion_mock.account.sources) == 6
            assert len(ingestion_mock.account.authentications) == 5
        """,
    )
    run_inner(pytester).assert_outcomes(passed=2)


def test_a_relative_data_set_path_is_found_beside_the_test_file(pytester: pytest.Pytester) -> None:
    """A new user's trial: fixtures="data/x.yaml" next to the tests failed unless pytest ran from
    that very folder, with a traceback through the plugin."""
    tests_dir = pytester.mkdir("suite")
    (tests_dir / "data").mkdir()
    (tests_dir / "data" / "shop.yaml").write_text(
        "sources:\n  - {sourceID: 33333333-0000-4000-8000-000000000001, type: push, name: Near}\n",
        encoding="utf-8",
    )
    (tests_dir / "test_near.py").write_text(
        textwrap.dedent(
            """\
            import pytest


            @pytest.mark.ingestion_mock(fixtures="data/shop.yaml")
            def test_found_beside_the_test(ingestion_mock):
                assert [s["name"] for s in ingestion_mock.account.sources.values()] == ["Near"]


            @pytest.mark.ingestion_mock(fixtures="data/nowhere.yaml")
            def test_missing_file_is_one_line(ingestion_mock):
                pass
            """
        ),
        encoding="utf-8",
    )
    result = run_inner(pytester, "suite")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*data/nowhere.yaml: no such data set file (looked for *nowhere.yaml*"])
    assert "Traceback" not in result.stdout.str() and "seeding.py" not in result.stdout.str()


def test_marker_strict_credentials(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        from urllib.parse import urlsplit

        import pytest
        from algoliasearch.http.exceptions import RequestException
        from algoliasearch.http.hosts import Host, HostsCollection
        from algoliasearch.ingestion.client import IngestionClientSync
        from algoliasearch.ingestion.config import IngestionConfig

        STRICT = pytest.mark.ingestion_mock(strict=True, app_id="STRICTAPP", api_key="right-key")


        def client_for(server, app_id, api_key):
            url = urlsplit(server.url)
            config = IngestionConfig(app_id, api_key, "us")
            config.hosts = HostsCollection([Host(url.hostname, scheme="http", port=url.port)])
            return IngestionClientSync.create_with_config(config)


        @STRICT
        def test_the_configured_pair_is_accepted(ingestion_client, ingestion_mock):
            assert ingestion_client.list_sources().sources == []
            assert ingestion_mock.journal.last("listSources").app_id == "STRICTAPP"


        @STRICT
        def test_a_wrong_key_is_refused_through_the_client(ingestion_server):
            client = client_for(ingestion_server, "STRICTAPP", "wrong-key")
            try:
                with pytest.raises(RequestException) as excinfo:
                    client.list_sources()
            finally:
                client.close()
            assert excinfo.value.status_code == 403
            assert [c.status for c in ingestion_server.journal.rejections()] == [403]


        @STRICT
        def test_a_wrong_app_id_is_refused_over_http(ingestion_http):
            answer = ingestion_http.get("/1/sources", headers={"x-algolia-application-id": "OTHER"})
            assert answer.status_code == 403


        def test_lenient_again_after_strict_tests(ingestion_server):
            client = client_for(ingestion_server, "ANYAPP", "any-key")
            try:
                assert client.list_sources().sources == []
            finally:
                client.close()
        """,
    )
    run_inner(pytester).assert_outcomes(passed=4)


def test_marker_clock(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        from datetime import UTC, datetime

        import pytest


        @pytest.mark.ingestion_mock(clock="2026-01-01T00:00:00Z")
        def test_frozen_at_an_instant(ingestion_client, ingestion_mock):
            assert ingestion_mock.set_clock() == {"now": "2026-01-01T00:00:00Z", "frozen": True}
            first = ingestion_client.create_source({"type": "push", "name": "a"}).source_id
            assert ingestion_client.get_source(first).created_at == "2026-01-01T00:00:00Z"
            ingestion_mock.set_clock(advance=90)
            second = ingestion_client.create_source({"type": "push", "name": "b"}).source_id
            assert ingestion_client.get_source(second).created_at == "2026-01-01T00:01:30Z"
            assert ingestion_mock.set_clock()["now"] == "2026-01-01T00:01:30Z"


        @pytest.mark.ingestion_mock(clock=datetime(2030, 5, 1, 12, tzinfo=UTC))
        def test_frozen_at_a_datetime(ingestion_mock):
            assert ingestion_mock.set_clock() == {"now": "2030-05-01T12:00:00Z", "frozen": True}


        @pytest.mark.ingestion_mock(clock="frozen")
        def test_frozen_now(ingestion_mock):
            assert ingestion_mock.set_clock()["frozen"] is True


        def test_real_time_again(ingestion_mock):
            assert ingestion_mock.set_clock()["frozen"] is False
        """,
    )
    run_inner(pytester).assert_outcomes(passed=4)


def test_marker_deferred_runs_follow_the_clock(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        import pytest

        TASK = "0a1b2c3d-0000-4000-8000-000000000401"


        @pytest.mark.ingestion_mock(
            fixtures="catalog",
            clock="2026-02-01T00:00:00Z",
            runs={"mode": "deferred", "start_after": 5, "finish_after": 60, "outcome": "failure"},
        )
        def test_a_run_takes_time(ingestion_client, ingestion_mock):
            run_id = ingestion_client.run_task(TASK).run_id
            assert ingestion_client.get_run(run_id).status == "created"
            ingestion_mock.set_clock(advance=10)
            assert ingestion_client.get_run(run_id).status == "started"
            ingestion_mock.set_clock(advance=60)
            run = ingestion_client.get_run(run_id)
            assert run.status == "finished"
            assert run.outcome == "failure"


        @pytest.mark.ingestion_mock(fixtures="catalog")
        def test_runs_are_immediate_again(ingestion_client, ingestion_mock):
            assert ingestion_mock.set_runs()["mode"] == "immediate"
            run_id = ingestion_client.run_task(TASK).run_id
            run = ingestion_client.get_run(run_id)
            assert run.status == "finished"
            assert run.outcome == "success"
        """,
    )
    run_inner(pytester).assert_outcomes(passed=2)


def test_marker_seed_gives_the_same_ids_in_every_run(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        import pytest


        def create_three(http):
            return [
                http.post("/1/sources", json={"type": "push", "name": f"s{i}"}).json()["sourceID"]
                for i in range(3)
            ]


        @pytest.mark.ingestion_mock(seed=7)
        def test_seeded(ingestion_http):
            print("SEEDED", *create_three(ingestion_http))


        @pytest.mark.ingestion_mock(seed=7)
        def test_seeded_again(ingestion_http):
            print("SEEDED", *create_three(ingestion_http))


        def test_unseeded(ingestion_http):
            print("RANDOM", *create_three(ingestion_http))
        """,
    )
    pattern = re.compile(r"(SEEDED|RANDOM) (\S+) (\S+) (\S+)")
    runs = []
    for _ in range(2):
        result = run_inner(pytester, "-s")
        result.assert_outcomes(passed=3)
        runs.append(pattern.findall(result.stdout.str()))
    seeded = [ids for run in runs for kind, *ids in run if kind == "SEEDED"]
    unseeded = [ids for run in runs for kind, *ids in run if kind == "RANDOM"]
    assert len(seeded) == 4 and len(unseeded) == 2
    assert all(ids == seeded[0] for ids in seeded)
    assert len(set(seeded[0])) == 3
    assert unseeded[0] != unseeded[1]


# --- ini options -------------------------------------------------------------------------------


def test_ini_options_configure_every_test(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        ingestion_mock_fixtures = catalog
        ingestion_mock_app_id = INIAPP
        ingestion_mock_api_key = ini-key
        ingestion_mock_strict = true
        ingestion_mock_check_responses = true
        ingestion_mock_clock = 2026-03-01T12:00:00Z
        """
    )
    write_tests(
        pytester,
        """
        import pytest


        def test_the_ini_configures_the_mock(ingestion_client, ingestion_mock):
            assert (ingestion_mock.app_id, ingestion_mock.api_key) == ("INIAPP", "ini-key")
            assert len(ingestion_client.list_sources().sources) == 5
            assert ingestion_mock.journal.last().app_id == "INIAPP"
            assert ingestion_mock.app.engine.response_checker is not None
            assert ingestion_mock.set_clock() == {"now": "2026-03-01T12:00:00Z", "frozen": True}


        def test_the_ini_makes_credentials_strict(ingestion_http):
            assert ingestion_http.get("/1/sources").status_code == 200
            refused = ingestion_http.get("/1/sources", headers={"x-algolia-api-key": "other-key"})
            assert refused.status_code == 403


        @pytest.mark.ingestion_mock(fixtures="empty", strict=False, clock="real")
        def test_the_marker_overrides_the_ini(ingestion_http, ingestion_mock):
            assert ingestion_mock.set_clock()["frozen"] is False
            answer = ingestion_http.get("/1/sources", headers={"x-algolia-api-key": "other-key"})
            assert answer.status_code == 200
            assert answer.json()["sources"] == []
        """,
    )
    run_inner(pytester).assert_outcomes(passed=3)


# --- failures read well ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("ingestion_mock_strict = yes please", "ingestion_mock_strict: 'yes please' is not a boolean"),
        ("ingestion_mock_seed = twelve", "ingestion_mock_seed: 'twelve' is not a whole number"),
        ("ingestion_mock_runs = deferred:soon", "ingestion_mock_runs: 'deferred:soon' is not MODE[:SECONDS]"),
        ("ingestion_mock_fixtures = catalgo", "ingestion_mock_fixtures: no data set 'catalgo'"),
        ("ingestion_mock_clock = soon", "ingestion_mock_clock: 'soon' is not an RFC 3339 date-time"),
        (
            "ingestion_mock_clok = frozen",
            "ingestion_mock_clok: not an option of the ingestion mock plugin; "
            "did you mean ingestion_mock_clock?",
        ),
    ],
)
def test_an_ini_value_of_the_wrong_kind_is_a_usage_error(
    pytester: pytest.Pytester, line: str, message: str
) -> None:
    pytester.makeini(f"[pytest]\n{line}\n")
    write_tests(pytester, "def test_anything(ingestion_mock):\n    pass\n")
    result = run_inner(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


def test_invalid_seed_data_names_the_file_the_record_and_the_field(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".yaml",
        bad_feed="""
        sources:
          - {type: push, name: Fine}
          - {type: json, name: Broken feed, input: {url: 42}}
        """,
    )
    write_tests(
        pytester,
        """
        from pathlib import Path

        import pytest


        @pytest.mark.ingestion_mock(fixtures=Path(__file__).parent / "bad_feed.yaml")
        def test_bad_file(ingestion_mock):
            pass


        DANGLING = {"tasks": [{"sourceID": "nope", "destinationID": "x", "action": "replace"}]}


        @pytest.mark.ingestion_mock(data=DANGLING)
        def test_bad_inline_data(ingestion_mock):
            pass


        def test_the_next_test_is_clean(ingestion_mock):
            assert ingestion_mock.account.sources == {}
        """,
    )
    result = run_inner(pytester)
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(
        [
            "E *SeedError: */bad_feed.yaml: sources?1? ('Broken feed'): "
            "body.input.url: 42 is not of type 'string'*",
            "E *SeedError: inline data: tasks?0?: body.sourceID: no source with ID 'nope' exists*",
        ]
    )


def test_a_failing_journal_assertion_shows_expected_and_actual(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        def test_wrong_body(ingestion_http, ingestion_mock):
            ingestion_http.post("/1/sources", json={"type": "push", "name": "actual-name"})
            ingestion_mock.journal.assert_called("createSource", body={"name": "expected-name"})


        def test_wrong_count(ingestion_http, ingestion_mock):
            ingestion_http.post("/1/sources", json={"type": "push", "name": "once"})
            ingestion_mock.journal.assert_called("createSource", times=2)
        """,
    )
    result = run_inner(pytester)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "E *AssertionError: createSource was called 1 times, never with the expected arguments",
            "E *closest call (0 of 1 expected values match):",
            "E *POST /1/sources (createSource) -> 200",
            'E *body.name: expected "expected-name", got "actual-name"',
            'E *body expected: {"name": "expected-name"}',
            'E *body actual:   {"name": "actual-name", "type": "push"}',
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "E *AssertionError: createSource was called 1 times, expected 2",
            "E *calls were:",
            "E *POST /1/sources (createSource) -> 200",
        ]
    )


def test_a_failing_test_shows_what_the_mock_rejected(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        import pytest


        def test_fails_after_rejections(ingestion_http):
            ingestion_http.post("/1/sources", json={"type": "json", "name": "x", "input": {}})
            ingestion_http.get("/1/sources/00000000-0000-4000-8000-000000000000")
            assert False, "the code under test broke"


        def test_fails_without_rejections(ingestion_http):
            ingestion_http.get("/1/sources")
            assert False, "nothing was rejected"


        def test_passes_despite_a_rejection(ingestion_http):
            assert ingestion_http.post("/1/sources", json={}).status_code == 400


        @pytest.mark.ingestion_mock(runs={"mode": "deferred", "finish_after": 60})
        def test_fails_after_a_poll_and_a_push_nowhere(ingestion_http):
            source = ingestion_http.post("/1/sources", json={"type": "push", "name": "p"}).json()["sourceID"]
            destination = ingestion_http.post(
                "/1/destinations", json={"type": "search", "name": "d", "input": {"indexName": "feed"}}
            ).json()["destinationID"]
            ingestion_http.post(
                "/2/tasks", json={"sourceID": source, "destinationID": destination, "action": "save"}
            )
            body = {"action": "addObject", "records": [{"objectID": "1"}]}
            pushed = ingestion_http.post("/1/push/feed", json=body).json()
            polled = ingestion_http.get(f"/1/runs/{pushed['runID']}/events/{pushed['eventID']}")
            assert polled.status_code == 404  # not there yet: no rejection
            ingestion_http.post("/1/push/products", json=body)
            assert False, "the push went nowhere"
        """,
    )
    result = run_inner(pytester)
    result.assert_outcomes(failed=3, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_fails_after_rejections _*",
            "*- ingestion mock: rejected requests -*",
            "POST /1/sources (createSource) -> 400: body.input: 'url' is a required property*",
            "GET /1/sources/00000000-0000-4000-8000-000000000000 (getSource) -> 404: *",
            "*_ test_fails_without_rejections _*",
            "*_ test_fails_after_a_poll_and_a_push_nowhere _*",
            "*- ingestion mock: rejected requests -*",
            # The service's wording, then the mock's diagnosis (error.detail), on the one rejection.
            "POST /1/push/products (push) -> 404: cannot find task products "
            "(mock: path.indexName: no push task targets index 'products'; *)",
            "=*short test summary info*=",
        ]
    )
    assert result.stdout.str().count("ingestion mock: rejected requests") == 2
    assert "(getEvent) -> 404" not in result.stdout.str()


# --- isolation ---------------------------------------------------------------------------------

ISOLATION_TESTS = """
import pytest


@pytest.mark.parametrize("name", [f"client-{i}" for i in range(6)])
def test_each_client_test_sees_only_its_own_source(ingestion_client, ingestion_mock, name):
    ingestion_client.create_source({"type": "push", "name": name})
    assert [s.name for s in ingestion_client.list_sources().sources] == [name]
    assert ingestion_mock.journal.operations() == ["createSource", "listSources"]


@pytest.mark.parametrize("name", [f"http-{i}" for i in range(6)])
def test_each_http_test_sees_only_its_own_source(ingestion_http, ingestion_mock, name):
    ingestion_http.post("/1/sources", json={"type": "push", "name": name})
    assert [s["name"] for s in ingestion_http.get("/1/sources").json()["sources"]] == [name]
    assert len(ingestion_mock.account.sources) == 1
"""


def test_tests_do_not_see_each_others_state(pytester: pytest.Pytester) -> None:
    write_tests(pytester, ISOLATION_TESTS)
    run_inner(pytester).assert_outcomes(passed=12)


def test_tests_do_not_see_each_others_state_under_xdist(pytester: pytest.Pytester) -> None:
    write_tests(pytester, ISOLATION_TESTS)
    result = run_inner(pytester, "-p", "xdist", "-n", "2")
    result.assert_outcomes(passed=12)
    result.stdout.fnmatch_lines(["*2 workers*"])


# --- usage errors ------------------------------------------------------------------------------


def test_an_unknown_marker_argument_is_a_usage_error(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        import pytest


        @pytest.mark.ingestion_mock(fixture="catalog")
        def test_typo(ingestion_mock):
            pass


        @pytest.mark.ingestion_mock("catalog")
        def test_positional(ingestion_mock):
            pass


        def test_unaffected(ingestion_mock):
            assert ingestion_mock.account.sources == {}
        """,
    )
    result = run_inner(pytester)
    result.assert_outcomes(passed=1, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.ingestion_mock: unknown arguments ?'fixture'?; did you mean fixtures?*",
            "*@pytest.mark.ingestion_mock: unknown arguments ?'catalog'?*",
        ]
    )
    # The mistake is in the test: its error is that line, not a traceback through the plugin.
    assert "pytest_plugin.py" not in result.stdout.str()


def test_typos_fail_with_the_closest_name(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        r"""
        import pytest

        pytestmark = pytest.mark.ingestion_mock(seed=7)  # a module's marker: tests without the mock ignore it


        def push_task_on(http, index_name):
            source = http.post("/1/sources", json={"type": "push", "name": "p"}).json()["sourceID"]
            destination = http.post(
                "/1/destinations", json={"type": "search", "name": "d", "input": {"indexName": index_name}}
            ).json()["destinationID"]
            http.post("/2/tasks", json={"sourceID": source, "destinationID": destination, "action": "save"})


        @pytest.mark.ingestion_mock(runs={"mode": "deferred", "finish_after": 60}, clock="frozen")
        def test_an_index_name_nothing_mentions(ingestion_http, ingestion_mock):
            push_task_on(ingestion_http, "products")
            assert ingestion_mock.index("products") == []  # a destination targets it: empty, not a typo
            body = {"action": "addObject", "records": [{"objectID": "1"}]}
            ingestion_http.post("/1/push/staging", params={"referenceIndexName": "products"}, json=body)
            assert ingestion_mock.index("staging") == []  # a run still working will write to it
            with pytest.raises(LookupError, match=r"index 'product': nothing .* did you mean products\?"):
                ingestion_mock.index("product")
            ingestion_mock.set_clock(advance=60)
            assert [r["objectID"] for r in ingestion_mock.index("staging")] == ["1"]


        def test_a_fault_on_an_operation_that_does_not_exist(ingestion_mock):
            typo = r"'listSource' is not an operation .*did you mean listSources\?"
            with pytest.raises(ValueError, match=typo):
                ingestion_mock.add_fault(operation="listSource", status=503)


        def test_a_bad_clock_names_the_call(ingestion_mock):
            with pytest.raises(ValueError, match=r"^set_clock\(now=...\): 'soon' is not an RFC 3339"):
                ingestion_mock.set_clock("soon")


        @pytest.mark.ingestion_mock(faults=[{"operation": "getTasks", "status": 503}])
        def test_a_marker_fault_typo(ingestion_mock):
            pass


        @pytest.mark.ingestion_mock(clock="frozen")
        def test_a_marker_on_a_test_without_the_mock():
            pass


        @pytest.mark.parametrize("n", [1, pytest.param(2, marks=pytest.mark.ingestion_mock(clock="frozen"))])
        def test_a_parameter_marked_without_the_mock(n):
            pass


        class TestAClassMarker:
            pytestmark = pytest.mark.ingestion_mock(clock="frozen")

            def test_without_the_mock(self):
                pass
        """,
    )
    result = run_inner(pytester)
    result.assert_outcomes(passed=5, errors=3)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_a_marker_fault_typo*",
            "@pytest.mark.ingestion_mock: operation: 'getTasks' is not an operation of Ingestion and Search "
            "APIs; did you mean getTask?",
            "*ERROR at setup of test_a_marker_on_a_test_without_the_mock*",
            "@pytest.mark.ingestion_mock does nothing on test_a_marker_on_a_test_without_the_mock: the test "
            "uses none of the plugin's fixtures (ingestion_mock, *); use one, or remove the marker",
            "*ERROR at setup of test_a_parameter_marked_without_the_mock?2?*",
            "@pytest.mark.ingestion_mock does nothing on test_a_parameter_marked_without_the_mock?2?: *",
        ]
    )
    assert "During handling" not in result.stdout.str()


def test_fail_on_rejection_fails_a_test_that_passed_but_provoked_a_refusal(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        import pytest


        @pytest.mark.ingestion_mock(fail_on_rejection=True)
        def test_unexpected(ingestion_http):
            ingestion_http.post("/1/sources", json={"type": "json", "name": "no input"})


        @pytest.mark.ingestion_mock(fail_on_rejection=True)
        def test_declared(ingestion_http, ingestion_mock):
            ingestion_mock.expect_rejection("createSource", 400)
            ingestion_http.post("/1/sources", json={"type": "json", "name": "no input"})


        def test_off_by_default(ingestion_http):
            ingestion_http.post("/1/sources", json={"type": "json", "name": "no input"})


        @pytest.mark.ingestion_mock(runs={"mode": "deferred", "finish_after": 1}, fail_on_rejection=True)
        def test_polling_for_a_run_is_not_a_rejection(ingestion_client, ingestion_mock):
            source = ingestion_client.create_source({"type": "push", "name": "feed"}).source_id
            destination = ingestion_client.create_destination(
                {"type": "search", "name": "products", "input": {"indexName": "products"}}
            ).destination_id
            ingestion_client.create_task({"sourceID": source, "destinationID": destination, "action": "save"})
            ingestion_client.chunked_push("products", [{"objectID": "1"}], wait_for_tasks=True)
            polls = ingestion_mock.journal.filter("getEvent")
            assert [(c.status, c.not_ready) for c in polls] == [(404, True), (200, False)]
            assert ingestion_mock.unexpected_rejections() == []
            ingestion_mock.journal.assert_no_rejections()
        """,
    )
    result = run_inner(pytester)
    result.assert_outcomes(passed=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*the mock rejected requests this test did not expect (fail_on_rejection is on*",
            "*POST /1/sources (createSource) -> 400: body*",
            "FAILED test_downstream.py::test_unexpected*",
        ]
    )


def test_fail_on_rejection_as_an_ini_option(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ningestion_mock_fail_on_rejection = true\n")
    write_tests(
        pytester,
        """
        def test_refused(ingestion_http):
            ingestion_http.get("/1/sources/nope")
        """,
    )
    result = run_inner(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*GET /1/sources/nope (getSource) -> 404*"])
