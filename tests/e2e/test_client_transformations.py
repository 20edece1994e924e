"""Transformations through the real algoliasearch IngestionClientSync; their update is a PUT."""

from __future__ import annotations

from typing import Any

import pytest
from algoliasearch.http.exceptions import RequestException
from algoliasearch.ingestion.client import IngestionClientSync
from algoliasearch.ingestion.models.transformation_code import TransformationCode
from algoliasearch.ingestion.models.transformation_create import TransformationCreate
from algoliasearch.ingestion.models.transformation_input import TransformationInput
from algoliasearch.ingestion.models.transformation_no_code import TransformationNoCode
from algoliasearch.ingestion.models.transformation_search import TransformationSearch
from algoliasearch.ingestion.models.transformation_type import TransformationType

CODE = "function transform(record) { return record; }"


def _create(ingestion: IngestionClientSync, name: str, **extra: Any) -> str:
    body: dict[str, Any] = {"name": name, "type": "code", "input": {"code": CODE}, **extra}
    transformation_id: str = ingestion.create_transformation(body).transformation_id
    return transformation_id


def _no_code(ingestion: IngestionClientSync, name: str) -> str:
    body = {"name": name, "type": "noCode", "input": {"steps": [{"kind": "rename"}]}}
    transformation_id: str = ingestion.create_transformation(body).transformation_id
    return transformation_id


def _code(model: Any) -> TransformationCode:
    assert model.input is not None
    found = model.input.actual_instance
    assert isinstance(found, TransformationCode), f"not deserialised as TransformationCode: {found!r}"
    return found


def _steps(model: Any) -> TransformationNoCode:
    assert model.input is not None
    found = model.input.actual_instance
    assert isinstance(found, TransformationNoCode), f"not deserialised as TransformationNoCode: {found!r}"
    return found


def test_create_with_request_model_then_get(ingestion: IngestionClientSync) -> None:
    body = TransformationCreate(
        name="identity",
        type=TransformationType.CODE,
        input=TransformationInput(TransformationCode(code=CODE)),
        description="returns every record unchanged",
    )
    created = ingestion.create_transformation(body)
    assert created.transformation_id
    assert created.created_at

    got = ingestion.get_transformation(created.transformation_id)
    assert got.transformation_id == created.transformation_id
    assert got.name == "identity"
    assert got.type == "code"
    assert got.description == "returns every record unchanged"
    assert got.code == CODE
    assert _code(got).code == CODE
    assert got.created_at == created.created_at
    assert got.updated_at == created.created_at


def test_legacy_top_level_code_is_mirrored_into_input(ingestion: IngestionClientSync) -> None:
    created = ingestion.create_transformation({"name": "legacy", "code": CODE})
    got = ingestion.get_transformation(created.transformation_id)
    assert got.type == "code"
    assert got.code == CODE
    assert _code(got).code == CODE


def test_no_code_transformation(ingestion: IngestionClientSync) -> None:
    transformation_id = _no_code(ingestion, "steps")
    got = ingestion.get_transformation(transformation_id)
    assert got.type == "noCode"
    assert _steps(got).steps == [{"kind": "rename"}]


def test_authentication_ids_must_exist(ingestion: IngestionClientSync) -> None:
    auth_id = ingestion.create_authentication(
        {"type": "secrets", "name": "s", "input": {"token": "t"}}
    ).authentication_id
    transformation_id = _create(ingestion, "with-auth", authenticationIDs=[auth_id])
    assert ingestion.get_transformation(transformation_id).authentication_ids == [auth_id]

    with pytest.raises(RequestException) as caught:
        _create(ingestion, "bad", authenticationIDs=[auth_id, "nope"])
    assert caught.value.status_code == 400
    assert "authenticationIDs" in caught.value.message


