"""A thin wrapper over source payloads: build the client's model, or explain why the API refuses one."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from algoliasearch.ingestion.models.source_create import SourceCreate

from mockserver import Engine, load_spec


def source_from(payload: dict[str, Any]) -> SourceCreate:
    """The official client's model of a ``createSource`` body (raises when the client refuses it)."""
    model = SourceCreate.from_dict(copy.deepcopy(payload))  # from_dict replaces nested dicts in place
    if model is None:
        raise ValueError("no createSource body given")
    return model


@cache
def _reference() -> Engine:
    engine = Engine(load_spec())
    _ask(engine, {})  # the first refusal compiles what explains refusals: pay for it once, here
    return engine


def _ask(engine: Engine, payload: Any) -> str:
    answer = engine.execute(engine.request("createSource", "wrapper-app", body=payload), record=False)
    engine.store.reset()
    if answer.ok:
        return ""
    message: str = answer.body.get("message", str(answer.status))
    return message


def explain(payload: Any) -> str:
    """Why the Ingestion API would refuse this ``createSource`` body ("" when it would accept it).

    Asks the mock's engine (no HTTP), which validates like the service: the message names the field
    and the rule.
    """
    return _ask(_reference(), payload)


_reference()  # at import, outside any Hypothesis deadline
