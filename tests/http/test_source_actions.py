"""What a source can do besides CRUD: validate (before creation or update), discover, run its tasks."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from mockserver import Clock, MockApp
from mockserver.engine.assumptions import note
from mockserver.engine.store import Account
from mockserver.http.inprocess import InProcessClient
from mockserver.spec import load_spec
from tests.helpers import (
    get_run,
    make_authentication,
    make_destination,
    make_source,
    make_task,
    ok,
    refused,
)

T0_TEXT = "2026-01-01T12:00:00Z"

JSON_SOURCE: dict[str, Any] = {
    "type": "json",
    "name": "feed",
    "input": {"url": "https://example.com/feed.json"},
}
DOCKER_SOURCE: dict[str, Any] = {
    "type": "docker",
    "name": "airbyte",
    "input": {"image": "airbyte/source-x", "configuration": {"k": "v"}},
}

# ----------------------------------------------------------------------------------------- helpers


BASIC_AUTH: dict[str, Any] = {"type": "basic", "input": {"username": "u", "password": "p"}}


# ------------------------------------------------------------------------------ validateSource


def test_validate_a_valid_payload(client: InProcessClient, account: Account, clock: Clock) -> None:
    account.url_contents[JSON_SOURCE["input"]["url"]] = '[{"objectID": "1"}]'
    answer = ok(client.post("/1/sources/validate", json=JSON_SOURCE))
    assert answer["data"] == [{"objectID": "1"}]
    assert answer["message"]
    assert answer["createdAt"] == T0_TEXT
    assert isinstance(answer["events"], list)
    assert answer["events"]
    assert all(e["runID"] == answer["runID"] for e in answer["events"])
    found = get_run(client, answer["runID"])
    assert (found["type"], found["status"], found["outcome"]) == ("validate", "finished", "success")
    for event in answer["events"]:
        assert ok(client.get(f"/1/runs/{answer['runID']}/events/{event['eventID']}")) == event


def test_validate_creates_no_source(client: InProcessClient, clock: Clock) -> None:
    ok(client.post("/1/sources/validate", json=JSON_SOURCE))
    assert ok(client.get("/1/sources"))["sources"] == []


@pytest.mark.parametrize(
    "body",
    [
        JSON_SOURCE,
        DOCKER_SOURCE,
        {"type": "csv", "name": "c", "input": {"url": "http://example.com/a.csv", "delimiter": ";"}},
        {"type": "push", "name": "p"},
        {"type": "bigquery", "name": "bq", "input": {"projectID": "p", "datasetID": "d"}},
        {"type": "algoliaIndex", "name": "ai", "input": {"indexName": "src"}},
        {
            "type": "commercetools",
            "name": "ct",
            "input": {"url": "https://api.commercetools.com", "projectKey": "k"},
        },
    ],
    ids=lambda b: str(b["type"]),
)
def test_validate_accepts_sound_sources_of_each_type(
    client: InProcessClient, clock: Clock, body: dict[str, Any]
) -> None:
    answer = ok(client.post("/1/sources/validate", json=body))
    assert body["type"] in answer["message"]


@pytest.mark.parametrize("url", ["ftp://x", "file:///etc/passwd", "not a url", "https://", "mailto:a@b.c"])
@pytest.mark.parametrize("kind", ["json", "csv"])
def test_validate_refuses_urls_the_service_cannot_fetch(
    app: MockApp, client: InProcessClient, account: Account, clock: Clock, url: str, kind: str
) -> None:
    before = copy.deepcopy(app.store.accounts)
    message = refused(
        client.post("/1/sources/validate", json={"type": kind, "name": "s", "input": {"url": url}}), 400
    )
    assert "input.url" in message
    assert repr(url) in message or url in message
    assert app.store.accounts == before


def test_validate_refuses_a_commercetools_url(client: InProcessClient, clock: Clock) -> None:
    body = {"type": "commercetools", "name": "ct", "input": {"url": "ftp://ct", "projectKey": "k"}}
    assert "input.url" in refused(client.post("/1/sources/validate", json=body), 400)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "docker", "name": "d", "input": {"image": " ", "configuration": {}}}, "input.image"),
        ({"type": "bigquery", "name": "b", "input": {"projectID": "", "datasetID": "d"}}, "input.projectID"),
        ({"type": "algoliaIndex", "name": "a", "input": {"indexName": ""}}, "input.indexName"),
    ],
)
def test_validate_refuses_empty_required_text(
    client: InProcessClient, clock: Clock, body: dict[str, Any], field: str
) -> None:
    assert field in refused(client.post("/1/sources/validate", json=body), 400)


def test_validate_with_unknown_authentication_is_400(
    app: MockApp, client: InProcessClient, account: Account, clock: Clock
) -> None:
    before = copy.deepcopy(app.store.accounts)
    message = refused(
        client.post("/1/sources/validate", json={**JSON_SOURCE, "authenticationID": "ghost"}), 400
    )
    assert "authenticationID" in message
    assert "ghost" in message
    assert app.store.accounts == before


def test_validate_with_existing_authentication(client: InProcessClient, clock: Clock) -> None:
    auth_id = make_authentication(client, **BASIC_AUTH)
    ok(client.post("/1/sources/validate", json={**JSON_SOURCE, "authenticationID": auth_id}))


def test_validate_reports_every_problem(client: InProcessClient, clock: Clock) -> None:
    body = {"type": "json", "name": "s", "input": {"url": "ftp://x"}, "authenticationID": "ghost"}
    message = refused(client.post("/1/sources/validate", json=body), 400)
    assert "input.url" in message
    assert "authenticationID" in message


def test_validate_needs_a_payload(client: InProcessClient, clock: Clock) -> None:
    assert refused(client.post("/1/sources/validate")) == (
        "body: a JSON body is required " + note("validate-source-body-required")
    )


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"type": "json", "input": {"url": "https://x"}}, "name"),
        ({"type": "json", "name": "s"}, "input"),
        ({"type": "json", "name": "s", "input": {"image": "i", "configuration": {}}}, "body.input"),
        ({"type": "sftp", "name": "s"}, "body.type"),
    ],
)
def test_validate_checks_the_payload_shape(
    client: InProcessClient, clock: Clock, body: dict[str, Any], where: str
) -> None:
    assert where in refused(client.post("/1/sources/validate", json=body))


# ----------------------------------------------------------------------- validateSourceBeforeUpdate


@pytest.fixture
def json_source(client: InProcessClient, clock: Clock) -> str:
    return make_source(client, **JSON_SOURCE)


def test_validate_before_update_accepts_a_sound_update_and_changes_nothing(
    client: InProcessClient, json_source: str
) -> None:
    stored = ok(client.get(f"/1/sources/{json_source}"))
    answer = ok(
        client.post(
            f"/1/sources/{json_source}/validate",
            json={"name": "renamed", "input": {"url": "https://example.com/other.json"}},
        )
    )
    assert answer["message"]
    assert answer["events"]
    found = get_run(client, answer["runID"])
    assert (found["type"], found["status"]) == ("validate", "finished")
    assert ok(client.get(f"/1/sources/{json_source}")) == stored


def test_validate_before_update_refuses_a_bad_url(
    app: MockApp, client: InProcessClient, json_source: str
) -> None:
    before = copy.deepcopy(app.store.accounts)
    message = refused(
        client.post(f"/1/sources/{json_source}/validate", json={"input": {"url": "ftp://x"}}), 400
    )
    assert "input.url" in message
    assert app.store.accounts == before


def test_validate_before_update_checks_the_merged_source(client: InProcessClient, clock: Clock) -> None:
    """A source stored with a bad URL stays invalid under a rename, and is fine once the URL is fixed."""
    source_id = make_source(client, "json", "broken", input={"url": "ftp://old"})
    assert "input.url" in refused(
        client.post(f"/1/sources/{source_id}/validate", json={"name": "still broken"}), 400
    )
    ok(client.post(f"/1/sources/{source_id}/validate", json={"input": {"url": "https://fixed.example.com"}}))


@pytest.mark.parametrize(
    ("body", "change", "field"),
    [
        (
            {"type": "commercetools", "name": "ct", "input": {"url": "ftp://old", "projectKey": "k"}},
            {"locales": ["en-US"]},
            "input.url",
        ),
        (
            {"type": "docker", "name": "d", "input": {"image": " ", "configuration": {}}},
            {"configuration": {"k": "v"}},
            "input.image",
        ),
    ],
    ids=["commercetools-url", "docker-image"],
)
def test_validate_before_update_merges_input_keys(
    client: InProcessClient, clock: Clock, body: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    """Input keys the update leaves out keep their stored values, and those are checked too."""
    source_id = make_source(client, **body)
    assert field in refused(client.post(f"/1/sources/{source_id}/validate", json={"input": change}), 400)


@pytest.mark.parametrize(
    ("body", "new_input", "status"),
    [
        # No source update takes this input at all: the schema refuses it (400).
        (JSON_SOURCE, {"image": "i", "configuration": {}}, 400),
        # Another type's update input: valid for the schema, not for this source (400).
        (JSON_SOURCE, {"indexName": "x"}, 400),
        (DOCKER_SOURCE, {"url": "https://x"}, 400),
        (DOCKER_SOURCE, {"image": "new-image"}, 400),
    ],
    ids=["json-docker", "json-algoliaIndex", "docker-json", "docker-without-configuration"],
)
def test_validate_before_update_refuses_input_of_another_type(
    app: MockApp,
    client: InProcessClient,
    clock: Clock,
    body: dict[str, Any],
    new_input: dict[str, Any],
    status: int,
) -> None:
    source_id = make_source(client, **body)
    before = copy.deepcopy(app.store.accounts)
    message = refused(client.post(f"/1/sources/{source_id}/validate", json={"input": new_input}), status)
    assert "body.input" in message
    assert app.store.accounts == before


def test_validate_before_update_docker_configuration(client: InProcessClient, clock: Clock) -> None:
    source_id = make_source(client, **DOCKER_SOURCE)
    ok(client.post(f"/1/sources/{source_id}/validate", json={"input": {"configuration": {"k": "w"}}}))


def test_validate_before_update_authentication(client: InProcessClient, json_source: str) -> None:
    message = refused(
        client.post(f"/1/sources/{json_source}/validate", json={"authenticationID": "ghost"}), 400
    )
    assert "authenticationID" in message
    ok(
        client.post(
            f"/1/sources/{json_source}/validate",
            json={"authenticationID": make_authentication(client, **BASIC_AUTH)},
        )
    )


def test_validate_before_update_unknown_source_is_404(client: InProcessClient, clock: Clock) -> None:
    assert "ghost" in refused(client.post("/1/sources/ghost/validate", json={"name": "x"}), 404)


def test_validate_before_update_samples_the_source_records(
    client: InProcessClient, account: Account, json_source: str
) -> None:
    records = [{"objectID": str(i)} for i in range(25)]
    account.source_records[json_source] = records
    answer = ok(client.post(f"/1/sources/{json_source}/validate", json={"name": "x"}))
    data = answer["data"]
    assert 0 < len(data) <= 10
    assert data == records[: len(data)]


# ------------------------------------------------------------------------------------- discover


def test_discover_a_docker_source(client: InProcessClient, clock: Clock) -> None:
    source_id = make_source(client, **DOCKER_SOURCE)
    answer = ok(client.post(f"/1/sources/{source_id}/discover"))
    assert answer["message"]
    assert answer["createdAt"] == T0_TEXT
    found = get_run(client, answer["runID"])
    assert found["type"] == "discover"
    assert found["status"] == "finished"
    listed = ok(client.get("/1/runs", params={"type": "discover"}))["runs"]
    assert [r["runID"] for r in listed] == [answer["runID"]]


@pytest.mark.parametrize(
    "body",
    [
        JSON_SOURCE,
        {"type": "push", "name": "p"},
        {"type": "algoliaIndex", "name": "a", "input": {"indexName": "i"}},
    ],
    ids=lambda b: str(b["type"]),
)
def test_discover_refuses_non_docker_sources(
    app: MockApp, client: InProcessClient, clock: Clock, body: dict[str, Any]
) -> None:
    source_id = make_source(client, **body)
    before = copy.deepcopy(app.store.accounts)
    message = refused(client.post(f"/1/sources/{source_id}/discover"), 400)
    assert "docker" in message
    assert body["type"] in message
    assert app.store.accounts == before


def test_discover_takes_any_docker_image(client: InProcessClient, clock: Clock) -> None:
    """The published description asks for an airbyte image, which no published field of a docker
    source records: the mock discovers any docker source, and its spec does not promise more."""
    source_id = make_source(client, "docker", input={"image": "x", "configuration": {}})
    assert ok(client.post(f"/1/sources/{source_id}/discover"))["runID"]
    description = load_spec().operations["triggerDockerSourceDiscover"].raw["description"]
    assert "airbyte image)" not in description and "any image" in description


def test_discover_unknown_source_is_404(client: InProcessClient, clock: Clock) -> None:
    assert "ghost" in refused(client.post("/1/sources/ghost/discover"), 404)


# ------------------------------------------------------------------------------------ runSource


SHOP_SOURCE: dict[str, Any] = {
    "type": "shopify",
    "name": "shop",
    "input": {"shopURL": "https://shop.example.com"},
}


@pytest.fixture
def fanned(client: InProcessClient, account: Account, clock: Clock) -> dict[str, str]:
    """One shopify source with tasks into indexes a, b, c (+ a task of another source into d)."""
    source = make_source(client, **SHOP_SOURCE)
    other = make_source(client, **{**SHOP_SOURCE, "name": "other"})
    account.source_records[source] = [{"objectID": "1", "from": "source"}]
    account.source_records[other] = [{"objectID": "1", "from": "other"}]
    return {
        "source": source,
        "a": make_task(client, source, make_destination(client, "a"), "replace"),
        "b": make_task(client, source, make_destination(client, "b"), "save"),
        "c": make_task(client, source, make_destination(client, "c"), "append"),
        "d": make_task(client, other, make_destination(client, "d")),
    }


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (None, {"a", "b", "c"}),
        ({}, {"a", "b", "c"}),
        ({"indexToInclude": ["a"]}, {"a"}),
        ({"indexToInclude": ["a", "c", "zzz"]}, {"a", "c"}),
        ({"indexToInclude": []}, set()),
        ({"indexToExclude": ["a"]}, {"b", "c"}),
        ({"indexToInclude": ["a", "b"], "indexToExclude": ["b"]}, {"a"}),
        ({"indexToInclude": ["d"]}, set()),
    ],
)
def test_run_source_runs_its_tasks(
    client: InProcessClient,
    account: Account,
    fanned: dict[str, str],
    payload: dict[str, Any] | None,
    expected: set[str],
) -> None:
    path = f"/1/sources/{fanned['source']}/run"
    answer = ok(client.post(path, json=payload) if payload is not None else client.post(path))
    assert answer["createdAt"] == T0_TEXT
    mapping: dict[str, str] = answer["taskWithRunID"]
    assert set(mapping) == {fanned[i] for i in expected}
    for task_id, run_id in mapping.items():
        found = get_run(client, run_id)
        assert found["taskID"] == task_id
        assert found["status"] == "finished"
    assert len(set(mapping.values())) == len(mapping)
    assert {r["runID"] for r in ok(client.get("/1/runs", params={"itemsPerPage": 100}))["runs"]} == set(
        mapping.values()
    )
    for index in "abc":
        landed = account.indexes.get(index, {})
        assert (landed == {"1": {"objectID": "1", "from": "source"}}) is (index in expected)
    assert "d" not in account.indexes


def test_run_source_run_types_follow_task_actions(client: InProcessClient, fanned: dict[str, str]) -> None:
    mapping = ok(client.post(f"/1/sources/{fanned['source']}/run"))["taskWithRunID"]
    assert get_run(client, mapping[fanned["a"]])["type"] == "reindex"
    assert get_run(client, mapping[fanned["b"]])["type"] == "update"


def test_run_source_without_tasks(client: InProcessClient, clock: Clock) -> None:
    source_id = make_source(client, **SHOP_SOURCE)
    assert ok(client.post(f"/1/sources/{source_id}/run"))["taskWithRunID"] == {}
    assert ok(client.get("/1/runs"))["runs"] == []


@pytest.mark.parametrize(
    ("kind", "source_input"),
    [
        ("shopify", {"shopURL": "https://shop.example.com"}),
        ("bigcommerce", {"storeHash": "abc123"}),
        ("commercetools", {"url": "https://api.example.com", "projectKey": "p"}),
    ],
)
def test_run_source_serves_the_published_source_types(
    client: InProcessClient, account: Account, clock: Clock, kind: str, source_input: dict[str, Any]
) -> None:
    source_id = make_source(client, type=kind, name=kind, input=source_input)
    task_id = make_task(client, source_id, make_destination(client, "shop"))
    account.source_records[source_id] = [{"objectID": "1"}]
    assert set(ok(client.post(f"/1/sources/{source_id}/run"))["taskWithRunID"]) == {task_id}
    assert account.indexes["shop"] == {"1": {"objectID": "1"}}


@pytest.mark.parametrize("kind", ["json", "docker", "push"])
def test_run_source_refuses_other_source_types(
    app: MockApp, client: InProcessClient, account: Account, clock: Clock, kind: str
) -> None:
    """Published (runSource): only Shopify, BigCommerce and commercetools sources."""
    source_id = make_source(client, kind)
    make_task(client, source_id, make_destination(client, "other"))
    before = copy.deepcopy(app.store.accounts)
    message = refused(client.post(f"/1/sources/{source_id}/run"), 400)
    assert f"a {kind} source" in message
    assert "shopify, bigcommerce and commercetools" in message
    assert app.store.accounts == before


def test_run_source_unknown_source_is_404(client: InProcessClient, clock: Clock) -> None:
    assert "ghost" in refused(client.post("/1/sources/ghost/run", json={}), 404)


def test_run_source_rejects_unknown_fields(
    app: MockApp, client: InProcessClient, fanned: dict[str, str]
) -> None:
    before = copy.deepcopy(app.store.accounts)
    refused(client.post(f"/1/sources/{fanned['source']}/run", json={"indexes": ["a"]}))
    refused(client.post(f"/1/sources/{fanned['source']}/run", json={"entityType": "shoe"}))
    assert app.store.accounts == before
