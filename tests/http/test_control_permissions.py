"""Who may call what on the control plane (issue 21, items 4 and 6), through the ASGI app: each
route needs the ACLs its ``x-acl`` in spec/control.yaml lists, keys never mint or change rights
they lack, keys are listed, deleted and capped, and browsers of other sites are kept out."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from mockserver import create_app
from mockserver.data import control_spec
from mockserver.engine.keys import MAX_KEYS_PER_APPLICATION, key_id
from mockserver.http.app import MockApp
from mockserver.http.inprocess import InProcessClient
from mockserver.spec import bundled_spec_path, load_spec
from tests.helpers import ok_2xx as ok

APP, KEY, ADMIN = "OWNERAPP", "owner-key", "admin-secret"
API_ACL = ["addObject", "deleteIndex", "editSettings"]
CONTROL = load_spec(control_spec())


def _mock(**options: Any) -> MockApp:
    defaults: dict[str, Any] = {
        "app_id": APP,
        "api_key": KEY,
        "keys": (
            {"apiKey": "ESC", "acl": ["search"]},
            {"apiKey": "writer", "acl": API_ACL},
            {"apiKey": "keymaster", "acl": ["admin", "search"]},
            {"apiKey": "other-key", "acl": API_ACL, "appID": "OTHERAPP"},
        ),
    }
    return create_app(check_responses=False, **{**defaults, **options})


def _client(app: MockApp, key: str | None = KEY, app_id: str | None = APP, **headers: str) -> InProcessClient:
    sent = dict(headers)
    if app_id is not None:
        sent["x-algolia-application-id"] = app_id
    if key is not None:
        sent["x-algolia-api-key"] = key
    return InProcessClient(app, base_url="http://127.0.0.1:8787", headers=sent)


def _refusal(answer: httpx.Response, status: int, code: str) -> str:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["status"] == status and body["error"]["code"] == code, body
    message: str = body["message"]
    return message


def _call(client: InProcessClient, method: str, path: str) -> httpx.Response:
    concrete = path.replace("{sourceID}", "s1").replace("{snapshotID}", "nope").replace("{indexName}", "i")
    concrete = concrete.replace("{stubID}", "nope").replace("{keyID}", "nope").replace("{name}", "ui.js")
    body: Any = None
    if method in ("POST", "PUT"):
        body = {
            "/__mock__/seed": {"fixtures": "empty"},
            "/__mock__/sources/{sourceID}/records": {"records": []},
            "/__mock__/faults": {"operation": "listSources", "status": 503},
            "/__mock__/stubs": {"operation": "listSources", "status": 200, "body": {}},
            "/__mock__/keys": {"apiKey": "made", "acl": ["search"]},
        }.get(path, {})
    return client.request(method, concrete, json=body)


GUARDED = [
    (op.method, op.path, frozenset(op.raw.get("x-acl", ())))
    for op in CONTROL.operations.values()
    if op.raw.get("x-acl")
]


def test_every_control_route_but_the_open_ones_names_its_acls() -> None:
    open_ones = {op.path for op in CONTROL.operations.values() if not op.raw.get("x-acl")}
    assert open_ones == {
        "/__mock__/health",
        "/__mock__/openapi.json",
        "/__mock__/ui",
        "/__mock__/ui/{name}",
    }
    ingestion = load_spec(bundled_spec_path())  # the Ingestion API: reading and writing it need the same ACLs
    api_acl = {str(a) for op in ingestion.operations.values() for a in op.raw.get("x-acl", ())}
    assert {acl for _, _, needs in GUARDED for acl in needs} == api_acl | {"admin"}


@pytest.mark.parametrize(("method", "path", "needs"), GUARDED, ids=[f"{m} {p}" for m, p, _ in GUARDED])
def test_a_search_only_key_is_refused_on_every_guarded_route(
    method: str, path: str, needs: frozenset[str]
) -> None:
    app = _mock()
    before = app.control.dump(None)
    with _client(app, "ESC") as client:
        message = _refusal(_call(client, method, path), 403, "forbidden")
    assert f"needs the ACLs {', '.join(sorted(needs))}" in message
    assert "lacks" in message
    assert app.control.dump(None) == before  # refused: nothing changed
    assert len(app.engine.settings.keys) == 4


@pytest.mark.parametrize(("method", "path", "needs"), GUARDED, ids=[f"{m} {p}" for m, p, _ in GUARDED])
def test_a_key_with_the_acls_passes_the_check(method: str, path: str, needs: frozenset[str]) -> None:
    app = _mock()
    key = "keymaster" if "admin" in needs else "writer"
    with _client(app, key) as client:
        answer = _call(client, method, path)
    if answer.status_code == 403:  # a route's own refusal (server-wide), never a missing ACL
        assert "needs the ACLs" not in answer.json()["message"], answer.text


def test_a_key_never_mints_or_changes_a_key_with_rights_it_lacks() -> None:
    app = _mock()
    with _client(app, "ESC") as escalating:  # the case: search only, asking for a full key
        full = {"apiKey": "FULL", "acl": API_ACL}
        _refusal(escalating.post("/__mock__/keys", json=full), 403, "forbidden")
    with _client(app, "keymaster") as keymaster:  # may manage keys, holds admin and search only
        message = _refusal(keymaster.post("/__mock__/keys", json=full), 403, "forbidden")
        assert "addObject, deleteIndex, editSettings" in message
        replacing = keymaster.post("/__mock__/keys", json={"apiKey": "writer", "acl": ["search"]})
        assert "this key exists and holds" in _refusal(replacing, 403, "forbidden")
        made = ok(keymaster.post("/__mock__/keys", json={"apiKey": "reader", "acl": ["search"]}))
        assert made["appID"] == APP and made["apiKey"] == "***"
        writer_id = next(
            k["keyID"] for k in ok(keymaster.get("/__mock__/keys"))["keys"] if k["acl"] == API_ACL
        )
        _refusal(keymaster.delete(f"/__mock__/keys/{writer_id}"), 403, "forbidden")
    with _client(app, "FULL") as minted:
        _refusal(minted.post("/1/sources", json={"type": "push", "name": "s"}), 403, "invalid_credentials")
    assert {k["apiKey"] for k in app.engine.settings.keys} == {
        "ESC",
        "writer",
        "keymaster",
        "other-key",
        "reader",
    }


def test_the_owner_cannot_lock_itself_out_and_keys_are_listed_and_deleted() -> None:
    app = _mock()
    with _client(app) as owner:
        locking = owner.post("/__mock__/keys", json={"apiKey": KEY, "acl": []})
        assert "configured API key" in _refusal(locking, 403, "forbidden")
        ok(owner.get("/1/sources"))  # still every ACL
        ok(owner.post("/__mock__/keys", json={"apiKey": "ci-key", "acl": []}))
        listed = ok(owner.get("/__mock__/keys"))["keys"]
        assert all(k["apiKey"] == "***" for k in listed)
        assert {k["appID"] for k in listed} == {APP}  # not OTHERAPP's key
        ci = [k for k in listed if k["acl"] == []]
        assert len(ci) == 1
        assert ok(owner.delete(f"/__mock__/keys/{ci[0]['keyID']}")) == {"deleted": ci[0]["keyID"]}
        _refusal(owner.delete(f"/__mock__/keys/{ci[0]['keyID']}"), 404, "resource_not_found")
        other = key_id("OTHERAPP", "other-key")  # another application's key: not the owner's to delete
        _refusal(owner.delete(f"/__mock__/keys/{other}"), 404, "resource_not_found")
    assert "ci-key" not in {k["apiKey"] for k in app.engine.settings.keys}


def test_on_an_open_server_a_locked_key_can_be_deleted_by_another() -> None:
    app = create_app(check_responses=False)
    with _client(app, "victim-key", "APPA") as attacker:
        ok(attacker.post("/__mock__/keys", json={"apiKey": "victim-key", "acl": []}))
    with _client(app, "victim-key", "APPA") as victim:
        _refusal(victim.get("/1/sources"), 403, "forbidden")
        _refusal(victim.get("/__mock__/keys"), 403, "forbidden")
    with _client(app, "another-key", "APPA") as rescue:
        (locked,) = ok(rescue.get("/__mock__/keys"))["keys"]
        ok(rescue.delete(f"/__mock__/keys/{locked['keyID']}"))
    with _client(app, "victim-key", "APPA") as victim:
        ok(victim.get("/1/sources"))


def test_scope_all_needs_the_admin_key() -> None:
    app = _mock()
    for key in (KEY, "keymaster", "writer"):
        with _client(app, key) as client:
            message = _refusal(client.get("/__mock__/state?scope=all"), 403, "invalid_credentials")
            assert "start it with --admin-key" in message
            _refusal(client.post("/__mock__/reset?scope=all"), 403, "invalid_credentials")
    admin_app = _mock(admin_key=ADMIN)
    with _client(admin_app) as owner:
        _refusal(owner.get("/__mock__/state?scope=all"), 403, "invalid_credentials")
    with _client(admin_app, None, None, **{"x-mockserver-admin-key": ADMIN}) as admin:
        ok(admin.get("/__mock__/state?scope=all"))
        assert len(ok(admin.get("/__mock__/keys"))["keys"]) == 4  # every application's keys
    open_app = create_app(keys=({"apiKey": "ESC", "acl": ["search"], "appID": "X"},))
    with _client(open_app, "ESC", "X") as restricted:
        _refusal(restricted.get("/__mock__/state?scope=all"), 403, "forbidden")


def test_a_tenant_sees_only_its_own_settings() -> None:
    app = _mock(faults=({"operation": "listSources", "status": 500, "app": APP},))
    with _client(app, "other-key", "OTHERAPP") as other:
        shown = ok(other.get("/__mock__/settings"))
    assert APP not in str(shown)
    assert shown["app_id"] == "***" and shown["api_key"] == "***"
    assert shown["keys"] == [{"apiKey": "***", "acl": API_ACL, "appID": "OTHERAPP"}]
    assert shown["faults"] == []
    with _client(app) as owner:
        mine = ok(owner.get("/__mock__/settings"))
    assert mine["app_id"] == APP and len(mine["keys"]) == 3 and len(mine["faults"]) == 1


@pytest.mark.parametrize(
    "header", ["x-algolia-application-id", "x-algolia-api-key", "x-mockserver-admin-key"]
)
def test_a_credential_header_given_twice_is_refused_as_the_api_refuses_it(header: str) -> None:
    app = _mock(admin_key=ADMIN)
    sent = [("x-algolia-application-id", APP), ("x-algolia-api-key", KEY), (header, "second")]
    if header == "x-mockserver-admin-key":
        sent.append((header, ADMIN))
    with InProcessClient(app, base_url="http://127.0.0.1") as client:
        control = client.get("/__mock__/state", headers=httpx.Headers(sent))
        api = client.get("/1/sources", headers=httpx.Headers(sent))
    message = _refusal(control, 403, "invalid_credentials")
    assert f"header.{header}: given 2 times" in message
    if header != "x-mockserver-admin-key":
        _refusal(api, 403, "invalid_credentials")


def _cross_site_steps() -> list[tuple[str, str, bytes]]:
    """What the issue's page sent with fetch(..., {mode: "no-cors"}): text/plain JSON bodies."""
    return [
        ("POST", "/__mock__/faults", b'{"status": 503}'),
        ("POST", "/__mock__/clock", b'{"freeze": true, "now": "2030-01-01T00:00:00Z"}'),
        ("POST", "/__mock__/keys", b'{"apiKey": "ESC2", "acl": []}'),
        ("POST", "/__mock__/reset", b"{}"),
    ]


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"origin": "https://attacker.example", "sec-fetch-site": "cross-site"}, 403, "cross_origin_request"),
        ({"origin": "https://attacker.example"}, 403, "cross_origin_request"),
        ({"sec-fetch-site": "cross-site"}, 403, "cross_origin_request"),
        ({"origin": "null"}, 403, "cross_origin_request"),
        ({}, 415, "unsupported_media_type"),  # a text/plain body even without browser headers
    ],
)
def test_a_no_cors_page_of_another_site_changes_nothing(
    headers: dict[str, str], status: int, code: str
) -> None:
    app = create_app(check_responses=False)
    with InProcessClient(
        app,
        base_url="http://127.0.0.1:8787",
        headers={"x-algolia-application-id": "A", "x-algolia-api-key": "k"},
    ) as c:
        ok(c.post("/1/sources", json={"type": "push", "name": "kept"}))
        for method, path, body in _cross_site_steps():
            sent = {"content-type": "text/plain;charset=UTF-8", **headers}
            _refusal(c.request(method, path, content=body, headers=sent), status, code)
        assert ok(c.get("/__mock__/faults"))["rules"] == []
        assert ok(c.get("/__mock__/clock"))["frozen"] is False
        assert [s["name"] for s in ok(c.get("/1/sources"))["sources"]] == ["kept"]
    assert app.engine.settings.keys == ()


