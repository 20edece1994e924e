"""The Search API's indexes through the HTTP face (in process): listing, delete, copy and move
with scope, settings, synonyms and rules as resources, tasks."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver import MockApp, create_app
from mockserver.http.inprocess import InProcessClient
from tests.conftest import CREDENTIALS
from tests.helpers import ok, refused

SYNONYM = {"objectID": "s1", "type": "synonym", "synonyms": ["Sofa", "couch"]}
ONE_WAY = {"objectID": "s2", "type": "onewaysynonym", "input": "tv", "synonyms": ["television"]}
RULE = {
    "objectID": "r1",
    "description": "Promote lamps",
    "conditions": [{"pattern": "lamp", "anchoring": "contains", "context": "mobile"}],
    "consequence": {"params": {"query": "lamp"}},
}
OFF_RULE = {"objectID": "r2", "enabled": False, "consequence": {"params": {"query": "x"}}}


def names(client: InProcessClient) -> list[str]:
    return [item["name"] for item in ok(client.get("/1/indexes"))["items"]]


def full_index(client: InProcessClient, name: str) -> None:
    ok(client.put(f"/1/indexes/{name}/1", json={"title": f"{name} one"}))
    ok(client.put(f"/1/indexes/{name}/settings", json={"searchableAttributes": ["title"], "replicas": ["r"]}))
    ok(client.put(f"/1/indexes/{name}/synonyms/s1", json=SYNONYM))
    ok(client.put(f"/1/indexes/{name}/rules/r1", json=RULE))


def state(client: InProcessClient, name: str) -> dict[str, Any]:
    """What an index holds, as the API shows it (None for a part the index lacks)."""
    got = client.get(f"/1/indexes/{name}/settings")
    if got.status_code == 404:
        return {}
    synonyms = ok(client.post(f"/1/indexes/{name}/synonyms/search", json={}))["hits"]
    rules = ok(client.post(f"/1/indexes/{name}/rules/search", json={}))["hits"]
    objects = ok(
        client.post("/1/indexes/*/objects", json={"requests": [{"indexName": name, "objectID": "1"}]})
    )
    return {"settings": got.json(), "synonyms": synonyms, "rules": rules, "record": objects["results"][0]}


def test_list_indices_shows_each_index_with_its_entries_and_pages(client: InProcessClient) -> None:
    for name in ("b", "a", "c"):
        ok(client.put(f"/1/indexes/{name}/1", json={"x": 1}))
    ok(client.put("/1/indexes/a/2", json={"x": 2}))
    listed = ok(client.get("/1/indexes"))
    assert listed["nbPages"] == 1 and [i["name"] for i in listed["items"]] == ["a", "b", "c"]
    first = listed["items"][0]
    assert first["entries"] == 2 and first["dataSize"] > 0 and first["createdAt"] and first["updatedAt"]
    assert first["pendingTask"] is False
    page = ok(client.get("/1/indexes", params={"page": 1, "hitsPerPage": 2}))
    assert page == {"items": [listed["items"][2]], "nbPages": 2}


def test_delete_index_drops_records_settings_synonyms_and_rules(client: InProcessClient) -> None:
    full_index(client, "products")
    answer = ok(client.delete("/1/indexes/products"))
    assert set(answer) == {"taskID", "deletedAt"}
    assert names(client) == []
    assert refused(client.get("/1/indexes/products/settings"), 404).startswith("Index does not exist")
    assert client.get("/1/indexes/products/synonyms/s1").status_code == 404
    ok(client.delete("/1/indexes/products"))  # a missing index: ignored


def test_a_copy_without_scope_copies_everything_but_the_replicas(client: InProcessClient) -> None:
    full_index(client, "src")
    ok(client.put("/1/indexes/dst/9", json={"old": True}))
    answer = ok(client.post("/1/indexes/src/operation", json={"operation": "copy", "destination": "dst"}))
    assert set(answer) == {"taskID", "updatedAt"}
    copied, source = state(client, "dst"), state(client, "src")
    assert copied["settings"] == {"searchableAttributes": ["title"]}  # replicas: not copied (published)
    assert {k: copied[k] for k in ("synonyms", "rules", "record")} == {
        k: source[k] for k in ("synonyms", "rules", "record")
    }
    assert client.get("/1/indexes/dst/9").status_code == 404  # the destination is overwritten
    ok(client.put("/1/indexes/src/synonyms/s9", json={**SYNONYM, "objectID": "s9"}))
    assert len(state(client, "dst")["synonyms"]) == 1  # a copy, not the same objects


def test_a_copy_with_scope_copies_only_those_parts(client: InProcessClient) -> None:
    full_index(client, "src")
    ok(client.put("/1/indexes/dst/1", json={"title": "kept"}))
    ok(client.put("/1/indexes/dst/rules/own", json={**OFF_RULE, "objectID": "own"}))
    body = {"operation": "copy", "destination": "dst", "scope": ["settings", "synonyms"]}
    ok(client.post("/1/indexes/src/operation", json=body))
    dst = state(client, "dst")
    assert dst["record"] == {"title": "kept", "objectID": "1"}
    assert [r["objectID"] for r in dst["rules"]] == ["own"]
    assert dst["synonyms"] == [SYNONYM] and dst["settings"] == {"searchableAttributes": ["title"]}


def test_copying_a_missing_index_makes_an_empty_one(client: InProcessClient) -> None:
    ok(client.post("/1/indexes/nothing/operation", json={"operation": "copy", "destination": "dst"}))
    assert names(client) == ["dst"]
    assert state(client, "dst") == {"settings": {}, "synonyms": [], "rules": [], "record": None}


def test_a_move_replaces_the_destination_and_removes_the_source(client: InProcessClient) -> None:
    full_index(client, "tmp")
    expected = state(client, "tmp")
    ok(client.put("/1/indexes/live/2", json={"stale": True}))
    ok(client.put("/1/indexes/live/synonyms/old", json={**ONE_WAY, "objectID": "old"}))
    ok(client.post("/1/indexes/tmp/operation", json={"operation": "move", "destination": "live"}))
    assert names(client) == ["live"]
    assert state(client, "live") == expected
    assert client.get("/1/indexes/live/2").status_code == 404
    ok(client.post("/1/indexes/gone/operation", json={"operation": "move", "destination": "live"}))
    assert state(client, "live") == expected  # a missing source: ignored


def test_settings_merge_and_null_resets_one(client: InProcessClient) -> None:
    assert refused(client.get("/1/indexes/p/settings"), 404).startswith("Index does not exist")
    answer = ok(
        client.put(
            "/1/indexes/p/settings",
            json={"customRanking": ["desc(n)"], "hitsPerPage": 5},
            params={"forwardToReplicas": "true"},
        )
    )
    assert set(answer) == {"taskID", "updatedAt"}
    ok(client.put("/1/indexes/p/settings", json={"attributesForFaceting": ["color"]}))
    assert ok(client.get("/1/indexes/p/settings")) == {
        "customRanking": ["desc(n)"],
        "hitsPerPage": 5,
        "attributesForFaceting": ["color"],
    }
    assert names(client) == ["p"]  # settings made the index


def _settings_names() -> list[str]:
    return sorted(create_app().engine.spec.schema("indexSettings")["properties"])


@pytest.mark.parametrize("assumed_rules", [True, False], ids=["assumed-rules", "published-only"])
def test_a_null_setting_goes_back_to_its_default(assumed_rules: bool) -> None:
    """Published: setSettings takes null for any setting, which resets it to its default (the
    stored settings forget it); every setting of the schema, with the assumed rules on or off."""
    app = create_app(check_responses=True, assumed_rules=assumed_rules)
    with InProcessClient(app, base_url="http://mock", headers=CREDENTIALS) as client:
        ok(client.put("/1/indexes/p/settings", json={"customRanking": ["desc(n)"], "hitsPerPage": 5}))
        names = _settings_names()
        assert len(names) > 50 and "hitsPerPage" in names
        for name in names:
            ok(client.put("/1/indexes/p/settings", json={name: None}))
        assert ok(client.get("/1/indexes/p/settings")) == {}
        ok(client.put("/1/indexes/p/settings", json={"hitsPerPage": 3, "replicas": None}))
        assert ok(client.get("/1/indexes/p/settings")) == {"hitsPerPage": 3}


def test_a_null_setting_is_the_only_new_value_a_setting_takes(client: InProcessClient) -> None:
    """Null does not open a setting to other values: a wrong type is still refused, naming it."""
    message = refused(client.put("/1/indexes/p/settings", json={"hitsPerPage": "x"}), 400)
    assert "hitsPerPage" in message
    assert refused(client.get("/1/indexes/p/settings"), 404).startswith("Index does not exist")


def test_synonyms_are_saved_read_searched_deleted_and_cleared(client: InProcessClient) -> None:
    answer = ok(client.put("/1/indexes/p/synonyms/s1", json=SYNONYM))
    assert set(answer) == {"taskID", "updatedAt", "id"} and answer["id"] == "s1"
    ok(client.post("/1/indexes/p/synonyms/batch", json=[ONE_WAY, {**SYNONYM, "objectID": "s3"}]))
    assert ok(client.get("/1/indexes/p/synonyms/s2")) == ONE_WAY
    found = ok(client.post("/1/indexes/p/synonyms/search", json={"query": "SOFA"}))
    assert found == {"hits": [SYNONYM, {**SYNONYM, "objectID": "s3"}], "nbHits": 2}
    typed = ok(client.post("/1/indexes/p/synonyms/search", json={"type": "oneWaySynonym"}))
    assert typed == {"hits": [ONE_WAY], "nbHits": 1}
    paged = ok(client.post("/1/indexes/p/synonyms/search", json={"page": 1, "hitsPerPage": 2}))
    assert paged == {"hits": [{**SYNONYM, "objectID": "s3"}], "nbHits": 3}
    assert set(ok(client.delete("/1/indexes/p/synonyms/s1"))) == {"taskID", "deletedAt"}
    assert refused(client.get("/1/indexes/p/synonyms/s1"), 404).startswith("Synonym 's1' does not exist")
    assert client.delete("/1/indexes/p/synonyms/s1").status_code == 404
    ok(client.post("/1/indexes/p/synonyms/batch", json=[SYNONYM], params={"replaceExistingSynonyms": "true"}))
    assert ok(client.post("/1/indexes/p/synonyms/search", json={}))["hits"] == [SYNONYM]
    ok(client.post("/1/indexes/p/synonyms/clear"))
    assert ok(client.post("/1/indexes/p/synonyms/search", json={})) == {"hits": [], "nbHits": 0}
    assert names(client) == ["p"]  # clearing synonyms leaves the index


def test_rules_are_saved_read_searched_deleted_and_cleared(client: InProcessClient) -> None:
    assert set(ok(client.put("/1/indexes/p/rules/r1", json=RULE))) == {"taskID", "updatedAt"}
    ok(client.post("/1/indexes/p/rules/batch", json=[OFF_RULE]))
    assert ok(client.get("/1/indexes/p/rules/r1")) == RULE

    def search(**body: Any) -> list[str]:
        found = ok(client.post("/1/indexes/p/rules/search", json=body))
        assert found["nbHits"] == len(found["hits"]) or "hitsPerPage" in body
        return [r["objectID"] for r in found["hits"]]

    assert search() == ["r1", "r2"]
    assert search(query="LAMPS") == ["r1"]  # the description
    assert search(anchoring="contains", context="mobile") == ["r1"]
    assert search(enabled=False) == ["r2"] and search(enabled=True) == ["r1"]
    paged = ok(client.post("/1/indexes/p/rules/search", json={"hitsPerPage": 1, "page": 1}))
    assert paged == {"hits": [OFF_RULE], "nbHits": 2, "page": 1, "nbPages": 2}
    assert set(ok(client.delete("/1/indexes/p/rules/r2"))) == {"taskID", "updatedAt"}
    assert refused(client.get("/1/indexes/p/rules/r2"), 404).startswith("Rule 'r2' does not exist")
    ok(client.post("/1/indexes/p/rules/batch", json=[OFF_RULE], params={"clearExistingRules": "true"}))
    assert search() == ["r2"]
    ok(client.post("/1/indexes/p/rules/clear"))
    assert search() == []


def test_reads_of_a_missing_index_are_404(client: InProcessClient) -> None:
    for path in ("synonyms/s1", "rules/r1", "settings"):
        assert client.get(f"/1/indexes/none/{path}").status_code == 404, path
    for path in ("synonyms/search", "rules/search"):
        assert client.post(f"/1/indexes/none/{path}", json={}).status_code == 404, path


def test_every_write_answers_a_task_the_task_operations_find(client: InProcessClient, app: MockApp) -> None:
    task = ok(client.put("/1/indexes/p/1", json={"x": 1}))["taskID"]
    assert ok(client.get(f"/1/indexes/p/task/{task}")) == {"status": "published"}
    assert ok(client.get(f"/1/task/{task}")) == {"status": "published"}
    assert refused(client.get(f"/1/indexes/p/task/{task + 1}"), 404).startswith(
        f"Task {task + 1} does not exist"
    )
    assert client.get(f"/1/task/{task + 1}").status_code == 404
    app.control.run_policy(mode="deferred", finish_after=60)
    app.control.clock(freeze=True)
    later = ok(client.post("/1/indexes/p/clear"))["taskID"]
    assert ok(client.get(f"/1/indexes/p/task/{later}")) == {"status": "notPublished"}
    app.control.clock(advance=60)
    assert ok(client.get(f"/1/task/{later}")) == {"status": "published"}


def test_a_move_ignores_a_scope_and_moves_everything(client: InProcessClient) -> None:
    full_index(client, "tmp")
    expected = state(client, "tmp")
    body = {"operation": "move", "destination": "live", "scope": ["settings"]}
    ok(client.post("/1/indexes/tmp/operation", json=body))
    assert names(client) == ["live"] and state(client, "live") == expected


def test_a_copy_onto_an_index_with_replicas_is_refused_and_changes_nothing(client: InProcessClient) -> None:
    full_index(client, "src")
    full_index(client, "dst")  # (its settings name a replica)
    before = state(client, "dst")
    answer = client.post("/1/indexes/other/operation", json={"operation": "copy", "destination": "dst"})
    assert "body.destination: index 'dst' has replicas" in refused(answer)
    assert state(client, "dst") == before
