"""Secrets never come back out: not in a response, the journal, the state dump, nor a log line.

Authentications of every type are created, read, listed, searched, updated and refused with
distinctive secret values; afterwards every text the mock produced is searched for them.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from httpx import Response

from mockserver import MockApp, create_app
from mockserver.engine.journal import Call
from mockserver.http.inprocess import InProcessClient
from tests.conftest import APP_ID, CREDENTIALS

NAMESPACE = uuid.UUID("8f9c2d4e-1b3a-4c5d-9e6f-7a8b9c0d1e2f")
CODE = "async function transform(record) { return record; }"


def secret(label: str) -> str:
    """A secret nobody could write by chance; its hex token is what the search looks for."""
    return f"secret-{label}-{uuid.uuid5(NAMESPACE, label).hex[:16]}"


def token(value: str) -> str:
    return value.rsplit("-", 1)[1]


@dataclass
class Haystack:
    """Every text the mock produced, by where it came from."""

    texts: list[tuple[str, str]] = field(default_factory=list)

    def add(self, where: str, text: str) -> None:
        self.texts.append((where, text))

    def add_response(self, where: str, response: Response) -> None:
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.multi_items())
        self.add(f"response to {where}", f"{response.status_code}\n{headers}\n{response.text}")

    def find(self, needle: str) -> list[str]:
        found = []
        for where, text in self.texts:
            at = text.find(needle)
            if at >= 0:
                found.append(f"{where}: ...{text[max(0, at - 120) : at + 60]!r}...")
        return found


class Session:
    """A client that files every response in the haystack, and knows which secrets it sent."""

    def __init__(self, client: InProcessClient, haystack: Haystack) -> None:
        self.client = client
        self.haystack = haystack
        self.sent: dict[str, str] = {}  # label -> secret value

    def secret(self, label: str) -> str:
        value = secret(label)
        self.sent[label] = value
        return value

    def call(self, method: str, path: str, body: Any = None, expect: int | None = None) -> Any:
        response = self.client.request(method, path, json=body)
        self.haystack.add_response(f"{method} {path}", response)
        assert response.status_code < 500, response.text
        if expect is not None:
            assert response.status_code == expect, f"{method} {path} {body}: {response.text}"
        return response.json()


@pytest.fixture(params=["fast", "openapi-core"])
def mock(request: pytest.FixtureRequest) -> MockApp:
    """The mock in both validation modes: the reference validator writes its own messages."""
    return create_app(check_responses=True, seed=99, validation=request.param)


@pytest.fixture
def haystack() -> Haystack:
    return Haystack()


@pytest.fixture
def session(mock: MockApp, haystack: Haystack) -> Iterator[Session]:
    log = logging.getLogger("tests.hostile.access")

    def access_log(call: Call, ms: float) -> None:
        # Everything a listener is told, as an access logger that logs it all would write it.
        log.info("%s %.1fms %s", call.describe(), ms, json.dumps(call.to_json(), default=str))
        haystack.add("access listener", repr(call))

    mock.listeners.append(access_log)
    with InProcessClient(mock, base_url="http://mock", headers=CREDENTIALS, raise_app_exceptions=False) as c:
        yield Session(c, haystack)


def create_auth(s: Session, type_: str, input_: dict[str, Any], **extra: Any) -> str:
    body = {"type": type_, "name": f"{type_} auth", "input": input_, **extra}
    auth_id: str = s.call("POST", "/1/authentications", body, expect=200)["authenticationID"]
    return auth_id


def exercise(s: Session, mock: MockApp) -> dict[str, str]:
    """Every way a secret goes in, and every way state comes out. Returns auth type -> ID."""
    ids = {
        "basic": create_auth(s, "basic", {"username": "feeds", "password": s.secret("basic-password")}),
        "apiKey": create_auth(s, "apiKey", {"key": s.secret("apikey-key")}),
        "oauth": create_auth(
            s,
            "oauth",
            {
                "url": "https://auth.example.com/token",
                "client_id": "client",
                "client_secret": s.secret("oauth-client-secret"),
                "code": s.secret("oauth-code"),
                "scope": "read",
            },
            platform="shopify",
        ),
        "algolia": create_auth(s, "algolia", {"appID": "OTHERAPP", "apiKey": s.secret("algolia-apikey")}),
        "algoliaInsights": create_auth(
            s, "algoliaInsights", {"appID": "OTHERAPP", "apiKey": s.secret("insights-apikey")}
        ),
        "googleServiceAccount": create_auth(
            s,
            "googleServiceAccount",
            {
                "clientEmail": "reader@example.iam.gserviceaccount.com",
                "privateKey": s.secret("gsa-private-key"),
            },
        ),
        "secrets": create_auth(
            s, "secrets", {"token": s.secret("secrets-token"), "password": s.secret("secrets-password")}
        ),
    }
    # The secrets really are kept (the mock needs them, for transformations): the search is not vacuous.
    stored = mock.store.accounts[APP_ID].authentications
    assert stored[ids["basic"]]["input"]["password"] == s.sent["basic-password"]
    assert stored[ids["secrets"]]["input"]["token"] == s.sent["secrets-token"]

    # Reading them back, every way there is.
    for auth_id in ids.values():
        s.call("GET", f"/1/authentications/{auth_id}", expect=200)
    s.call("GET", "/1/authentications?itemsPerPage=100", expect=200)
    s.call(
        "GET",
        "/1/authentications?type=basic,apiKey,oauth,algolia,algoliaInsights,googleServiceAccount,secrets",
    )
    s.call("GET", "/1/authentications?sort=type&order=asc", expect=200)
    s.call("POST", "/1/authentications/search", {"authenticationIDs": list(ids.values())}, expect=200)

    # Updates, good ones: a new secret of each kind.
    patches = {
        "basic": {"password": s.secret("basic-password-2")},
        "apiKey": {"key": s.secret("apikey-key-2")},
        "oauth": {"client_secret": s.secret("oauth-client-secret-2")},
        "algolia": {"apiKey": s.secret("algolia-apikey-2")},
        "algoliaInsights": {"apiKey": s.secret("insights-apikey-2")},
        "googleServiceAccount": {"privateKey": s.secret("gsa-private-key-2")},
        "secrets": {"token": s.secret("secrets-token-2"), "new": s.secret("secrets-new")},
    }
    for type_, patch in patches.items():
        s.call(
            "PATCH", f"/1/authentications/{ids[type_]}", {"input": patch, "name": f"{type_} v2"}, expect=200
        )
        s.call("GET", f"/1/authentications/{ids[type_]}", expect=200)

    # Updates, bad ones: a secret field of the wrong type, a secret of another type's shape.
    # (Another type's valid shape is refused for the authentication's type: 400.)
    bad_patches: list[tuple[str, Any, int]] = [
        ("basic", {"password": [s.secret("bad-patch-password-list")]}, 400),
        ("basic", {"password": {"value": s.secret("bad-patch-password-object")}}, 400),
        ("basic", {"key": s.secret("bad-patch-foreign-key")}, 400),
        ("apiKey", {"key": 42, "password": s.secret("bad-patch-foreign-password")}, 400),
        ("oauth", {"client_secret": [s.secret("bad-patch-client-secret")]}, 400),
        ("googleServiceAccount", {"privateKey": {"pem": s.secret("bad-patch-private-key")}}, 400),
        ("secrets", {"token": [s.secret("bad-patch-secrets-token")]}, 400),
        ("basic", s.secret("bad-patch-input-is-the-secret"), 400),
    ]
    for type_, patch, status in bad_patches:
        s.call("PATCH", f"/1/authentications/{ids[type_]}", {"input": patch}, expect=status)

    # Creations refused: wrong types for the secret fields, missing companions, foreign shapes.
    bad_creations: list[dict[str, Any]] = [
        {"type": "basic", "input": {"username": "u", "password": [s.secret("bad-basic-password-list")]}},
        {"type": "basic", "input": {"username": "u", "password": {"v": s.secret("bad-basic-password-obj")}}},
        {"type": "basic", "input": {"password": s.secret("bad-basic-no-username")}},
        {"type": "basic", "input": {"username": 7, "password": s.secret("bad-basic-username-type")}},
        {"type": "basic", "input": {"username": "u", "password": s.secret("bad-basic-extra"), "extra": 1}},
        {"type": "basic", "input": {"key": s.secret("bad-basic-with-apikey-shape")}},
        {"type": "apiKey", "input": {"key": {"nested": s.secret("bad-apikey-key-obj")}}},
        {"type": "apiKey", "input": s.secret("bad-apikey-input-is-the-secret")},
        {"type": "apiKey", "input": [s.secret("bad-apikey-input-is-a-list")]},
        {"type": "oauth", "input": {"client_secret": s.secret("bad-oauth-no-url")}},
        {"type": "oauth", "input": {"url": 1, "client_secret": s.secret("bad-oauth-url-type")}},
        {"type": "algolia", "input": {"apiKey": s.secret("bad-algolia-no-appid")}},
        {"type": "algolia", "input": {"appID": "A", "apiKey": [s.secret("bad-algolia-apikey-list")]}},
        {"type": "googleServiceAccount", "input": {"privateKey": s.secret("bad-gsa-no-email")}},
        {"type": "secrets", "input": {"token": [s.secret("bad-secrets-value-list")]}},
        {"type": "secrets", "input": {"token": {"v": s.secret("bad-secrets-value-obj")}}},
        {"type": "nope", "input": {"password": s.secret("bad-unknown-type")}},
        {"input": {"password": s.secret("bad-no-type")}},
        {"type": 5, "input": {"key": s.secret("bad-type-not-a-string")}},
    ]
    for body in bad_creations:
        s.call("POST", "/1/authentications", {"name": "refused", **body}, expect=400)

    # Transformations that use authentications, tried and saved.
    try_auths = [
        {
            "type": "basic",
            "name": "t",
            "input": {"username": "u", "password": s.secret("try-basic-password")},
        },
        {"type": "secrets", "name": "t", "input": {"token": s.secret("try-secrets-token")}},
    ]
    s.call(
        "POST",
        "/1/transformations/try",
        {"code": CODE, "sampleRecord": {"a": 1}, "authentications": try_auths},
    )
    bad_try = [{"type": "apiKey", "name": "t", "input": {"key": [s.secret("try-bad-apikey")]}}]
    s.call(
        "POST",
        "/1/transformations/try",
        {"code": CODE, "sampleRecord": {}, "authentications": bad_try},
        expect=400,
    )
    created = s.call(
        "POST",
        "/1/transformations",
        {"name": "uses secrets", "code": CODE, "authenticationIDs": [ids["secrets"], ids["basic"]]},
        expect=200,
    )
    s.call(
        "POST",
        f"/1/transformations/{created['transformationID']}/try",
        {"sampleRecord": {"a": 1}, "authentications": try_auths},
        expect=200,
    )

    # Sources and destinations that point at them.
    s.call(
        "POST",
        "/1/sources",
        {"type": "json", "name": "s", "authenticationID": ids["basic"], "input": {"url": "https://x"}},
    )
    s.call("GET", "/1/sources", expect=200)

    # Seeding through the control plane, good and bad.
    inline = {
        "authentications": [
            {
                "authenticationID": "5eed0000-0000-4000-8000-000000000001",
                "type": "basic",
                "name": "seeded",
                "input": {"username": "u", "password": s.secret("seed-password")},
            }
        ]
    }
    s.call("POST", "/__mock__/seed", {"appID": APP_ID, "data": inline}, expect=200)
    bad_inline = {
        "authentications": [
            {"type": "apiKey", "name": "bad seed", "input": {"key": [s.secret("seed-bad-key")]}},
        ]
    }
    s.call("POST", "/__mock__/seed", {"appID": APP_ID, "data": bad_inline}, expect=400)
    bad_inline_shape = {
        "authentications": [{"type": "apiKey", "name": "x", "input": s.secret("seed-bad-shape")}]
    }
    s.call("POST", "/__mock__/seed", {"appID": APP_ID, "data": bad_inline_shape}, expect=400)

    # Deleting one: the answer, and the journal, still say nothing.
    s.call("DELETE", f"/1/authentications/{ids['apiKey']}", expect=200)
    return ids


def collect(mock: MockApp, s: Session, haystack: Haystack, caplog: pytest.LogCaptureFixture) -> None:
    s.call("GET", "/__mock__/journal", expect=200)
    s.call("GET", "/__mock__/state", expect=200)
    s.call("GET", f"/__mock__/state?appID={APP_ID}", expect=200)
    for call in mock.journal.calls:
        haystack.add(f"journal call {call.describe()}", json.dumps(call.to_json(), default=str))
        haystack.add(f"journal repr {call.describe()}", repr(call))
        if call.message is not None:
            haystack.add(f"journal message {call.describe()}", call.message)
    haystack.add("control.dump()", json.dumps(mock.control.dump(), default=str))
    haystack.add("control.dump(app)", json.dumps(mock.control.dump(APP_ID), default=str))
    for record in caplog.records:
        haystack.add(f"log record {record.name}", record.getMessage())
    haystack.add("log text", caplog.text)


def test_secrets_never_come_back_out(
    mock: MockApp,
    session: Session,
    haystack: Haystack,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    exercise(session, mock)
    collect(mock, session, haystack, caplog)
    out, err = capsys.readouterr()
    haystack.add("stdout", out)
    haystack.add("stderr", err)
    assert len(session.sent) >= 50
    assert any(where.startswith("log record tests.hostile.access") for where, _ in haystack.texts)
    leaks = {label: found for label, value in session.sent.items() if (found := haystack.find(token(value)))}
    report = "\n".join(f"{label}:\n  " + "\n  ".join(found[:3]) for label, found in leaks.items())
    assert not leaks, f"{len(leaks)} of {len(session.sent)} secrets leaked:\n{report}"


def test_the_search_finds_a_secret_where_there_is_one(haystack: Haystack) -> None:
    """The control: a leak planted in the haystack is found and named."""
    value = secret("planted")
    haystack.add("planted text", f'{{"password": "{value}"}}')
    assert haystack.find(token(value)) and not haystack.find(token(secret("absent")))
