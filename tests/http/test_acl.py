"""API keys with ACLs: an operation needs the ACLs its ``x-acl`` names (the service: addObject,
deleteIndex and editSettings); a key without them is refused with 403, naming what it lacks."""

from __future__ import annotations

from mockserver import create_app
from mockserver.http.inprocess import InProcessClient
from tests.helpers import ok
from tests.helpers import refused as error

ALL = ["addObject", "deleteIndex", "editSettings"]


def _client(app: object, key: str, app_id: str = "ACLAPP") -> InProcessClient:
    return InProcessClient(
        app,  # type: ignore[arg-type]
        base_url="http://mock",
        headers={"x-algolia-application-id": app_id, "x-algolia-api-key": key},
    )


def test_a_key_without_an_acl_is_refused_naming_it() -> None:
    app = create_app(check_responses=True, keys=({"apiKey": "search-only", "acl": ["search", "addObject"]},))
    with _client(app, "search-only") as client:
        answer = client.get("/1/sources")
        message = error(answer, 403)
        assert answer.json()["error"]["code"] == "forbidden"
        assert message.startswith("Method not allowed with this API key")
        assert "listSources needs the ACLs addObject, deleteIndex, editSettings" in message
        assert "this key lacks deleteIndex, editSettings" in message
    assert app.store.accounts == {}  # refused: nothing was created, not even the application


def test_a_key_with_every_needed_acl_works_and_default_keys_have_all() -> None:
    app = create_app(check_responses=True, keys=({"apiKey": "writer", "acl": ALL},))
    with _client(app, "writer") as client:
        ok(client.post("/1/sources", json={"type": "push", "name": "feed"}))
    with _client(app, "any-other-key") as client:  # an open server: any other key has every ACL
        assert len(ok(client.get("/1/sources"))["sources"]) == 1


def test_a_key_bound_to_an_application_opens_only_that_one() -> None:
    app = create_app(
        check_responses=True,
        app_id="MAIN",
        api_key="main-key",
        keys=({"appID": "OTHER", "apiKey": "k", "acl": ALL},),
    )
    with _client(app, "k", app_id="OTHER") as client:
        ok(client.get("/1/sources"))
    with _client(app, "k", app_id="MAIN") as client:
        assert error(client.get("/1/sources"), 403) == "Invalid Application-Id or API-Key"
    with _client(app, "main-key", app_id="MAIN") as client:
        ok(client.get("/1/sources"))


def test_keys_are_added_through_the_control_plane() -> None:
    app = create_app(check_responses=True)
    with InProcessClient(app, base_url="http://mock") as control:
        added = ok(control.post("/__mock__/keys", json={"apiKey": "ro", "acl": ["search"]}))
        assert added == {"appID": None, "apiKey": "***", "acl": ["search"], "keyID": added["keyID"]}
        bad = control.post("/__mock__/keys", json={"apiKey": "", "acl": []})
        assert bad.status_code == 400
    with _client(app, "ro") as client:
        assert "this key lacks addObject, deleteIndex, editSettings" in error(client.get("/1/sources"), 403)


def test_the_refusal_reaches_the_official_client() -> None:
    import pytest
    from algoliasearch.http.exceptions import RequestException
    from algoliasearch.http.hosts import Host, HostsCollection
    from algoliasearch.ingestion.client import IngestionClientSync
    from algoliasearch.ingestion.config import IngestionConfig

    from mockserver import LiveServer

    app = create_app(check_responses=True, keys=({"apiKey": "ro", "acl": ["search"]},))
    with LiveServer(app) as server:
        config = IngestionConfig("ACLAPP", "ro", "us")
        config.hosts = HostsCollection([Host(server.host, scheme="http", port=server.port)])
        client = IngestionClientSync.create_with_config(config)
        try:
            with pytest.raises(RequestException) as raised:
                client.list_sources()
        finally:
            client.close()
    assert raised.value.status_code == 403
    assert "this key lacks addObject, deleteIndex, editSettings" in str(raised.value)
