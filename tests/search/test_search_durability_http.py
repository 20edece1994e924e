"""Durability of the Search API's state (in process, with a state file): each kind of state an
acknowledged write leaves comes back after a restart, and a write the state file cannot take is
answered 503 and undone. Snapshots and resets take the Search state along."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mockserver import MockApp
from mockserver.http.inprocess import InProcessClient
from tests.helpers import ok, ok_2xx
from tests.http.test_durability import creds, fail_appends

SYNONYM = {"objectID": "s1", "type": "synonym", "synonyms": ["sofa", "couch"]}
RULE = {"objectID": "r1", "consequence": {"params": {"query": "lamp"}}}
BATCH_TO_P = {"action": "partialUpdateObject", "indexName": "p", "body": {"objectID": "1", "m": 1}}


# (a write of each kind of Search state, what a reader sees of that kind)
Write = Callable[[InProcessClient], Any]
Read = Callable[[InProcessClient], Any]


def read_all(client: InProcessClient) -> dict[str, Any]:
    """Every kind of Search state, as the API shows it."""
    settings = client.get("/1/indexes/p/settings")
    seen: dict[str, Any] = {
        "indexes": [
            {k: i[k] for k in ("name", "entries", "createdAt", "updatedAt")}
            for i in ok(client.get("/1/indexes"))["items"]
        ],
        "settings": settings.json() if settings.status_code == 200 else settings.status_code,
    }
    if settings.status_code == 200:
        seen["record"] = client.get("/1/indexes/p/1").json()
        seen["synonyms"] = ok(client.post("/1/indexes/p/synonyms/search", json={}))["hits"]
        seen["rules"] = ok(client.post("/1/indexes/p/rules/search", json={}))["hits"]
    seen["tasks"] = [client.get(f"/1/task/{t}").json() for t in range(1, 13)]
    return seen


WRITES: dict[str, Write] = {
    "record": lambda c: ok_2xx(c.put("/1/indexes/p/1", json={"name": "lamp"})),
    "partial": lambda c: ok(
        c.post("/1/indexes/p/1/partial", json={"n": {"_operation": "Increment", "value": 2}})
    ),
    "settings": lambda c: ok(c.put("/1/indexes/p/settings", json={"customRanking": ["desc(n)"]})),
    "synonym": lambda c: ok(c.put("/1/indexes/p/synonyms/s1", json=SYNONYM)),
    "rule": lambda c: ok(c.put("/1/indexes/p/rules/r1", json=RULE)),
    "copy": lambda c: ok(c.post("/1/indexes/p/operation", json={"operation": "copy", "destination": "q"})),
    "move": lambda c: ok(c.post("/1/indexes/q/operation", json={"operation": "move", "destination": "r"})),
    "batch": lambda c: ok(
        c.post("/1/indexes/p/batch", json={"requests": [{"action": "addObject", "body": {"objectID": "2"}}]})
    ),
    "multiple batch": lambda c: ok(
        c.post(
            "/1/indexes/*/batch",
            json={"requests": [{"action": "clear", "indexName": "r", "body": {}}, BATCH_TO_P]},
        )
    ),
    "synonyms batch": lambda c: ok(
        c.post("/1/indexes/p/synonyms/batch", json=[SYNONYM], params={"replaceExistingSynonyms": "true"})
    ),
    "delete index": lambda c: ok(c.delete("/1/indexes/r")),
}


def test_every_kind_of_search_state_survives_a_restart(
    opened: Callable[..., MockApp], tmp_path: Path
) -> None:
    state = tmp_path / "state.db"
    app = opened(state)
    with InProcessClient(app, headers=creds("SRCH")) as client:
        ok(client.post("/__mock__/runs", json={"mode": "deferred", "finish_after": 3600}))
        for write in WRITES.values():
            write(client)
        before = read_all(client)
    assert before["tasks"][0] == {"status": "notPublished"}
    assert [i["name"] for i in before["indexes"]] == ["p"]
    assert before["record"] == {"name": "lamp", "n": 2, "m": 1, "objectID": "1"}
    app = opened(state)  # replayed from the rows
    assert app.control.replay_warnings == []
    with InProcessClient(app, headers=creds("SRCH")) as client:
        assert read_all(client) == before
    app.control.compact()
    app = opened(state)  # from the image the rows compacted to
    assert app.control.replay_warnings == []
    with InProcessClient(app, headers=creds("SRCH")) as client:
        assert read_all(client) == before


@pytest.mark.parametrize("kind", list(WRITES))
def test_a_search_write_the_state_file_cannot_take_is_a_503_and_undone(
    opened: Callable[..., MockApp], tmp_path: Path, kind: str
) -> None:
    state = tmp_path / "state.db"
    app = opened(state)
    with InProcessClient(app, headers=creds("UNDO")) as client:
        ok_2xx(client.put("/1/indexes/p/1", json={"name": "desk", "n": 1}))
        ok(client.put("/1/indexes/p/synonyms/s0", json={**SYNONYM, "objectID": "s0"}))
        ok(client.put("/1/indexes/p/rules/r0", json={**RULE, "objectID": "r0"}))
        ok(client.put("/1/indexes/p/settings", json={"hitsPerPage": 3}))
        ok(client.post("/1/indexes/p/operation", json={"operation": "copy", "destination": "q"}))
        before = read_all(client)
        fail_appends(app)
        with pytest.raises(AssertionError, match="503"):
            WRITES[kind](client)
        assert read_all(client) == before
        assert app.store.accounts["UNDO"].search_tasks.last == 5


def test_snapshots_and_resets_take_the_search_state_along(client: InProcessClient, app: MockApp) -> None:
    ok(client.put("/1/indexes/p/settings", json={"hitsPerPage": 3}))
    ok(client.put("/1/indexes/p/synonyms/s1", json=SYNONYM))
    before = read_all(client)
    snapshot = app.control.snapshot()
    ok(client.put("/1/indexes/p/rules/r1", json=RULE))
    ok(client.delete("/1/indexes/p/synonyms/s1"))
    app.control.restore(snapshot)
    assert read_all(client) == before
    app.control.reset()
    assert ok(client.get("/1/indexes")) == {"items": [], "nbPages": 1}
    assert client.get("/1/task/1").status_code == 404  # task IDs start over


def test_a_dump_holds_the_search_state_and_seeds_it_back(client: InProcessClient, app: MockApp) -> None:
    ok_2xx(client.put("/1/indexes/p/1", json={"name": "lamp"}))
    ok(client.put("/1/indexes/p/settings", json={"hitsPerPage": 3}))
    ok(client.put("/1/indexes/p/synonyms/s1", json=SYNONYM))
    ok(client.put("/1/indexes/p/rules/r1", json=RULE))
    ok(client.put("/1/indexes/empty/settings", json={"customRanking": ["desc(n)"]}))
    dumped = app.control.dump(client.headers["x-algolia-application-id"])
    (part,) = dumped["applications"].values()
    assert part["index_settings"] == {"p": {"hitsPerPage": 3}, "empty": {"customRanking": ["desc(n)"]}}
    assert part["synonyms"] == {"p": [SYNONYM]} and part["rules"] == {"p": [RULE]}
    app.control.seed(dumped, "COPY")
    again = app.control.dump("COPY")["applications"]["COPY"]
    for key in ("indexes", "index_settings", "synonyms", "rules"):
        assert again[key] == part[key], key
