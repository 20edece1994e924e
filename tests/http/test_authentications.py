"""Authentications through the ASGI app: CRUD, listing, filters, sorting, search and secrets."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest

from mockserver import MockApp
from mockserver.http.inprocess import InProcessClient
from tests.helpers import listed_ids, make_authentication, ok
from tests.helpers import refused as error

RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


# An authentication as the tests here make it: fields given replace these.
create = partial(
    make_authentication, type="basic", name="auth", input={"username": "user", "password": "pw-secret"}
)
list_ids = partial(listed_ids, path="/1/authentications")


def test_create_returns_uuid_name_and_rfc3339_creation_date(client: InProcessClient) -> None:
    created = ok(
        client.post(
            "/1/authentications",
            json={"type": "apiKey", "name": "my key", "input": {"key": "k-123"}},
        )
    )
    assert set(created) == {"authenticationID", "name", "createdAt"}
    assert str(uuid.UUID(created["authenticationID"])) == created["authenticationID"]
    assert created["name"] == "my key"
    assert RFC3339.fullmatch(created["createdAt"])


def test_get_returns_the_stored_resource(client: InProcessClient, app: MockApp) -> None:
    app.store.clock.freeze(T0)
    auth_id = create(
        client, type="oauth", name="oa", platform="shopify", input={"url": "https://oauth.example"}
    )
    got = ok(client.get(f"/1/authentications/{auth_id}"))
    assert got == {
        "authenticationID": auth_id,
        "type": "oauth",
        "name": "oa",
        "platform": "shopify",
        "input": {"url": "https://oauth.example"},
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z",
    }


def test_ids_are_distinct(client: InProcessClient) -> None:
    ids = {create(client, name=f"a{i}") for i in range(5)}
    assert len(ids) == 5


def test_patch_merges_input_and_moves_updated_at(client: InProcessClient, app: MockApp) -> None:
    app.store.clock.freeze(T0)
    auth_id = create(client, type="oauth", input={"url": "https://a", "client_id": "cid", "scope": "read"})
    app.store.clock.advance(90)
    updated = ok(client.patch(f"/1/authentications/{auth_id}", json={"input": {"scope": "write"}}))
    assert updated == {"authenticationID": auth_id, "name": "auth", "updatedAt": "2026-01-01T00:01:30Z"}
    got = ok(client.get(f"/1/authentications/{auth_id}"))
    assert got["input"] == {"url": "https://a", "client_id": "cid", "scope": "write"}
    assert got["createdAt"] == "2026-01-01T00:00:00Z"
    assert got["updatedAt"] == "2026-01-01T00:01:30Z"


def test_secrets_come_back_as_null_and_a_null_sent_back_keeps_them(
    client: InProcessClient, app: MockApp
) -> None:
    """The published spec: "This field is `null` in the API response". The key is there, the value not."""
    auth_id = create(client, input={"username": "u1", "password": "keep-me"})
    got = ok(client.get(f"/1/authentications/{auth_id}"))
    assert got["input"] == {"username": "u1", "password": None}
    listed = ok(client.get("/1/authentications"))["authentications"]
    assert [a["input"] for a in listed] == [{"username": "u1", "password": None}]
    # A client that sends back what it read (the secret as null) does not wipe the secret.
    ok(client.patch(f"/1/authentications/{auth_id}", json={"input": {**got["input"], "username": "u2"}}))
    stored = app.store.accounts["TESTAPP"].authentications[auth_id]
    assert stored["input"] == {"username": "u2", "password": "keep-me"}


def test_a_non_secret_field_is_still_refused_as_null(client: InProcessClient) -> None:
    # {"username": null} fits a secrets authentication's input, not a basic one's: 400, not 400
    auth_id = create(client, input={"username": "u1", "password": "pw"})
    message = error(client.patch(f"/1/authentications/{auth_id}", json={"input": {"username": None}}), 400)
    assert "body.input.username: must be of type string" in message


def test_patch_keeps_the_secret_not_given(client: InProcessClient, app: MockApp) -> None:
    auth_id = create(client, input={"username": "u1", "password": "keep-me"})
    ok(client.patch(f"/1/authentications/{auth_id}", json={"name": "renamed", "input": {"username": "u2"}}))
    stored = app.store.accounts["TESTAPP"].authentications[auth_id]
    assert stored["input"] == {"username": "u2", "password": "keep-me"}
    assert stored["name"] == "renamed"


def test_patch_input_is_checked_against_the_authentications_own_type(client: InProcessClient) -> None:
    auth_id = create(client)  # basic
    message = error(client.patch(f"/1/authentications/{auth_id}", json={"input": {"key": "x"}}), 400)
    assert message.startswith("body.input")
    assert "'key' was unexpected" in message


def test_delete_then_get_is_404(client: InProcessClient) -> None:
    auth_id = create(client)
    deleted = ok(client.delete(f"/1/authentications/{auth_id}"))
    assert RFC3339.fullmatch(deleted["deletedAt"])
    assert auth_id in error(client.get(f"/1/authentications/{auth_id}"), 404)
    error(client.delete(f"/1/authentications/{auth_id}"), 404)


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_unknown_id_is_404(client: InProcessClient, method: str) -> None:
    kwargs: dict[str, Any] = {"json": {"name": "x"}} if method == "PATCH" else {}
    message = error(client.request(method, "/1/authentications/no-such-id", **kwargs), 404)
    assert "no-such-id" in message


# --- type/input consistency -------------------------------------------------------------------


def test_basic_without_password_is_rejected_naming_input_and_rule(client: InProcessClient) -> None:
    response = client.post(
        "/1/authentications", json={"type": "basic", "name": "b", "input": {"username": "u"}}
    )
    message = error(response, 400)
    assert message.startswith("body.input")
    assert "'password' is a required property" in message
    assert "basic" in message


def test_input_of_another_type_is_rejected(client: InProcessClient) -> None:
    response = client.post(
        "/1/authentications",
        json={"type": "apiKey", "name": "b", "input": {"username": "u", "password": "p"}},
    )
    message = error(response, 400)
    assert message.startswith("body.input")
    assert "apiKey" in message


@pytest.mark.parametrize("kind", ["algolia", "algoliaInsights"])
def test_algolia_and_insights_with_the_same_shape_are_both_accepted(
    client: InProcessClient, kind: str
) -> None:
    auth_id = create(client, type=kind, input={"appID": "APP", "apiKey": "algolia-secret"})
    got = ok(client.get(f"/1/authentications/{auth_id}"))
    assert got["type"] == kind
    assert got["input"] == {"appID": "APP", "apiKey": None}


@pytest.mark.parametrize(
    ("kind", "given", "shown"),
    [
        (
            "googleServiceAccount",
            {"clientEmail": "a@b.c", "privateKey": "SECRET-pk"},
            {"clientEmail": "a@b.c", "privateKey": None},
        ),
        ("basic", {"username": "u", "password": "SECRET-pw"}, {"username": "u", "password": None}),
        ("apiKey", {"key": "SECRET-key"}, {"key": None}),
        (
            "oauth",
            {"url": "https://o", "client_id": "id", "client_secret": "SECRET-cs", "code": "SECRET-code"},
            # Published: the code "is not returned in the API response" (absent, not null).
            {"url": "https://o", "client_id": "id", "client_secret": None},
        ),
        ("algolia", {"appID": "A", "apiKey": "SECRET-ak"}, {"appID": "A", "apiKey": None}),
        ("algoliaInsights", {"appID": "A", "apiKey": "SECRET-ik"}, {"appID": "A", "apiKey": None}),
        ("secrets", {"token": "SECRET-token", "other": "SECRET-other"}, {"token": None, "other": None}),
    ],
)
def test_secrets_never_appear_in_any_response(
    client: InProcessClient, kind: str, given: dict[str, str], shown: dict[str, str]
) -> None:
    texts: list[str] = []
    created = client.post("/1/authentications", json={"type": kind, "name": "s", "input": given})
    auth_id = ok(created)["authenticationID"]
    texts.append(created.text)
    got = client.get(f"/1/authentications/{auth_id}")
    assert ok(got)["input"] == shown
    texts.append(got.text)
    texts.append(client.get("/1/authentications").text)
    texts.append(client.get("/1/authentications", params={"type": kind}).text)
    search = client.post("/1/authentications/search", json={"authenticationIDs": [auth_id]})
    assert len(ok(search)) == 1
    texts.append(search.text)
    new_input = {k: v.replace("SECRET", "SECRET2") for k, v in given.items()}
    updated = client.patch(f"/1/authentications/{auth_id}", json={"input": new_input})
    ok(updated)
    texts.append(updated.text)
    texts.append(client.get(f"/1/authentications/{auth_id}").text)
    for text in texts:
        assert "SECRET" not in text, text


def test_an_authentication_used_by_a_source_cannot_be_deleted(client: InProcessClient) -> None:
    auth_id = create(client)
    source = ok(
        client.post(
            "/1/sources",
            json={"type": "json", "name": "s", "input": {"url": "https://x"}, "authenticationID": auth_id},
        )
    )
    message = error(client.delete(f"/1/authentications/{auth_id}"), 400)
    assert "source" in message
    assert source["sourceID"] in message
    ok(client.get(f"/1/authentications/{auth_id}"))
    ok(client.delete(f"/1/sources/{source['sourceID']}"))
    ok(client.delete(f"/1/authentications/{auth_id}"))


def test_an_authentication_used_by_a_destination_cannot_be_deleted(client: InProcessClient) -> None:
    auth_id = create(client, type="algolia", input={"appID": "A", "apiKey": "k"})
    destination = ok(
        client.post(
            "/1/destinations",
            json={"type": "search", "name": "d", "input": {"indexName": "i"}, "authenticationID": auth_id},
        )
    )
    message = error(client.delete(f"/1/authentications/{auth_id}"), 400)
    assert "destination" in message
    assert destination["destinationID"] in message
    ok(client.get(f"/1/authentications/{auth_id}"))


def test_an_authentication_used_by_a_transformation_cannot_be_deleted(client: InProcessClient) -> None:
    auth_id = create(client)
    transformation = ok(
        client.post(
            "/1/transformations",
            json={"name": "t", "code": "function f(r) { return r; }", "authenticationIDs": [auth_id]},
        )
    )
    message = error(client.delete(f"/1/authentications/{auth_id}"), 400)
    assert "transformation" in message
    assert transformation["transformationID"] in message
    ok(client.get(f"/1/authentications/{auth_id}"))


# --- listing ----------------------------------------------------------------------------------


def test_empty_list_has_one_page(client: InProcessClient) -> None:
    page = ok(client.get("/1/authentications"))
    assert page == {
        "authentications": [],
        "pagination": {"nbPages": 1, "page": 1, "nbItems": 0, "itemsPerPage": 10},
    }


def test_default_page_size_is_ten_newest_first(client: InProcessClient, app: MockApp) -> None:
    app.store.clock.freeze(T0)
    ids = []
    for i in range(12):
        ids.append(create(client, name=f"a{i:02}"))
        app.store.clock.advance(1)
    page = ok(client.get("/1/authentications"))
    assert [a["authenticationID"] for a in page["authentications"]] == ids[::-1][:10]
    assert page["pagination"] == {"nbPages": 2, "page": 1, "nbItems": 12, "itemsPerPage": 10}


@pytest.mark.parametrize(
    ("page", "expected_slice"),
    [(1, slice(0, 2)), (2, slice(2, 4)), (3, slice(4, 5)), (4, slice(5, 5)), (9, slice(9, 9))],
)
def test_pagination_first_middle_last_and_beyond(
    client: InProcessClient, page: int, expected_slice: slice
) -> None:
    ids = [create(client, name=f"a{i}") for i in range(5)]
    newest_first = ids[::-1]
    result = ok(client.get("/1/authentications", params={"itemsPerPage": 2, "page": page}))
    assert [a["authenticationID"] for a in result["authentications"]] == newest_first[expected_slice]
    assert result["pagination"] == {"nbPages": 3, "page": page, "nbItems": 5, "itemsPerPage": 2}


@pytest.mark.parametrize("per_page", [1, 100])
def test_items_per_page_bounds_are_accepted(client: InProcessClient, per_page: int) -> None:
    for i in range(3):
        create(client, name=f"a{i}")
    result = ok(client.get("/1/authentications", params={"itemsPerPage": per_page}))
    assert len(result["authentications"]) == min(per_page, 3)
    assert result["pagination"]["nbPages"] == (3 if per_page == 1 else 1)


@pytest.mark.parametrize("per_page", ["0", "101"])
def test_items_per_page_out_of_bounds_is_400(client: InProcessClient, per_page: str) -> None:
    message = error(client.get("/1/authentications", params={"itemsPerPage": per_page}), 400)
    assert message.startswith("query.itemsPerPage")


def test_filter_by_type(client: InProcessClient) -> None:
    basic = create(client, type="basic")
    key = create(client, type="apiKey", input={"key": "k"})
    algolia = create(client, type="algolia", input={"appID": "A", "apiKey": "k"})
    assert list_ids(client, type="apiKey") == [key]
    assert sorted(list_ids(client, type="basic,algolia")) == sorted([basic, algolia])
    result = ok(client.get("/1/authentications", params={"type": "oauth"}))
    assert result["authentications"] == []
    assert result["pagination"]["nbItems"] == 0
    assert result["pagination"]["nbPages"] == 1


def test_filter_by_platform_including_none(client: InProcessClient) -> None:
    shopify = create(client, platform="shopify")
    commercetools = create(client, platform="commercetools")
    no_platform = create(client)
    null_platform = create(client, platform=None)
    assert list_ids(client, platform="shopify") == [shopify]
    assert sorted(list_ids(client, platform="none")) == sorted([no_platform, null_platform])
    assert sorted(list_ids(client, platform="none,commercetools")) == sorted(
        [no_platform, null_platform, commercetools]
    )
    assert list_ids(client, platform="bigcommerce") == []


def test_filters_combine(client: InProcessClient) -> None:
    create(client, type="basic", platform="shopify")
    target = create(client, type="apiKey", input={"key": "k"}, platform="shopify")
    create(client, type="apiKey", input={"key": "k"})
    assert list_ids(client, type="apiKey", platform="shopify") == [target]


def test_filtered_list_paginates_over_the_matches(client: InProcessClient) -> None:
    keys = [create(client, type="apiKey", input={"key": "k"}, name=f"k{i}") for i in range(3)]
    for i in range(4):
        create(client, name=f"b{i}")
    result = ok(client.get("/1/authentications", params={"type": "apiKey", "itemsPerPage": 2, "page": 2}))
    assert [a["authenticationID"] for a in result["authentications"]] == [keys[0]]
    assert result["pagination"] == {"nbPages": 2, "page": 2, "nbItems": 3, "itemsPerPage": 2}


def test_sort_by_created_at(client: InProcessClient, app: MockApp) -> None:
    app.store.clock.freeze(T0)
    ids = []
    for name in ("c", "a", "b"):
        ids.append(create(client, name=name))
        app.store.clock.advance(1)
    assert list_ids(client) == ids[::-1]
    assert list_ids(client, sort="createdAt") == ids[::-1]
    assert list_ids(client, sort="createdAt", order="desc") == ids[::-1]
    assert list_ids(client, sort="createdAt", order="asc") == ids


def test_order_alone_applies_to_created_at(client: InProcessClient) -> None:
    ids = [create(client, name=n) for n in ("c", "a", "b")]
    assert list_ids(client, order="asc") == ids


def test_sort_by_name(client: InProcessClient) -> None:
    by_name = {n: create(client, name=n) for n in ("charlie", "alpha", "bravo")}
    assert list_ids(client, sort="name", order="asc") == [by_name[n] for n in ("alpha", "bravo", "charlie")]
    assert list_ids(client, sort="name", order="desc") == [by_name[n] for n in ("charlie", "bravo", "alpha")]
    assert list_ids(client, sort="name") == [by_name[n] for n in ("charlie", "bravo", "alpha")]


def test_sort_by_type(client: InProcessClient) -> None:
    key = create(client, type="apiKey", input={"key": "k"})
    basic = create(client, type="basic")
    algolia = create(client, type="algolia", input={"appID": "A", "apiKey": "k"})
    assert list_ids(client, sort="type", order="asc") == [algolia, key, basic]
    assert list_ids(client, sort="type", order="desc") == [basic, key, algolia]


def test_sort_by_platform(client: InProcessClient) -> None:
    shopify = create(client, platform="shopify")
    bigcommerce = create(client, platform="bigcommerce")
    commercetools = create(client, platform="commercetools")
    ascending = list_ids(client, sort="platform", order="asc")
    descending = list_ids(client, sort="platform", order="desc")
    assert ascending == [bigcommerce, commercetools, shopify]
    assert descending == [shopify, commercetools, bigcommerce]


def test_sort_by_updated_at(client: InProcessClient, app: MockApp) -> None:
    app.store.clock.freeze(T0)
    first = create(client, name="first")
    app.store.clock.advance(1)
    second = create(client, name="second")
    app.store.clock.advance(1)
    third = create(client, name="third")
    app.store.clock.advance(1)
    ok(client.patch(f"/1/authentications/{first}", json={"name": "first again"}))
    assert list_ids(client, sort="updatedAt", order="asc") == [second, third, first]
    assert list_ids(client, sort="updatedAt", order="desc") == [first, third, second]


@pytest.mark.parametrize(("name", "value"), [("sort", "owner"), ("order", "up"), ("type", "token")])
def test_bad_list_parameters_are_400(client: InProcessClient, name: str, value: str) -> None:
    message = error(client.get("/1/authentications", params={name: value}), 400)
    assert message.startswith(f"query.{name}")


# --- search -----------------------------------------------------------------------------------


def test_search_by_ids_skips_unknown_ones(client: InProcessClient) -> None:
    a = create(client, name="a")
    create(client, name="b")
    c = create(client, name="c")
    found = ok(client.post("/1/authentications/search", json={"authenticationIDs": [c, "unknown-id", a]}))
    assert sorted(r["authenticationID"] for r in found) == sorted([a, c])
    by_id = {r["authenticationID"]: r for r in found}
    assert by_id[a] == ok(client.get(f"/1/authentications/{a}"))


def test_search_with_no_known_ids_is_empty(client: InProcessClient) -> None:
    create(client)
    assert ok(client.post("/1/authentications/search", json={"authenticationIDs": ["x", "y"]})) == []


def test_search_needs_the_ids_field(client: InProcessClient) -> None:
    message = error(client.post("/1/authentications/search", json={}), 400)
    assert "authenticationIDs" in message


def test_a_wrong_secret_in_an_update_is_not_echoed(client: InProcessClient) -> None:
    auth_id = create(client, input={"username": "u1", "password": "pw"})
    message = error(
        client.patch(f"/1/authentications/{auth_id}", json={"input": {"password": 987654321}}), 400
    )
    assert "body.input" in message
    assert "987654321" not in message
