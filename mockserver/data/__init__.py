"""The files the package ships: the OpenAPI documents (``spec/``), the bundled data sets
(``fixtures/``), the JSON Schema of a data set (``dataset.schema.json``), the deviation ledger
(``ledger.yaml``) and schemathesis's configuration for the spec (``schemathesis.toml``), found with
:mod:`importlib.resources` wherever the package is installed."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

DATA_SET_SUFFIXES = (".yaml", ".yml", ".json")


def _path(*parts: str) -> Path:
    found = files(__name__).joinpath(*parts)
    if not isinstance(found, Path) or not found.exists():
        raise FileNotFoundError(f"mockserver/data/{'/'.join(parts)} is missing from this installation")
    return found


def ingestion_spec() -> Path:
    """The Ingestion API's OpenAPI document."""
    return _path("spec", "ingestion.yaml")


def search_spec() -> Path:
    """The Search API's OpenAPI document (joined with the Ingestion API's into the bundled spec)."""
    return _path("spec", "search.yaml")


def control_spec() -> Path:
    """The ``/__mock__/`` control plane's OpenAPI document."""
    return _path("spec", "control.yaml")


def ledger() -> Path:
    """The deviation ledger: where the bundled spec and the mock differ from the published spec."""
    return _path("ledger.yaml")


def schemathesis_config() -> Path:
    """schemathesis's configuration for the Ingestion API: the statuses valid data may get."""
    return _path("schemathesis.toml")


def dataset_schema() -> Path:
    """The JSON Schema of a data set (what ``fixtures``, ``data`` and ``seed()`` take)."""
    return _path("dataset.schema.json")


def fixtures() -> Path:
    """The folder of bundled data sets."""
    return _path("fixtures")


def data_set_names() -> list[str]:
    return sorted(p.stem for p in fixtures().iterdir() if p.suffix in DATA_SET_SUFFIXES)
