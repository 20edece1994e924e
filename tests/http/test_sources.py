"""Sources through the ASGI app: CRUD, input shapes by type, references, listing and search."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest

from mockserver import MockApp
from mockserver.http.inprocess import InProcessClient
from tests.helpers import OMIT, listed_ids, make_authentication, make_source, ok
from tests.helpers import refused as error

RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


# A source and an authentication as the tests here make them: fields given replace these (OMIT:
# leave the field out).
create = partial(make_source, type="json", name="src", input={"url": "https://example.com/data.json"})
make_auth = partial(
    make_authentication, type="basic", name="a", input={"username": "u", "password": "source-secret"}
)
list_ids = partial(listed_ids, path="/1/sources")


COMMERCETOOLS = {"url": "https://ct.example", "projectKey": "proj", "storeKeys": ["eu"], "locales": ["fr-FR"]}

VALID_INPUTS: list[tuple[str, dict[str, Any] | None]] = [
    ("commercetools", COMMERCETOOLS),
    ("bigcommerce", {"storeHash": "abc", "channel": {"id": 1}}),
    ("json", {"url": "https://x/a.json", "method": "GET", "uniqueIDColumn": "id"}),
    ("csv", {"url": "https://x/a.csv", "delimiter": ";", "mapping": {"price": "float"}}),
    ("bigquery", {"projectID": "p", "datasetID": "d", "dataType": "ga4"}),
    ("ga4BigqueryExport", {"projectID": "p", "datasetID": "d", "tablePrefix": "events_"}),
    ("docker", {"image": "airbyte/source-x", "configuration": {"a": 1}}),
    ("algoliaIndex", {"indexName": "products"}),
    ("push", None),
]


@pytest.mark.parametrize(("kind", "source_input"), VALID_INPUTS)
def test_create_and_get_every_type(
    client: InProcessClient, app: MockApp, kind: str, source_input: dict[str, Any] | None
) -> None:
    app.store.clock.freeze(T0)
    body: dict[str, Any] = {"type": kind, "name": f"{kind} source"}
    if source_input is not None:
        body["input"] = source_input
    created = ok(client.post("/1/sources", json=body))
    source_id = created["sourceID"]
    assert str(uuid.UUID(source_id)) == source_id
    assert created == {"sourceID": source_id, "name": f"{kind} source", "createdAt": "2026-01-01T00:00:00Z"}
    got = ok(client.get(f"/1/sources/{source_id}"))
    expected = {
        "sourceID": source_id,
        **body,
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-01T00:00:00Z",
    }
    assert got == expected


def test_shopify_source_with_its_shop_url_is_accepted(client: InProcessClient) -> None:
    source_id = create(client, type="shopify", input={"shopURL": "https://shop.myshopify.com"})
    assert ok(client.get(f"/1/sources/{source_id}"))["input"]["shopURL"] == "https://shop.myshopify.com"


def test_json_source_with_only_a_url_is_accepted_though_csv_fits_too(client: InProcessClient) -> None:
    json_id = create(client, type="json", input={"url": "https://x"})
    csv_id = create(client, type="csv", input={"url": "https://x"})
    assert ok(client.get(f"/1/sources/{json_id}"))["type"] == "json"
    assert ok(client.get(f"/1/sources/{csv_id}"))["type"] == "csv"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"type": "json", "name": "s", "input": {"indexName": "i"}}, "json"),
        (
            {"type": "bigquery", "name": "s", "input": {"projectID": "p"}},
            "'datasetID' is a required property",
        ),
        ({"type": "csv", "name": "s", "input": {"url": "u", "delimiter": ";;"}}, "delimiter"),
        (
            {
                "type": "commercetools",
                "name": "s",
                "input": {"url": "u", "projectKey": "p", "locales": ["fr_FR"]},
            },
            "locales",
        ),
        ({"type": "docker", "name": "s", "input": {"image": "i"}}, "configuration"),
    ],
)
def test_input_must_fit_the_type(client: InProcessClient, body: dict[str, Any], fragment: str) -> None:
    message = error(client.post("/1/sources", json=body), 400)
    assert message.startswith("body.input"), message
    assert fragment in message
    assert list_ids(client) == []


@pytest.mark.parametrize("delimiter", [" ", "\n", "\r", "\ufffd"])
def test_csv_delimiters_the_published_spec_forbids_are_refused(
    client: InProcessClient, app: MockApp, delimiter: str
) -> None:
    """Published (SourceCSV.delimiter): one character, not \\r, \\n, U+FFFD nor a space."""
    body = {"type": "csv", "name": "s", "input": {"url": "https://x/a.csv", "delimiter": delimiter}}
    message = error(client.post("/1/sources", json=body), 400)
    assert message.startswith("body.input.delimiter: "), message
    assert "space" in message and "U+FFFD" in message, message
    assert list_ids(client) == []
    source_id = make_source(client, "csv", input={"url": "https://x/a.csv"})
    before = ok(client.get(f"/1/sources/{source_id}"))
    message = error(client.patch(f"/1/sources/{source_id}", json={"input": {"delimiter": delimiter}}), 400)
    assert "delimiter" in message and "U+FFFD" in message, message
    assert ok(client.get(f"/1/sources/{source_id}")) == before


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|", "é"])
def test_other_one_character_csv_delimiters_are_accepted(client: InProcessClient, delimiter: str) -> None:
    source_id = make_source(client, "csv", input={"url": "https://x/a.csv", "delimiter": delimiter})
    assert ok(client.get(f"/1/sources/{source_id}"))["input"]["delimiter"] == delimiter


def test_input_is_required_except_for_push(client: InProcessClient) -> None:
    message = error(client.post("/1/sources", json={"type": "json", "name": "s"}), 400)
    assert "'input' is a required property" in message
    message = error(client.post("/1/sources", json={"type": "push", "name": "s", "input": {"url": "u"}}), 400)
    assert "push" in message


def test_patch_merges_input_and_moves_updated_at(client: InProcessClient, app: MockApp) -> None:
    app.store.clock.freeze(T0)
    source_id = create(client, type="commercetools", input=COMMERCETOOLS)
    app.store.clock.advance(61)
    updated = ok(client.patch(f"/1/sources/{source_id}", json={"input": {"storeKeys": ["us", "ca"]}}))
    assert updated == {"sourceID": source_id, "name": "src", "updatedAt": "2026-01-01T00:01:01Z"}
    got = ok(client.get(f"/1/sources/{source_id}"))
    assert got["input"] == {**COMMERCETOOLS, "storeKeys": ["us", "ca"]}
    assert got["createdAt"] == "2026-01-01T00:00:00Z"
    assert got["updatedAt"] == "2026-01-01T00:01:01Z"


def test_patch_json_input_keeps_other_keys(client: InProcessClient) -> None:
    source_id = create(client, input={"url": "https://old", "method": "POST", "uniqueIDColumn": "sku"})
    ok(client.patch(f"/1/sources/{source_id}", json={"name": "renamed", "input": {"url": "https://new"}}))
    got = ok(client.get(f"/1/sources/{source_id}"))
    assert got["input"] == {"url": "https://new", "method": "POST", "uniqueIDColumn": "sku"}
    assert got["name"] == "renamed"


def test_patch_input_is_checked_against_the_sources_own_type(client: InProcessClient) -> None:
    json_id = create(client)
    commercetools_id = create(client, type="commercetools", input=COMMERCETOOLS)
    # {"storeKeys": [...]} is a valid commercetools update, not a valid json input.
    message = error(client.patch(f"/1/sources/{json_id}", json={"input": {"storeKeys": ["a"]}}), 400)
    assert message.startswith("body.input")
    ok(client.patch(f"/1/sources/{commercetools_id}", json={"input": {"storeKeys": ["a"]}}))
    assert ok(client.get(f"/1/sources/{json_id}"))["input"] == {"url": "https://example.com/data.json"}


def test_patch_input_on_a_push_source_is_400(client: InProcessClient) -> None:
    source_id = create(client, type="push", input=OMIT)
    client_body = {"input": {"url": "https://x"}}
    message = error(client.patch(f"/1/sources/{source_id}", json=client_body), 400)
    assert message.startswith("body.input")
    assert "input" not in ok(client.get(f"/1/sources/{source_id}"))


def test_delete_then_get_is_404(client: InProcessClient) -> None:
    source_id = create(client)
    assert RFC3339.fullmatch(ok(client.delete(f"/1/sources/{source_id}"))["deletedAt"])
    assert source_id in error(client.get(f"/1/sources/{source_id}"), 404)
    error(client.patch(f"/1/sources/{source_id}", json={"name": "x"}), 404)


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_unknown_id_is_404(client: InProcessClient, method: str) -> None:
    kwargs: dict[str, Any] = {"json": {"name": "x"}} if method == "PATCH" else {}
    assert "nope" in error(client.request(method, "/1/sources/nope", **kwargs), 404)


# --- references -------------------------------------------------------------------------------


def test_unknown_authentication_is_400_naming_the_field(client: InProcessClient) -> None:
    message = error(
        client.post(
            "/1/sources",
            json={"type": "json", "name": "s", "input": {"url": "u"}, "authenticationID": "ghost"},
        ),
        400,
    )
    assert message.startswith("body.authenticationID")
    assert "ghost" in message
    assert list_ids(client) == []


def test_patch_with_unknown_authentication_is_400(client: InProcessClient) -> None:
    source_id = create(client)
    message = error(client.patch(f"/1/sources/{source_id}", json={"authenticationID": "ghost"}), 400)
    assert message.startswith("body.authenticationID")
    assert "authenticationID" not in ok(client.get(f"/1/sources/{source_id}"))


def test_source_keeps_its_authentication(client: InProcessClient) -> None:
    auth_id = make_auth(client)
    source_id = create(client, authenticationID=auth_id)
    got = ok(client.get(f"/1/sources/{source_id}"))
    assert got["authenticationID"] == auth_id
    assert "source-secret" not in client.get(f"/1/sources/{source_id}").text


# --- listing ----------------------------------------------------------------------------------


def test_empty_list_has_one_page(client: InProcessClient) -> None:
    assert ok(client.get("/1/sources")) == {
        "sources": [],
        "pagination": {"nbPages": 1, "page": 1, "nbItems": 0, "itemsPerPage": 10},
    }


def test_pagination(client: InProcessClient) -> None:
    ids = [create(client, name=f"s{i}") for i in range(4)][::-1]
    for page, expected in [(1, ids[0:1]), (2, ids[1:2]), (4, ids[3:4]), (5, [])]:
        result = ok(client.get("/1/sources", params={"itemsPerPage": 1, "page": page}))
        assert [s["sourceID"] for s in result["sources"]] == expected
        assert result["pagination"] == {"nbPages": 4, "page": page, "nbItems": 4, "itemsPerPage": 1}


def test_exact_multiple_of_the_page_size(client: InProcessClient) -> None:
    for i in range(4):
        create(client, name=f"s{i}")
    result = ok(client.get("/1/sources", params={"itemsPerPage": 2, "page": 2}))
    assert len(result["sources"]) == 2
    assert result["pagination"]["nbPages"] == 2


def test_filter_by_type(client: InProcessClient) -> None:
    json_id = create(client)
    csv_id = create(client, type="csv", input={"url": "u"})
    push_id = create(client, type="push", input=OMIT)
    assert list_ids(client, type="csv") == [csv_id]
    assert list_ids(client, type="push,json") == [push_id, json_id]
    assert list_ids(client, type="docker") == []


def test_filter_by_authentication_id(client: InProcessClient) -> None:
    a1, a2 = make_auth(client), make_auth(client)
    s1 = create(client, authenticationID=a1)
    s2 = create(client, authenticationID=a2)
    create(client)
    assert list_ids(client, authenticationID=a2) == [s2]
    assert list_ids(client, authenticationID=f"{a2},{a1}") == [s2, s1]
    assert list_ids(client, authenticationID="nobody") == []


def test_filters_combine(client: InProcessClient) -> None:
    auth_id = make_auth(client)
    create(client, authenticationID=auth_id)
    target = create(client, type="csv", input={"url": "u"}, authenticationID=auth_id)
    create(client, type="csv", input={"url": "u"})
    assert list_ids(client, type="csv", authenticationID=auth_id) == [target]


def test_sort_keys_and_order(client: InProcessClient, app: MockApp) -> None:
    app.store.clock.freeze(T0)
    b = create(client, name="bravo", type="push", input=OMIT)
    app.store.clock.advance(1)
    a = create(client, name="alpha", type="csv", input={"url": "u"})
    app.store.clock.advance(1)
    c = create(client, name="charlie", type="json")
    app.store.clock.advance(1)
    ok(client.patch(f"/1/sources/{a}", json={"name": "alpha"}))
    assert list_ids(client) == [c, a, b]
    assert list_ids(client, sort="createdAt", order="asc") == [b, a, c]
    assert list_ids(client, sort="name", order="asc") == [a, b, c]
    assert list_ids(client, sort="name", order="desc") == [c, b, a]
    assert list_ids(client, sort="type", order="asc") == [a, c, b]
    assert list_ids(client, sort="type", order="desc") == [b, c, a]
    assert list_ids(client, sort="updatedAt", order="asc") == [b, c, a]
    assert list_ids(client, sort="updatedAt", order="desc") == [a, c, b]


# --- search -----------------------------------------------------------------------------------


def test_search_by_ids(client: InProcessClient) -> None:
    a, b = create(client, name="a"), create(client, name="b")
    found = ok(client.post("/1/sources/search", json={"sourceIDs": ["missing", b]}))
    assert found == [ok(client.get(f"/1/sources/{b}"))]
    assert a not in {s["sourceID"] for s in found}
    assert ok(client.post("/1/sources/search", json={"sourceIDs": []})) == []


def test_a_csv_source_without_a_delimiter_is_answered_with_the_published_default(
    client: InProcessClient,
) -> None:
    csv_id = make_source(client, "csv", input={"url": "https://x/a.csv"})
    assert ok(client.get(f"/1/sources/{csv_id}"))["input"]["delimiter"] == ","
    semicolon = make_source(client, "csv", input={"url": "https://x/b.csv", "delimiter": ";"})
    assert ok(client.get(f"/1/sources/{semicolon}"))["input"]["delimiter"] == ";"
    ok(client.patch(f"/1/sources/{csv_id}", json={"input": {"url": "https://x/c.csv"}}))
    assert ok(client.get(f"/1/sources/{csv_id}"))["input"]["delimiter"] == ","
