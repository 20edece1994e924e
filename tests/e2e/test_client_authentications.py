"""Authentications through the real algoliasearch IngestionClientSync: secrets go in, never come back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from algoliasearch.http.exceptions import RequestException
from algoliasearch.ingestion.client import IngestionClientSync
from algoliasearch.ingestion.models.auth_basic import AuthBasic
from algoliasearch.ingestion.models.auth_input import AuthInput
from algoliasearch.ingestion.models.authentication_create import AuthenticationCreate
from algoliasearch.ingestion.models.authentication_search import AuthenticationSearch
from algoliasearch.ingestion.models.authentication_type import AuthenticationType
from algoliasearch.ingestion.models.authentication_update import AuthenticationUpdate

from mockserver import MockApp
from tests.conftest import APP_ID


def _create(ingestion: IngestionClientSync, name: str, type_: str, input_: dict[str, Any]) -> str:
    created = ingestion.create_authentication({"type": type_, "name": name, "input": input_})
    auth_id: str = created.authentication_id
    return auth_id


def _shown_input(model: Any) -> Any:
    """The deserialised ``input`` as data (the client's oneOf may pick any model whose fields fit)."""
    return model.input.actual_instance.to_dict()


def _raw_body(ingestion: IngestionClientSync, auth_id: str) -> tuple[str, Any]:
    raw = ingestion.get_authentication_with_http_info(auth_id)
    assert raw.status_code == 200
    assert raw.raw_data is not None
    return raw.raw_data, json.loads(raw.raw_data)


def _stored(live_app: MockApp, auth_id: str) -> dict[str, Any]:
    record: dict[str, Any] = live_app.store.account(APP_ID).authentications[auth_id]
    return record


def test_create_with_request_model_then_get(ingestion: IngestionClientSync, live_app: MockApp) -> None:
    body = AuthenticationCreate(
        type=AuthenticationType.BASIC,
        name="warehouse",
        input=AuthInput(AuthBasic(username="ana", password="s3cret")),
    )
    created = ingestion.create_authentication(body)
    assert created.name == "warehouse"
    assert created.created_at

    got = ingestion.get_authentication(created.authentication_id)
    assert got.authentication_id == created.authentication_id
    assert got.type == "basic"
    assert got.name == "warehouse"
    assert got.created_at == created.created_at
    assert got.updated_at == created.created_at
    assert _shown_input(got) == {"username": "ana"}
    # The mock keeps the secret (a run could use it) but answers with it as null (the client's model
    # leaves a null out of to_dict()).
    assert _stored(live_app, created.authentication_id)["input"]["password"] == "s3cret"


@pytest.mark.parametrize(
    ("type_", "input_", "public"),
    [
        ("basic", {"username": "ana", "password": "pw-basic"}, {"username": "ana", "password": None}),
        ("apiKey", {"key": "pw-apikey"}, {"key": None}),
        ("algolia", {"appID": "APP", "apiKey": "pw-algolia"}, {"appID": "APP", "apiKey": None}),
        (
            "oauth",
            {"url": "https://auth.example", "client_id": "cid", "client_secret": "pw-oauth"},
            {"url": "https://auth.example", "client_id": "cid", "client_secret": None},
        ),
        ("secrets", {"token": "pw-secrets"}, {"token": None}),
    ],
)
def test_secrets_never_come_back(
    ingestion: IngestionClientSync, type_: str, input_: dict[str, Any], public: dict[str, Any]
) -> None:
    auth_id = _create(ingestion, f"auth-{type_}", type_, input_)

    text, body = _raw_body(ingestion, auth_id)
    assert body["input"] == public
    assert "pw-" not in text
    # The client deserialises what it got, whatever the type.
    got = ingestion.get_authentication(auth_id)
    assert got.type == type_

    for listed in ingestion.list_authentications().authentications:
        assert "pw-" not in json.dumps(listed.to_dict())
    for found in ingestion.search_authentications({"authenticationIDs": [auth_id]}):
        assert "pw-" not in json.dumps(found.to_dict())


def test_list_filters_sorts_and_pages(ingestion: IngestionClientSync) -> None:
    for name in ["delta", "alpha", "echo", "charlie", "bravo"]:
        _create(ingestion, name, "basic", {"username": name, "password": "x"})
    _create(ingestion, "zulu-key", "apiKey", {"key": "k"})
    _create(ingestion, "aaa-algolia", "algolia", {"appID": "A", "apiKey": "k"})

    first = ingestion.list_authentications(items_per_page=2, page=1, type=["basic"], sort="name", order="asc")
    assert [a.name for a in first.authentications] == ["alpha", "bravo"]
    assert first.pagination.nb_items == 5
    assert first.pagination.nb_pages == 3
    assert first.pagination.page == 1
    assert first.pagination.items_per_page == 2

    names: list[str] = []
    for page in range(1, first.pagination.nb_pages + 1):
        listed = ingestion.list_authentications(
            items_per_page=2, page=page, type=["basic"], sort="name", order="asc"
        )
        assert listed.pagination.page == page
        names += [a.name for a in listed.authentications]
    assert names == ["alpha", "bravo", "charlie", "delta", "echo"]

    desc = ingestion.list_authentications(type=["basic", "apiKey"], sort="name", order="desc")
    assert [a.name for a in desc.authentications] == [
        "zulu-key",
        "echo",
        "delta",
        "charlie",
        "bravo",
        "alpha",
    ]

    # Past the last page: empty, with the same totals.
    beyond = ingestion.list_authentications(items_per_page=2, page=4, type=["basic"])
    assert beyond.authentications == []
    assert beyond.pagination.nb_items == 5


def test_list_default_order_is_newest_first(ingestion: IngestionClientSync) -> None:
    ids = [_create(ingestion, f"a{i}", "apiKey", {"key": "k"}) for i in range(3)]
    listed = ingestion.list_authentications()
    assert [a.authentication_id for a in listed.authentications] == ids[::-1]
    assert listed.pagination.nb_items == 3
    assert listed.pagination.items_per_page == 10


def test_list_by_platform(ingestion: IngestionClientSync) -> None:
    shop = ingestion.create_authentication(
        {"type": "basic", "name": "shop", "platform": "shopify", "input": {"username": "u", "password": "p"}}
    ).authentication_id
    plain = _create(ingestion, "plain", "basic", {"username": "u", "password": "p"})

    shopify = ingestion.list_authentications(platform=["shopify"])
    assert [a.authentication_id for a in shopify.authentications] == [shop]
    assert shopify.authentications[0].platform == "shopify"
    none = ingestion.list_authentications(platform=["none"])
    assert [a.authentication_id for a in none.authentications] == [plain]


def test_search_by_ids(ingestion: IngestionClientSync) -> None:
    a = _create(ingestion, "a", "apiKey", {"key": "k"})
    b = _create(ingestion, "b", "apiKey", {"key": "k"})
    _create(ingestion, "c", "apiKey", {"key": "k"})

    found = ingestion.search_authentications(
        AuthenticationSearch(authentication_ids=[b, "00000000-0000-4000-8000-000000000000", a, b])
    )
    assert [f.authentication_id for f in found] == [b, a]
    assert [f.name for f in found] == ["b", "a"]
    assert ingestion.search_authentications({"authenticationIDs": []}) == []


def test_update_is_a_patch(ingestion: IngestionClientSync, live_app: MockApp) -> None:
    auth_id = _create(ingestion, "before", "basic", {"username": "ana", "password": "old"})

    renamed = ingestion.update_authentication(auth_id, AuthenticationUpdate(name="after"))
    assert renamed.authentication_id == auth_id
    assert renamed.name == "after"
    assert renamed.updated_at

    got = ingestion.get_authentication(auth_id)
    assert got.name == "after"
    assert got.type == "basic"
    assert got.updated_at == renamed.updated_at
    assert _shown_input(got) == {"username": "ana"}

    # A partial input replaces only the keys it names; the new secret is kept, not shown.
    changed = ingestion.update_authentication(auth_id, {"input": {"password": "new"}})
    assert changed.name == "after"
    assert _stored(live_app, auth_id)["input"] == {"username": "ana", "password": "new"}
    assert _raw_body(ingestion, auth_id)[1]["input"] == {"username": "ana", "password": None}


def test_update_rejects_input_of_another_type(ingestion: IngestionClientSync) -> None:
    auth_id = _create(ingestion, "basic", "basic", {"username": "ana", "password": "pw"})
    with pytest.raises(RequestException) as caught:
        ingestion.update_authentication(auth_id, {"input": {"key": "an api key"}})
    assert caught.value.status_code == 400
    assert "input" in caught.value.message


def test_delete(ingestion: IngestionClientSync) -> None:
    auth_id = _create(ingestion, "gone", "apiKey", {"key": "k"})
    kept = _create(ingestion, "kept", "apiKey", {"key": "k"})

    deleted = ingestion.delete_authentication(auth_id)
    assert deleted.deleted_at

    with pytest.raises(RequestException) as caught:
        ingestion.get_authentication(auth_id)
    assert caught.value.status_code == 404
    listed = ingestion.list_authentications()
    assert [a.authentication_id for a in listed.authentications] == [kept]
    assert listed.pagination.nb_items == 1
