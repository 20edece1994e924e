"""Hostile request bodies: malformed, mis-typed, mis-encoded, enormous, deep, compressed.

Every case is a row of a table; each must be refused with a clean 4xx JSON answer, never a 5xx or
a traceback, and must leave the mock's state byte-for-byte as it was.
"""

from __future__ import annotations

import functools
import gzip
import json
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from mockserver import MockApp, create_app
from mockserver.http.inprocess import InProcessClient
from tests.conftest import APP_ID, CREDENTIALS
from tests.hostile import (
    CATALOG_JSON_SOURCE,
    CATALOG_PUSH_INDEX,
    CATALOG_PUSH_SOURCE,
    CATALOG_PUSH_TASK,
    MAX_MESSAGE,
    Answer,
    assert_clean_refusal,
    seed_catalog,
    unchanged,
)

JSON = {"content-type": "application/json"}
DEPTH = 10_000


@pytest.fixture
def hostile(app: MockApp) -> Iterator[InProcessClient]:
    """A client of a seeded mock that sees server errors as responses, the way a real client would."""
    seed_catalog(app)
    with InProcessClient(app, base_url="http://mock", headers=CREDENTIALS, raise_app_exceptions=False) as c:
        yield c


def client_of(app: MockApp) -> InProcessClient:
    return InProcessClient(app, base_url="http://mock", headers=CREDENTIALS, raise_app_exceptions=False)


