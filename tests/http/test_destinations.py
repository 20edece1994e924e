"""Destinations through the ASGI app: CRUD, references, listing, filters, sorting and search."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest

from mockserver import MockApp
from mockserver.http.inprocess import InProcessClient
from tests.helpers import listed_ids, make_authentication, make_destination, ok
from tests.helpers import make_transformation as make_transformation_of
from tests.helpers import refused as error

RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


# A destination, an authentication and a transformation as the tests here make them: fields given
# replace these.
create = partial(make_destination, index="products", name="dest")
make_auth = partial(
    make_authentication, type="algolia", name="a", input={"appID": "APP", "apiKey": "dest-secret"}
)
make_transformation = partial(make_transformation_of, code="function f(r) { return r; }")
list_ids = partial(listed_ids, path="/1/destinations")


def test_create_and_get(client: InProcessClient, app: MockApp) -> None:
    app.store.clock.freeze(T0)
    auth_id = make_auth(client)
    transformation_id = make_transformation(client)
    created = ok(
        client.post(
            "/1/destinations",
            json={
                "type": "insights",
                "name": "events",
                "input": {"indexName": "products", "recordType": "variant", "attributesToExclude": ["x"]},
                "authenticationID": auth_id,
                "transformationIDs": [transformation_id],
            },
        )
    )
    destination_id = created["destinationID"]
    assert str(uuid.UUID(destination_id)) == destination_id
    assert created == {"destinationID": destination_id, "name": "events", "createdAt": "2026-01-01T00:00:00Z"}
    got = ok(client.get(f"/1/destinations/{destination_id}"))
    assert got == {
        "destinationID": destination_id,
        "type": "insights",
        "name": "events",
        "input": {"indexName": "products", "recordType": "variant", "attributesToExclude": ["x"]},
        "authenticationID": auth_id,
        "transformationIDs": [transformation_id],
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z",
    }


def test_created_at_is_rfc3339(client: InProcessClient) -> None:
    destination_id = create(client)
    got = ok(client.get(f"/1/destinations/{destination_id}"))
    assert RFC3339.fullmatch(got["createdAt"])
    assert RFC3339.fullmatch(got["updatedAt"])


def test_patch_merges_input_and_moves_updated_at(client: InProcessClient, app: MockApp) -> None:
    app.store.clock.freeze(T0)
    destination_id = create(client, input={"indexName": "products", "recordType": "product"})
    app.store.clock.advance(3600)
    updated = ok(
        client.patch(
            f"/1/destinations/{destination_id}",
            json={"name": "renamed", "input": {"recordType": "variant", "attributesToExclude": ["a"]}},
        )
    )
    assert updated == {
        "destinationID": destination_id,
        "name": "renamed",
        "updatedAt": "2026-01-01T01:00:00Z",
    }
    got = ok(client.get(f"/1/destinations/{destination_id}"))
    assert got["input"] == {"indexName": "products", "recordType": "variant", "attributesToExclude": ["a"]}
    assert got["name"] == "renamed"
    assert got["type"] == "search"
    assert got["createdAt"] == "2026-01-01T00:00:00Z"
    assert got["updatedAt"] == "2026-01-01T01:00:00Z"


def test_patch_without_input_keeps_input(client: InProcessClient) -> None:
    destination_id = create(client, input={"indexName": "kept", "recordType": "collection"})
    ok(client.patch(f"/1/destinations/{destination_id}", json={"name": "n"}))
    got = ok(client.get(f"/1/destinations/{destination_id}"))
    assert got["input"] == {"indexName": "kept", "recordType": "collection"}


def test_delete_then_get_is_404(client: InProcessClient) -> None:
    destination_id = create(client)
    assert RFC3339.fullmatch(ok(client.delete(f"/1/destinations/{destination_id}"))["deletedAt"])
    assert destination_id in error(client.get(f"/1/destinations/{destination_id}"), 404)
    assert list_ids(client) == []


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_unknown_id_is_404(client: InProcessClient, method: str) -> None:
    kwargs: dict[str, Any] = {"json": {"name": "x"}} if method == "PATCH" else {}
    assert "nope" in error(client.request(method, "/1/destinations/nope", **kwargs), 404)


# --- references -------------------------------------------------------------------------------


def test_unknown_authentication_is_400_naming_the_field(client: InProcessClient) -> None:
    message = error(
        client.post(
            "/1/destinations",
            json={"type": "search", "name": "d", "input": {"indexName": "i"}, "authenticationID": "ghost"},
        ),
        400,
    )
    assert message.startswith("body.authenticationID")
    assert "ghost" in message
    assert list_ids(client) == []


def test_unknown_transformation_is_400_naming_the_field(client: InProcessClient) -> None:
    known = make_transformation(client)
    message = error(
        client.post(
            "/1/destinations",
            json={
                "type": "search",
                "name": "d",
                "input": {"indexName": "i"},
                "transformationIDs": [known, "ghost"],
            },
        ),
        400,
    )
    assert message.startswith("body.transformationIDs")
    assert "ghost" in message
    assert list_ids(client) == []


def test_patch_with_unknown_references_is_400(client: InProcessClient) -> None:
    """On a destination that exists, a missing reference is refused as on create: 400
    resource_not_found (the 404 is kept for the destination the URL names)."""
    destination_id = create(client)
    message = error(
        client.patch(f"/1/destinations/{destination_id}", json={"authenticationID": "ghost"}), 400
    )
    assert message.startswith("body.authenticationID")
    message = error(
        client.patch(f"/1/destinations/{destination_id}", json={"transformationIDs": ["ghost"]}), 400
    )
    assert message.startswith("body.transformationIDs")
    got = ok(client.get(f"/1/destinations/{destination_id}"))
    assert "authenticationID" not in got
    assert "transformationIDs" not in got


def test_a_transformation_used_by_a_destination_cannot_be_deleted(client: InProcessClient) -> None:
    transformation_id = make_transformation(client)
    destination_id = create(client, transformationIDs=[transformation_id])
    message = error(client.delete(f"/1/transformations/{transformation_id}"), 400)
    assert "destination" in message
    assert destination_id in message
    ok(client.get(f"/1/transformations/{transformation_id}"))
    ok(client.patch(f"/1/destinations/{destination_id}", json={"transformationIDs": []}))
    ok(client.delete(f"/1/transformations/{transformation_id}"))


def test_repointing_a_destination_frees_its_old_authentication(client: InProcessClient) -> None:
    old = make_auth(client)
    new = make_auth(client)
    destination_id = create(client, authenticationID=old)
    ok(client.patch(f"/1/destinations/{destination_id}", json={"authenticationID": new}))
    ok(client.delete(f"/1/authentications/{old}"))
    assert destination_id in error(client.delete(f"/1/authentications/{new}"), 400)


# --- listing ----------------------------------------------------------------------------------


def test_empty_list_has_one_page(client: InProcessClient) -> None:
    assert ok(client.get("/1/destinations", params={"itemsPerPage": 5, "page": 3})) == {
        "destinations": [],
        "pagination": {"nbPages": 1, "page": 3, "nbItems": 0, "itemsPerPage": 5},
    }


def test_pagination(client: InProcessClient) -> None:
    ids = [create(client, name=f"d{i}") for i in range(7)][::-1]
    pages = [ok(client.get("/1/destinations", params={"itemsPerPage": 3, "page": p})) for p in (1, 2, 3, 4)]
    assert [[d["destinationID"] for d in p["destinations"]] for p in pages] == [
        ids[0:3],
        ids[3:6],
        ids[6:],
        [],
    ]
    for number, page in enumerate(pages, start=1):
        assert page["pagination"] == {"nbPages": 3, "page": number, "nbItems": 7, "itemsPerPage": 3}


def test_filter_by_type(client: InProcessClient) -> None:
    search = create(client, type="search")
    insights = create(client, type="insights")
    assert list_ids(client, type="search") == [search]
    assert list_ids(client, type="insights") == [insights]
    assert list_ids(client, type="search,insights") == [insights, search]


def test_filter_by_authentication_id(client: InProcessClient) -> None:
    a1, a2, a3 = make_auth(client), make_auth(client), make_auth(client)
    d1 = create(client, authenticationID=a1)
    d2 = create(client, authenticationID=a2)
    create(client)
    assert list_ids(client, authenticationID=a1) == [d1]
    assert list_ids(client, authenticationID=f"{a1},{a2}") == [d2, d1]
    assert list_ids(client, authenticationID=a3) == []


def test_filter_by_transformation_id(client: InProcessClient) -> None:
    t1, t2 = make_transformation(client, "t1"), make_transformation(client, "t2")
    both = create(client, transformationIDs=[t1, t2])
    only_t2 = create(client, transformationIDs=[t2])
    create(client)
    assert list_ids(client, transformationID=t1) == [both]
    assert list_ids(client, transformationID=t2) == [only_t2, both]
    assert list_ids(client, transformationID="unknown") == []


def test_sort_keys_and_order(client: InProcessClient, app: MockApp) -> None:
    app.store.clock.freeze(T0)
    b = create(client, name="bravo", type="search")
    app.store.clock.advance(1)
    a = create(client, name="alpha", type="insights")
    app.store.clock.advance(1)
    c = create(client, name="charlie", type="search")
    app.store.clock.advance(1)
    ok(client.patch(f"/1/destinations/{b}", json={"name": "bravo"}))
    assert list_ids(client) == [c, a, b]
    assert list_ids(client, order="asc") == [b, a, c]
    assert list_ids(client, sort="name", order="asc") == [a, b, c]
    assert list_ids(client, sort="name", order="desc") == [c, b, a]
    assert list_ids(client, sort="type", order="asc")[0] == a
    assert list_ids(client, sort="type", order="desc")[-1] == a
    assert list_ids(client, sort="updatedAt", order="asc") == [a, c, b]
    assert list_ids(client, sort="updatedAt", order="desc") == [b, c, a]


def test_sort_key_of_another_family_is_400(client: InProcessClient) -> None:
    assert error(client.get("/1/destinations", params={"sort": "platform"}), 400).startswith("query.sort")


# --- search -----------------------------------------------------------------------------------


def test_search_by_ids(client: InProcessClient) -> None:
    a, b, c = create(client, name="a"), create(client, name="b"), create(client, name="c")
    found = ok(client.post("/1/destinations/search", json={"destinationIDs": [a, "missing", c]}))
    assert sorted(d["destinationID"] for d in found) == sorted([a, c])
    assert b not in {d["destinationID"] for d in found}
    assert {d["destinationID"]: d for d in found}[a] == ok(client.get(f"/1/destinations/{a}"))
