"""A partial update whose Increment or Decrement leaves the finite numbers is a 400 naming the
attribute, and changes nothing (JSON has no infinity: it was a 500 before); an empty objectID is refused."""

from __future__ import annotations

from mockserver.http.inprocess import InProcessClient
from tests.helpers import ok, push_task_for, refused

INCREMENT = {"p": {"_operation": "Increment", "value": 1e308}}


def test_an_overflowing_increment_is_a_400_naming_the_attribute(client: InProcessClient) -> None:
    ok(client.put("/1/indexes/o/n", json={"p": 1e308, "q": 1}))
    answer = client.post("/1/indexes/o/n/partial", json={"q": 2, **INCREMENT})
    message = refused(answer, 400)
    assert "body.p" in message and "Increment" in message
    decrement = client.post(
        "/1/indexes/o/n/partial", json={"p": {"_operation": "Decrement", "value": -1e308}}
    )
    assert "body.p" in refused(decrement, 400)
    assert ok(client.get("/1/indexes/o/n")) == {"p": 1e308, "q": 1, "objectID": "n"}


def test_an_overflowing_increment_in_a_batch_changes_nothing(client: InProcessClient) -> None:
    ok(client.put("/1/indexes/o/n", json={"p": 1e308}))
    requests = [
        {"action": "addObject", "body": {"objectID": "m", "p": 1}},
        {"action": "partialUpdateObject", "body": {"objectID": "n", **INCREMENT}},
    ]
    message = refused(client.post("/1/indexes/o/batch", json={"requests": requests}), 400)
    assert "body.requests[1].body.p" in message
    multiple = [{**request, "indexName": "o"} for request in requests]
    message = refused(client.post("/1/indexes/*/batch", json={"requests": multiple}), 400)
    assert "body.requests[1].body.p" in message
    assert client.get("/1/indexes/o/m").status_code == 404
    assert ok(client.get("/1/indexes/o/n")) == {"p": 1e308, "objectID": "n"}


def test_an_empty_object_id_is_refused_as_the_url_side_cannot_name_it(client: InProcessClient) -> None:
    assert "body.objectID" in refused(client.post("/1/indexes/o", json={"objectID": "", "n": 1}), 400)
    requests = [{"action": "updateObject", "body": {"objectID": "", "n": 1}}]
    message = refused(client.post("/1/indexes/o/batch", json={"requests": requests}), 400)
    assert "body.requests[0].body.objectID" in message
    assert client.post("/1/indexes/o/browse", json={}).status_code == 404  # nothing was written


def test_facet_stats_whose_sum_passes_the_largest_double_answer_the_rest(client: InProcessClient) -> None:
    """Three prices of 1.7e308 sum past the largest double: the search answers 200 (it was a 500,
    not journaled), min, max and avg exact, and no sum (no double holds it), the message saying so."""
    records = [{"action": "addObject", "body": {"objectID": str(i), "price": 1.7e308}} for i in range(3)]
    ok(client.post("/1/indexes/p/batch", json={"requests": records}))
    ok(client.put("/1/indexes/p/settings", json={"attributesForFaceting": ["price"]}))
    for facets in (["price"], ["*"]):
        answer = ok(client.post("/1/indexes/p/query", json={"query": "", "facets": facets}))
        assert answer["facets_stats"] == {"price": {"min": 1.7e308, "max": 1.7e308, "avg": 1.7e308}}
        assert "facets_stats.price.sum" in answer["message"]
    calls = client.get("/__mock__/journal", params={"operationId": "searchSingleIndex", "limit": 10})
    assert [call["status"] for call in ok(calls)["calls"]] == [200, 200]
    prices = [1.7e308, 1.7e308, -1.7e308]  # a running sum overflows; the sum does not
    mixed = [{"action": "addObject", "body": {"objectID": str(i), "price": p}} for i, p in enumerate(prices)]
    ok(client.post("/1/indexes/q/batch", json={"requests": mixed}))
    ok(client.put("/1/indexes/q/settings", json={"attributesForFaceting": ["price"]}))
    answer = ok(client.post("/1/indexes/q/query", json={"query": "", "facets": ["price"]}))
    stats = {"min": -1.7e308, "max": 1.7e308, "avg": 1.7e308 / 3, "sum": 1.7e308}
    assert answer["facets_stats"] == {"price": stats}
    assert "message" not in answer


def test_an_integer_past_a_double_or_past_4300_digits_is_a_400_not_a_500(client: InProcessClient) -> None:
    """An integer too large for a double given a fraction, or grown past the longest integer a body
    may hold: a 400 naming the attribute, changing nothing; a push leaves that record as it was."""
    huge = int("9" * 400)
    longest = int("9" * 4300)
    ok(client.put("/1/indexes/o/n", json={"big": huge, "long": longest}))
    fraction = client.post("/1/indexes/o/n/partial", json={"big": {"_operation": "Increment", "value": 1.5}})
    assert "body.big" in refused(fraction, 400)
    longer = client.post("/1/indexes/o/n/partial", json={"long": {"_operation": "Increment", "value": 1}})
    assert "body.long" in refused(longer, 400) and "4300 digits" in refused(longer, 400)
    push_task_for(client, "o")
    records = [
        {"objectID": "k", "x": {"_operation": "Increment", "value": 1}},
        {"objectID": "n", "big": {"_operation": "Increment", "value": 1.5}, "w": 1},
        {"objectID": "k2", "z": 1},
    ]
    ok(client.post("/1/push/o", json={"action": "partialUpdateObject", "records": records}))
    assert ok(client.get("/1/indexes/o/n")) == {"big": huge, "long": longest, "objectID": "n"}
    assert ok(client.get("/1/indexes/o/k")) == {"objectID": "k", "x": 1}
    assert ok(client.get("/1/indexes/o/k2")) == {"objectID": "k2", "z": 1}
