"""The parsed JSON twin of a spec file: used only when made from exactly that file."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.data import control_spec, ingestion_spec, search_spec
from mockserver.spec_twin import _digest, parse_yaml, read_document, twin_path, write_twin

REGENERATE = "python -m mockserver.spec_twin spec/ingestion.yaml spec/search.yaml spec/control.yaml"


@pytest.mark.parametrize("spec", [ingestion_spec(), search_spec(), control_spec()], ids=lambda p: p.name)
def test_the_bundled_twins_are_current(spec: Path) -> None:
    twin = twin_path(spec)
    assert twin.is_file(), f"{twin.name} is missing: run {REGENERATE}"
    assert f'"sha256":"{_digest(spec.read_bytes())}"' in twin.read_text(), (
        f"{twin.name} is stale ({spec.name} changed since): run {REGENERATE}"
    )
    assert read_document(spec) == parse_yaml(spec.read_bytes())


def test_a_twin_of_an_older_yaml_is_ignored(tmp_path: Path) -> None:
    spec = tmp_path / "api.yaml"
    spec.write_text("openapi: 3.1.0\ninfo: {title: Old, version: '1'}\npaths: {}\n")
    write_twin(spec)
    assert read_document(spec)["info"]["title"] == "Old"
    spec.write_text("openapi: 3.1.0\ninfo: {title: New, version: '1'}\npaths: {}\n")
    assert read_document(spec)["info"]["title"] == "New"  # the YAML wins over a twin made from another


def test_a_damaged_twin_is_ignored(tmp_path: Path) -> None:
    spec = tmp_path / "api.yaml"
    spec.write_text("openapi: 3.1.0\ninfo: {title: T, version: '1'}\npaths: {}\n")
    twin_path(spec).write_text('{"sha256": "')
    assert read_document(spec)["info"]["title"] == "T"


def test_a_document_json_cannot_hold_gets_no_twin(tmp_path: Path) -> None:
    spec = tmp_path / "api.yaml"
    spec.write_text("openapi: 3.1.0\ninfo: {title: T, version: '1'}\npaths: {}\nx-when: 2026-01-01\n")
    with pytest.raises(ValueError, match="does not survive JSON"):
        write_twin(spec)
    assert not twin_path(spec).exists()
