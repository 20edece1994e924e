"""The kit a real suite needs, as a downstream project uses it through ``pytester``: stubbed answers
(marker and ``ingestion_mock.stub``), journal matchers, and a dumped state seeded back."""

from __future__ import annotations

import pytest

from tests.plugin.test_plugin import run_inner, write_tests

pytest_plugins = ["pytester"]


def test_stubs_from_the_marker_and_the_handle(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        import pytest

        EMPTY = {"sources": [], "pagination": {"nbPages": 1, "page": 1, "nbItems": 0, "itemsPerPage": 10}}


        CSV_EMPTY = {"operation": "listSources", "query": {"type": "csv"}, "response": EMPTY}


        @pytest.mark.ingestion_mock(stubs=[CSV_EMPTY])
        def test_a_marker_stub(ingestion_http, ingestion_mock):
            ingestion_http.post("/1/sources", json={"type": "push", "name": "feed"})
            assert ingestion_http.get("/1/sources", params={"type": "csv"}).json() == EMPTY
            assert len(ingestion_http.get("/1/sources").json()["sources"]) == 1
            ingestion_mock.journal.assert_called("listSources", times=1, stubbed=True, status=200)
            assert [s["operation"] for s in ingestion_mock.stubs()] == ["listSources"]


        def test_the_marker_stub_is_gone(ingestion_http, ingestion_mock):
            assert ingestion_mock.stubs() == []
            assert ingestion_http.get("/1/sources", params={"type": "csv"}).status_code == 200
            ingestion_mock.journal.assert_not_called("listSources", stubbed=True)


        def test_a_stub_answers_the_real_client_once(ingestion_client, ingestion_http, ingestion_mock):
            source = ingestion_client.create_source({"type": "push", "name": "feed"})
            shown = ingestion_http.get(f"/1/sources/{source.source_id}").json()
            only = {"sourceID": source.source_id}
            renamed = {**shown, "name": "stubbed"}
            stub = ingestion_mock.stub("getSource", path_params=only, response=renamed, times=1)
            assert ingestion_client.get_source(source.source_id).name == "stubbed"
            assert ingestion_client.get_source(source.source_id).name == "feed"
            assert ingestion_mock.stubs() == []
            call = ingestion_mock.journal.assert_called("getSource", stubbed=True)
            assert call.stub_id == stub["id"]


        def test_a_stubbed_write_changes_nothing(ingestion_http, ingestion_mock):
            ingestion_mock.stub("createSource", status=503)
            assert ingestion_http.post("/1/sources", json={"type": "push", "name": "feed"}).status_code == 503
            assert ingestion_mock.account.sources == {}


        def test_an_answer_the_spec_does_not_document_is_refused(ingestion_mock):
            with pytest.raises(ValueError, match=r"the spec documents no 201 answer for push.*check=False"):
                ingestion_mock.stub("push", status=201)
            ingestion_mock.stub("push", status=201, response={"anything": True}, check=False)


        @pytest.mark.ingestion_mock(stubs=[{"operation": "listSource", "status": 503}])
        def test_a_mistyped_marker_stub(ingestion_mock):
            pass
        """,
    )
    result = run_inner(pytester)
    result.assert_outcomes(passed=5, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.ingestion_mock: operation: 'listSource' is not an operation of Ingestion and "
            "Search APIs; "
            "did you mean listSources?*"
        ]
    )


def test_journal_matchers_and_a_mistyped_operation(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        def test_matchers(ingestion_http, ingestion_mock):
            ingestion_http.post("/1/sources", json={"type": "push", "name": "feed"})
            ingestion_http.post("/1/sources", json={"type": "json", "name": "no input"})
            journal = ingestion_mock.journal
            assert journal.call_count("createSource", status=200) == 1
            assert journal.called("createSource", rejected=True, body={"name": "no input"})
            journal.assert_called("createSource", times=1, rejected=False, app_id=ingestion_mock.app_id)
            journal.assert_not_called("createSource", status=500)


        def test_typo(ingestion_mock):
            ingestion_mock.journal.assert_called("createSources")
        """,
    )
    result = run_inner(pytester)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*'createSources' is not an operation of the spec; did you mean createSource?*"]
    )


def test_a_dump_saved_by_one_test_is_seeded_by_another(pytester: pytest.Pytester) -> None:
    write_tests(
        pytester,
        """
        import json

        import pytest


        @pytest.fixture(scope="module")
        def saved(tmp_path_factory):
            return tmp_path_factory.mktemp("state") / "state.json"


        @pytest.mark.ingestion_mock(fixtures="run_history")
        def test_save(ingestion_http, ingestion_mock, saved):
            ingestion_http.post("/1/authentications", json={
                "type": "basic", "name": "feed login", "input": {"username": "u", "password": "secret"}
            })
            saved.write_text(json.dumps(ingestion_mock.dump()))


        def test_reuse(ingestion_http, ingestion_mock, saved):
            state = json.loads(saved.read_text())
            ingestion_mock.seed(state)
            assert ingestion_mock.dump() == state
            assert len(ingestion_http.get("/1/runs").json()["runs"]) == 5
            (login,) = ingestion_http.get("/1/authentications").json()["authentications"]
            assert login["input"] == {"username": "u", "password": None}
        """,
    )
    run_inner(pytester).assert_outcomes(passed=2)
