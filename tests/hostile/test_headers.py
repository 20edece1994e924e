"""Hostile headers: CR/LF and control characters, oversized and repeated credentials, odd lengths.

Most cases go straight through the ASGI interface, where nothing has cleaned the headers up; the
last ones go over a real socket to the live server, where the HTTP parser gets the first word.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from mockserver import MockApp, create_app
from mockserver.http.live_server import LiveServer
from tests.conftest import API_KEY, APP_ID
from tests.hostile import Answer, assert_clean_refusal, call_asgi, seed_catalog, unchanged

Headers = list[tuple[bytes, bytes]]

APP = b"x-algolia-application-id"
KEY = b"x-algolia-api-key"
JSON_TYPE = (b"content-type", b"application/json")
GOOD: Headers = [(APP, APP_ID.encode()), (KEY, API_KEY.encode())]
CREATE = b'{"type":"push","name":"from a hostile header"}'
INVALID = b'{"type":"push"}'  # refused for its body (no name) whatever the headers say


def without(headers: Headers, *names: bytes) -> Headers:
    return [(k, v) for k, v in headers if k not in names]


def assert_nothing_injected(answer: Answer) -> None:
    for name, value in answer.headers:
        assert "injected" not in name.lower() and "\r" not in value and "\n" not in value, answer.headers


@pytest.fixture
def seeded(app: MockApp) -> MockApp:
    seed_catalog(app)
    return app


# --- credentials that are not credentials -----------------------------------------------------

# (id, headers, method, path, body): every one must be refused, and must not create an application.
CREDENTIAL_CASES: list[tuple[str, Headers, str, str, bytes]] = [
    ("crlf-in-app-id", [(APP, b"TESTAPP\r\nX-Injected: 1"), (KEY, b"k")], "GET", "/1/sources", b""),
    ("crlf-in-app-id-create", [(APP, b"EVIL\r\nX-Injected: 1"), (KEY, b"k")], "POST", "/1/sources", CREATE),
    ("lf-in-app-id", [(APP, b"EVIL\nX-Injected: 1"), (KEY, b"k")], "POST", "/1/sources", CREATE),
    ("cr-in-app-id", [(APP, b"EVIL\rAPP"), (KEY, b"k")], "POST", "/1/sources", CREATE),
    ("nul-in-app-id", [(APP, b"EVIL\x00APP"), (KEY, b"k")], "POST", "/1/sources", CREATE),
    ("escape-sequence-in-app-id", [(APP, b"EVIL\x1b[2J\x1b[31m"), (KEY, b"k")], "POST", "/1/sources", CREATE),
    ("crlf-in-api-key", [(APP, b"OTHERAPP"), (KEY, b"key\r\nX-Injected: 1")], "POST", "/1/sources", CREATE),
    ("nul-in-api-key", [(APP, b"OTHERAPP"), (KEY, b"key\x00")], "POST", "/1/sources", CREATE),
    (
        "repeated-app-id-differing",
        [(APP, b"FIRSTAPP"), (APP, b"SECONDAPP"), (KEY, b"k")],
        "POST",
        "/1/sources",
        CREATE,
    ),
    (
        "repeated-api-key-differing",
        [(APP, b"OTHERAPP"), (KEY, b"key-one"), (KEY, b"key-two")],
        "POST",
        "/1/sources",
        CREATE,
    ),
    ("empty-app-id", [(APP, b""), (KEY, b"k")], "POST", "/1/sources", CREATE),
    ("empty-api-key", [(APP, b"OTHERAPP"), (KEY, b"")], "POST", "/1/sources", CREATE),
    ("no-credentials", [], "POST", "/1/sources", CREATE),
    (
        "upper-case-header-names",
        [(APP.upper(), b"OTHERAPP"), (KEY.upper(), b"k")],
        "POST",
        "/1/sources",
        CREATE,
    ),
    ("crlf-in-header-name", [(APP + b"\r\nx-evil", b"OTHERAPP"), (KEY, b"k")], "POST", "/1/sources", CREATE),
    ("space-before-colon-name", [(APP + b" ", b"OTHERAPP"), (KEY, b"k")], "POST", "/1/sources", CREATE),
]


@pytest.mark.parametrize(
    ("headers", "method", "path", "body"),
    [case[1:] for case in CREDENTIAL_CASES],
    ids=[case[0] for case in CREDENTIAL_CASES],
)
def test_hostile_credentials_are_refused(
    seeded: MockApp, headers: Headers, method: str, path: str, body: bytes
) -> None:
    with unchanged(seeded):
        answer = call_asgi(seeded, method, path, [*headers, JSON_TYPE], body)
        assert_clean_refusal(answer, (400, 403))
    assert_nothing_injected(answer)
    assert list(seeded.store.accounts) == [APP_ID]


STRICT_CASES: list[tuple[str, Headers]] = [
    ("second-api-key-wrong", [(APP, APP_ID.encode()), (KEY, API_KEY.encode()), (KEY, b"wrong")]),
    ("first-api-key-wrong", [(APP, APP_ID.encode()), (KEY, b"wrong"), (KEY, API_KEY.encode())]),
    ("second-app-id-wrong", [(APP, APP_ID.encode()), (APP, b"OTHER"), (KEY, API_KEY.encode())]),
    ("api-key-with-crlf-suffix", [(APP, APP_ID.encode()), (KEY, API_KEY.encode() + b"\r\n")]),
    ("api-key-with-nul-suffix", [(APP, APP_ID.encode()), (KEY, API_KEY.encode() + b"\x00")]),
    ("api-key-of-1-mb", [(APP, APP_ID.encode()), (KEY, b"k" * 1_000_000)]),
    ("app-id-of-1-mb", [(APP, b"A" * 1_000_000), (KEY, API_KEY.encode())]),
    ("app-id-latin1-bytes", [(APP, b"\xff\xfe"), (KEY, API_KEY.encode())]),
]


@pytest.mark.parametrize("headers", [h for _, h in STRICT_CASES], ids=[i for i, _ in STRICT_CASES])
def test_strict_credentials_refuse_every_ambiguity(headers: Headers) -> None:
    """With one accepted pair configured, anything but exactly that pair is a 403."""
    strict = create_app(check_responses=True, app_id=APP_ID, api_key=API_KEY)
    seed_catalog(strict)
    with unchanged(strict):
        answer = call_asgi(strict, "POST", "/1/sources", [*headers, JSON_TYPE], CREATE)
        assert_clean_refusal(answer, 403)
    assert_nothing_injected(answer)


def test_strict_credentials_accept_the_pair() -> None:
    """The control for the table above: the exact pair, once each, is accepted."""
    strict = create_app(check_responses=True, app_id=APP_ID, api_key=API_KEY)
    answer = call_asgi(strict, "POST", "/1/sources", [*GOOD, JSON_TYPE], CREATE)
    assert answer.status == 200, answer.text


# --- other headers ----------------------------------------------------------------------------

# (id, extra headers): sent with good credentials and a body refused for its content (no name), so
# the answer must be that same 400, whatever the headers try.
OTHER_CASES: list[tuple[str, Headers]] = [
    ("crlf-in-content-type", [(b"content-type", b"application/json\r\nX-Injected: 1")]),
    ("crlf-in-content-encoding", [JSON_TYPE, (b"content-encoding", b"gzip\r\nX-Injected: 1")]),
    ("content-length-letters", [JSON_TYPE, (b"content-length", b"abc")]),
    ("content-length-negative", [JSON_TYPE, (b"content-length", b"-1")]),
    ("content-length-float", [JSON_TYPE, (b"content-length", b"1e3")]),
    ("content-length-empty", [JSON_TYPE, (b"content-length", b"")]),
    ("content-length-superscript-two", [JSON_TYPE, (b"content-length", "²".encode("latin-1"))]),
    ("content-length-arabic-digits", [JSON_TYPE, (b"content-length", "١٢".encode())]),
    ("content-length-twice", [JSON_TYPE, (b"content-length", b"15"), (b"content-length", b"99999999999")]),
    ("content-type-twice", [JSON_TYPE, (b"content-type", b"text/html")]),
    ("padding-header-of-1-mb", [JSON_TYPE, (b"x-padding", b"p" * 1_000_000)]),
    ("ten-thousand-headers", [JSON_TYPE, *[(f"x-h{i}".encode(), b"v") for i in range(10_000)]]),
    ("host-with-crlf", [JSON_TYPE, (b"host", b"mock\r\nX-Injected: 1")]),
    ("transfer-encoding-chunked-lie", [JSON_TYPE, (b"transfer-encoding", b"chunked")]),
    ("expect-100-continue", [JSON_TYPE, (b"expect", b"100-continue")]),
]


@pytest.mark.parametrize("extra", [h for _, h in OTHER_CASES], ids=[i for i, _ in OTHER_CASES])
def test_hostile_headers_do_not_change_the_answer(seeded: MockApp, extra: Headers) -> None:
    with unchanged(seeded):
        answer = call_asgi(seeded, "POST", "/1/sources", [*GOOD, *extra], INVALID)
        assert_clean_refusal(answer, 400)
    assert_nothing_injected(answer)


# --- over a real socket -----------------------------------------------------------------------


def send_raw(server: LiveServer, data: bytes) -> bytes:
    """Write ``data`` to the server and read until it closes (or resets) the connection."""
    received = b""
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        try:
            sock.sendall(data)
            while chunk := sock.recv(65536):
                received += chunk
        except (ConnectionResetError, BrokenPipeError):
            pass
    return received


def status_of(raw: bytes) -> int | None:
    if not raw.startswith(b"HTTP/1.1 "):
        return None
    return int(raw[9:12])


REQUEST = b"POST /1/sources HTTP/1.1\r\nHost: mock\r\nConnection: close\r\nContent-Type: application/json\r\n"

SOCKET_CASES: list[tuple[str, bytes]] = [
    ("bare-cr-in-app-id", b"X-Algolia-Application-Id: EVIL\rAPP\r\nX-Algolia-API-Key: k\r\n"),
    ("nul-in-app-id", b"X-Algolia-Application-Id: EVIL\x00APP\r\nX-Algolia-API-Key: k\r\n"),
    ("escape-in-app-id", b"X-Algolia-Application-Id: EVIL\x1b[31m\r\nX-Algolia-API-Key: k\r\n"),
    (
        "repeated-app-id",
        b"X-Algolia-Application-Id: ONE\r\nX-Algolia-Application-Id: TWO\r\nX-Algolia-API-Key: k\r\n",
    ),
    (
        "header-of-200-kb",
        b"X-Algolia-Application-Id: EVIL\r\nX-Algolia-API-Key: k\r\nX-Pad: " + b"p" * 200_000 + b"\r\n",
    ),
    (
        "header-line-without-colon",
        b"X-Algolia-Application-Id: EVIL\r\nX-Algolia-API-Key: k\r\nnot a header\r\n",
    ),
]


@pytest.fixture
def live_seeded(live: LiveServer, live_app: MockApp) -> Iterator[LiveServer]:
    seed_catalog(live_app)
    yield live


@pytest.mark.parametrize("headers", [h for _, h in SOCKET_CASES], ids=[i for i, _ in SOCKET_CASES])
def test_hostile_headers_over_a_socket(live_seeded: LiveServer, live_app: MockApp, headers: bytes) -> None:
    body = CREATE
    with unchanged(live_app):
        raw = send_raw(
            live_seeded, REQUEST + headers + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
        )
        status = status_of(raw)
        assert status is None or 400 <= status < 500, raw[:300]
    alive = send_raw(live_seeded, b"GET /__mock__/health HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n")
    assert status_of(alive) == 200, alive[:300]
    assert list(live_app.store.accounts) == [APP_ID]
