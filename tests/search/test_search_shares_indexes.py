"""Both APIs share each index: a push through the Ingestion API is read through the Search API and
the other way round; the official helpers' replace-all flows (copy with scope, write into a
temporary index, move it back) work on the engine, through both APIs."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from mockserver import MockApp
from mockserver.http.inprocess import InProcessClient
from tests.helpers import ok, ok_2xx, push_task_for

SYNONYM = {"objectID": "s1", "type": "synonym", "synonyms": ["sofa", "couch"]}
RULE = {"objectID": "r1", "consequence": {"params": {"query": "lamp"}}}


def test_records_pushed_through_ingestion_are_read_through_search(client: InProcessClient) -> None:
    push_task_for(client, "products")
    records = [{"objectID": "1", "name": "lamp"}, {"objectID": "2", "name": "desk"}]
    ok(client.post("/1/push/products", json={"action": "addObject", "records": records}))
    assert ok(client.get("/1/indexes/products/1")) == records[0]
    found = ok(
        client.post("/1/indexes/*/objects", json={"requests": [{"indexName": "products", "objectID": "2"}]})
    )
    assert found["results"] == [records[1]]
    assert [(i["name"], i["entries"]) for i in ok(client.get("/1/indexes"))["items"]] == [("products", 2)]


@pytest.mark.parametrize("zipped", [False, True], ids=["plain", "gzip"])
def test_a_push_body_as_the_client_wrote_it_reads_back_as_its_records(
    client: InProcessClient, zipped: bool
) -> None:
    """Whatever the text of a push (indented, non-ASCII escaped, an objectID twice, gzipped), the
    index reads back its records, the last one for a repeated objectID; and its size is counted on
    the records' compact JSON, as for records saved through the Search API."""
    push_task_for(client, "products")
    records = [
        {"objectID": "1", "name": "lampe à huile", "price": 12.5},
        {"objectID": "2", "tags": ["a", "b"], "stock": None},
        {"objectID": "1", "name": "café", "nested": {"deep": [1, {"x": True}]}},
    ]
    text = json.dumps({"action": "addObject", "records": records}, indent=3).encode()  # ensure_ascii
    headers = {"content-type": "application/json"}
    if zipped:
        text, headers["content-encoding"] = gzip.compress(text), "gzip"
    ok(client.post("/1/push/products", content=text, headers=headers))
    assert ok(client.get("/1/indexes/products/1")) == records[2]
    assert ok(client.get("/1/indexes/products/2")) == records[1]
    saved = [{"action": "addObject", "body": record} for record in records[1:]]
    ok(client.post("/1/indexes/copy/batch", json={"requests": saved}))
    sizes = {item["name"]: item["dataSize"] for item in ok(client.get("/1/indexes"))["items"]}
    assert sizes["products"] == sizes["copy"]


def test_records_saved_through_search_are_seen_where_the_ingestion_side_reads_indexes(
    client: InProcessClient,
) -> None:
    requests = [{"action": "addObject", "body": {"objectID": str(i), "n": i}} for i in range(3)]
    ok(client.post("/1/indexes/products/batch", json={"requests": requests}))
    view = ok(client.get("/__mock__/indexes/products"))
    assert view["nbHits"] == 3 and sorted(r["objectID"] for r in view["records"]) == ["0", "1", "2"]
    task = push_task_for(client, "products")  # a push task of the Ingestion side updates them
    ok(
        client.post(
            f"/2/tasks/{task}/push",
            json={"action": "partialUpdateObject", "records": [{"objectID": "1", "n": 9}]},
        )
    )
    assert ok(client.get("/1/indexes/products/1")) == {"objectID": "1", "n": 9}


def _seed_live_index(client: InProcessClient) -> None:
    ok(
        client.post(
            "/1/indexes/products/batch",
            json={"requests": [{"action": "addObject", "body": {"objectID": "old"}}]},
        )
    )
    ok(client.put("/1/indexes/products/settings", json={"searchableAttributes": ["name"]}))
    ok(client.put("/1/indexes/products/synonyms/s1", json=SYNONYM))
    ok(client.put("/1/indexes/products/rules/r1", json=RULE))


def _published(client: InProcessClient, index: str, answer: dict[str, Any]) -> None:
    assert ok(client.get(f"/1/indexes/{index}/task/{answer['taskID']}")) == {"status": "published"}


def _after_replace(client: InProcessClient, tmp: str) -> None:
    listed = [i["name"] for i in ok(client.get("/1/indexes"))["items"]]
    assert tmp not in listed and "products" in listed
    assert client.get("/1/indexes/products/old").status_code == 404
    assert ok(client.get("/1/indexes/products/new1")) == {"objectID": "new1", "name": "lamp"}
    assert ok(client.get("/1/indexes/products/settings")) == {"searchableAttributes": ["name"]}
    assert ok(client.get("/1/indexes/products/synonyms/s1")) == SYNONYM
    assert ok(client.get("/1/indexes/products/rules/r1")) == RULE


def test_replace_all_objects_flow_through_the_search_api(client: InProcessClient) -> None:
    """What the official replace_all_objects does: copy the settings, synonyms and rules to a
    temporary index, batch the records into it, copy again, move it onto the index."""
    _seed_live_index(client)
    tmp = "products_tmp_42"
    scope = {"operation": "copy", "destination": tmp, "scope": ["settings", "rules", "synonyms"]}
    _published(client, "products", ok(client.post("/1/indexes/products/operation", json=scope)))
    batch = [{"action": "addObject", "body": {"objectID": "new1", "name": "lamp"}}]
    _published(client, tmp, ok(client.post(f"/1/indexes/{tmp}/batch", json={"requests": batch})))
    ok(client.post("/1/indexes/products/operation", json=scope))
    move = ok(
        client.post(f"/1/indexes/{tmp}/operation", json={"operation": "move", "destination": "products"})
    )
    _published(client, tmp, move)  # the helper waits on the move under the temporary index's name
    _after_replace(client, tmp)


