"""Hostile paths and query strings: traversal, odd IDs, odd numbers, repeated and empty parameters.

Paths are sent twice over: URL-encoded through an HTTP client (as a client would send them) and
raw through the ASGI interface (exactly as written, never normalised on the way).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockserver import MockApp
from mockserver.http.inprocess import InProcessClient
from tests.conftest import APP_ID, CREDENTIALS
from tests.hostile import (
    CATALOG_BASIC_AUTH,
    CATALOG_DESTINATION,
    CATALOG_JSON_SOURCE,
    CATALOG_PUSH_TASK,
    CATALOG_TASK,
    assert_clean_refusal,
    assert_no_server_error,
    call_asgi,
    seed_catalog,
    unchanged,
)

RAW_CREDENTIALS = [(k.encode(), v.encode()) for k, v in CREDENTIALS.items()]
SRC = CATALOG_JSON_SOURCE


@pytest.fixture
def hostile(app: MockApp) -> Iterator[InProcessClient]:
    seed_catalog(app)
    with InProcessClient(app, base_url="http://mock", headers=CREDENTIALS, raise_app_exceptions=False) as c:
        yield c


# --- paths, URL-encoded -----------------------------------------------------------------------

LONG_ID = "a" * 20_000

ENCODED_PATHS: list[tuple[str, str, str]] = [
    ("GET", "/1/sources/..%2F..%2Fetc", "traversal-encoded-slashes"),
    ("GET", "/1/sources/..%2F..%2F..%2Fetc%2Fpasswd", "traversal-passwd"),
    ("GET", "/1/sources/%2e%2e", "encoded-dot-dot"),
    ("GET", "/1/sources/%2e%2e%2f%2e%2e%2f__mock__%2fstate", "traversal-to-control-plane"),
    ("GET", "/1/sources/%00", "nul-id"),
    ("GET", f"/1/sources/{SRC}%00", "id-then-nul"),
    ("GET", f"/1/sources/%20{SRC}", "id-with-leading-space"),
    ("GET", "/1/sources/%0D%0AX-Injected:%201", "crlf-id"),
    ("GET", "/1/sources/%FF%FE", "invalid-utf8-id"),
    ("GET", "/1/sources/%F0%9F%98%80%E2%9C%93%C3%BC", "unicode-id"),
    ("GET", "/1/sources/%E2%80%AE" + SRC, "bidi-override-id"),
    ("GET", f"/1/sources/{LONG_ID}", "20k-character-id"),
    ("GET", "/1/sources/", "trailing-slash-collection"),
    ("GET", f"/1/sources/{SRC}/", "trailing-slash-resource"),
    ("GET", f"/1/sources/{SRC}//", "double-trailing-slash"),
    ("GET", "/1/SOURCES", "upper-case-path"),
    ("GET", f"/1/sources/{SRC.upper()}", "upper-case-id"),
    ("GET", f"/1/sources/{SRC};x=1", "matrix-parameter"),
    ("GET", "/1/sources/search", "search-as-an-id"),
    ("GET", "/3/sources", "unknown-version"),
    ("GET", "/1/runs/%2e%2e/events", "dot-dot-run"),
    ("GET", "/1/runs/x/events/%2e%2e%2f%2e%2e", "traversal-event"),
    ("DELETE", f"/1/sources/x%2F..%2F{SRC}", "delete-traversal-to-real-id"),
    ("DELETE", f"/1/sources/{SRC}%2F", "delete-id-with-encoded-slash"),
    ("DELETE", f"/1/sources/{SRC}/", "delete-trailing-slash"),
    ("DELETE", f"/1/sources/{SRC}%20", "delete-id-with-trailing-space"),
    ("DELETE", f"/1/authentications/{CATALOG_BASIC_AUTH}%00", "delete-auth-id-then-nul"),
    ("DELETE", f"/1/destinations/..%2F{CATALOG_DESTINATION}", "delete-destination-traversal"),
    ("DELETE", f"/2/tasks/{CATALOG_TASK}/", "delete-task-trailing-slash"),
    ("DELETE", "/2/tasks/%2A", "delete-task-star"),
    ("PATCH", f"/1/sources/%2e%2e%2f{SRC}", "patch-traversal"),
    ("PUT", f"/2/tasks/{CATALOG_TASK}/enable/", "enable-trailing-slash"),
    ("POST", "/1/push/a%2F..%2Fstock", "push-index-traversal"),
]


@pytest.mark.parametrize(
    ("method", "path"), [(m, p) for m, p, _ in ENCODED_PATHS], ids=[i for *_, i in ENCODED_PATHS]
)
def test_hostile_path_is_refused_cleanly(
    app: MockApp, hostile: InProcessClient, method: str, path: str
) -> None:
    body = b'{"name":"renamed","action":"addObject","records":[]}' if method in ("PATCH", "POST") else None
    with unchanged(app):
        response = hostile.request(method, path, content=body, headers={"content-type": "application/json"})
        assert_clean_refusal(response, (400, 404, 405))


# --- paths, raw (exactly as written) ----------------------------------------------------------

RAW_PATHS: list[tuple[str, str, str]] = [
    ("GET", "//1/sources", "double-leading-slash"),
    ("GET", "///1/sources", "triple-leading-slash"),
    ("GET", "/1//sources", "double-inner-slash"),
    ("GET", "/1/sources/../../etc/passwd", "literal-traversal"),
    ("GET", f"/1/sources/./{SRC}", "literal-dot-segment"),
    ("GET", f"/1/sources/../sources/{SRC}", "literal-dot-dot-back-in"),
    ("GET", "/1/sources/\x00", "literal-nul"),
    ("GET", "/1/sources/\r\nX-Injected: 1", "literal-crlf"),
    ("GET", "/1/sources/\t", "literal-tab"),
    ("GET", "/1/sources/\\..\\..\\windows", "backslashes"),
    ("GET", "/1/sources/" + "b" * 100_000, "100k-character-id"),
    ("GET", "relative/1/sources", "no-leading-slash"),
    ("GET", "/__mock__/../1/sources", "control-plane-dot-dot"),
    ("DELETE", f"//1/sources/{SRC}", "delete-double-leading-slash"),
    ("DELETE", f"/1/sources/../sources/{SRC}", "delete-literal-dot-dot"),
    ("DELETE", f"/1/sources/{SRC}/.", "delete-trailing-dot"),
    ("PATCH", f"/1//sources/{SRC}", "patch-double-inner-slash"),
    ("get", "/1/sources", "lower-case-method"),
    ("PROPFIND", "/1/sources", "webdav-method"),
    ("CONNECT", "/1/sources", "connect-method"),
    ("", "/1/sources", "empty-method"),
    ("GET /1/sources HTTP/1.1\r\nX:", "/1/sources", "crlf-in-method"),
]


@pytest.mark.parametrize(
    ("method", "path"), [(m, p) for m, p, _ in RAW_PATHS], ids=[i for *_, i in RAW_PATHS]
)
def test_raw_hostile_path_is_refused_cleanly(app: MockApp, method: str, path: str) -> None:
    seed_catalog(app)
    headers = [*RAW_CREDENTIALS, (b"content-type", b"application/json")]
    with unchanged(app):
        answer = call_asgi(app, method, path, headers, b'{"name":"renamed"}')
        assert_clean_refusal(answer, (400, 404, 405))


def test_seeded_resources_survive_the_path_tricks(app: MockApp, hostile: InProcessClient) -> None:
    """After every trick, each seeded resource is still there and still answers."""
    for method, path, _ in ENCODED_PATHS:
        hostile.request(method, path, content=b"{}", headers={"content-type": "application/json"})
    for method, path, _ in RAW_PATHS:
        call_asgi(app, method, path, RAW_CREDENTIALS)
    for path in (
        f"/1/sources/{SRC}",
        f"/1/authentications/{CATALOG_BASIC_AUTH}",
        f"/1/destinations/{CATALOG_DESTINATION}",
        f"/2/tasks/{CATALOG_TASK}",
    ):
        assert hostile.get(path).status_code == 200, path


# --- query strings ----------------------------------------------------------------------------

HUGE = "9" * 5000

QUERIES: list[tuple[str, str, str | None]] = [
    # (path, raw query string, a word the message must name)
    ("/1/sources", "itemsPerPage=1&itemsPerPage=2", "itemsPerPage"),
    ("/1/sources", "itemsPerPage=10&itemsPerPage=10", "itemsPerPage"),
    ("/1/sources", "page=1&page=2", "page"),
    ("/1/sources", "sort=name&sort=type", "sort"),
    ("/1/sources", "order=asc&order=desc", "order"),
    ("/2/tasks", "enabled=true&enabled=false", "enabled"),
    ("/1/sources", "itemsPerPage=", "itemsPerPage"),
    ("/1/sources", "page=", "page"),
    ("/1/sources", "sort=", "sort"),
    ("/1/sources", "order=", "order"),
    ("/2/tasks", "enabled=", "enabled"),
    ("/1/sources", "itemsPerPage", "itemsPerPage"),
    ("/1/sources", "itemsPerPage=1e2", "itemsPerPage"),
    ("/1/sources", "itemsPerPage=10.0", "itemsPerPage"),
    ("/1/sources", "itemsPerPage=0x10", "itemsPerPage"),
    ("/1/sources", "itemsPerPage=NaN", "itemsPerPage"),
    ("/1/sources", "itemsPerPage=Infinity", "itemsPerPage"),
    ("/1/sources", "itemsPerPage=-Infinity", "itemsPerPage"),
    ("/1/sources", "itemsPerPage=0", "itemsPerPage"),
    ("/1/sources", "itemsPerPage=-0", "itemsPerPage"),
    ("/1/sources", "itemsPerPage=-1", "itemsPerPage"),
    ("/1/sources", "itemsPerPage=101", "itemsPerPage"),
    ("/1/sources", f"itemsPerPage={10**30}", "itemsPerPage"),
    ("/1/sources", f"itemsPerPage={HUGE}", "itemsPerPage"),
    ("/1/sources", f"itemsPerPage=-{HUGE}", "itemsPerPage"),
    ("/1/sources", "itemsPerPage=%205", "itemsPerPage"),
    ("/1/sources", "itemsPerPage=5%00", "itemsPerPage"),
    ("/1/sources", "itemsPerPage=five", "itemsPerPage"),
    ("/1/sources", "page=0", "page"),
    ("/1/sources", "page=-1", "page"),
    ("/1/sources", "page=1e400", "page"),
    ("/1/sources", f"page={HUGE}", "page"),
    ("/1/runs", f"page={HUGE}", "page"),
    ("/2/tasks", f"page={HUGE}&itemsPerPage=100", "page"),
    ("/1/sources", "type=,,", "type"),
    ("/1/sources", "type=json,,csv", "type"),
    ("/1/sources", "type=json,", "type"),
    ("/1/authentications", "type=,", "type"),
    ("/1/runs", "status=,,", "status"),
    ("/2/tasks", "action=,,,", "action"),
    ("/1/sources", "type=JSON", "type"),
    ("/1/sources", "type=json%00", "type"),
    ("/1/sources", "sort=__proto__", "sort"),
    ("/1/sources", "sort=name%00", "sort"),
    ("/1/sources", "order=ASC", "order"),
    ("/2/tasks", "enabled=yes", "enabled"),
    ("/2/tasks", "enabled=True", "enabled"),
    ("/2/tasks", "enabled=1", "enabled"),
    ("/1/runs", "startDate=not-a-date", "startDate"),
    ("/1/runs", "startDate=2026-02-30T00:00:00Z", "startDate"),
    ("/1/runs", f"startDate={HUGE}", "startDate"),
    ("/1/runs", "endDate=2026-01-01T00:00:00Z&endDate=2026-01-02T00:00:00Z", "endDate"),
    (f"/2/tasks/{CATALOG_PUSH_TASK}/push", "watch=1", "watch"),
    (f"/2/tasks/{CATALOG_PUSH_TASK}/push", "watch=", "watch"),
    (f"/2/tasks/{CATALOG_PUSH_TASK}/push", "watch=true&watch=false", "watch"),
]


@pytest.mark.parametrize(("path", "query", "names"), QUERIES, ids=[f"{p}?{q[:40]}" for p, q, _ in QUERIES])
def test_hostile_query_is_refused_cleanly(
    app: MockApp, hostile: InProcessClient, path: str, query: str, names: str | None
) -> None:
    method = "POST" if path.endswith("/push") else "GET"
    body = b'{"action":"addObject","records":[{"objectID":"q"}]}' if method == "POST" else None
    with unchanged(app):
        response = hostile.request(
            method, f"{path}?{query}", content=body, headers={"content-type": "application/json"}
        )
        message = assert_clean_refusal(response, 400)
    if names is not None:
        assert names in message, message


# Valid per the spec, however odd: answered (an empty page, say) or refused, never a server error.
TOLERATED: list[tuple[str, str]] = [
    ("/1/sources", f"page={10**30}"),
    ("/1/sources", f"page={2**63}"),
    ("/1/sources", f"page={2**63}&order=asc"),
    ("/1/sources", f"page={10**30}&sort=name"),
    ("/2/tasks", f"page={10**30}"),
    ("/1/tasks", f"page={10**30}"),
    ("/1/authentications", f"page={2**64}&itemsPerPage=100"),
    ("/1/destinations", f"page={2**64}"),
    ("/1/transformations", f"page={2**64}"),
    ("/1/runs", f"page={2**64}"),
    ("/1/sources", "itemsPerPage=+5"),
    ("/1/sources", "itemsPerPage=%D9%A1%D9%A0"),  # Arabic-Indic digits
    ("/1/sources", "type="),
    ("/1/sources", "type=json&type=csv"),
    ("/1/sources", "unknown=1&itemsPerPage[]=3&%00=%00"),
    ("/1/runs", "taskID="),
    ("/1/runs", "taskID=%00"),
    ("/1/sources", "&&&=&="),
]


@pytest.mark.parametrize(("path", "query"), TOLERATED, ids=[f"{p}?{q[:40]}" for p, q in TOLERATED])
def test_odd_but_valid_query_never_causes_a_server_error(
    app: MockApp, hostile: InProcessClient, path: str, query: str
) -> None:
    with unchanged(app):
        response = hostile.get(f"{path}?{query}")
    assert_no_server_error(response)
    if response.status_code == 200:
        body = response.json()
        assert isinstance(body, dict)
        assert "pagination" in body
    else:
        assert_clean_refusal(response)


def test_query_tricks_leave_the_catalog_as_it_was(app: MockApp, hostile: InProcessClient) -> None:
    """All those refusals created no application and moved nothing for the real one."""
    for path, query, _ in QUERIES:
        hostile.get(f"{path}?{query}")
    assert list(app.store.accounts) == [APP_ID]
    listed = hostile.get("/1/sources", params={"itemsPerPage": "100"}).json()
    assert listed["pagination"]["nbItems"] == 5