# --- the targets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """An operation a hostile body is sent to, with a body it accepts and a free slot in that body.

    ``SLOT`` (a JSON string in ``valid``) marks where raw JSON text is spliced in to put an odd value
    (a deep array, a lone surrogate, an enormous number) somewhere the schema lets anything be.
    """

    name: str
    method: str
    path: str
    valid: dict[str, Any]

    def text(self) -> str:
        return json.dumps(self.valid)

    def splice(self, raw: str) -> bytes:
        """The valid body with ``raw`` (JSON text, maybe not valid JSON) in the slot."""
        text = self.text()
        assert SLOT_JSON in text
        return text.replace(SLOT_JSON, raw).encode("utf-8", "surrogateescape")


SLOT = "@@slot@@"
SLOT_JSON = json.dumps(SLOT)

TARGETS = [
    Target("createSource", "POST", "/1/sources", {"type": "push", "name": SLOT}),
    Target("updateSource", "PATCH", f"/1/sources/{CATALOG_JSON_SOURCE}", {"name": SLOT}),
    Target(
        "pushTask",
        "POST",
        f"/2/tasks/{CATALOG_PUSH_TASK}/push",
        {"action": "addObject", "records": [{"objectID": "o1", "title": SLOT}]},
    ),
    Target(
        "push",
        "POST",
        f"/1/push/{CATALOG_PUSH_INDEX}",
        {"action": "addObject", "records": [{"objectID": "o2", "title": SLOT}]},
    ),
]
PUSH_TARGETS = [t for t in TARGETS if t.name in ("pushTask", "push")]  # free-form records


def valid_body(target: Target) -> bytes:
    return target.splice('"fine"')


def test_the_targets_accept_their_valid_bodies(app: MockApp, hostile: InProcessClient) -> None:
    """Without this, every refusal below could be a refusal of something else."""
    for target in TARGETS:
        response = hostile.request(target.method, target.path, content=valid_body(target), headers=JSON)
        assert response.status_code == 200, (target.name, response.text)


# --- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    method: str
    path: str
    content: Callable[[], bytes]
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON))
    status: int = 400
    mentions: str | None = None  # a substring the message must contain

    def __repr__(self) -> str:
        return self.id


Build = Callable[[Target], bytes]


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def _corrupt(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:10] + bytes(b ^ 0x5A for b in data[10:middle]) + data[middle:]


# Cases for every target: (id, body built from the target, extra headers, status).
GENERIC: list[tuple[str, Build, dict[str, str], int]] = [
    # malformed JSON
    ("garbage-after-json", lambda t: t.text().encode() + b"garbage", {}, 400),
    ("two-documents", lambda t: (t.text() * 2).encode(), {}, 400),
    ("trailing-comma", lambda t: t.text()[:-1].encode() + b",}", {}, 400),
    ("single-quotes", lambda t: t.text().replace('"', "'").encode(), {}, 400),
    ("unquoted-keys", lambda t: b"{type: 1}", {}, 400),
    ("js-comment", lambda t: b"/* hi */" + t.text().encode(), {}, 400),
    ("truncated-half", lambda t: t.text().encode()[: len(t.text()) // 2], {}, 400),
    ("truncated-last-byte", lambda t: t.text().encode()[:-1], {}, 400),
    ("unterminated-string", lambda t: t.splice('"never closed'), {}, 400),
    ("bare-word", lambda t: b"nope", {}, 400),
    ("nul-byte", lambda t: b"\x00", {}, 400),
    ("whitespace-only", lambda t: b" \n\t ", {}, 400),
    ("null", lambda t: b"null", {}, 400),
    ("array", lambda t: b"[]", {}, 400),
    ("string", lambda t: b'"text"', {}, 400),
    ("number", lambda t: b"42", {}, 400),
    ("utf8-bom", lambda t: b"\xef\xbb\xbf" + t.text().encode(), {}, 400),
    ("form-encoded-as-json", lambda t: b"type=push&name=x", {}, 400),
    ("control-char-in-string", lambda t: t.splice('"a\x01b"'), {}, 400),
    ("bad-escape", lambda t: t.splice('"\\x41"'), {}, 400),
    ("short-unicode-escape", lambda t: t.splice('"\\u12"'), {}, 400),
    # invalid UTF-8 and friends
    ("invalid-utf8-ff", lambda t: t.splice('"a\udcffb"'), {}, 400),  # surrogateescape: raw 0xff
    ("overlong-utf8", lambda t: t.splice('"\udcc0\udcaf"'), {}, 400),
    ("truncated-utf8-sequence", lambda t: t.splice('"\udce2\udc82"'), {}, 400),
    ("cesu-surrogate-bytes", lambda t: t.splice('"\udced\udca0\udc80"'), {}, 400),
    ("utf16-encoded", lambda t: t.splice('"x"').decode().encode("utf-16"), {}, 400),
    (
        "latin1-declared",
        lambda t: t.splice('"caf\udce9"'),
        {"content-type": "application/json; charset=latin-1"},
        400,
    ),
    ("lone-high-surrogate-escape", lambda t: t.splice('"\\ud800"'), {}, 400),
    ("lone-low-surrogate-escape", lambda t: t.splice('"x\\udfff"'), {}, 400),
    # 10,000 levels deep, as the whole body and inside a field
    ("deep-arrays", lambda t: b"[" * DEPTH + b"]" * DEPTH, {}, 400),
    ("deep-objects", lambda t: b'{"a":' * DEPTH + b"1" + b"}" * DEPTH, {}, 400),
    ("deep-arrays-unclosed", lambda t: b"[" * DEPTH, {}, 400),
    ("deep-arrays-100k", lambda t: b"[" * 100_000 + b"]" * 100_000, {}, 400),
    ("deep-arrays-in-field", lambda t: t.splice("[" * DEPTH + "]" * DEPTH), {}, 400),
    ("deep-objects-in-field", lambda t: t.splice('{"a":' * DEPTH + "null" + "}" * DEPTH), {}, 400),
    # numbers JSON has no room for
    ("nan-literal", lambda t: t.splice("NaN"), {}, 400),
    ("infinity-literal", lambda t: t.splice("Infinity"), {}, 400),
    ("minus-infinity-literal", lambda t: t.splice("-Infinity"), {}, 400),
    ("int-of-5000-digits", lambda t: t.splice("9" * 5000), {}, 400),
    ("leading-zeros", lambda t: t.splice("007"), {}, 400),
    ("hex-number", lambda t: t.splice("0x10"), {}, 400),
    # content types and encodings
    ("text-html", lambda t: t.splice('"x"'), {"content-type": "text/html"}, 400),
    (
        "form-urlencoded",
        lambda t: b"type=push&name=x",
        {"content-type": "application/x-www-form-urlencoded"},
        400,
    ),
    ("multipart", lambda t: t.splice('"x"'), {"content-type": "multipart/form-data; boundary=zz"}, 400),
    ("xml", lambda t: b"<source><name>x</name></source>", {"content-type": "application/xml"}, 400),
    ("empty-content-type", lambda t: t.splice('"x"'), {"content-type": ""}, 400),
    ("content-type-list", lambda t: t.splice('"x"'), {"content-type": "text/html, application/json"}, 400),
    ("octet-stream", lambda t: t.splice('"x"'), {"content-type": "application/octet-stream"}, 400),
    ("encoding-br", lambda t: t.splice('"x"'), {"content-encoding": "br"}, 400),
    ("encoding-deflate", lambda t: zlib.compress(t.splice('"x"')), {"content-encoding": "deflate"}, 400),
    ("encoding-gzip-twice", lambda t: _gz(_gz(t.splice('"x"'))), {"content-encoding": "gzip, gzip"}, 400),
    ("gzip-declared-plain-body", lambda t: t.splice('"x"'), {"content-encoding": "gzip"}, 400),
    ("gzip-corrupt", lambda t: _corrupt(_gz(t.splice('"x"' + " " * 200))), {"content-encoding": "gzip"}, 400),
    ("gzip-truncated", lambda t: _gz(t.splice('"x"'))[:-6], {"content-encoding": "gzip"}, 400),
    ("gzip-header-only", lambda t: _gz(t.splice('"x"'))[:10], {"content-encoding": "gzip"}, 400),
    ("gzip-of-malformed-json", lambda t: _gz(t.text().encode()[:-1]), {"content-encoding": "gzip"}, 400),
    ("gzip-of-nothing", lambda t: _gz(b""), {"content-encoding": "gzip"}, 400),
    (
        "gzip-gzipped-once-declared-once",
        lambda t: _gz(_gz(t.splice('"x"'))),
        {"content-encoding": "gzip"},
        400,
    ),
    # Data after the gzip stream is either garbage or a second member: never silently dropped.
    ("gzip-trailing-garbage", lambda t: _gz(t.splice('"x"')) + b"garbage", {"content-encoding": "gzip"}, 400),
    (
        "gzip-second-member-garbage",
        lambda t: _gz(t.splice('"x"')) + _gz(b"}{"),
        {"content-encoding": "gzip"},
        400,
    ),
]

# Cases for one operation each: unknown fields, numbers out of range, types.
SPECIFIC: list[Case] = [
    # unknown fields on closed objects
    Case(
        "createSource-unknown-field",
        "POST",
        "/1/sources",
        lambda: b'{"type":"push","name":"x","color":"red"}',
        mentions="color",
    ),
    Case(
        "createSource-unknown-input-field",
        "POST",
        "/1/sources",
        lambda: b'{"type":"json","name":"x","input":{"url":"https://a.example","color":"red"}}',
        mentions="color",
    ),
    Case(
        "updateSource-unknown-field",
        "PATCH",
        f"/1/sources/{CATALOG_JSON_SOURCE}",
        lambda: b'{"name":"x","sourceID":"hijack"}',
        mentions="sourceID",
    ),
    Case(
        "createDestination-unknown-input-field",
        "POST",
        "/1/destinations",
        lambda: b'{"type":"search","name":"d","input":{"indexName":"i","shards":3}}',
        mentions="shards",
    ),
    Case(
        "createAuthentication-field-of-another-type",
        "POST",
        "/1/authentications",
        lambda: b'{"type":"basic","name":"a","input":{"username":"u","password":"p","key":"k"}}',
        mentions="key",
    ),
    Case(
        "createTask-unknown-field",
        "POST",
        "/2/tasks",
        lambda: (
            f'{{"sourceID":"{CATALOG_PUSH_SOURCE}","destinationID":"x","action":"save","when":1}}'.encode()
        ),
        mentions="when",
    ),
    Case(
        "searchSources-unknown-field",
        "POST",
        "/1/sources/search",
        lambda: b'{"sourceIDs":[],"limit":5}',
        mentions="limit",
    ),
    # numbers out of range in typed fields
    Case(
        "failureThreshold-1e400",
        "POST",
        "/2/tasks",
        lambda: (
            f'{{"sourceID":"{CATALOG_PUSH_SOURCE}","destinationID":"d","action":"save",'
            '"failureThreshold":1e400}'.encode()
        ),
    ),
    Case(
        "failureThreshold-huge-int",
        "POST",
        "/2/tasks",
        lambda: (
            f'{{"sourceID":"{CATALOG_PUSH_SOURCE}","destinationID":"d","action":"save",'
            f'"failureThreshold":{10**30}}}'.encode()
        ),
        mentions="failureThreshold",
    ),
    Case(
        "failureThreshold-negative-fraction",
        "POST",
        "/2/tasks",
        lambda: (
            f'{{"sourceID":"{CATALOG_PUSH_SOURCE}","destinationID":"d","action":"save",'
            '"failureThreshold":-0.5}'.encode()
        ),
        mentions="failureThreshold",
    ),
    Case(
        "name-is-a-number",
        "POST",
        "/1/sources",
        lambda: b'{"type":"push","name":1e400}',
        mentions="name",
    ),
    Case("type-is-null", "POST", "/1/sources", lambda: b'{"type":null,"name":"x"}', mentions="type"),
    Case(
        "records-not-an-array",
        "POST",
        f"/2/tasks/{CATALOG_PUSH_TASK}/push",
        lambda: b'{"action":"addObject","records":{}}',
        mentions="records",
    ),
    Case("missing-required-body", "POST", "/1/sources", lambda: b"", mentions="body"),
]

# Numbers JSON can write but no JSON answer can carry back: refused where they would be stored.
for _t in PUSH_TARGETS:
    for _id, _raw in [("1e400", "1e400"), ("minus-1e400", "-1e400"), ("1e309-in-array", "[1, 1e309]")]:
        SPECIFIC.append(
            Case(f"{_t.name}-record-{_id}", _t.method, _t.path, functools.partial(_t.splice, _raw))
        )


def _expand() -> list[Case]:
    cases = [
        Case(
            f"{target.name}-{name}",
            target.method,
            target.path,
            functools.partial(build, target),
            {**JSON, **extra},
            status,
        )
        for name, build, extra, status in GENERIC
        for target in TARGETS
    ]
    return cases + SPECIFIC


CASES = _expand()


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_body_is_refused_cleanly(app: MockApp, hostile: InProcessClient, case: Case) -> None:
    content = case.content()
    with unchanged(app):
        response = hostile.request(case.method, case.path, content=content, headers=case.headers)
        message = assert_clean_refusal(response, case.status)
    assert len(message) <= MAX_MESSAGE, f"a {len(message)}-character message"
    if case.mentions is not None:
        assert case.mentions in message, message
    assert app.journal.last().status == response.status_code


@dataclass(frozen=True)
class Duplicate:
    """A body giving a key twice, and where its last value must show up once it is accepted."""

    id: str
    method: str
    path: str
    raw: bytes
    stored: Callable[[MockApp, Any], Any]  # (app, the JSON answer) -> the value that was kept
    last: Any

    def __repr__(self) -> str:
        return self.id


def _source(app: MockApp, source_id: str) -> dict[str, Any]:
    source: dict[str, Any] = app.store.accounts[APP_ID].sources[source_id]
    return source


def _stock(app: MockApp) -> dict[str, Any]:
    return dict(app.store.accounts[APP_ID].indexes.get(CATALOG_PUSH_INDEX, {}))


# A key given twice: the last value wins, as in Python's json, JavaScript's JSON.parse and Go's
# encoding/json (nothing suggests the service refuses such a body).
DUPLICATES = [
    Duplicate(
        "duplicate-top-level-key",
        "POST",
        "/1/sources",
        b'{"type":"push","name":"first","name":"second"}',
        lambda app, answer: _source(app, answer["sourceID"])["name"],
        "second",
    ),
    Duplicate(
        "duplicate-key-in-input",
        "POST",
        "/1/sources",
        b'{"type":"json","name":"x","input":{"url":"https://a.example","url":"https://b.example"}}',
        lambda app, answer: _source(app, answer["sourceID"])["input"]["url"],
        "https://b.example",
    ),
    Duplicate(
        "duplicate-key-in-update",
        "PATCH",
        f"/1/sources/{CATALOG_JSON_SOURCE}",
        b'{"name":"a","name":"b"}',
        lambda app, answer: _source(app, CATALOG_JSON_SOURCE)["name"],
        "b",
    ),
    Duplicate(
        "duplicate-objectID-in-record",
        "POST",
        f"/2/tasks/{CATALOG_PUSH_TASK}/push?watch=true",
        b'{"action":"addObject","records":[{"objectID":"dup-a","objectID":"dup-b"}]}',
        lambda app, answer: sorted(k for k in _stock(app) if k.startswith("dup-")),
        ["dup-b"],
    ),
    Duplicate(
        "duplicate-action-key",
        "POST",
        f"/2/tasks/{CATALOG_PUSH_TASK}/push?watch=true",
        b'{"action":"addObject","records":[],"action":"clear"}',
        lambda app, answer: len(_stock(app)),
        0,
    ),
]


@pytest.mark.parametrize("case", DUPLICATES, ids=[c.id for c in DUPLICATES])
def test_a_key_given_twice_keeps_its_last_value(
    app: MockApp, hostile: InProcessClient, case: Duplicate
) -> None:
    response = hostile.request(case.method, case.path, content=case.raw, headers=JSON)
    assert response.status_code == 200, response.text
    assert case.stored(app, response.json()) == case.last


def test_missing_content_type_means_json(app: MockApp, hostile: InProcessClient) -> None:
    """No Content-Type at all is read as JSON (clients that omit it send JSON); malformed is still refused."""
    accepted = hostile.post("/1/sources", content=b'{"type":"push","name":"no content type"}')
    assert accepted.status_code == 200, accepted.text
    with unchanged(app):
        assert_clean_refusal(hostile.post("/1/sources", content=b'{"type":"push",'), 400)


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "text/plain", "application/vnd.x+json"],
)
def test_json_content_types_are_accepted(hostile: InProcessClient, content_type: str) -> None:
    response = hostile.post(
        "/1/sources", content=b'{"type":"push","name":"ok"}', headers={"content-type": content_type}
    )
    assert response.status_code == 200, response.text


def test_valid_gzip_body_is_accepted(app: MockApp, hostile: InProcessClient) -> None:
    body = json.dumps({"type": "push", "name": "gzipped"}).encode()
    response = hostile.post("/1/sources", content=_gz(body), headers={**JSON, "content-encoding": "gzip"})
    assert response.status_code == 200, response.text
    assert app.store.accounts[APP_ID].sources[response.json()["sourceID"]]["name"] == "gzipped"


# --- sizes ------------------------------------------------------------------------------------

LIMIT = 64 * 1024


def body_of_size(size: int) -> bytes:
    """A valid createSource body of exactly ``size`` bytes."""
    empty = json.dumps({"type": "push", "name": ""}).encode()
    body = json.dumps({"type": "push", "name": "x" * (size - len(empty))}).encode()
    assert len(body) == size
    return body


def chunked(data: bytes, size: int = 8192) -> Iterator[bytes]:
    """The body as a stream: sent without a Content-Length, so only the bytes themselves count."""
    for i in range(0, len(data), size):
        yield data[i : i + size]


@pytest.fixture
def small_app() -> MockApp:
    app = create_app(check_responses=True, max_body_bytes=LIMIT, seed=7)
    seed_catalog(app)
    return app


@pytest.mark.parametrize("how", ["content-length", "chunked", "gzip"])
def test_a_body_of_exactly_the_limit_is_accepted(small_app: MockApp, how: str) -> None:
    body = body_of_size(LIMIT)
    with client_of(small_app) as client:
        if how == "content-length":
            response = client.post("/1/sources", content=body, headers=JSON)
        elif how == "chunked":
            response = client.post("/1/sources", content=chunked(body), headers=JSON)
        else:
            response = client.post(
                "/1/sources", content=_gz(body), headers={**JSON, "content-encoding": "gzip"}
            )
    assert response.status_code == 200, response.text[:300]
    created = small_app.store.accounts[APP_ID].sources[response.json()["sourceID"]]
    assert len(created["name"]) == LIMIT - len(b'{"type": "push", "name": ""}')


@pytest.mark.parametrize("over", [1, 10 * LIMIT])
@pytest.mark.parametrize("how", ["content-length", "chunked", "gzip", "lying-content-length"])
def test_a_body_over_the_limit_is_refused_413(small_app: MockApp, how: str, over: int) -> None:
    body = body_of_size(LIMIT + over)
    with client_of(small_app) as client, unchanged(small_app):
        if how == "content-length":
            response = client.post("/1/sources", content=body, headers=JSON)
        elif how == "chunked":
            response = client.post("/1/sources", content=chunked(body), headers=JSON)
        elif how == "gzip":
            response = client.post(
                "/1/sources", content=_gz(body), headers={**JSON, "content-encoding": "gzip"}
            )
        else:  # declares a small body, streams a big one
            response = client.post(
                "/1/sources", content=chunked(body), headers={**JSON, "content-length": "20"}
            )
        message = assert_clean_refusal(response, 413)
    assert str(LIMIT) in message


def test_a_declared_content_length_over_the_limit_is_refused_before_reading(small_app: MockApp) -> None:
    with client_of(small_app) as client, unchanged(small_app):
        response = client.post(
            "/1/sources",
            content=b'{"type":"push","name":"x"}',
            headers={**JSON, "content-length": str(10**30)},
        )
        assert_clean_refusal(response, 413)


def test_huge_string_over_the_default_limit_is_refused_413(app: MockApp, hostile: InProcessClient) -> None:
    body = b'{"type":"push","name":"' + b"x" * (10 * 1024 * 1024) + b'"}'
    with unchanged(app):
        assert_clean_refusal(hostile.post("/1/sources", content=body, headers=JSON), 413)


def test_huge_array_within_the_limit_is_handled(app: MockApp, hostile: InProcessClient) -> None:
    ids = [f"id-{i}" for i in range(300_000)]
    with unchanged(app):
        response = hostile.post("/1/sources/search", json={"sourceIDs": ids})
    assert response.status_code == 200, response.text[:300]
    assert response.json() == []


def test_huge_array_over_the_limit_is_refused_413(app: MockApp, hostile: InProcessClient) -> None:
    records = [{"objectID": str(i), "pad": "x" * 100} for i in range(100_000)]
    with unchanged(app):
        response = hostile.post(
            f"/2/tasks/{CATALOG_PUSH_TASK}/push", json={"action": "addObject", "records": records}
        )
        assert_clean_refusal(response, 413)


def test_a_wide_closed_object_is_refused_with_a_short_message(app: MockApp, hostile: InProcessClient) -> None:
    wide = {f"field{i}": i for i in range(100_000)}
    with unchanged(app):
        response = hostile.post("/1/sources", json={"type": "json", "name": "w", "input": wide})
        message = assert_clean_refusal(response, 400)
    assert len(message) <= MAX_MESSAGE, f"a {len(message)}-character message"


# --- gzip bombs -------------------------------------------------------------------------------


@functools.cache
def gzip_bomb(megabytes: int = 50) -> bytes:
    """``megabytes`` MB of zeros, gzipped (about 1,000 to 1)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\0" * (1 << 20)
    parts = [packer.compress(block) for _ in range(megabytes)]
    return b"".join([*parts, packer.flush()])


