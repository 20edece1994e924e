"""The Search API beside the Ingestion API in one mock: every served Search route reaches its
operation, the operations the mock does not serve are answered as such (naming them), and the
Search ACLs of ``x-acl`` are enforced like the Ingestion ones."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver import MockApp, create_app, load_spec
from mockserver.http.inprocess import InProcessClient
from mockserver.spec import Operation, bundled_spec_path
from tests.conftest import APP_ID
from tests.helpers import refused

SPEC = load_spec()
INGESTION = set(load_spec(bundled_spec_path()).operations)
SEARCH = [op for op in SPEC.operations.values() if op.operation_id not in INGESTION]
SERVED = [op for op in SEARCH if op.raw.get("x-mock-served") is not False]
UNSERVED = [op for op in SEARCH if op.raw.get("x-mock-served") is False]

VALUES = {
    "indexName": "products",
    "objectID": "p1",
    "facetName": "brand",
    "taskID": "1",
    "key": "k1",
    "dictionaryName": "stopwords",
    "userID": "u1",
    "source": "10.0.0.0%2F8",
}

# A valid body for each served operation that takes one (a real client's kind of request).
BODIES: dict[str, Any] = {
    "searchSingleIndex": {"query": "shoe", "filters": "brand:acme", "hitsPerPage": 5},
    "search": {"requests": [{"indexName": "products", "query": "shoe"}], "strategy": "none"},
    "searchForFacetValues": {"facetQuery": "ac"},
    "browse": {"query": ""},
    "saveObject": {"name": "shoe"},
    "addOrUpdateObject": {"name": "shoe"},
    "deleteBy": {"filters": "brand:acme"},
    "partialUpdateObject": {"name": "boot"},
    "batch": {"requests": [{"action": "addObject", "body": {"objectID": "p2", "name": "hat"}}]},
    "multipleBatch": {
        "requests": [{"action": "deleteObject", "indexName": "products", "body": {"objectID": "p2"}}]
    },
    "getObjects": {"requests": [{"indexName": "products", "objectID": "p1"}]},
    "setSettings": {"searchableAttributes": ["name"], "attributesForFaceting": ["brand"]},
    "saveSynonym": {"objectID": "p1", "type": "synonym", "synonyms": ["shoe", "boot"]},
    "saveSynonyms": [{"objectID": "s2", "type": "synonym", "synonyms": ["hat", "cap"]}],
    "searchSynonyms": {"query": ""},
    "saveRule": {"objectID": "p1", "consequence": {"params": {"filters": "brand:acme"}}},
    "saveRules": [{"objectID": "r2", "consequence": {"params": {"filters": "brand:acme"}}}],
    "searchRules": {"query": ""},
    "operationIndex": {"operation": "copy", "destination": "products-copy"},
}


def concrete(op: Operation) -> str:
    path = op.path
    for name, value in VALUES.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, path
    return path


def send(client: InProcessClient, op: Operation, body: Any = None) -> Any:
    path = concrete(op)
    if body is None and op.operation_id in BODIES:
        body = BODIES[op.operation_id]
    if body is None:
        return client.request(op.method, path)
    return client.request(op.method, path, json=body)


def test_the_bundled_spec_holds_the_agreed_search_operations() -> None:
    served = {op.operation_id for op in SERVED}
    assert len(served) == 33 and len(UNSERVED) == 25
    assert set(BODIES) <= served
    assert {"getIndexTask", "getAppTask", "deleteSecuritySource"} <= {op.operation_id for op in SEARCH}
    assert SPEC.operations["getTask"].path == "/2/tasks/{taskID}"  # the Ingestion API's keeps its name
    assert SPEC.operations["deleteSource"].path == "/1/sources/{sourceID}"


@pytest.mark.parametrize("op", SERVED, ids=lambda op: op.operation_id)
def test_each_served_search_route_reaches_its_operation(
    app: MockApp, client: InProcessClient, op: Operation
) -> None:
    answer = send(client, op)
    call = app.engine.journal.last()
    assert (call.operation_id, call.method, call.path) == (op.operation_id, op.method, concrete(op))
    assert answer.status_code not in (400, 402, 405), answer.text  # valid, served, routed
    assert answer.status_code < 500, answer.text


@pytest.mark.parametrize("op", UNSERVED, ids=lambda op: op.operation_id)
def test_an_unserved_operation_is_answered_402_naming_it(
    app: MockApp, client: InProcessClient, op: Operation
) -> None:
    # A body no schema allows: the refusal comes before validation, and says what the mock lacks.
    answer = send(client, op, body=["not", "a", "valid", "body"]) if op.has_body else send(client, op)
    message = refused(answer, 402)
    assert answer.json()["error"]["code"] == "operation_not_served"
    assert f"mockserver does not serve {op.operation_id} ({op.method} {op.path})" in message
    call = app.engine.journal.last()
    assert (call.operation_id, call.status) == (op.operation_id, 402)
    assert app.store.accounts.get(APP_ID) is None or not app.store.accounts[APP_ID].indexes


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b'{"acl": ["search"]}', "application/xml", 400),
        (b'{"acl": ["search"]}', "text/plain", 402),  # the JavaScript client's JSON
        (b'{"acl": "not a list"}', "application/json", 402),
    ],
    ids=["invalid-json", "not-json-content-type", "text-plain-json", "json-the-schema-refuses"],
)
def test_an_unreadable_body_is_refused_before_the_402(
    client: InProcessClient, content: bytes, content_type: str, status: int
) -> None:
    """Ledger search-unserved-operations: the 402 comes before the parameters and the body are
    validated, but a body that cannot be read as JSON is refused 400 first, as everywhere."""
    answer = client.post("/1/keys", content=content, headers={"content-type": content_type})
    code = "operation_not_served" if status == 402 else "invalid_payload"
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), answer.text


def test_a_stub_answers_an_unserved_operation() -> None:
    key = {
        "value": "k1",
        "createdAt": 1,
        "acl": ["search"],
        "description": "",
        "indexes": [],
        "maxQueriesPerIPPerHour": 0,
        "maxHitsPerQuery": 0,
        "referers": [],
        "validity": 0,
    }
    app = create_app(
        check_responses=True,
        stubs=({"operation": "getApiKey", "path_params": {"key": "k1"}, "response": key},),
    )
    with InProcessClient(
        app, base_url="http://mock", headers={"x-algolia-application-id": "A", "x-algolia-api-key": "x"}
    ) as client:
        assert client.get("/1/keys/k1").json() == key
        refused(client.get("/1/keys/k2"), 402)
    assert [c.stub_id is not None for c in app.engine.journal] == [True, False]


# --- ACLs ---------------------------------------------------------------------------------------

SEARCH_ACLS = (
    "search",
    "browse",
    "addObject",
    "deleteObject",
    "deleteIndex",
    "settings",
    "editSettings",
    "listIndexes",
)
# One served operation needing each ACL (the published x-acl).
NEEDS = {
    "search": "searchSingleIndex",
    "browse": "browse",
    "addObject": "saveObject",
    "deleteObject": "deleteObject",
    "deleteIndex": "clearObjects",
    "settings": "getSettings",
    "editSettings": "setSettings",
    "listIndexes": "listIndices",
}


def test_every_search_acl_is_needed_by_a_served_operation() -> None:
    assert set(NEEDS) == set(SEARCH_ACLS)
    for acl, operation_id in NEEDS.items():
        assert SPEC.operations[operation_id].raw["x-acl"] == [acl]
    assert {a for op in SERVED for a in op.raw["x-acl"]} == set(SEARCH_ACLS)


@pytest.mark.parametrize("acl", SEARCH_ACLS)
def test_a_key_lacking_a_search_acl_is_refused_naming_it(acl: str) -> None:
    others = [a for a in SEARCH_ACLS if a != acl]
    app = create_app(
        check_responses=True,
        keys=({"apiKey": "without", "acl": others}, {"apiKey": "with", "acl": [acl]}),
    )
    op = SPEC.operations[NEEDS[acl]]
    headers = {"x-algolia-application-id": "ACLAPP"}
    with InProcessClient(
        app, base_url="http://mock", headers={**headers, "x-algolia-api-key": "without"}
    ) as client:
        message = refused(send(client, op), 403)
        assert f"{op.operation_id} needs the ACLs {acl}; this key lacks {acl}" in message
    with InProcessClient(
        app, base_url="http://mock", headers={**headers, "x-algolia-api-key": "with"}
    ) as client:
        assert send(client, op).status_code != 403


def test_an_ingestion_key_cannot_search_and_a_search_key_cannot_ingest() -> None:
    app = create_app(
        check_responses=True,
        keys=(
            {"apiKey": "ingest", "acl": ["addObject", "deleteIndex", "editSettings"]},
            {"apiKey": "search", "acl": ["search"]},
        ),
    )
    headers = {"x-algolia-application-id": "ACLAPP"}
    with InProcessClient(
        app, base_url="http://mock", headers={**headers, "x-algolia-api-key": "ingest"}
    ) as client:
        assert "searchSingleIndex needs the ACLs search" in refused(
            client.post("/1/indexes/p/query", json={}), 403
        )
        assert client.get("/1/sources").status_code == 200
    with InProcessClient(
        app, base_url="http://mock", headers={**headers, "x-algolia-api-key": "search"}
    ) as client:
        assert "listSources needs the ACLs" in refused(client.get("/1/sources"), 403)
        assert client.post("/1/indexes/p/query", json={}).status_code != 403


def test_an_unserved_operation_is_still_refused_to_a_key_without_its_acl() -> None:
    """Credentials and ACLs come first, as for every operation: the 402 is for callers allowed in."""
    app = create_app(check_responses=True, keys=({"apiKey": "search", "acl": ["search"]},))
    headers = {"x-algolia-application-id": "ACLAPP", "x-algolia-api-key": "search"}
    with InProcessClient(app, base_url="http://mock", headers=headers) as client:
        assert "listApiKeys needs the ACLs admin" in refused(client.get("/1/keys"), 403)
        refused(client.get("/1/keys/k1"), 402)  # getApiKey needs only search


# --- an encoded slash inside a path parameter ----------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "operation_id", "params"),
    [
        (
            "GET",
            "/1/indexes/products/shoes%2F42",
            "getObject",
            {"indexName": "products", "objectID": "shoes/42"},
        ),
        (
            "POST",
            "/1/indexes/products/a%2Fb/partial",
            "partialUpdateObject",
            {"indexName": "products", "objectID": "a/b"},
        ),
        ("DELETE", "/1/security/sources/10.0.0.0%2F8", "deleteSecuritySource", {"source": "10.0.0.0/8"}),
        (
            "GET",
            "/1/indexes/products/100%25%2F2",
            "getObject",
            {"indexName": "products", "objectID": "100%/2"},
        ),
        ("GET", "/1/indexes/products/100%252F", "getObject", {"indexName": "products", "objectID": "100%2F"}),
    ],
)
def test_an_encoded_slash_stays_inside_its_path_parameter(
    app: MockApp, client: InProcessClient, method: str, path: str, operation_id: str, params: dict[str, str]
) -> None:
    """The official clients percent-encode IDs in the path (an objectID "shoes/42", a CIDR range):
    the route is found on the path as sent, and the parameter is the ID decoded."""
    client.request(method, path, json={} if method == "POST" else None)
    call = app.engine.journal.last()
    assert (call.operation_id, call.path_params) == (operation_id, params)


def test_a_success_answers_the_status_the_operation_documents() -> None:
    """saveObject documents 201 (and no 200): its handler's answer goes out as 201; the others, 200."""
    assert SPEC.operations["saveObject"].success_status == 201
    assert SPEC.operations["searchSingleIndex"].success_status == 200
    app = create_app(check_responses=True)
    app.engine.handlers["saveObject"] = lambda ctx: {
        "taskID": 1,
        "objectID": "generated",
        "createdAt": "2026-01-01T00:00:00Z",
    }
    headers = {"x-algolia-application-id": "A", "x-algolia-api-key": "k"}
    with InProcessClient(app, base_url="http://mock", headers=headers) as client:
        answer = client.post("/1/indexes/products", json={"name": "shoe"})
    assert (answer.status_code, answer.json()["objectID"]) == (201, "generated")
