"""The journal, fault rules and tenancy work for the Search operations as for the Ingestion ones."""

from __future__ import annotations

from mockserver import MockApp
from mockserver.http.inprocess import InProcessClient
from tests.helpers import ok, ok_2xx

SYNONYM = {"objectID": "s1", "type": "synonym", "synonyms": ["sofa", "couch"]}
RULE = {"objectID": "r1", "consequence": {"params": {"query": "lamp"}}}


def creds(app_id: str) -> dict[str, str]:
    return {"x-algolia-application-id": app_id, "x-algolia-api-key": "k"}


def test_an_application_never_sees_another_ones_indexes_settings_synonyms_rules_or_tasks(
    app: MockApp,
) -> None:
    with (
        InProcessClient(app, headers=creds("ALPHA")) as alpha,
        InProcessClient(app, headers=creds("BETA")) as beta,
    ):
        task = ok_2xx(alpha.put("/1/indexes/shared/1", json={"secret": True}))["taskID"]
        ok(alpha.put("/1/indexes/shared/settings", json={"hitsPerPage": 7}))
        ok(alpha.put("/1/indexes/shared/synonyms/s1", json=SYNONYM))
        ok(alpha.put("/1/indexes/shared/rules/r1", json=RULE))
        assert ok(beta.get("/1/indexes")) == {"items": [], "nbPages": 1}
        for path in (
            "shared/1",
            "shared/settings",
            "shared/synonyms/s1",
            "shared/rules/r1",
            f"shared/task/{task}",
        ):
            assert beta.get(f"/1/indexes/{path}").status_code == 404, path
        assert beta.get(f"/1/task/{task}").status_code == 404
        found = ok(
            beta.post("/1/indexes/*/objects", json={"requests": [{"indexName": "shared", "objectID": "1"}]})
        )
        assert found == {"results": [None]}
        # beta's own writes leave alpha's index as it was
        ok(beta.post("/1/indexes/shared/operation", json={"operation": "move", "destination": "mine"}))
        ok(beta.delete("/1/indexes/shared"))
        assert ok(alpha.get("/1/indexes/shared/1")) == {"secret": True, "objectID": "1"}
        assert ok(alpha.get("/1/indexes/shared/settings")) == {"hitsPerPage": 7}
        assert ok(beta.get("/1/indexes")) == {"items": [], "nbPages": 1}


def test_the_journal_records_search_calls_with_their_operation(client: InProcessClient, app: MockApp) -> None:
    ok_2xx(client.post("/1/indexes/products", json={"objectID": "1", "name": "lamp"}))
    client.get("/1/indexes/products/2")
    saved = app.control.journal("saveObject")
    assert [(c.status, c.path_params, c.body) for c in saved] == [
        (201, {"indexName": "products"}, {"objectID": "1", "name": "lamp"})
    ]
    (missing,) = app.control.journal("getObject")
    assert missing.status == 404 and missing.path_params == {"indexName": "products", "objectID": "2"}


def test_a_fault_rule_on_a_search_operation_fires_and_the_write_does_not_happen(
    client: InProcessClient, app: MockApp
) -> None:
    app.control.add_fault(
        operation="addOrUpdateObject", status=503, times=1, path_params={"indexName": "products"}
    )
    answer = client.put("/1/indexes/products/1", json={"n": 1})
    assert answer.status_code == 503
    assert ok(client.get("/1/indexes")) == {"items": [], "nbPages": 1}
    ok(client.put("/1/indexes/products/1", json={"n": 1}))  # fired once
    app.control.add_fault(operation="getSettings", status=500)
    assert client.get("/1/indexes/products/settings").status_code == 500
    assert client.get("/1/indexes/products/1").status_code == 200
