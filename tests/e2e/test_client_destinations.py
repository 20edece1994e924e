"""Destinations through the real algoliasearch IngestionClientSync."""

from __future__ import annotations

from typing import Any

import pytest
from algoliasearch.http.exceptions import RequestException
from algoliasearch.ingestion.client import IngestionClientSync
from algoliasearch.ingestion.models.destination_create import DestinationCreate
from algoliasearch.ingestion.models.destination_input import DestinationInput
from algoliasearch.ingestion.models.destination_search import DestinationSearch
from algoliasearch.ingestion.models.destination_type import DestinationType
from algoliasearch.ingestion.models.destination_update import DestinationUpdate
from algoliasearch.ingestion.models.record_type import RecordType


def _create(ingestion: IngestionClientSync, name: str, index: str, **extra: Any) -> str:
    body: dict[str, Any] = {"type": "search", "name": name, "input": {"indexName": index}, **extra}
    destination_id: str = ingestion.create_destination(body).destination_id
    return destination_id


def _auth(ingestion: IngestionClientSync, name: str = "algolia") -> str:
    auth_id: str = ingestion.create_authentication(
        {"type": "algolia", "name": name, "input": {"appID": "APP", "apiKey": "secret"}}
    ).authentication_id
    return auth_id


def _transformation(ingestion: IngestionClientSync, name: str = "t") -> str:
    transformation_id: str = ingestion.create_transformation(
        {"name": name, "code": "function transform(r) { return r; }"}
    ).transformation_id
    return transformation_id


def test_create_with_request_model_then_get(ingestion: IngestionClientSync) -> None:
    auth_id = _auth(ingestion)
    transformation_id = _transformation(ingestion)
    body = DestinationCreate(
        type=DestinationType.SEARCH,
        name="products",
        input=DestinationInput(
            index_name="products", record_type=RecordType.PRODUCT, attributes_to_exclude=["cost"]
        ),
        authentication_id=auth_id,
        transformation_ids=[transformation_id],
    )
    created = ingestion.create_destination(body)
    assert created.name == "products"
    assert created.created_at

    got = ingestion.get_destination(created.destination_id)
    assert got.destination_id == created.destination_id
    assert got.type == "search"
    assert got.name == "products"
    assert got.input.index_name == "products"
    assert got.input.record_type == "product"
    assert got.input.attributes_to_exclude == ["cost"]
    assert got.authentication_id == auth_id
    assert got.transformation_ids == [transformation_id]
    assert got.created_at == created.created_at
    assert got.updated_at == created.created_at


def test_create_refuses_unknown_references(ingestion: IngestionClientSync) -> None:
    with pytest.raises(RequestException) as caught:
        _create(ingestion, "d", "i", authenticationID="00000000-0000-4000-8000-000000000000")
    assert caught.value.status_code == 400
    assert "authenticationID" in caught.value.message

    with pytest.raises(RequestException) as caught:
        _create(ingestion, "d", "i", transformationIDs=["00000000-0000-4000-8000-000000000000"])
    assert caught.value.status_code == 400
    assert "transformationIDs" in caught.value.message
    assert ingestion.list_destinations().pagination.nb_items == 0