@pytest.mark.parametrize(
    ("limit", "peak_mb"),
    [(None, 32), (1024 * 1024, 8)],
    ids=["default-limit", "1MB-limit"],
)
def test_gzip_bomb_is_refused_413_without_inflating_it(limit: int | None, peak_mb: int) -> None:
    bomb = gzip_bomb()
    assert len(bomb) < 100_000
    app = (
        create_app(check_responses=True)
        if limit is None
        else create_app(check_responses=True, max_body_bytes=limit)
    )
    seed_catalog(app)
    with client_of(app) as client, unchanged(app):
        tracemalloc.start()
        started = time.perf_counter()
        try:
            response = client.post("/1/sources", content=bomb, headers={**JSON, "content-encoding": "gzip"})
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        elapsed = time.perf_counter() - started
        message = assert_clean_refusal(response, 413)
    assert "decompressed" in message
    assert peak < peak_mb * 1024 * 1024, f"{peak / 1e6:.1f} MB allocated: the bomb was inflated"
    assert elapsed < 5, f"{elapsed:.1f}s"


def test_gzip_bomb_in_a_json_string_is_refused_413(app: MockApp, hostile: InProcessClient) -> None:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [packer.compress(b'{"type":"push","name":"')]
    parts += [packer.compress(b"a" * (1 << 20)) for _ in range(20)]
    bomb = b"".join([*parts, packer.compress(b'"}'), packer.flush()])
    with unchanged(app):
        response = hostile.post("/1/sources", content=bomb, headers={**JSON, "content-encoding": "gzip"})
        assert_clean_refusal(response, 413)


# --- deep but parseable -----------------------------------------------------------------------


@pytest.mark.parametrize("depth", [100, 500, 900])
def test_deep_but_parseable_records_never_cause_a_server_error(
    app: MockApp, hostile: InProcessClient, depth: int
) -> None:
    """Nesting the parser allows must not trip a recursion limit further in (validation, storage, answer)."""
    raw = '{"action":"addObject","records":[{"objectID":"deep","a":' + "[" * depth + "]" * depth + "}]}"
    response = hostile.post(
        f"/2/tasks/{CATALOG_PUSH_TASK}/push", params={"watch": "true"}, content=raw.encode(), headers=JSON
    )
    answer = Answer.of(response)
    if response.status_code != 200:
        assert_clean_refusal(answer)
    state = hostile.get("/__mock__/state")
    assert state.status_code == 200, state.text[:300]