def test_the_inspectors_own_pages_and_local_pages_may_change_it() -> None:
    app = create_app(check_responses=False)
    with InProcessClient(
        app,
        base_url="http://127.0.0.1:8787",
        headers={"x-algolia-application-id": "A", "x-algolia-api-key": "k"},
    ) as c:
        for origin in ("http://127.0.0.1:8787", "http://localhost:3000", "http://[::1]:8787"):
            sent = {"origin": origin, "sec-fetch-site": "same-origin"}
            ok(c.post("/__mock__/clock", json={"freeze": True}, headers=sent))
        ok(c.post("/__mock__/snapshots"))  # no body: no content type needed
        ok(
            c.post(
                "/__mock__/reset", content=b"{}", headers={"content-type": "application/json; charset=utf-8"}
            )
        )


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8787", "127.0.0.1.attacker.example"])
def test_a_host_the_mock_is_not_known_by_is_refused_on_the_control_plane(host: str) -> None:
    app = create_app(check_responses=False)
    with InProcessClient(app, base_url="http://127.0.0.1:8787") as client:
        answer = client.get("/__mock__/state", headers={"host": host})
        message = _refusal(answer, 403, "host_not_allowed")
        assert "--allowed-host" in message
        _refusal(client.get("/__mock__/ui", headers={"host": host}), 403, "host_not_allowed")
        ok(client.get("/__mock__/health", headers={"host": host}))  # no data: health checks by any name
        ok(
            client.get(
                "/1/sources",
                headers={"host": host, "x-algolia-application-id": "A", "x-algolia-api-key": "k"},
            )
        )  # API face
        for name in ("localhost:8787", "127.0.0.1", "[::1]:8787", "LOCALHOST"):
            ok(client.get("/__mock__/state", headers={"host": name}))