def test_list_filters_sorts_and_pages(ingestion: IngestionClientSync) -> None:
    auth_id = _auth(ingestion)
    for name in ["delta", "alpha", "echo", "charlie", "bravo"]:
        _create(ingestion, name, f"idx-{name}", authenticationID=auth_id)
    _create(ingestion, "aaa-no-auth", "idx")
    ingestion.create_destination({"type": "insights", "name": "zzz-insights", "input": {"indexName": "ev"}})

    first = ingestion.list_destinations(
        items_per_page=2, page=1, authentication_id=[auth_id], sort="name", order="asc"
    )
    assert [d.name for d in first.destinations] == ["alpha", "bravo"]
    assert first.pagination.nb_items == 5
    assert first.pagination.nb_pages == 3
    assert first.pagination.items_per_page == 2

    names: list[str] = []
    for page in range(1, first.pagination.nb_pages + 1):
        listed = ingestion.list_destinations(
            items_per_page=2, page=page, authentication_id=[auth_id], sort="name", order="asc"
        )
        assert listed.pagination.page == page
        names += [d.name for d in listed.destinations]
    assert names == ["alpha", "bravo", "charlie", "delta", "echo"]

    insights = ingestion.list_destinations(type=["insights"])
    assert [d.name for d in insights.destinations] == ["zzz-insights"]
    assert insights.destinations[0].type == "insights"

    by_type = ingestion.list_destinations(type=["search"], sort="name", order="desc", items_per_page=3)
    assert [d.name for d in by_type.destinations] == ["echo", "delta", "charlie"]
    assert by_type.pagination.nb_items == 6
    assert by_type.pagination.nb_pages == 2


def test_list_by_transformation(ingestion: IngestionClientSync) -> None:
    used = _transformation(ingestion, "used")
    unused = _transformation(ingestion, "unused")
    with_it = _create(ingestion, "with", "i", transformationIDs=[used])
    _create(ingestion, "without", "i")

    listed = ingestion.list_destinations(transformation_id=used)
    assert [d.destination_id for d in listed.destinations] == [with_it]
    assert listed.destinations[0].transformation_ids == [used]
    assert ingestion.list_destinations(transformation_id=unused).destinations == []


def test_search_by_ids(ingestion: IngestionClientSync) -> None:
    a = _create(ingestion, "a", "i")
    b = _create(ingestion, "b", "i")
    _create(ingestion, "c", "i")

    found = ingestion.search_destinations(DestinationSearch(destination_ids=[b, a, "nope"]))
    assert [d.destination_id for d in found] == [b, a]
    assert found[0].input.index_name == "i"
    assert ingestion.search_destinations({"destinationIDs": ["nope"]}) == []


def test_update_is_a_patch(ingestion: IngestionClientSync) -> None:
    auth_id = _auth(ingestion)
    destination_id = _create(ingestion, "before", "old-index", authenticationID=auth_id)

    renamed = ingestion.update_destination(destination_id, DestinationUpdate(name="after"))
    assert renamed.destination_id == destination_id
    assert renamed.name == "after"
    assert renamed.updated_at

    got = ingestion.get_destination(destination_id)
    assert got.name == "after"
    assert got.input.index_name == "old-index"
    assert got.authentication_id == auth_id
    assert got.updated_at == renamed.updated_at

    ingestion.update_destination(destination_id, {"input": {"recordType": "variant"}})
    got = ingestion.get_destination(destination_id)
    assert got.input.index_name == "old-index"
    assert got.input.record_type == "variant"
    assert got.name == "after"


def test_update_refuses_unknown_transformation(ingestion: IngestionClientSync) -> None:
    destination_id = _create(ingestion, "d", "i")
    with pytest.raises(RequestException) as caught:
        ingestion.update_destination(destination_id, {"transformationIDs": ["nope"]})
    assert caught.value.status_code == 400
    assert "transformationIDs" in caught.value.message
    assert ingestion.get_destination(destination_id).transformation_ids is None


def test_delete(ingestion: IngestionClientSync) -> None:
    gone = _create(ingestion, "gone", "i")
    kept = _create(ingestion, "kept", "i")

    assert ingestion.delete_destination(gone).deleted_at
    with pytest.raises(RequestException) as caught:
        ingestion.get_destination(gone)
    assert caught.value.status_code == 404
    with pytest.raises(RequestException) as caught:
        ingestion.delete_destination(gone)
    assert caught.value.status_code == 404
    listed = ingestion.list_destinations()
    assert [d.destination_id for d in listed.destinations] == [kept]
    assert listed.pagination.nb_items == 1
