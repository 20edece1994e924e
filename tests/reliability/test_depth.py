"""Why: "One body poisons the journal" — a deeply nested body broke the journal and snapshots.
Now one nesting limit (--max-depth, 64) is checked at the door, and whatever passes it can be
stored, journaled, snapshotted and dumped."""

from __future__ import annotations

from typing import Any

import httpx

from ..serve.conftest import Served
from .conftest import headers, ok, pipeline


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_a_body_nested_too_deep_is_refused_and_leaves_the_journal_readable(open_server: Served) -> None:
    with httpx.Client(base_url=open_server.url, headers=headers("DEEP"), timeout=30) as client:
        text = '{"type":"push","name":"x","input":' + '{"a":' * 500 + "1" + "}" * 500 + "}"
        refused = client.post("/1/sources", content=text, headers={"content-type": "application/json"})
        assert refused.status_code == 400
        assert "nested more than 64 levels" in refused.json()["message"]
        pipeline(client, "deep")
        record = {"objectID": "1", "deep": nested(600)}
        too_deep = client.post("/1/push/deep", json={"action": "addObject", "records": [record]})
        assert too_deep.status_code == 400
        accepted = {"objectID": "2", "deep": nested(60)}
        ok(client.post("/1/push/deep", json={"action": "addObject", "records": [accepted]}))
        assert ok(client.get("/__mock__/journal"))["calls"]
        assert ok(client.get("/__mock__/state"))["applications"]["DEEP"]["indexes"]["deep"]
        ok(client.post("/__mock__/snapshots"))
        ok(client.post("/__mock__/reset"))
