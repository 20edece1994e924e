"""The spec's contract (schemathesis, all checks, stateless and along the links) against the mock."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from mockserver import create_app, load_spec
from mockserver.cli import main
from mockserver.conformance import ConformanceReport, assert_conformance, run_conformance
from mockserver.server import LiveServer

HEADERS = {"x-algolia-application-id": "conformance", "x-algolia-api-key": "conformance-key"}


def _unexpected(report: ConformanceReport) -> list[str]:
    return [f"{f.check} on {f.operation}: {f.title}" for f in report.findings] + list(report.errors)


def test_the_mock_conforms_to_its_spec_in_process() -> None:
    report = run_conformance(
        app=create_app(check_responses=True, seed=11), max_examples=8, stateful=True, stateful_examples=8
    )
    print(report.render())
    assert _unexpected(report) == [], report.render()
    assert len(report.operations) == len(load_spec().operations)  # every operation, none skipped
    assert "response_schema_conformance" in report.checks and "use_after_free" in report.checks
    assert report.links >= 40 and report.stateful_steps > 0
    assert report.total_cases > 5 * len(report.operations)


def test_try_transformation_with_a_malformed_authentication_is_a_400() -> None:
    app = create_app(check_responses=True)
    with TestClient(app, base_url="http://mock", headers=HEADERS) as client:
        body = {"sampleRecord": {}, "authentications": [{"type": ["basic"], "name": "x", "input": {}}]}
        assert client.post("/1/transformations/try", json=body).status_code == 400


def test_check_against_a_live_server_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    with LiveServer(create_app(check_responses=True)) as server:
        status = main(["check", "--url", server.url, "--max-examples", "2", "--seed", "3"])
    out = capsys.readouterr().out
    assert f"Conformance of {server.url}" in out
    assert "operations: 59 tested" in out
    assert status == 0, out


def test_the_pytest_helper_fails_with_the_report() -> None:
    with LiveServer(create_app()) as server:
        report = assert_conformance(server.url, operations=["listSources", "getSource"], max_examples=3)
    assert report.ok and report.operations == ["listSources", "getSource"]
    with pytest.raises(ValueError, match="either url or app"):
        run_conformance()
