"""Helpers shared by the test modules, each defined once: the checks of an answer (a success, a
refusal with a message) and the makers of the resources tests start from.

The makers take any client with httpx's request methods (Starlette's TestClient, mockserver's
InProcessClient, an httpx client): see :class:`Client`.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, Protocol

import httpx

# The instant the pipeline tests freeze the mock's clock at.
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

# The TLS context of the httpx clients the suite makes again and again (``verify=TLS``): httpx builds
# one for every client, loading the CA bundle (~40 ms of CPU each, ~1,000 clients in a run), though
# these clients only speak plain HTTP to 127.0.0.1.
TLS: Final = ssl.create_default_context()


class Answer(Protocol):
    """What the tests read of an HTTP answer (httpx, httpx2 and the InProcessClient's all fit)."""

    status_code: int

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


class Client(Protocol):
    """What the helpers use of a client: httpx's request methods, with the options they pass."""

    def get(self, url: str, *, params: Any = ..., headers: Any = ...) -> Answer: ...

    def post(
        self, url: str, *, json: Any = ..., content: Any = ..., params: Any = ..., headers: Any = ...
    ) -> Answer: ...

    def put(
        self, url: str, *, json: Any = ..., content: Any = ..., params: Any = ..., headers: Any = ...
    ) -> Answer: ...

    def patch(
        self, url: str, *, json: Any = ..., content: Any = ..., params: Any = ..., headers: Any = ...
    ) -> Answer: ...

    def delete(self, url: str, *, params: Any = ..., headers: Any = ...) -> Answer: ...


# --- answers -------------------------------------------------------------------------------------


def ok(response: Answer) -> Any:
    """The JSON body of a 200 answer (the assertion shows the body otherwise)."""
    assert response.status_code == 200, response.text
    return response.json()


def ok_2xx(response: httpx.Response) -> Any:
    """The JSON body of any 2xx answer (the assertion names the request otherwise)."""
    assert 200 <= response.status_code < 300, (
        f"{response.request.method} {response.request.url}: {response.text}"
    )
    return response.json()


def refused(response: Answer, status: int = 400) -> str:
    """The Algolia-style ``message`` of an answer refused with ``status``."""
    assert response.status_code == status, response.text
    message = response.json()["message"]
    assert isinstance(message, str)
    return message


# --- resources -----------------------------------------------------------------------------------


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"


OMIT: Final = _Omit()  # a field given as OMIT is left out of the body (None is sent as null)

# Each collection and the field of its created resource's ID.
ID_FIELDS = {
    "/1/authentications": "authenticationID",
    "/1/destinations": "destinationID",
    "/1/sources": "sourceID",
    "/1/transformations": "transformationID",
    "/1/tasks": "taskID",
    "/2/tasks": "taskID",
}

# The input a source of each type is made with, unless a test gives one.
SOURCE_INPUTS: dict[str, dict[str, Any] | None] = {
    "json": {"url": "https://example.com/feed.json"},
    "docker": {"image": "airbyte/source-x", "configuration": {}},
    "push": None,
    "shopify": {"shopURL": "https://shop.example.com"},
}

TRANSFORMATION_CODE = "async function transform(record) { return record; }"


def create(client: Client, path: str, body: Mapping[str, Any], **fields: Any) -> str:
    """POST ``body`` to the collection at ``path`` and return the created resource's ID (the answer
    must be a 200). ``fields`` replace top-level fields of ``body``; a field given as :data:`OMIT`
    is left out."""
    sent = {name: value for name, value in {**body, **fields}.items() if value is not OMIT}
    created_id = ok(client.post(path, json=sent))[ID_FIELDS[path]]
    assert isinstance(created_id, str)
    return created_id


def make_source(client: Client, type: str = "json", name: str | None = None, **fields: Any) -> str:
    """A source of ``type`` named ``name`` (default: its type), with the input of its type in
    :data:`SOURCE_INPUTS` (none for a type not there); ``fields`` as in :func:`create`."""
    body: dict[str, Any] = {"type": type, "name": name or type}
    default_input = SOURCE_INPUTS.get(type)
    if default_input is not None:
        body["input"] = default_input
    return create(client, "/1/sources", body, **fields)


def make_destination(client: Client, index: str = "products", name: str | None = None, **fields: Any) -> str:
    """A search destination writing to ``index``, named ``name`` (default: the index); ``fields`` as
    in :func:`create`."""
    body = {"type": "search", "name": name or index, "input": {"indexName": index}}
    return create(client, "/1/destinations", body, **fields)


def make_task(client: Client, source_id: str, destination_id: str, action: str = "save", **extra: Any) -> str:
    """A v2 task linking a source to a destination."""
    body = {"sourceID": source_id, "destinationID": destination_id, "action": action, **extra}
    return create(client, "/2/tasks", body)


def push_task_for(client: Client, index: str) -> str:
    """A push source, a destination on ``index`` and a (save) task linking them: what a push to
    ``index`` goes through."""
    return make_task(client, make_source(client, "push"), make_destination(client, index))


def make_authentication(
    client: Client, type: str, input: dict[str, Any], name: str | None = None, **fields: Any
) -> str:
    """An authentication of ``type`` with ``input``, named ``name`` (default: its type); ``fields``
    as in :func:`create`."""
    body = {"type": type, "name": name or type, "input": input}
    return create(client, "/1/authentications", body, **fields)


def make_transformation(
    client: Client, name: str = "t", code: Any = TRANSFORMATION_CODE, **fields: Any
) -> str:
    """A transformation named ``name`` running ``code``; ``fields`` as in :func:`create`."""
    return create(client, "/1/transformations", {"name": name, "code": code}, **fields)


def listed_ids(client: Client, path: str, **params: Any) -> list[str]:
    """The IDs of one page of the collection at ``path`` (``params``: its query), in order."""
    key = path.rsplit("/", 1)[-1]
    page = ok(client.get(path, params=params))
    return [item[ID_FIELDS[path]] for item in page[key]]


def get_run(client: Client, run_id: str) -> dict[str, Any]:
    """A run, as GET /1/runs/{runID} answers it."""
    found: dict[str, Any] = ok(client.get(f"/1/runs/{run_id}"))
    return found
