"""Sources through the real algoliasearch IngestionClientSync: their input's shape follows their type."""

from __future__ import annotations

from typing import Any

import pytest
from algoliasearch.http.exceptions import RequestException
from algoliasearch.ingestion.client import IngestionClientSync
from algoliasearch.ingestion.models.source_create import SourceCreate
from algoliasearch.ingestion.models.source_csv import SourceCSV
from algoliasearch.ingestion.models.source_input import SourceInput
from algoliasearch.ingestion.models.source_json import SourceJSON
from algoliasearch.ingestion.models.source_search import SourceSearch
from algoliasearch.ingestion.models.source_type import SourceType
from algoliasearch.ingestion.models.source_update import SourceUpdate


def _json_source(ingestion: IngestionClientSync, name: str, **extra: Any) -> str:
    body: dict[str, Any] = {"type": "json", "name": name, "input": {"url": f"https://x.test/{name}"}, **extra}
    source_id: str = ingestion.create_source(body).source_id
    return source_id


def _auth(ingestion: IngestionClientSync, name: str = "basic") -> str:
    auth_id: str = ingestion.create_authentication(
        {"type": "basic", "name": name, "input": {"username": "u", "password": "p"}}
    ).authentication_id
    return auth_id


def _json_input(model: Any) -> SourceJSON:
    assert model.input is not None
    found = model.input.actual_instance
    assert isinstance(found, SourceJSON), f"not deserialised as SourceJSON: {found!r}"
    return found


def _input_data(model: Any) -> Any:
    """The deserialised ``input`` as data (the client's oneOf may pick any model whose fields fit)."""
    return model.input.actual_instance.to_dict()


def test_create_with_request_model_then_get(ingestion: IngestionClientSync) -> None:
    auth_id = _auth(ingestion)
    body = SourceCreate(
        type=SourceType.CSV,
        name="catalogue",
        input=SourceInput(SourceCSV(url="https://x.test/c.csv", delimiter=";", unique_id_column="sku")),
        authentication_id=auth_id,
    )
    created = ingestion.create_source(body)
    assert created.name == "catalogue"
    assert created.created_at

    got = ingestion.get_source(created.source_id)
    assert got.source_id == created.source_id
    assert got.type == "csv"
    assert got.name == "catalogue"
    assert got.authentication_id == auth_id
    assert got.created_at == created.created_at
    assert got.updated_at == created.created_at
    # The client's oneOf picks the first model that fits (SourceJSON allows extra keys), so compare data.
    assert _input_data(got) == {
        "url": "https://x.test/c.csv",
        "delimiter": ";",
        "uniqueIDColumn": "sku",
    }


def test_json_source_deserialises_to_its_model(ingestion: IngestionClientSync) -> None:
    source_id = _json_source(ingestion, "feed")
    got = ingestion.get_source(source_id)
    assert got.type == "json"
    assert _json_input(got).url == "https://x.test/feed"
    assert got.authentication_id is None


def test_push_source_has_no_input(ingestion: IngestionClientSync) -> None:
    created = ingestion.create_source({"type": "push", "name": "pushed"})
    got = ingestion.get_source(created.source_id)
    assert got.type == "push"
    assert got.input is None


def test_create_refuses_unknown_authentication(ingestion: IngestionClientSync) -> None:
    with pytest.raises(RequestException) as caught:
        _json_source(ingestion, "s", authenticationID="00000000-0000-4000-8000-000000000000")
    assert caught.value.status_code == 400
    assert "authenticationID" in caught.value.message


def test_list_filters_sorts_and_pages(ingestion: IngestionClientSync) -> None:
    for name in ["delta", "alpha", "echo", "charlie", "bravo"]:
        _json_source(ingestion, name)
    ingestion.create_source({"type": "push", "name": "aaa-push"})
    ingestion.create_source({"type": "csv", "name": "zzz-csv", "input": {"url": "https://x.test/z.csv"}})

    first = ingestion.list_sources(items_per_page=2, page=1, type=["json"], sort="name", order="asc")
    assert [s.name for s in first.sources] == ["alpha", "bravo"]
    assert first.pagination.nb_items == 5
    assert first.pagination.nb_pages == 3
    assert first.pagination.items_per_page == 2

    names: list[str] = []
    for page in range(1, first.pagination.nb_pages + 1):
        listed = ingestion.list_sources(items_per_page=2, page=page, type=["json"], sort="name", order="asc")
        assert listed.pagination.page == page
        names += [s.name for s in listed.sources]
    assert names == ["alpha", "bravo", "charlie", "delta", "echo"]

    two_types = ingestion.list_sources(type=["push", "csv"], sort="name", order="desc")
    assert [s.name for s in two_types.sources] == ["zzz-csv", "aaa-push"]
    assert two_types.pagination.nb_items == 2

    by_type = ingestion.list_sources(sort="type", order="asc", items_per_page=100)
    assert [s.type for s in by_type.sources] == ["csv"] + ["json"] * 5 + ["push"]