def test_replace_all_objects_with_transformation_flow_across_both_apis(client: InProcessClient) -> None:
    """What replace_all_objects_with_transformation does: the copy through Search, a push through
    Ingestion to the temporary index with referenceIndexName (the push task of the real index),
    its event awaited, the move back through Search."""
    _seed_live_index(client)
    push_task_for(client, "products")
    tmp = "products_tmp_7"
    scope = {"operation": "copy", "destination": tmp, "scope": ["settings", "rules", "synonyms"]}
    ok(client.post("/1/indexes/products/operation", json=scope))
    pushed = ok(
        client.post(
            f"/1/push/{tmp}",
            params={"referenceIndexName": "products"},
            json={"action": "addObject", "records": [{"objectID": "new1", "name": "lamp"}]},
        )
    )
    event = ok_2xx(client.get(f"/1/runs/{pushed['runID']}/events/{pushed['eventID']}"))
    assert event["status"] == "succeeded"
    assert client.get("/1/indexes/products/new1").status_code == 404  # not in the live index yet
    ok(client.post(f"/1/indexes/{tmp}/operation", json={"operation": "move", "destination": "products"}))
    _after_replace(client, tmp)


def test_an_index_written_by_a_run_is_dated_by_the_run(client: InProcessClient, app: MockApp) -> None:
    app.control.clock(now="2030-01-02T03:04:05Z", freeze=True)
    app.control.run_policy(mode="deferred", finish_after=10)
    push_task_for(client, "products")
    ok(client.post("/1/push/products", json={"action": "addObject", "records": [{"objectID": "1"}]}))
    assert ok(client.get("/1/indexes"))["items"] == []  # the run has not written yet
    assert client.get("/1/indexes/products/1").status_code == 404
    app.control.clock(advance=60)
    assert ok(client.get("/1/indexes/products/1")) == {"objectID": "1"}  # a Search read settles runs
    (listed,) = ok(client.get("/1/indexes"))["items"]
    assert (listed["createdAt"], listed["updatedAt"]) == ("2030-01-02T03:04:15Z", "2030-01-02T03:04:15Z")
    ok(client.put("/1/indexes/products/2", json={}))
    (listed,) = ok(client.get("/1/indexes"))["items"]
    assert (listed["createdAt"], listed["updatedAt"]) == ("2030-01-02T03:04:15Z", "2030-01-02T03:05:05Z")


def test_a_record_pushed_with_an_empty_objectid_is_not_said_to_be_missing(client: InProcessClient) -> None:
    """The push accepts an empty objectID (the published schema has no minimum length); a URL cannot
    name it, and the refusal says so, and how to read it, rather than that no such record exists."""
    push_task_for(client, "products")
    ok(client.post("/1/push/products", json={"action": "addObject", "records": [{"objectID": "", "n": 1}]}))
    refusal = client.get("/1/indexes/products/")
    assert refusal.status_code == 404
    message = refusal.json()["message"]
    assert "path.objectID: empty" in message and "POST /1/indexes/*/objects" in message
    assert "nothing has" not in message
    found = ok(
        client.post("/1/indexes/*/objects", json={"requests": [{"indexName": "products", "objectID": ""}]})
    )
    assert found["results"] == [{"objectID": "", "n": 1}]


def test_a_push_partial_update_applies_the_built_in_operations_as_the_search_api_does(
    client: InProcessClient,
) -> None:
    """The push's partialUpdateObject is published as the Search API's "add or update attributes":
    its well-formed built-in operations are applied, not stored. Its records are any objects, so a
    value that is not a well-formed operation (``_operation`` unknown) is set as it is, not refused."""
    task = push_task_for(client, "products")
    ok(client.post("/1/push/products", json={"action": "addObject", "records": [{"objectID": "1", "n": 1}]}))
    changes = {
        "objectID": "1",
        "n": {"_operation": "Increment", "value": 2},
        "tags": {"_operation": "Add", "value": "b"},
    }
    ok(client.post("/1/push/products", json={"action": "partialUpdateObject", "records": [changes]}))
    assert ok(client.get("/1/indexes/products/1")) == {"objectID": "1", "n": 3, "tags": ["b"]}
    via_search = {"objectID": "2", "n": {"_operation": "Increment", "value": 2}}
    ok(client.post("/1/indexes/products/2/partial", json=via_search))
    pushed = {"objectID": "3", "n": {"_operation": "Increment", "value": 2}}
    ok(client.post(f"/2/tasks/{task}/push", json={"action": "partialUpdateObject", "records": [pushed]}))
    assert ok(client.get("/1/indexes/products/3"))["n"] == ok(client.get("/1/indexes/products/2"))["n"] == 2
    bogus = {"objectID": "1", "n": {"_operation": "Bogus", "value": 1}, "m": {"_operation": {"x": 1}}}
    ok(client.post("/1/push/products", json={"action": "partialUpdateObject", "records": [bogus]}))
    assert ok(client.get("/1/indexes/products/1")) == {**bogus, "tags": ["b"]}
