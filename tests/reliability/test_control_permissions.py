"""Why (issue 21, items 4 and 6): a key with ACL ``search`` only got 200 on the control plane for
state, journal, settings, clock, faults and reset, and minted a full key; the owner could lock itself
out for good; without --admin-key any credential acted server-wide through ``?scope=all``; every
tenant read the others' application IDs and ACLs in the settings; the control plane took the first
of two application-ID headers; a page of another site steered an open server with ``no-cors``
fetches of text/plain JSON; ``Host: attacker.example`` was answered 200.

Against served processes: each of those, as the issue reported it, is refused now and changes nothing.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator

import httpx
import pytest

from ..serve.conftest import STOP_TIMEOUT, Served, start_mockserver
from .conftest import headers, ok

APP, KEY = "OWNERAPP", "owner-key"
OTHER, OTHER_KEY = "OTHERAPP", "other-key"
API_ACL = ["addObject", "deleteIndex", "editSettings"]


@pytest.fixture(scope="module")
def credentialed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server with credentials (and no admin key), a search-only key of the owner's application and
    a full key of another application."""
    path = tmp_path_factory.mktemp("permissions") / "credentialed.stderr"
    args = ["--app-id", APP, "--api-key", KEY, "--key", f"{APP}:ESC:search"]
    args += ["--key", f"{OTHER}:{OTHER_KEY}:{','.join(API_ACL)}", "--allowed-host", "mock.internal"]
    served = start_mockserver([*args, "--access-log", "off"], path)
    try:
        yield served
    finally:
        served.stop(signal.SIGTERM, timeout=STOP_TIMEOUT)


def _refused(answer: httpx.Response, status: int, code: str) -> str:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["status"] == status and body["error"]["code"] == code, body
    message: str = body["message"]
    return message


def _sources(served: Served) -> list[str]:
    with served.client(APP, KEY) as owner:
        return [s["name"] for s in ok(owner.get("/1/sources"))["sources"]]


def test_a_search_only_key_gets_nothing_from_the_control_plane(credentialed: Served) -> None:
    with credentialed.client(APP, KEY) as owner:
        ok(owner.post("/1/sources", json={"type": "push", "name": "kept"}))
    with credentialed.client(APP, "ESC") as esc:
        _refused(esc.get("/1/sources"), 403, "forbidden")  # the API refused it already
        for method, path, body in [
            ("GET", "/state", None),
            ("GET", "/journal", None),
            ("GET", "/settings", None),
            ("GET", "/clock", None),
            ("POST", "/clock", {"freeze": True}),
            ("GET", "/faults", None),
            ("POST", "/faults", {"operation": "listSources", "status": 503}),
            ("POST", "/reset", None),
        ]:
            message = _refused(esc.request(method, "/__mock__" + path, json=body), 403, "forbidden")
            assert "addObject, deleteIndex, editSettings" in message, (path, message)
        minting = esc.post("/__mock__/keys", json={"apiKey": "ESC-FULL", "acl": API_ACL})
        assert "admin" in _refused(minting, 403, "forbidden")
    with credentialed.client(APP, "ESC-FULL") as minted:
        _refused(minted.post("/1/sources", json={"type": "push", "name": "s"}), 403, "invalid_credentials")
    assert "kept" in _sources(credentialed)
    with credentialed.client(APP, KEY) as owner:
        assert ok(owner.get("/__mock__/faults"))["rules"] == []
        assert ok(owner.get("/__mock__/clock"))["frozen"] is False


def test_the_owner_is_never_locked_out_and_manages_its_keys(credentialed: Served) -> None:
    with credentialed.client(APP, KEY) as owner:
        locking = owner.post("/__mock__/keys", json={"apiKey": KEY, "acl": []})
        assert "configured API key" in _refused(locking, 403, "forbidden")
        ok(owner.get("/1/sources"))
        added = ok(owner.post("/__mock__/keys", json={"apiKey": "ci-key", "acl": API_ACL}))
        with credentialed.client(APP, "ci-key") as ci:
            ok(ci.get("/1/sources"))
        listed = ok(owner.get("/__mock__/keys"))["keys"]
        assert {k["keyID"] for k in listed} >= {added["keyID"]}
        assert all(k["apiKey"] == "***" and k["appID"] == APP for k in listed)
        ok(owner.delete(f"/__mock__/keys/{added['keyID']}"))
        with credentialed.client(APP, "ci-key") as ci:
            _refused(ci.get("/1/sources"), 403, "invalid_credentials")


