"""Assertions shared by the test modules: an answer was a success, or a refusal with a message."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from mockserver.http.inprocess import InProcessClient


# The instant the pipeline tests freeze the mock's clock at.
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class Answer(Protocol):
    """What the tests read of an HTTP answer (httpx, httpx2 and the InProcessClient's all fit)."""

    status_code: int

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


def ok(response: Answer) -> Any:
    """The JSON body of a 200 answer (the assertion shows the body otherwise)."""
    assert response.status_code == 200, response.text
    return response.json()


def refused(response: Answer, status: int = 400) -> str:
    """The Algolia-style ``message`` of an answer refused with ``status``."""
    assert response.status_code == status, response.text
    message = response.json()["message"]
    assert isinstance(message, str)
    return message


def make_destination(client: InProcessClient, index: str = "products", name: str | None = None) -> str:
    """A search destination writing to ``index``."""
    body = {"type": "search", "name": name or index, "input": {"indexName": index}}
    destination_id: str = ok(client.post("/1/destinations", json=body))["destinationID"]
    return destination_id


def make_task(
    client: InProcessClient, source_id: str, destination_id: str, action: str = "save", **extra: Any
) -> str:
    """A v2 task linking a source to a destination."""
    body = {"sourceID": source_id, "destinationID": destination_id, "action": action, **extra}
    task_id: str = ok(client.post("/2/tasks", json=body))["taskID"]
    return task_id
