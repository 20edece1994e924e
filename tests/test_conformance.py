"""The spec's contract (schemathesis, all checks, stateless and along the links) against the mock."""

from __future__ import annotations

import copy
import itertools
import socket

import pytest

from mockserver import create_app, load_spec
from mockserver.cli import main
from mockserver.conformance import (
    ConformanceReport,
    Progress,
    UnusableSpec,
    assert_conformance,
    run_conformance,
)
from mockserver.http.inprocess import InProcessClient
from mockserver.http.live_server import LiveServer
from mockserver.spec import Spec

HEADERS = {"x-algolia-application-id": "conformance", "x-algolia-api-key": "conformance-key"}


def _unexpected(report: ConformanceReport) -> list[str]:
    return [f"{f.check} on {f.operation}: {f.title}" for f in report.findings] + list(report.errors)


def test_the_mock_conforms_to_its_spec_in_process() -> None:
    untouched = copy.deepcopy(load_spec().document)
    report = run_conformance(
        app=create_app(check_responses=True, seed=11), max_examples=5, stateful=True, stateful_examples=5
    )
    # schemathesis fills in what it reads (``links: {}`` on every response): it gets its own copy,
    # not the spec every mock in this process is built from.
    assert load_spec().document == untouched
    print(report.render())
    assert _unexpected(report) == [], report.render()
    served = [op for op in load_spec().operations.values() if op.raw.get("x-mock-served") is not False]
    assert len(report.operations) == len(served) == 59 + 33  # every operation the mock serves
    assert "response_schema_conformance" in report.checks and "use_after_free" in report.checks
    assert report.links >= 40 and report.stateful_steps > 0
    assert report.total_cases > 3 * len(report.operations)


def test_try_transformation_with_a_malformed_authentication_is_a_400() -> None:
    app = create_app(check_responses=True)
    with InProcessClient(app, base_url="http://mock", headers=HEADERS) as client:
        body = {"sampleRecord": {}, "authentications": [{"type": ["basic"], "name": "x", "input": {}}]}
        assert client.post("/1/transformations/try", json=body).status_code == 400


def test_check_against_a_live_server_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    # (the smallest run: the linked sequences and more examples run above and in tests/serve/test_check.py)
    with LiveServer(create_app(check_responses=True)) as server:
        status = main(["check", "--url", server.url, "--max-examples", "1", "--no-stateful", "--seed", "3"])
    out = capsys.readouterr().out
    assert f"Conformance of {server.url}" in out
    assert "operations: 92 tested" in out  # the Ingestion API's 59 and the Search API's 33 served
    assert status == 0, out


def test_the_pytest_helper_fails_with_the_report() -> None:
    with LiveServer(create_app()) as server:
        report = assert_conformance(server.url, operations=["listSources", "getSource"], max_examples=3)
    assert report.ok and report.operations == ["listSources", "getSource"]
    with pytest.raises(ValueError, match="either url or app"):
        run_conformance()


def test_the_pytest_helper_fails_when_the_server_refuses_the_credentials() -> None:
    strict = create_app(app_id="STRICTAPP", api_key="strict-key")
    with pytest.raises(AssertionError, match="refused the credentials") as raised:
        assert_conformance(
            app=strict, operations=["listSources", "searchSources", "createSource"], max_examples=2
        )
    assert "sent app ID 'conformance'" in str(raised.value)
    assert "app_id= and api_key=" in str(raised.value)


def test_the_pytest_helper_fails_when_the_server_cannot_be_reached() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        with pytest.raises(AssertionError) as raised:
            assert_conformance(url, max_examples=2)
    assert str(raised.value).splitlines() == [
        f"Conformance of {url}",
        f"FAILED: cannot reach {url}: connection refused (is the server running, on that port?)",
    ]


def test_the_pytest_helper_fails_when_too_few_operations_got_a_2xx() -> None:
    # Against an empty mock, looking resources up by made-up IDs only ever gets 404.
    with pytest.raises(AssertionError, match=r"coverage too low: 0 of 2 operations got a 2xx \(0%\)"):
        assert_conformance(
            app=create_app(), operations=["getSource", "getTask"], max_examples=2, stateful=False
        )
    report = assert_conformance(
        app=create_app(), operations=["getSource", "getTask"], max_examples=2, stateful=False, min_coverage=0
    )
    assert report.coverage == 0 and report.ok


def test_the_report_shows_coverage_and_the_statuses_per_operation() -> None:
    report = run_conformance(app=create_app(), operations=["listSources", "getSource"], max_examples=3)
    # Linked sequences run by default, but no link of the spec joins these two: the report says so.
    assert not report.stateful and report.stateful_note == "no link of the spec joins the operations chosen"
    assert "(no linked sequences: no link of the spec joins the operations chosen)" in report.render()
    assert "listSources" in report.covered
    assert report.statuses["listSources"][200] > 0 and report.statuses["getSource"][404] > 0
    text = report.render()
    assert f"coverage:   {len(report.covered)} of 2 operations got a 2xx" in text
    assert any(line.split()[:2] == ["listSources", "200"] for line in text.splitlines())
    assert text.splitlines()[-1].startswith("PASSED: no failures; coverage ")


def test_progress_is_told_after_every_request_and_once_done() -> None:
    seen: list[Progress] = []
    app = create_app(faults=[{"operation": "getDestination", "status": 500}])  # failures to count
    report = run_conformance(
        app=app,
        operations=["createDestination", "getDestination"],
        max_examples=3,
        stateful_examples=2,
        progress=seen.append,
    )
    assert report.stateful and report.stateful_steps > 0 and report.findings
    *running, last = seen
    assert [p.phase for p in running].count("stateful") == report.stateful_steps
    assert sum(1 for p in running if p.phase == "stateless") >= report.total_cases  # each request, each op
    assert (last.phase, last.operations_done, last.operations) == ("done", 2, 2)
    assert last.requests == report.total_cases + report.stateful_steps
    assert last.failures == sum(f.count for f in report.findings) + len(report.errors) > 0
    for earlier, later in itertools.pairwise(seen):
        assert earlier.operations_done <= later.operations_done and earlier.requests <= later.requests
        assert earlier.failures <= later.failures and earlier.elapsed <= later.elapsed


def test_a_spec_schemathesis_cannot_load_or_without_operations_is_refused_first() -> None:
    no_version = {"info": {"title": "t", "version": "1"}, "paths": {"/x": {"get": {"responses": {}}}}}
    with pytest.raises(UnusableSpec, match=r"schemathesis cannot load it: .*Open API version"):
        run_conformance("http://127.0.0.1:1", spec=Spec(no_version))  # refused before the URL is tried
    with pytest.raises(UnusableSpec, match="it has no operation to check"):
        run_conformance(app=create_app(), spec=Spec({"openapi": "3.1.0", "paths": {}}))


def test_unknown_operations_and_bad_shares_are_refused() -> None:
    with pytest.raises(ValueError, match="noSuchOperation"):
        run_conformance(app=create_app(), operations=["noSuchOperation"])
    with pytest.raises(ValueError, match="min_coverage"):
        run_conformance(app=create_app(), min_coverage=1.5)