def test_scope_all_needs_an_admin_key(credentialed: Served) -> None:
    attack = {"appID": OTHER, "apiKey": OTHER_KEY, "acl": []}  # lock the other tenant out
    for key in (KEY, "ESC"):
        with credentialed.client(APP, key) as client:
            message = _refused(
                client.post("/__mock__/keys?scope=all", json=attack), 403, "invalid_credentials"
            )
            assert "--admin-key" in message
            _refused(client.post("/__mock__/reset?scope=all"), 403, "invalid_credentials")
            _refused(client.post("/__mock__/keys", json=attack), 403, "forbidden")  # not its application
    with credentialed.client(OTHER, OTHER_KEY) as other:
        ok(other.get("/1/sources"))  # still every ACL its key was given


def test_a_tenant_sees_only_its_own_settings(credentialed: Served) -> None:
    with credentialed.client(OTHER, OTHER_KEY) as other:
        shown = ok(other.get("/__mock__/settings"))
    assert APP not in str(shown) and "search" not in str(shown)
    assert shown["keys"] == [{"apiKey": "***", "acl": API_ACL, "appID": OTHER}]


def test_two_application_id_headers_are_refused_as_the_api_refuses_them(credentialed: Served) -> None:
    sent = httpx.Headers([("x-algolia-application-id", APP), ("x-algolia-application-id", OTHER)])
    sent["x-algolia-api-key"] = KEY
    with credentialed.control() as client:
        api = client.get("/1/sources", headers=sent)
        control = client.get("/__mock__/state", headers=sent)
    _refused(api, 403, "invalid_credentials")
    assert "given 2 times" in _refused(control, 403, "invalid_credentials")


def test_a_no_cors_page_of_another_site_changes_nothing(open_server: Served) -> None:
    page = {
        "content-type": "text/plain;charset=UTF-8",
        "origin": "https://attacker.example",
        "sec-fetch-site": "cross-site",
        "sec-fetch-mode": "no-cors",
    }
    with httpx.Client(base_url=open_server.url, headers=headers("NOCORS"), timeout=30) as client:
        ok(client.post("/1/sources", json={"type": "push", "name": "kept"}))
        for path, body in [
            ("/__mock__/faults", b'{"status": 503}'),
            ("/__mock__/clock", b'{"freeze": true}'),
            ("/__mock__/keys", b'{"apiKey": "some-key", "acl": []}'),
            ("/__mock__/reset?scope=all", b"{}"),
        ]:
            _refused(client.post(path, content=body, headers=page), 403, "cross_origin_request")
            plain = {"content-type": "text/plain;charset=UTF-8"}  # no browser headers: still not JSON
            _refused(client.post(path, content=body, headers=plain), 415, "unsupported_media_type")
        assert ok(client.get("/__mock__/faults"))["rules"] == []
        assert ok(client.get("/__mock__/clock"))["frozen"] is False
        assert [s["name"] for s in ok(client.get("/1/sources"))["sources"]] == ["kept"]
        assert ok(client.get("/__mock__/keys"))["keys"] == []
        ok(client.post("/__mock__/reset"))


def test_a_host_the_mock_is_not_known_by_is_refused(open_server: Served, credentialed: Served) -> None:
    with httpx.Client(base_url=open_server.url, timeout=30) as client:
        message = _refused(
            client.get("/__mock__/state", headers={"host": "attacker.example"}), 403, "host_not_allowed"
        )
        assert "attacker.example" in message and "--allowed-host" in message
        _refused(client.get("/__mock__/ui", headers={"host": "attacker.example"}), 403, "host_not_allowed")
        ok(client.get("/__mock__/health", headers={"host": "attacker.example"}))
        ok(client.get("/__mock__/state", headers={"host": "localhost"}))
    with credentialed.client(APP, KEY) as owner:
        ok(owner.get("/__mock__/state", headers={"host": "mock.internal"}))  # --allowed-host
        _refused(owner.get("/__mock__/state", headers={"host": "attacker.example"}), 403, "host_not_allowed")