def test_list_by_authentication(ingestion: IngestionClientSync) -> None:
    auth_a = _auth(ingestion, "a")
    auth_b = _auth(ingestion, "b")
    with_a = _json_source(ingestion, "with-a", authenticationID=auth_a)
    with_b = _json_source(ingestion, "with-b", authenticationID=auth_b)
    _json_source(ingestion, "without")

    only_a = ingestion.list_sources(authentication_id=[auth_a])
    assert [s.source_id for s in only_a.sources] == [with_a]
    both = ingestion.list_sources(authentication_id=[auth_a, auth_b], sort="name", order="asc")
    assert [s.source_id for s in both.sources] == [with_a, with_b]


def test_list_sources_without_authentication(ingestion: IngestionClientSync) -> None:
    """The client documents ``authenticationID=none`` as "sources without an authentication"."""
    auth_id = _auth(ingestion)
    _json_source(ingestion, "with", authenticationID=auth_id)
    without = _json_source(ingestion, "without")

    listed = ingestion.list_sources(authentication_id=["none"])
    assert [s.source_id for s in listed.sources] == [without]


def test_search_by_ids(ingestion: IngestionClientSync) -> None:
    a = _json_source(ingestion, "a")
    b = _json_source(ingestion, "b")
    _json_source(ingestion, "c")

    found = ingestion.search_sources(SourceSearch(source_ids=[a, "nope", b]))
    assert [s.source_id for s in found] == [a, b]
    assert _json_input(found[0]).url == "https://x.test/a"
    assert ingestion.search_sources({"sourceIDs": []}) == []


def test_update_is_a_patch(ingestion: IngestionClientSync) -> None:
    auth_id = _auth(ingestion)
    source_id = _json_source(ingestion, "before", authenticationID=auth_id)

    renamed = ingestion.update_source(source_id, SourceUpdate(name="after"))
    assert renamed.source_id == source_id
    assert renamed.name == "after"
    assert renamed.updated_at

    got = ingestion.get_source(source_id)
    assert got.name == "after"
    assert got.type == "json"
    assert got.authentication_id == auth_id
    assert _json_input(got).url == "https://x.test/before"
    assert got.updated_at == renamed.updated_at

    ingestion.update_source(source_id, {"input": {"url": "https://x.test/new", "method": "POST"}})
    got = ingestion.get_source(source_id)
    assert _json_input(got).url == "https://x.test/new"
    assert _json_input(got).method == "POST"
    assert got.name == "after"


def test_update_input_must_fit_the_type(ingestion: IngestionClientSync) -> None:
    source_id = _json_source(ingestion, "json")
    with pytest.raises(RequestException) as caught:
        ingestion.update_source(source_id, {"input": {"url": "https://x.test", "delimiter": ";"}})
    assert caught.value.status_code == 400
    assert "input" in caught.value.message

    push_id = ingestion.create_source({"type": "push", "name": "p"}).source_id
    with pytest.raises(RequestException) as caught:
        ingestion.update_source(push_id, {"input": {"url": "https://x.test"}})
    assert caught.value.status_code == 400
    assert "input" in caught.value.message


def test_delete(ingestion: IngestionClientSync) -> None:
    gone = _json_source(ingestion, "gone")
    kept = _json_source(ingestion, "kept")

    assert ingestion.delete_source(gone).deleted_at
    with pytest.raises(RequestException) as caught:
        ingestion.get_source(gone)
    assert caught.value.status_code == 404
    listed = ingestion.list_sources()
    assert [s.source_id for s in listed.sources] == [kept]
    assert listed.pagination.nb_items == 1
