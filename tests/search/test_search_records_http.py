"""The Search API's records through the HTTP face (in process): shapes as published, 404s,
partial updates with the built-in operations, batches, and bad input that changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.http.inprocess import InProcessClient
from tests.helpers import ok, ok_2xx, refused


def get(client: InProcessClient, index: str, object_id: str, **params: Any) -> Any:
    return client.get(f"/1/indexes/{index}/{object_id}", params=params)


def test_save_object_makes_an_object_id_when_none_is_given(client: InProcessClient) -> None:
    made = client.post("/1/indexes/products", json={"name": "lamp"})
    assert made.status_code == 201, made.text
    answer = made.json()
    assert set(answer) == {"createdAt", "taskID", "objectID"} and isinstance(answer["taskID"], int)
    assert ok(get(client, "products", answer["objectID"])) == {"name": "lamp", "objectID": answer["objectID"]}
    named = ok_2xx(client.post("/1/indexes/products", json={"objectID": "p1", "name": "desk"}))
    assert named["objectID"] == "p1" and named["taskID"] == answer["taskID"] + 1
    assert ok(get(client, "products", "p1"))["name"] == "desk"


def test_add_or_update_replaces_the_record_under_the_path_id(client: InProcessClient) -> None:
    ok(client.put("/1/indexes/products/p1", json={"name": "desk", "price": 3}))
    answer = ok(client.put("/1/indexes/products/p1", json={"objectID": "other", "name": "chair"}))
    assert set(answer) == {"taskID", "updatedAt", "objectID"} and answer["objectID"] == "p1"
    assert ok(get(client, "products", "p1")) == {"name": "chair", "objectID": "p1"}


def test_get_object_keeps_only_the_attributes_to_retrieve_and_the_object_id(client: InProcessClient) -> None:
    ok(client.put("/1/indexes/products/p1", json={"name": "desk", "price": 3, "color": "red"}))
    got = ok(get(client, "products", "p1", attributesToRetrieve="name,color"))
    assert got == {"objectID": "p1", "name": "desk", "color": "red"}
    assert ok(get(client, "products", "p1", attributesToRetrieve="*"))["price"] == 3


def test_a_missing_index_or_record_is_a_404(client: InProcessClient) -> None:
    assert refused(get(client, "nothing", "p1"), 404).startswith("ObjectID does not exist")
    ok(client.put("/1/indexes/products/p1", json={"name": "desk"}))
    answer = get(client, "products", "p2")
    assert refused(answer, 404).startswith("ObjectID does not exist")
    assert answer.json()["error"]["code"] == "resource_not_found"
    assert "path.objectID" in answer.json()["error"]["detail"]


def test_get_objects_answers_in_order_with_null_for_missing_ones(client: InProcessClient) -> None:
    ok(client.put("/1/indexes/a/1", json={"n": 1, "m": 2}))
    ok(client.put("/1/indexes/b/2", json={"n": 2}))
    requests = [
        {"indexName": "b", "objectID": "2"},
        {"indexName": "a", "objectID": "1", "attributesToRetrieve": ["m"]},
        {"indexName": "a", "objectID": "9"},
        {"indexName": "zz", "objectID": "1"},
    ]
    answer = ok(client.post("/1/indexes/*/objects", json={"requests": requests}))
    assert answer == {"results": [{"n": 2, "objectID": "2"}, {"objectID": "1", "m": 2}, None, None]}


def test_delete_object_answers_a_task_and_a_date(client: InProcessClient) -> None:
    ok(client.put("/1/indexes/products/p1", json={"name": "desk"}))
    answer = ok(client.delete("/1/indexes/products/p1"))
    assert set(answer) == {"taskID", "deletedAt"}
    assert get(client, "products", "p1").status_code == 404
    ok(client.delete("/1/indexes/products/p1"))  # already gone: still a task


def partial(client: InProcessClient, body: dict[str, Any], object_id: str = "p1", **params: Any) -> Any:
    return client.post(f"/1/indexes/products/{object_id}/partial", json=body, params=params)


def op(operation: str, value: Any) -> dict[str, Any]:
    return {"_operation": operation, "value": value}


def test_partial_update_sets_attributes_and_applies_the_built_in_operations(client: InProcessClient) -> None:
    ok(client.put("/1/indexes/products/p1", json={"n": 1, "tags": ["a", "b", "a"], "keep": True}))
    body = {
        "n": op("Increment", 4),
        "m": op("Decrement", 2),
        "tags": op("Remove", "a"),
        "more": op("Add", "x"),
        "set": op("AddUnique", "b"),
        "name": "new",
    }
    answer = ok(partial(client, body))
    assert set(answer) == {"taskID", "updatedAt", "objectID"}
    assert ok(get(client, "products", "p1")) == {
        "objectID": "p1",
        "n": 5,
        "m": -2,
        "tags": ["b"],
        "keep": True,
        "more": ["x"],
        "set": ["b"],
        "name": "new",
    }
    ok(partial(client, {"set": op("AddUnique", "b"), "more": op("Add", "x")}))
    assert ok(get(client, "products", "p1"))["set"] == ["b"]
    assert ok(get(client, "products", "p1"))["more"] == ["x", "x"]


def test_increment_from_and_increment_set_apply_only_when_their_condition_holds(
    client: InProcessClient,
) -> None:
    ok(client.put("/1/indexes/products/p1", json={"version": 1, "name": "a"}))
    ok(partial(client, {"version": op("IncrementFrom", 2), "name": "ignored"}))
    assert ok(get(client, "products", "p1")) == {"objectID": "p1", "version": 1, "name": "a"}
    ok(partial(client, {"version": op("IncrementFrom", 1), "name": "b"}))
    assert ok(get(client, "products", "p1")) == {"objectID": "p1", "version": 2, "name": "b"}
    ok(partial(client, {"version": op("IncrementSet", 2)}))
    assert ok(get(client, "products", "p1"))["version"] == 2
    ok(partial(client, {"version": op("IncrementSet", 7)}))
    assert ok(get(client, "products", "p1"))["version"] == 7
    # a missing record: IncrementFrom 0 and IncrementSet above 0 create it, others do not
    ok(partial(client, {"v": op("IncrementFrom", 1)}, "p2"))
    assert get(client, "products", "p2").status_code == 404
    ok(partial(client, {"v": op("IncrementFrom", 0)}, "p2"))
    assert ok(get(client, "products", "p2")) == {"objectID": "p2", "v": 1}
    ok(partial(client, {"v": op("IncrementSet", 0)}, "p3"))
    assert get(client, "products", "p3").status_code == 404
    ok(partial(client, {"v": op("IncrementSet", 3)}, "p3"))
    assert ok(get(client, "products", "p3")) == {"objectID": "p3", "v": 3}


def test_create_if_not_exists_false_leaves_a_missing_record_missing(client: InProcessClient) -> None:
    ok(partial(client, {"name": "x"}, "p9", createIfNotExists="false"))
    assert get(client, "products", "p9").status_code == 404
    ok(partial(client, {"name": "x"}, "p9"))
    assert ok(get(client, "products", "p9")) == {"name": "x", "objectID": "p9"}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"n": op("Multiply", 2)}, "body.n._operation: 'Multiply' is not a built-in operation"),
        ({"n": op("Increment", "two")}, "body.n.value: Increment takes a number"),
        ({"n": {"_operation": "Add"}}, "body.n: a built-in operation is {_operation, value}"),
    ],
)
def test_a_bad_built_in_operation_is_refused_and_changes_nothing(
    client: InProcessClient, body: dict[str, Any], says: str
) -> None:
    ok(client.put("/1/indexes/products/p1", json={"n": 1}))
    assert says in refused(partial(client, {"name": "changed", **body}))
    assert ok(get(client, "products", "p1")) == {"n": 1, "objectID": "p1"}


def test_batch_applies_every_action_in_order(client: InProcessClient) -> None:
    ok(client.put("/1/indexes/products/old", json={"n": 0}))
    requests = [
        {"action": "clear", "body": {}},
        {"action": "addObject", "body": {"name": "made"}},
        {"action": "updateObject", "body": {"objectID": "u", "n": 1}},
        {"action": "partialUpdateObject", "body": {"objectID": "u", "n": op("Increment", 1)}},
        {"action": "partialUpdateObject", "body": {"objectID": "p", "n": 1}},
        {"action": "partialUpdateObjectNoCreate", "body": {"objectID": "q", "n": 1}},
        {"action": "updateObject", "body": {"objectID": "d"}},
        {"action": "deleteObject", "body": {"objectID": "d"}},
    ]
    answer = ok(client.post("/1/indexes/products/batch", json={"requests": requests}))
    made = answer["objectIDs"][0]
    assert answer["objectIDs"] == [made, "u", "u", "p", "q", "d", "d"]
    assert isinstance(answer["taskID"], int)
    assert get(client, "products", "old").status_code == 404
    assert ok(get(client, "products", made))["name"] == "made"
    assert ok(get(client, "products", "u"))["n"] == 2
    assert ok(get(client, "products", "p"))["n"] == 1
    assert get(client, "products", "q").status_code == 404
    assert get(client, "products", "d").status_code == 404
    ok(client.post("/1/indexes/products/batch", json={"requests": [{"action": "delete", "body": {}}]}))
    assert [i["name"] for i in ok(client.get("/1/indexes"))["items"]] == []


def test_a_batch_with_one_bad_request_changes_nothing(client: InProcessClient) -> None:
    requests = [
        {"action": "addObject", "body": {"objectID": "a"}},
        {"action": "updateObject", "body": {"name": "no id"}},
    ]
    message = refused(client.post("/1/indexes/products/batch", json={"requests": requests}))
    assert "body.requests[1].body.objectID: updateObject needs the objectID" in message
    assert get(client, "products", "a").status_code == 404


def test_multiple_batch_answers_one_task_per_index(client: InProcessClient) -> None:
    requests = [
        {"action": "addObject", "indexName": "a", "body": {"objectID": "1"}},
        {"action": "addObject", "indexName": "b", "body": {"objectID": "2"}},
        {"action": "deleteObject", "indexName": "a", "body": {"objectID": "1"}},
    ]
    answer = ok(client.post("/1/indexes/*/batch", json={"requests": requests}))
    assert set(answer["taskID"]) == {"a", "b"} and answer["objectIDs"] == ["1", "2", "1"]
    assert get(client, "a", "1").status_code == 404 and ok(get(client, "b", "2")) == {"objectID": "2"}


def test_clear_objects_keeps_the_index_and_its_settings(client: InProcessClient) -> None:
    ok(client.put("/1/indexes/products/p1", json={"n": 1}))
    ok(client.put("/1/indexes/products/settings", json={"customRanking": ["desc(n)"]}))
    answer = ok(client.post("/1/indexes/products/clear"))
    assert set(answer) == {"taskID", "updatedAt"}
    assert get(client, "products", "p1").status_code == 404
    assert ok(client.get("/1/indexes/products/settings")) == {"customRanking": ["desc(n)"]}
    listed = ok(client.get("/1/indexes"))["items"]
    assert [(i["name"], i["entries"], i["createdAt"]) for i in listed] == [("products", 0, "")]