def test_allowed_hosts_add_names() -> None:
    app = create_app(check_responses=False, allowed_hosts=("mock.internal",))
    with InProcessClient(app, base_url="http://127.0.0.1") as client:
        ok(client.get("/__mock__/state", headers={"host": "mock.internal:8787"}))
        _refusal(client.get("/__mock__/state", headers={"host": "other.internal"}), 403, "host_not_allowed")
    anything = create_app(check_responses=False, allowed_hosts=("*",))
    with InProcessClient(anything, base_url="http://127.0.0.1") as client:
        ok(client.get("/__mock__/state", headers={"host": "other.internal"}))
    with pytest.raises(ValueError, match="allowed_hosts"):
        create_app(allowed_hosts=("http://x/",))


def test_in_process_clients_reach_the_control_plane_by_their_base_url() -> None:
    app = create_app(check_responses=False)
    for base in ("http://testserver", "http://mock", "http://127.0.0.1:8787"):
        with InProcessClient(app, base_url=base) as client:
            ok(client.get("/__mock__/state"))


def test_keys_are_capped_per_application() -> None:
    app = create_app(check_responses=False, app_id=APP, api_key=KEY)
    keys = tuple({"apiKey": f"k{i}", "acl": ["search"]} for i in range(MAX_KEYS_PER_APPLICATION - 1))
    app.engine.settings = app.engine.settings.replace(keys=keys)
    with _client(app) as owner:
        ok(owner.post("/__mock__/keys", json={"apiKey": "last", "acl": []}))
        message = _refusal(
            owner.post("/__mock__/keys", json={"apiKey": "one-more", "acl": []}), 429, "limit_exceeded"
        )
        assert f"holds {MAX_KEYS_PER_APPLICATION} API keys" in message
        ok(owner.post("/__mock__/keys", json={"apiKey": "last", "acl": ["search"]}))  # replacing: no new one
    assert len(app.engine.settings.keys) == MAX_KEYS_PER_APPLICATION
    too_many = tuple({"apiKey": f"k{i}", "acl": []} for i in range(MAX_KEYS_PER_APPLICATION + 1))
    with pytest.raises(ValueError, match="more than 1000 keys for the application"):
        create_app(app_id=APP, api_key=KEY, keys=too_many)  # configured keys are held to the cap too


def _median_request_ms(app: MockApp, rounds: int = 200) -> float:
    with _client(app) as owner:
        ok(owner.get("/1/sources"))
        took = []
        for _ in range(rounds):
            started = time.perf_counter()
            owner.get("/1/sources")
            took.append(time.perf_counter() - started)
    took.sort()
    return took[len(took) // 2] * 1000


def test_a_request_costs_the_same_with_30000_keys() -> None:
    few = create_app(check_responses=False, app_id=APP, api_key=KEY)
    many = create_app(check_responses=False, app_id=APP, api_key=KEY)
    keys = tuple({"apiKey": f"key-{i}", "acl": ["search"], "appID": f"APP{i % 40}"} for i in range(30_000))
    many.engine.settings = many.engine.settings.replace(keys=keys)
    assert many.engine.authenticate(APP, KEY) == APP
    baseline, loaded = _median_request_ms(few), _median_request_ms(many)
    assert loaded < baseline * 2 + 0.5, (baseline, loaded)  # scanned, it took ~100 times as long
