"""MockSettings states every option once: every way of configuring a mock offers only its fields."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

import pytest

from mockserver import MockSettings, create_app
from mockserver.cli import COMPOSED_FLAGS, SERVER_FLAGS, build_parser
from mockserver.settings import field_names, from_options, ini_options, marker_keys, serve_flags


def _serve_options() -> dict[str, str]:
    """Every option string of ``mockserver serve`` -> its argparse dest."""
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    serve = subparsers.choices["serve"]
    return {
        o: a.dest for a in serve._actions for o in a.option_strings if o.startswith("--") and o != "--help"
    }


def test_every_serve_flag_is_a_setting_or_spells_one() -> None:
    fields = field_names()
    for flag, dest in _serve_options().items():
        if flag in SERVER_FLAGS:
            continue
        if flag in COMPOSED_FLAGS:
            assert COMPOSED_FLAGS[flag] in fields, f"{flag} spells {COMPOSED_FLAGS[flag]}, not a setting"
            continue
        assert dest in fields, f"mockserver serve {flag} is no MockSettings field"
        assert serve_flags()[flag] == dest


def test_every_setting_offered_as_a_flag_is_served() -> None:
    offered = _serve_options()
    for flag in serve_flags():
        assert flag in offered, f"MockSettings offers {flag} but mockserver serve has no such flag"


def test_marker_keys_and_ini_options_are_settings() -> None:
    fields = field_names()
    assert marker_keys() <= fields
    assert set(ini_options().values()) <= fields
    assert all(name.startswith("ingestion_mock_") for name in ini_options())
    # the options README once named without their existing: now they are settings
    assert {"ingestion_mock_runs", "ingestion_mock_seed", "ingestion_mock_fixtures"} <= set(ini_options())


def test_the_control_plane_changes_only_settings() -> None:
    app = create_app()
    control = app.control
    assert set(control.settings()) == set(field_names())
    assert control.settings()["api_key"] is None
    changed = control.change_settings({"clock": "2030-01-01T00:00:00Z", "runs": {"mode": "deferred"}})
    assert changed["clock"] == "2030-01-01T00:00:00Z"
    assert control.clock() == {"now": "2030-01-01T00:00:00Z", "frozen": True}
    assert control.run_policy()["mode"] == "deferred"
    with pytest.raises(ValueError, match=r"\['state_file'\] are fixed when the mock starts"):
        control.change_settings({"state_file": "x.db"})


def test_secrets_are_masked_in_the_settings_shown() -> None:
    app = create_app(app_id="A", api_key="very-secret", keys=({"apiKey": "other-secret", "acl": ["search"]},))
    shown = str(app.control.settings())
    assert "very-secret" not in shown and "other-secret" not in shown


def test_an_unknown_option_names_itself_and_the_known_ones() -> None:
    with pytest.raises(TypeError, match=r"unknown mock options \['fixture'\]; known: \["):
        from_options({"fixture": "catalog"})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_body_bytes": 0}, "max_body_bytes: must be at least 1"),
        ({"journal_size": 0}, "journal_size: must be at least 1"),
        ({"validation": "slow"}, "validation: 'slow' is not fast or openapi-core"),
    ],
)
def test_values_that_cannot_work_are_refused(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        from_options(options)


def test_every_field_has_a_default() -> None:
    defaults = MockSettings()
    for f in dataclasses.fields(MockSettings):
        assert hasattr(defaults, f.name)


def test_the_help_names_both_apis_the_mock_serves() -> None:
    parser = build_parser()
    assert "Ingestion and Search APIs" in (parser.description or "")
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    spec = next(a for a in subparsers.choices["serve"]._actions if "--spec" in a.option_strings)
    assert "Ingestion and Search APIs" in (spec.help or "")


def test_intercept_is_a_marker_key_and_an_ini_option() -> None:
    assert "intercept" in marker_keys()
    assert ini_options()["ingestion_mock_intercept"] == "intercept"