def test_list_filters_sorts_and_pages(ingestion: IngestionClientSync) -> None:
    for name in ["delta", "alpha", "echo", "charlie", "bravo"]:
        _create(ingestion, name)
    _no_code(ingestion, "aaa-no-code")
    _no_code(ingestion, "zzz-no-code")

    first = ingestion.list_transformations(items_per_page=2, page=1, type="code", sort="name", order="asc")
    assert [t.name for t in first.transformations] == ["alpha", "bravo"]
    assert first.pagination.nb_items == 5
    assert first.pagination.nb_pages == 3
    assert first.pagination.items_per_page == 2

    names: list[str] = []
    for page in range(1, first.pagination.nb_pages + 1):
        listed = ingestion.list_transformations(
            items_per_page=2, page=page, type="code", sort="name", order="asc"
        )
        assert listed.pagination.page == page
        names += [t.name for t in listed.transformations]
    assert names == ["alpha", "bravo", "charlie", "delta", "echo"]

    no_code = ingestion.list_transformations(type="noCode", sort="name", order="desc")
    assert [t.name for t in no_code.transformations] == ["zzz-no-code", "aaa-no-code"]
    assert all(t.type == "noCode" for t in no_code.transformations)

    everything = ingestion.list_transformations(items_per_page=100)
    assert everything.pagination.nb_items == 7
    assert everything.pagination.nb_pages == 1
    assert everything.transformations[0].name == "zzz-no-code"  # newest first by default


def test_search_by_ids(ingestion: IngestionClientSync) -> None:
    a = _create(ingestion, "a")
    b = _no_code(ingestion, "b")
    _create(ingestion, "c")

    found = ingestion.search_transformations(TransformationSearch(transformation_ids=[b, a, "nope"]))
    assert [t.transformation_id for t in found] == [b, a]
    assert [t.type for t in found] == ["noCode", "code"]
    assert ingestion.search_transformations({"transformationIDs": ["nope"]}) == []


def test_update_is_a_put(ingestion: IngestionClientSync) -> None:
    transformation_id = _create(ingestion, "before", description="will be dropped")
    created_at = ingestion.get_transformation(transformation_id).created_at

    new_code = "function transform(record) { return { ...record, seen: true }; }"
    replaced = ingestion.update_transformation(
        transformation_id,
        TransformationCreate(
            name="after",
            type=TransformationType.CODE,
            input=TransformationInput(TransformationCode(code=new_code)),
        ),
    )
    assert replaced.transformation_id == transformation_id
    assert replaced.updated_at

    got = ingestion.get_transformation(transformation_id)
    assert got.name == "after"
    assert got.code == new_code
    assert _code(got).code == new_code
    assert got.description is None  # PUT: what the body leaves out is gone
    assert got.created_at == created_at
    assert got.updated_at == replaced.updated_at

    # A PUT may change the kind of transformation altogether.
    ingestion.update_transformation(
        transformation_id, {"name": "now-steps", "type": "noCode", "input": {"steps": []}}
    )
    got = ingestion.get_transformation(transformation_id)
    assert got.type == "noCode"
    assert _steps(got).steps == []


def test_update_needs_a_complete_body(ingestion: IngestionClientSync) -> None:
    transformation_id = _create(ingestion, "t")
    with pytest.raises(RequestException) as caught:
        ingestion.update_transformation(transformation_id, {"description": "no name"})
    assert caught.value.status_code == 400
    assert "name" in caught.value.message
    assert ingestion.get_transformation(transformation_id).name == "t"


def test_delete(ingestion: IngestionClientSync) -> None:
    gone = _create(ingestion, "gone")
    kept = _create(ingestion, "kept")

    assert ingestion.delete_transformation(gone).deleted_at
    with pytest.raises(RequestException) as caught:
        ingestion.get_transformation(gone)
    assert caught.value.status_code == 404
    listed = ingestion.list_transformations()
    assert [t.transformation_id for t in listed.transformations] == [kept]


def test_delete_refused_while_a_destination_uses_it(ingestion: IngestionClientSync) -> None:
    transformation_id = _create(ingestion, "used")
    destination_id = ingestion.create_destination(
        {"type": "search", "name": "d", "input": {"indexName": "i"}, "transformationIDs": [transformation_id]}
    ).destination_id

    with pytest.raises(RequestException) as caught:
        ingestion.delete_transformation(transformation_id)
    assert caught.value.status_code == 400
    assert destination_id in caught.value.message
    assert ingestion.get_transformation(transformation_id).name == "used"

    ingestion.delete_destination(destination_id)
    assert ingestion.delete_transformation(transformation_id).deleted_at
