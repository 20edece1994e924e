"""A thin wrapper over source payloads: build the client's model, or explain why the API refuses one."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from algoliasearch.ingestion.models.source_create import SourceCreate
from starlette.testclient import TestClient

from mockserver import MockApp, create_app

_HEADERS = {"x-algolia-application-id": "wrapper-app", "x-algolia-api-key": "wrapper-key"}


def source_from(payload: dict[str, Any]) -> SourceCreate:
    """The official client's model of a ``createSource`` body (raises when the client refuses it)."""
    model = SourceCreate.from_dict(copy.deepcopy(payload))  # from_dict replaces nested dicts in place
    if model is None:
        raise ValueError("no createSource body given")
    return model


@cache
def _reference() -> MockApp:
    return create_app()


def explain(payload: Any) -> str:
    """Why the Ingestion API would refuse this ``createSource`` body ("" when it would accept it).

    Asks the mock, which validates like the service: the message names the field and the rule.
    """
    app = _reference()
    with TestClient(app, base_url="http://reference", headers=_HEADERS) as client:
        answer = client.post("/1/sources", json=payload)
    app.control.reset()
    if answer.status_code == 200:
        return ""
    message: str = answer.json().get("message", answer.text)
    return message
