"""A mock is complete once built: the engine applies its settings, the factory adds data sets and
the state file, and settings changed later replace what was in force (never added on top)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from mockserver import MockSettings, create_app, load_spec, open_mock
from mockserver.engine.core import Engine
from mockserver.http.inprocess import InProcessClient
from tests.conftest import CREDENTIALS

FAULT = {"operation": "listSources", "status": 503}


def test_the_engine_applies_its_settings_when_constructed() -> None:
    engine = Engine(
        load_spec(),
        MockSettings(
            clock="2026-02-03T04:05:06Z", faults=(FAULT,), runs={"mode": "deferred"}, rate_limit=True
        ),
    )
    assert engine.store.clock.now() == datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert engine.store.clock.frozen
    assert [(r.operation, r.status) for r in engine.faults.rules] == [("listSources", 503)]
    assert engine.faults.rate_limit is not None
    assert engine.store.run_policy.mode == "deferred"


def test_a_bad_setting_is_refused_by_the_engine_with_its_name() -> None:
    with pytest.raises(ValueError, match="clock: 'noon' is not an RFC 3339"):
        Engine(load_spec(), MockSettings(clock="noon"))
    with pytest.raises(ValueError, match="operation: 'listSource' is not an operation"):
        Engine(load_spec(), MockSettings(faults=({"operation": "listSource", "status": 500},)))


@pytest.mark.parametrize(
    "settings",
    [MockSettings(fixtures="catalog"), MockSettings(data={"sources": []}), MockSettings(state_file="x.db")],
    ids=["fixtures", "data", "state_file"],
)
def test_the_engine_alone_refuses_what_only_the_factory_applies(settings: MockSettings) -> None:
    with pytest.raises(ValueError, match=r"build the mock with mockserver\.open_mock"):
        Engine(load_spec(), settings)


def test_open_mock_returns_a_complete_mock(tmp_path: Path) -> None:
    state_file = tmp_path / "state.db"
    control = open_mock(fixtures="catalog", clock="2026-01-01T00:00:00Z", state_file=str(state_file))
    try:
        engine = control.engine
        answer = engine.execute(engine.request("listSources", "APP"))
        assert answer.status == 200 and len(answer.body["sources"]) == 5
        created = engine.execute(
            engine.request("createSource", "APP", body={"type": "push", "name": "durable"})
        )
        assert created.status == 200
    finally:
        control.engine.close()
    again = open_mock(state_file=str(state_file))
    try:
        names = {
            s["name"]
            for s in again.engine.execute(again.engine.request("listSources", "APP")).body["sources"]
        }
        assert "durable" in names
    finally:
        again.engine.close()


def test_changing_the_faults_twice_replaces_them() -> None:
    app = create_app()
    app.control.change_settings({"faults": [FAULT]})
    app.control.change_settings({"faults": [{"operation": "getSource", "status": 500}]})
    assert [(r.operation, r.status) for r in app.engine.faults.rules] == [("getSource", 500)]
    assert app.control.settings()["faults"] == [{"operation": "getSource", "status": 500}]
    with InProcessClient(app, headers=CREDENTIALS) as client:
        assert client.get("/1/sources").status_code == 200
        shown = client.get("/__mock__/settings").json()["faults"]
    assert shown == [{"operation": "getSource", "status": 500}]


def test_changing_the_faults_keeps_one_applications_own_rules() -> None:
    app = create_app()
    app.control.add_fault(operation="listSources", status=502, app="TENANT")
    app.control.change_settings({"faults": [FAULT]})
    app.control.change_settings({"faults": []})
    assert [(r.app, r.status) for r in app.engine.faults.rules] == [("TENANT", 502)]


def test_turning_the_rate_limit_off_turns_it_off() -> None:
    app = create_app(rate_limit=True)
    assert app.engine.faults.rate_limit is not None
    app.control.change_settings({"rate_limit": False})
    assert app.engine.faults.rate_limit is None


def test_a_new_run_policy_replaces_the_old_one_whole() -> None:
    app = create_app(runs={"mode": "deferred", "finish_after": 30})
    app.control.change_settings({"runs": {"outcome": "failure"}})
    policy = app.engine.store.run_policy
    assert (policy.mode, policy.finish_after, policy.outcome) == ("immediate", 1.0, "failure")


def test_reconfigure_refuses_a_field_fixed_at_start() -> None:
    app = create_app()
    with pytest.raises(ValueError, match=r"\['max_depth'\] are fixed when the mock starts"):
        app.control.reconfigure(app.engine.settings.replace(max_depth=3))
    assert app.engine.settings.max_depth != 3


def test_a_write_accepted_with_the_assumed_rules_off_is_replayed_with_them_on(tmp_path: Path) -> None:
    state_file = tmp_path / "state.db"
    control = open_mock(assumed_rules=False, state_file=str(state_file))
    try:
        engine = control.engine
        body = {"type": "json", "name": "no input yet"}  # published: input is optional
        assert engine.execute(engine.request("createSource", "APP", body=body)).status == 200
    finally:
        control.engine.close()
    again = open_mock(state_file=str(state_file))  # the defaults: the assumed rules on
    try:
        engine = again.engine
        sources = engine.execute(engine.request("listSources", "APP")).body["sources"]
        assert [s["name"] for s in sources] == ["no input yet"]
        refused = engine.execute(engine.request("createSource", "APP", body=body))
        assert refused.status == 400 and "source-input-follows-type" in refused.body["message"]
    finally:
        again.engine.close()
