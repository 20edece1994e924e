"""The real client turns the mock's error answers into its own exceptions, with the mock's messages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from algoliasearch.http.exceptions import AlgoliaException, RequestException
from algoliasearch.http.hosts import Host, HostsCollection
from algoliasearch.ingestion.client import IngestionClientSync
from algoliasearch.ingestion.config import IngestionConfig

from mockserver import MockApp, create_app
from mockserver.http.live_server import LiveServer

MISSING_ID = "00000000-0000-4000-8000-000000000000"


@contextmanager
def _client(server: LiveServer, app_id: str, api_key: str) -> Iterator[IngestionClientSync]:
    config = IngestionConfig(app_id, api_key, "us")
    config.hosts = HostsCollection([Host(server.host, scheme="http", port=server.port)])
    client = IngestionClientSync.create_with_config(config)
    try:
        yield client
    finally:
        client.close()


def _raises(call: Callable[[], Any]) -> RequestException:
    with pytest.raises(RequestException) as caught:
        call()
    assert isinstance(caught.value, AlgoliaException)
    return caught.value


@pytest.mark.parametrize(
    ("method", "singular"),
    [
        ("get_authentication", "authentication"),
        ("get_destination", "destination"),
        ("get_source", "source"),
        ("get_transformation", "transformation"),
        ("delete_authentication", "authentication"),
        ("delete_destination", "destination"),
        ("delete_source", "source"),
        ("delete_transformation", "transformation"),
    ],
)
def test_unknown_id_is_a_404(ingestion: IngestionClientSync, method: str, singular: str) -> None:
    error = _raises(lambda: getattr(ingestion, method)(MISSING_ID))
    assert error.status_code == 404
    assert error.message == f"No {singular} with ID {MISSING_ID!r} exists"


def test_updating_an_unknown_id_is_a_404(ingestion: IngestionClientSync) -> None:
    error = _raises(lambda: ingestion.update_source(MISSING_ID, {"name": "x"}))
    assert error.status_code == 404
    assert error.message == f"No source with ID {MISSING_ID!r} exists"

    error = _raises(lambda: ingestion.update_transformation(MISSING_ID, {"name": "x", "code": "c"}))
    assert error.status_code == 404
    assert MISSING_ID in error.message


@pytest.mark.parametrize(
    ("method", "body", "field"),
    [
        ("create_source", {"type": "json", "name": "s"}, "input"),
        ("create_source", {"type": "ftp", "name": "s"}, "type"),
        ("create_source", {"type": "json", "name": "s", "input": {"uri": "x"}}, "url"),
        ("create_destination", {"type": "search", "name": "d", "input": {}}, "indexName"),
        ("create_destination", {"type": "search", "input": {"indexName": "i"}}, "name"),
        ("create_authentication", {"type": "basic", "name": "a", "input": {"username": "u"}}, "password"),
        ("create_transformation", {"code": "c"}, "name"),
    ],
)
def test_invalid_payload_is_a_400_naming_the_field(
    ingestion: IngestionClientSync, method: str, body: dict[str, Any], field: str
) -> None:
    error = _raises(lambda: getattr(ingestion, method)(body))
    assert error.status_code == 400
    assert field in error.message


def test_invalid_query_is_a_400(ingestion: IngestionClientSync) -> None:
    error = _raises(lambda: ingestion.list_sources(sort="colour"))
    assert error.status_code == 400
    assert "sort" in error.message


def test_unknown_path_is_a_404(ingestion: IngestionClientSync) -> None:
    error = _raises(lambda: ingestion.custom_get("1/nothing-here"))
    assert error.status_code == 404
    assert "/1/nothing-here" in error.message


def test_wrong_credentials_are_a_403() -> None:
    app = create_app(app_id="STRICTAPP", api_key="right-key", check_responses=True)
    with LiveServer(app) as server:
        with _client(server, "STRICTAPP", "wrong-key") as wrong_key:
            error = _raises(wrong_key.list_sources)
            assert error.status_code == 403
            assert error.message == "Invalid Application-Id or API-Key"
            error = _raises(lambda: wrong_key.create_source({"type": "push", "name": "p"}))
            assert error.status_code == 403

        with _client(server, "OTHERAPP", "right-key") as wrong_app:
            assert _raises(wrong_app.list_sources).status_code == 403

        with _client(server, "STRICTAPP", "right-key") as right:
            created = right.create_source({"type": "push", "name": "p"})
            listed = right.list_sources()
            assert [s.source_id for s in listed.sources] == [created.source_id]
    # Nothing was written by the refused calls.
    assert list(app.store.accounts) == ["STRICTAPP"]


def test_deleting_an_authentication_in_use_names_its_users(ingestion: IngestionClientSync) -> None:
    auth_id = ingestion.create_authentication(
        {"type": "basic", "name": "shared", "input": {"username": "u", "password": "p"}}
    ).authentication_id
    source_id = ingestion.create_source(
        {"type": "json", "name": "s", "input": {"url": "https://x.test"}, "authenticationID": auth_id}
    ).source_id

    error = _raises(lambda: ingestion.delete_authentication(auth_id))
    assert error.status_code == 400
    assert f"source {source_id!r}" in error.message
    assert auth_id in error.message
    assert ingestion.get_authentication(auth_id).name == "shared"

    destination_id = ingestion.create_destination(
        {"type": "search", "name": "d", "input": {"indexName": "i"}, "authenticationID": auth_id}
    ).destination_id
    ingestion.delete_source(source_id)
    error = _raises(lambda: ingestion.delete_authentication(auth_id))
    assert f"destination {destination_id!r}" in error.message
    assert source_id not in error.message

    ingestion.delete_destination(destination_id)
    assert ingestion.delete_authentication(auth_id).deleted_at


def test_the_services_error_code_reaches_the_client(
    live_app: MockApp, ingestion: IngestionClientSync
) -> None:
    """Push by index name with no push task: the service's 404, code and wording, through the client.

    The Python client keeps ``message`` and ``status_code`` of an error; the code is in the body it
    was answered with (read back from the journal, which records what was sent).
    """
    payload = {"action": "addObject", "records": [{"objectID": "1"}]}
    error = _raises(lambda: ingestion.push("products", payload))
    assert error.status_code == 404
    assert error.message == "cannot find task products"
    answered = live_app.journal.last("push").response
    assert answered["error"]["code"] == "resource_not_found"
    assert answered["status"] == 404

    destination = {"type": "search", "name": "d", "input": {"indexName": "products"}}
    destination_id = ingestion.create_destination(destination).destination_id
    task_ids = []
    for name in ("a", "b"):
        source_id = ingestion.create_source({"type": "push", "name": name}).source_id
        task = {"sourceID": source_id, "destinationID": destination_id, "action": "save"}
        task_ids.append(ingestion.create_task(task).task_id)
    error = _raises(lambda: ingestion.push("products", payload))
    assert error.status_code == 400
    assert error.message == (
        f"multiple tasks ({task_ids[0]}, {task_ids[1]}) found for the Push connector with indexName "
        "products, please use /2/tasks/:id/push instead"
    )
    assert live_app.journal.last("push").response["error"]["code"] == "invalid_payload"


def test_a_missing_destination_is_one_status_on_create_and_update(ingestion: IngestionClientSync) -> None:
    """The same mistake, the same answer (issue 22): a body naming a destination that does not
    exist is 400 on create_task, update_task and replace_task alike, so code branching on
    ``status_code`` takes one path."""
    source_id = ingestion.create_source(
        {"type": "json", "name": "s", "input": {"url": "https://x.test"}}
    ).source_id
    destination_id = ingestion.create_destination(
        {"type": "search", "name": "d", "input": {"indexName": "products"}}
    ).destination_id
    task_id = ingestion.create_task(
        {"sourceID": source_id, "destinationID": destination_id, "action": "save"}
    ).task_id
    mistakes = {
        "create_task": lambda: ingestion.create_task(
            {"sourceID": source_id, "destinationID": MISSING_ID, "action": "save"}
        ),
        "update_task": lambda: ingestion.update_task(task_id, {"destinationID": MISSING_ID}),
        "replace_task": lambda: ingestion.replace_task(
            task_id, {"destinationID": MISSING_ID, "action": "save"}
        ),
    }
    answers = {name: _raises(call) for name, call in mistakes.items()}
    assert {name: error.status_code for name, error in answers.items()} == dict.fromkeys(mistakes, 400)
    for name, error in answers.items():
        assert error.message == f"body.destinationID: no destination with ID {MISSING_ID!r} exists", name
    assert ingestion.get_task(task_id).destination_id == destination_id
    assert [t.task_id for t in ingestion.list_tasks().tasks] == [task_id]
