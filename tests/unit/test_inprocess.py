"""The in-process httpx client (mockserver.http.inprocess): the httpx API, straight into the ASGI app."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from mockserver import MockApp, create_app
from mockserver.engine.faults import FaultRule
from mockserver.http.inprocess import InProcessClient, InProcessTransport
from tests.conftest import APP_ID, CREDENTIALS
from tests.helpers import make_source


@pytest.fixture
def mock() -> MockApp:
    return create_app(check_responses=True, seed=99)


@pytest.fixture
def http(mock: MockApp) -> Iterator[InProcessClient]:
    with InProcessClient(mock, base_url="http://ingestion.mock", headers=CREDENTIALS) as client:
        yield client


def test_a_created_source_comes_back_with_status_json_and_headers(
    mock: MockApp, http: InProcessClient
) -> None:
    source_id = make_source(http, "push", "naïve feed")
    response = http.get(f"/1/sources/{source_id}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.json()["name"] == "naïve feed"
    assert json.loads(response.text) == response.json()
    assert response.request.url == f"http://ingestion.mock/1/sources/{source_id}"
    assert mock.store.accounts[APP_ID].sources[source_id]["name"] == "naïve feed"


def test_query_lists_reach_the_app_as_lists(mock: MockApp, http: InProcessClient) -> None:
    make_source(http, "push", "feed")
    response = http.get("/1/sources", params={"type": ["push", "json"], "itemsPerPage": 5})
    assert response.status_code == 200, response.text
    assert response.json()["pagination"]["nbItems"] == 1
    assert mock.journal.last().query == {"type": ["push", "json"], "itemsPerPage": ["5"]}


def test_a_percent_encoded_path_is_decoded_once(mock: MockApp, http: InProcessClient) -> None:
    response = http.get("/1/sources/no%20such%20id")
    assert response.status_code in (400, 404), response.text
    assert mock.journal.last().path == "/1/sources/no such id"


def test_a_gzip_body_is_inflated_by_the_app(mock: MockApp, http: InProcessClient) -> None:
    body = gzip.compress(json.dumps({"type": "push", "name": "zipped"}).encode())
    response = http.post(
        "/1/sources", content=body, headers={"content-encoding": "gzip", "content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert mock.store.accounts[APP_ID].sources[response.json()["sourceID"]]["name"] == "zipped"


def test_put_patch_delete_and_request(mock: MockApp, http: InProcessClient) -> None:
    source_id = make_source(http, "push", "feed")
    assert http.patch(f"/1/sources/{source_id}", json={"name": "renamed"}).status_code == 200
    assert mock.store.accounts[APP_ID].sources[source_id]["name"] == "renamed"
    assert http.request("GET", f"/1/sources/{source_id}").json()["name"] == "renamed"
    assert http.delete(f"/1/sources/{source_id}").status_code == 200
    assert http.get(f"/1/sources/{source_id}").status_code == 404
    # PUT has no route on a source: the mock's own answer to a wrong method comes back as is
    assert http.put(f"/1/sources/{source_id}", json={}).status_code in (404, 405)


def test_errors_are_answers_not_exceptions(mock: MockApp, http: InProcessClient) -> None:
    missing = http.get("/1/sources/0a1b2c3d-0000-4000-8000-00000000dead")
    assert missing.status_code == 404
    assert missing.json()["status"] == 404
    malformed = http.post("/1/sources", content=b'{"type":', headers={"content-type": "application/json"})
    assert malformed.status_code == 400
    assert "body" in malformed.json()["message"]
    anonymous = http.get("/1/sources", headers={"x-algolia-api-key": ""})
    assert anonymous.status_code == 403


def test_request_headers_override_the_client_defaults(mock: MockApp, http: InProcessClient) -> None:
    response = http.post(
        "/1/sources", json={"type": "push", "name": "other"}, headers={"x-algolia-application-id": "OTHER"}
    )
    assert response.status_code == 200, response.text
    assert set(mock.store.accounts) == {"OTHER"}


def test_a_dropped_connection_is_a_protocol_error(mock: MockApp, http: InProcessClient) -> None:
    mock.faults.add(FaultRule(operation="listSources", drop=True))
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/1/sources")


async def _broken_app(scope: Any, receive: Any, send: Any) -> None:
    raise RuntimeError("a bug in the app")


def test_an_exception_of_the_app_reaches_the_caller_unless_told_otherwise() -> None:
    with InProcessClient(_broken_app) as raising, pytest.raises(RuntimeError, match="a bug"):
        raising.get("/")
    with InProcessClient(_broken_app, raise_app_exceptions=False) as quiet:
        assert quiet.get("/").status_code == 500


def test_called_inside_a_running_event_loop(mock: MockApp, http: InProcessClient) -> None:
    async def inside() -> int:
        return http.post("/1/sources", json={"type": "push", "name": "from async"}).status_code

    assert asyncio.run(inside()) == 200
    assert [s["name"] for s in mock.store.accounts[APP_ID].sources.values()] == ["from async"]
    assert http.get("/1/sources").json()["pagination"]["nbItems"] == 1  # and the direct path again


def test_two_threads_at_once(mock: MockApp, http: InProcessClient) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = list(pool.map(lambda i: make_source(http, "push", f"s{i}"), range(40)))
    assert len(set(ids)) == 40
    assert len(mock.store.accounts[APP_ID].sources) == 40


def test_a_closed_client_refuses_requests(mock: MockApp) -> None:
    client = InProcessClient(mock, headers=CREDENTIALS)
    assert client.get("/1/sources").status_code == 200
    client.close()
    with pytest.raises(RuntimeError, match="closed"):
        client.get("/1/sources")


def test_the_transport_under_a_full_httpx_client(mock: MockApp) -> None:
    with httpx.Client(
        transport=InProcessTransport(mock), base_url="http://mock/", headers=CREDENTIALS
    ) as client:
        created = client.post("/1/sources", json={"type": "push", "name": "via httpx.Client"})
        assert created.status_code == 200, created.text
        assert client.get(f"/1/sources/{created.json()['sourceID']}").json()["name"] == "via httpx.Client"


def test_base_url_with_a_path_and_default_headers_changed_later(mock: MockApp) -> None:
    with InProcessClient(mock, base_url="http://mock/") as client:
        assert client.get("/1/sources").status_code == 403  # no credentials yet
        client.headers.update(CREDENTIALS)
        assert client.get("1/sources").status_code == 200
        assert client.get("http://elsewhere/1/sources").request.url.host == "elsewhere"
    assert mock.journal.last().path == "/1/sources"


def test_raise_for_status_and_request_of_the_response(mock: MockApp, http: InProcessClient) -> None:
    response = http.get("/1/sources/0a1b2c3d-0000-4000-8000-00000000dead")
    with pytest.raises(httpx.HTTPStatusError):
        response.raise_for_status()
    assert response.request.method == "GET"
