"""The /__mock__/ control plane over HTTP; every answer is checked against spec/control.yaml."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import httpx
import pytest
import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from starlette.routing import Route

from mockserver import MockApp, create_app
from mockserver.control import http as admin
from mockserver.data import control_spec as control_spec_path
from mockserver.http.inprocess import InProcessClient
from mockserver.names import DEFAULT_APP_ID
from tests.conftest import APP_ID
from tests.helpers import ok
from tests.helpers import refused as error

SEEDED_SECRETS = ("seeded-algolia-key", "seeded-basic-password", "seeded-oauth-secret", "seeded-private-key")
CATALOG_SOURCE = "0a1b2c3d-0000-4000-8000-000000000201"
CATALOG_TASK = "0a1b2c3d-0000-4000-8000-000000000401"


@cache
def control_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(control_spec_path().read_text(encoding="utf-8"))
    return document


@cache
def control_spec() -> Any:
    return OpenAPI.from_dict(control_document())


def assert_conforms(method: str, path: str, response: httpx.Response) -> None:
    """The answer's status is documented for this operation and its body matches the schema."""
    request = MockRequest("http://mock", method.lower(), path)
    answer = MockResponse(
        response.content,
        status_code=response.status_code,
        content_type=response.headers.get("content-type", ""),
    )
    problem: str | None = None
    try:
        control_spec().validate_response(request, answer)
    except Exception as exc:
        cause = exc.__cause__ or exc.__context__
        problem = f"{exc!r}" + (f" ({cause!r})" if cause is not None else "")
    if problem is not None:
        pytest.fail(
            f"{method} {path} answered {response.status_code} {response.text[:300]!r}, "
            f"against spec/control.yaml: {problem}",
            pytrace=False,
        )


class ControlPlane:
    """``client`` for /__mock__/ paths: every answer is checked against the control spec."""

    def __init__(self, client: InProcessClient) -> None:
        self.client = client

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.client.request(method, admin.PREFIX + path, **kwargs)
        assert_conforms(method, admin.PREFIX + path, response)
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)


@pytest.fixture
def control(app: MockApp) -> Iterator[ControlPlane]:
    """The control plane as a tool outside the tests uses it: no credentials, so server-wide."""
    with InProcessClient(app, base_url="http://mock") as bare:
        yield ControlPlane(bare)


def source_names(client: InProcessClient, app_id: str = APP_ID) -> list[str]:
    answer = ok(
        client.get("/1/sources", params={"itemsPerPage": 100}, headers={"x-algolia-application-id": app_id})
    )
    return [s["name"] for s in answer["sources"]]


# --- the spec and the routes -------------------------------------------------------------------


def test_the_control_spec_documents_exactly_the_routes_served(app: MockApp) -> None:
    served = {
        (method, admin.PREFIX + route.path)
        for route in admin.routes(app.control)
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    documented = {
        (method.upper(), path)
        for path, item in control_document()["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert served == documented


def test_openapi_json_is_the_control_spec(control: ControlPlane) -> None:
    response = control.get("/openapi.json")
    assert response.headers["content-type"] == "application/json"
    assert ok(response) == control_document()
    assert response.json()["info"]["title"] == "mockserver control plane"


def test_with_configured_credentials_the_control_plane_needs_them_too() -> None:
    strict = create_app(check_responses=True, app_id="ONLYAPP", api_key="only-key")
    with InProcessClient(strict, base_url="http://mock") as bare:
        assert bare.get("/1/sources").status_code == 403
        control = ControlPlane(bare)
        refused = control.get("/clock")
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "invalid_credentials"
        assert control.post("/reset").status_code == 403
        assert control.get("/journal").status_code == 403
        assert control.get("/health").status_code == 200  # no data in it
        headers = {"x-algolia-application-id": "ONLYAPP", "x-algolia-api-key": "only-key"}
        seeded = bare.post(
            "/__mock__/seed", json={"fixtures": "catalog", "appID": "ONLYAPP"}, headers=headers
        )
        assert ok(seeded)["seeded"]["sources"] == 5
        other = bare.post("/__mock__/seed", json={"fixtures": "catalog", "appID": "OTHER"}, headers=headers)
        assert other.status_code == 403 and "ONLYAPP" in other.json()["message"]


def test_everything_asked_with_one_applications_credentials_says_only_that_one_was_reset() -> None:
    """Issue 21: "Reset everything" with one tenant's credentials reset that tenant alone, silently."""
    strict = create_app(check_responses=True, app_id="ONLYAPP", api_key="only-key")
    headers = {"x-algolia-application-id": "ONLYAPP", "x-algolia-api-key": "only-key"}
    with InProcessClient(strict, base_url="http://mock", headers=headers) as client:
        ok(client.post("/__mock__/seed", json={"fixtures": "catalog"}))
        told = ok(client.post("/__mock__/reset"))
        assert told["reset"] == "ONLYAPP"
        assert told["message"].startswith("reset application 'ONLYAPP' only"), told
        assert "everything needs scope=all" in told["message"], told
        assert ok(client.get("/1/sources"))["sources"] == []


def test_a_browsers_favicon_request_is_answered_and_never_journaled(app: MockApp) -> None:
    """Issue 21: the inspector's page load asked the API for /favicon.ico: a 403, journaled as a
    rejection (failing tests under fail_on_rejection). The page names its own icon, and a bare
    /favicon.ico (a JSON answer opened in a tab) gets the icon from the control plane."""
    with InProcessClient(app, base_url="http://mock") as browser:
        page = browser.get("/__mock__/ui")
        assert re.search(r'<link rel="icon" href="ui/favicon.svg\?v=[0-9a-f]+"', page.text), page.text[:600]
        for path in ("/favicon.ico", "/__mock__/ui/favicon.svg"):
            icon = browser.get(path)
            assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
            assert icon.content.startswith(b"<svg")
    assert len(app.journal) == 0


def test_control_plane_requests_are_not_journaled(app: MockApp, control: ControlPlane) -> None:
    control.get("/clock")
    control.post("/seed", json={"fixtures": "catalog"})
    control.get("/journal")
    assert len(app.journal) == 0


# --- reset -------------------------------------------------------------------------------------


def test_reset_everything(app: MockApp, client: InProcessClient, control: ControlPlane) -> None:
    ok(control.post("/seed", json={"fixtures": "catalog", "appID": APP_ID}))
    ok(control.post("/seed", json={"fixtures": "run_history", "appID": "OTHERAPP"}))
    ok(control.post("/clock", json={"now": "2026-01-01T00:00:00Z", "freeze": True}))
    ok(control.post("/runs", json={"mode": "deferred"}))
    client.get("/1/sources")
    told = ok(control.post("/reset"))
    assert told["reset"] == "all" and told["message"].startswith("reset everything: every application's data")
    assert ok(control.get("/state")) == {"applications": {}}
    assert ok(control.get("/journal")) == {"calls": []}
    assert ok(control.get("/clock"))["frozen"] is False
    assert ok(control.get("/runs"))["mode"] == "immediate"
    assert source_names(client) == []


def test_reset_one_application(app: MockApp, client: InProcessClient, control: ControlPlane) -> None:
    ok(control.post("/seed", json={"fixtures": "catalog", "appID": APP_ID}))
    ok(control.post("/seed", json={"fixtures": "run_history", "appID": "OTHERAPP"}))
    client.get("/1/sources")
    told = ok(control.post("/reset", json={"appID": APP_ID}))
    assert told == {
        "reset": APP_ID,
        "message": f"reset application {APP_ID!r} (its data, fault rules, stubs and snapshots)",
    }
    assert [c["operation_id"] for c in ok(control.get("/journal"))["calls"]] == ["listSources"]  # kept
    assert list(ok(control.get("/state"))["applications"]) == ["OTHERAPP"]
    assert source_names(client) == []
    assert source_names(client, "OTHERAPP") == ["Nightly feed", "Orders push"]


# --- seed --------------------------------------------------------------------------------------


def test_seed_a_bundled_data_set_by_name(client: InProcessClient, control: ControlPlane) -> None:
    seeded = ok(control.post("/seed", json={"fixtures": "catalog", "appID": APP_ID}))
    assert seeded == {
        "seeded": {
            "authentications": 4,
            "transformations": 1,
            "sources": 5,
            "destinations": 2,
            "tasks": 3,
            "runs": 0,
        }
    }
    assert len(source_names(client)) == 5
    assert ok(client.get(f"/1/sources/{CATALOG_SOURCE}"))["name"] == "Product feed (JSON)"


def test_seed_goes_to_the_default_application_unless_told(control: ControlPlane) -> None:
    ok(control.post("/seed", json={"fixtures": "run_history"}))
    assert list(ok(control.get("/state"))["applications"]) == [DEFAULT_APP_ID]


def test_seed_inline_data(client: InProcessClient, control: ControlPlane) -> None:
    data = {
        "sources": [{"sourceID": "44444444-0000-4000-8000-000000000001", "type": "push", "name": "Inline"}]
    }
    seeded = ok(control.post("/seed", json={"data": data, "appID": APP_ID}))
    assert seeded["seeded"]["sources"] == 1
    assert ok(client.get("/1/sources/44444444-0000-4000-8000-000000000001"))["name"] == "Inline"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "body: give 'fixtures' (a bundled data set name) or 'data' (inline data)"),
        ({"appID": APP_ID}, "body: give 'fixtures'"),
        (
            {"fixtures": "/etc/passwd"},
            "body.fixtures: names a bundled data set; send file contents as 'data'",
        ),
        (
            {"fixtures": "nope"},
            "no data set 'nope': not a file, nor one of the bundled ['catalog', 'empty', 'run_history']",
        ),
        (
            {"data": {"sources": [{"type": "json", "name": "Broken", "input": {}}]}},
            "inline data: sources[0] ('Broken'): body.input: 'url' is a required property",
        ),
        ({"data": {"bogus": []}}, "inline data: unknown key 'bogus'; fix: a data set is a mapping"),
    ],
)
def test_seed_errors(app: MockApp, control: ControlPlane, body: dict[str, Any], message: str) -> None:
    assert message in error(control.post("/seed", json=body), 400)
    assert app.store.accounts == {}


# --- state -------------------------------------------------------------------------------------


def test_state_dumps_what_the_api_shows_without_secrets(
    client: InProcessClient, control: ControlPlane
) -> None:
    ok(control.post("/seed", json={"fixtures": "catalog", "appID": APP_ID}))
    ok(control.post("/seed", json={"fixtures": "run_history", "appID": "OTHERAPP"}))
    ok(
        client.post(
            "/1/authentications",
            json={
                "type": "basic",
                "name": "api",
                "input": {"username": "u", "password": "api-created-secret"},
            },
        )
    )
    response = control.get("/state")
    text = response.text
    for secret in (*SEEDED_SECRETS, "api-created-secret"):
        assert secret not in text
    state = ok(response)["applications"]
    assert set(state) == {APP_ID, "OTHERAPP"}
    catalog = state[APP_ID]
    assert len(catalog["sources"]) == 5 and len(catalog["authentications"]) == 5
    algolia = next(a for a in catalog["authentications"] if a["type"] == "algolia")
    assert algolia["input"] == {"appID": "CATALOGAPP", "apiKey": None}
    history = state["OTHERAPP"]
    assert len(history["runs"]) == 5 and set(history["events"]) == {r["runID"] for r in history["runs"]}
    assert history["indexes"]["orders"][0]["objectID"] == "order-1"
    assert not [k for r in history["runs"] for k in r if k.startswith("_")]


def test_state_of_one_application(control: ControlPlane) -> None:
    ok(control.post("/seed", json={"fixtures": "catalog", "appID": APP_ID}))
    ok(control.post("/seed", json={"fixtures": "run_history", "appID": "OTHERAPP"}))
    state = ok(control.get("/state", params={"appID": "OTHERAPP"}))
    assert list(state["applications"]) == ["OTHERAPP"]
    assert len(state["applications"]["OTHERAPP"]["sources"]) == 2


# --- snapshots ---------------------------------------------------------------------------------


def test_snapshot_and_restore(client: InProcessClient, control: ControlPlane) -> None:
    ok(control.post("/seed", json={"fixtures": "catalog", "appID": APP_ID}))
    ok(control.post("/clock", json={"now": "2026-05-01T00:00:00Z", "freeze": True}))
    before = ok(control.get("/state"))
    snapshot_id = ok(control.post("/snapshots"))["snapshotID"]
    assert isinstance(snapshot_id, str) and snapshot_id

    ok(client.post("/1/sources", json={"type": "push", "name": "added after"}))
    ok(client.delete(f"/1/tasks/{CATALOG_TASK}"))
    ok(control.post("/clock", json={"advance": 3600}))
    assert ok(control.get("/state")) != before

    assert ok(control.post(f"/snapshots/{snapshot_id}/restore")) == {"restored": snapshot_id}
    assert ok(control.get("/state")) == before
    assert ok(control.get("/clock")) == {"now": "2026-05-01T00:00:00Z", "frozen": True}
    ok(control.post("/reset", json={"appID": APP_ID}))  # one application's reset keeps snapshots
    ok(control.post(f"/snapshots/{snapshot_id}/restore"))
    assert ok(control.get("/state")) == before


def test_a_full_reset_frees_every_snapshot(control: ControlPlane) -> None:
    snapshot_id = ok(control.post("/snapshots"))["snapshotID"]
    ok(control.post("/reset"))
    assert (
        error(control.post(f"/snapshots/{snapshot_id}/restore"), 404)
        == f"No snapshot with ID {snapshot_id!r}"
    )


def test_snapshots_are_capped(control: ControlPlane) -> None:
    from mockserver.control.mock_control import MAX_SNAPSHOTS

    for _ in range(MAX_SNAPSHOTS):
        ok(control.post("/snapshots"))
    assert "reset the mock to free them" in error(control.post("/snapshots"), 400)


def test_restore_an_unknown_snapshot(control: ControlPlane) -> None:
    assert (
        error(control.post("/snapshots/no-such-snapshot/restore"), 404)
        == "No snapshot with ID 'no-such-snapshot'"
    )


# --- journal -----------------------------------------------------------------------------------


def test_journal_lists_filters_and_clears(client: InProcessClient, control: ControlPlane) -> None:
    source_id = ok(client.post("/1/sources", json={"type": "push", "name": "p"}))["sourceID"]
    client.get("/1/sources")
    client.get(f"/1/sources/{source_id}", headers={"x-algolia-application-id": "OTHERAPP"})
    client.post(
        "/1/authentications",
        json={"type": "basic", "name": "b", "input": {"username": "u", "password": "journal-secret"}},
    )

    response = control.get("/journal")
    assert "journal-secret" not in response.text
    calls = ok(response)["calls"]
    assert [c["operation_id"] for c in calls] == [
        "createSource",
        "listSources",
        "getSource",
        "createAuthentication",
    ]
    first = calls[0]
    assert first["method"] == "POST" and first["path"] == "/1/sources" and first["app_id"] == APP_ID
    assert first["body"] == {"type": "push", "name": "p"} and first["status"] == 200
    assert first["response"]["sourceID"] == source_id
    assert calls[2]["status"] == 404 and calls[2]["path_params"] == {"sourceID": source_id}
    assert calls[3]["body"]["input"] == {"username": "u", "password": "***"}

    only = ok(control.get("/journal", params={"operationId": "listSources"}))["calls"]
    assert [c["operation_id"] for c in only] == ["listSources"]
    other = ok(control.get("/journal", params={"appID": "OTHERAPP"}))["calls"]
    assert [c["operation_id"] for c in other] == ["getSource"]
    assert ok(control.get("/journal", params={"operationId": "deleteSource"})) == {"calls": []}

    assert ok(control.delete("/journal"))["cleared"] is True
    assert ok(control.get("/journal")) == {"calls": []}
    assert len(source_names(client)) == 1  # clearing the journal keeps the state


def _journal_apps(control: ControlPlane) -> list[str | None]:
    return [call["app_id"] for call in ok(control.get("/journal", params={"scope": "all"}))["calls"]]


def test_clearing_one_applications_journal_names_it_in_the_query_or_the_body(
    client: InProcessClient, control: ControlPlane
) -> None:
    """Issue: ``DELETE /__mock__/journal {"appID": "X"}`` cleared every application's calls (the
    body was not read) and ``?appID=X`` was refused; reset reads appID from either."""
    for named in ({"json": {"appID": "X"}}, {"params": {"appID": "X"}}):
        for app_id in ("X", "Y"):
            client.get("/1/sources", headers={"x-algolia-application-id": app_id})
        told = ok(control.delete("/journal", **named))
        assert told["cleared"] is True and told["appID"] == "X" and "'X'" in told["message"], told
        assert _journal_apps(control) == ["Y"]
        ok(control.delete("/journal"))
    client.get("/1/sources", headers={"x-algolia-application-id": "X"})
    both = control.delete("/journal", params={"appID": "X"}, json={"appID": "Y"})
    assert both.status_code == 400 and "appID" in both.json()["message"]
    typo = control.delete("/journal", json={"appId": "X"})
    assert typo.status_code == 400 and "appId" in typo.json()["message"]
    assert _journal_apps(control) == ["X"]  # a refusal clears nothing
    everything = ok(control.delete("/journal"))
    assert everything["cleared"] is True and "appID" not in everything, everything
    assert _journal_apps(control) == []


def test_one_application_cannot_clear_anothers_journal() -> None:
    """With credentials, tenant B naming tenant A was told "cleared" while B's own calls went."""
    strict = create_app(
        check_responses=True,
        app_id="APPA",
        api_key="ka",
        keys=({"apiKey": "kb", "acl": ["addObject", "deleteIndex", "editSettings"], "appID": "APPB"},),
    )
    a = {"x-algolia-application-id": "APPA", "x-algolia-api-key": "ka"}
    b = {"x-algolia-application-id": "APPB", "x-algolia-api-key": "kb"}
    with InProcessClient(strict, base_url="http://mock") as bare:
        control = ControlPlane(bare)
        bare.get("/1/sources", headers=a)
        bare.get("/1/sources", headers=b)
        refused = control.delete("/journal", headers=b, json={"appID": "APPA"})
        assert refused.status_code == 403 and "APPA" in refused.json()["message"]
        for headers in (a, b):  # nothing was cleared
            assert len(ok(control.get("/journal", headers=headers))["calls"]) == 1
        told = ok(control.delete("/journal", headers=b, params={"appID": "APPB"}))
        assert told["appID"] == "APPB"
        assert ok(control.get("/journal", headers=b))["calls"] == []
        assert len(ok(control.get("/journal", headers=a))["calls"]) == 1
        own = ok(control.delete("/journal", headers=a))  # nothing named: the caller's own
        assert own["appID"] == "APPA" and "only" in own["message"], own


@pytest.mark.parametrize(
    ("method", "path"),
    [("DELETE", "/stubs"), ("DELETE", "/faults"), ("POST", "/snapshots"), ("GET", "/journal")],
)
def test_a_body_a_route_does_not_read_is_refused_and_changes_nothing(
    app: MockApp, control: ControlPlane, method: str, path: str
) -> None:
    """``DELETE /__mock__/stubs {"appID": "A"}`` from B's credentials cleared B's stubs and
    answered 200: a route with no body in spec/control.yaml now refuses a body that says anything."""
    ok(control.post("/stubs", json={"operation": "listSources", "status": 503, "app": "A"}))
    ok(control.post("/faults", json={"operation": "listSources", "status": 503, "app": "A"}))
    before = ok(control.get("/settings"))
    refused = control.request(method, path, json={"appID": "A"})
    assert refused.status_code == 400, refused.text
    message = refused.json()["message"]
    assert message.startswith(f"body: {method} /__mock__{path} reads no body (it was given appID)"), message
    assert ok(control.get("/settings")) == before
    assert ok(control.request(method, path, json={})) is not None  # an empty object asks nothing


def test_a_read_given_a_body_changes_nothing(control: ControlPlane) -> None:
    """``GET /__mock__/runs {"mode": "deferred"}`` changed the run policy: a GET passed its body on."""
    refused = control.get("/runs", json={"mode": "deferred"})
    assert refused.status_code == 400 and "reads no body (it was given mode)" in refused.json()["message"]
    assert ok(control.get("/runs"))["mode"] == "immediate"


# --- indexes -----------------------------------------------------------------------------------


def test_index_records(control: ControlPlane) -> None:
    ok(control.post("/seed", json={"fixtures": "run_history", "appID": APP_ID}))
    index = ok(control.get("/indexes/orders", params={"appID": APP_ID}))
    assert index == {
        "indexName": "orders",
        "nbHits": 2,
        "records": [
            {"objectID": "order-1", "total": 42.0, "status": "shipped"},
            {"objectID": "order-2", "total": 17.5, "status": "pending"},
        ],
    }


def test_index_of_the_default_application(control: ControlPlane) -> None:
    ok(control.post("/seed", json={"data": {"indexes": {"things": [{"objectID": "t"}]}}}))
    assert ok(control.get("/indexes/things"))["nbHits"] == 1


def test_index_records_pushed_through_the_api(client: InProcessClient, control: ControlPlane) -> None:
    ok(control.post("/seed", json={"fixtures": "catalog", "appID": APP_ID}))  # a push task into "stock"
    before = ok(control.get("/indexes/stock", params={"appID": APP_ID}))["records"]
    pushed = client.post(
        "/1/push/stock",
        json={"action": "addObject", "records": [{"objectID": "p1", "name": "Boot"}]},
    )
    assert pushed.status_code == 200, pushed.text
    index = ok(control.get("/indexes/stock", params={"appID": APP_ID}))
    assert index == {
        "indexName": "stock",
        "nbHits": len(before) + 1,
        "records": [*before, {"objectID": "p1", "name": "Boot"}],
    }


def test_source_records_registered_over_http_are_what_a_run_fetches(
    client: InProcessClient, control: ControlPlane
) -> None:
    ok(control.post("/seed", json={"fixtures": "catalog", "appID": APP_ID}))
    records = [{"objectID": "r1", "name": "Boot"}, {"objectID": "r2", "name": "Hat"}]
    stored = ok(control.put(f"/sources/{CATALOG_SOURCE}/records", json={"appID": APP_ID, "records": records}))
    assert stored == {"sourceID": CATALOG_SOURCE, "records": 2}
    ok(client.post(f"/2/tasks/{CATALOG_TASK}/run"))
    indexed = ok(control.get("/indexes/products", params={"appID": APP_ID}))["records"]
    assert [(r["objectID"], r["name"]) for r in indexed] == [("r1", "Boot"), ("r2", "Hat")]


def test_source_records_of_an_unknown_source_are_a_404(control: ControlPlane) -> None:
    answer = control.put("/sources/nope/records", json={"appID": APP_ID, "records": []})
    assert error(answer, 404) == f"No source with ID 'nope' exists in application {APP_ID!r}"
    assert "body: 'records' is a required property" in error(
        control.put("/sources/nope/records", json={}), 400
    )


@pytest.mark.parametrize("params", [{"appID": APP_ID}, {}])
def test_a_missing_index(control: ControlPlane, params: dict[str, str]) -> None:
    ok(control.post("/seed", json={"fixtures": "run_history", "appID": APP_ID}))
    message = error(control.get("/indexes/nothing", params=params), 404)
    assert message == f"No index 'nothing' in application {params.get('appID', DEFAULT_APP_ID)!r}"


# --- clock -------------------------------------------------------------------------------------


def test_clock_freeze_set_advance_unfreeze(client: InProcessClient, control: ControlPlane) -> None:
    now = ok(control.get("/clock"))
    assert now["frozen"] is False and now["now"].endswith("Z")
    assert ok(control.post("/clock", json={"now": "2026-01-01T00:00:00Z", "freeze": True})) == {
        "now": "2026-01-01T00:00:00Z",
        "frozen": True,
    }
    assert ok(control.post("/clock", json={"advance": 90})) == {"now": "2026-01-01T00:01:30Z", "frozen": True}
    created = ok(client.post("/1/sources", json={"type": "push", "name": "p"}))
    assert created["createdAt"] == "2026-01-01T00:01:30Z"
    assert ok(control.post("/clock", json={})) == {"now": "2026-01-01T00:01:30Z", "frozen": True}
    running = ok(control.post("/clock", json={"freeze": False}))
    assert running["frozen"] is False and running["now"].startswith("2026-01-01T00:01:")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"bogus": 1}, "body: Additional properties are not allowed ('bogus' was unexpected)"),
        ({"now": "garbage"}, "garbage"),
    ],
)
def test_clock_errors(control: ControlPlane, body: dict[str, Any], message: str) -> None:
    assert message in error(control.post("/clock", json=body), 400)
    assert ok(control.get("/clock"))["frozen"] is False


@pytest.mark.parametrize(
    "body",
    [{"freeze": "yes"}, {"now": 5}, {"advance": "ten"}],
    ids=["freeze-not-boolean", "now-not-string", "advance-not-number"],
)
def test_clock_fields_of_the_wrong_type_are_refused(control: ControlPlane, body: dict[str, Any]) -> None:
    """The spec types now (string), freeze (boolean) and advance (number); anything else is a 400."""
    before = ok(control.get("/clock"))
    error(control.post("/clock", json=body), 400)
    assert ok(control.get("/clock"))["frozen"] == before["frozen"]


# --- runs --------------------------------------------------------------------------------------

DEFAULT_POLICY = {
    "mode": "immediate",
    "start_after": 0.0,
    "finish_after": 1.0,
    "outcome": "success",
    "reason_code": None,
    "reason": None,
}


def test_run_policy_read_and_change(client: InProcessClient, control: ControlPlane) -> None:
    assert ok(control.get("/runs")) == DEFAULT_POLICY
    changed = ok(control.post("/runs", json={"mode": "deferred", "start_after": 5, "finish_after": 30}))
    assert changed == {**DEFAULT_POLICY, "mode": "deferred", "start_after": 5, "finish_after": 30}
    assert ok(control.get("/runs")) == changed

    ok(control.post("/seed", json={"fixtures": "catalog", "appID": APP_ID}))
    ok(control.post("/clock", json={"now": "2026-02-01T00:00:00Z", "freeze": True}))
    run_id = ok(client.post(f"/2/tasks/{CATALOG_TASK}/run"))["runID"]
    assert ok(client.get(f"/1/runs/{run_id}"))["status"] == "created"
    ok(control.post("/clock", json={"advance": 31}))
    run = ok(client.get(f"/1/runs/{run_id}"))
    assert (run["status"], run["outcome"]) == ("finished", "success")


def test_run_policy_failure_with_a_reason(control: ControlPlane) -> None:
    body = {"outcome": "failure", "reason_code": "critical", "reason": "the feed is down"}
    assert ok(control.post("/runs", json=body)) == {**DEFAULT_POLICY, **body}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"mode": "bogus"}, "body.mode: 'bogus' is not one of ['immediate', 'deferred']"),
        ({"outcome": "maybe"}, "body.outcome: 'maybe' is not one of ['success', 'failure']"),
        ({"reason_code": "whatever"}, "reason_code: 'whatever' is not one of"),
        ({"speed": "fast"}, "speed"),
    ],
)
def test_run_policy_errors(control: ControlPlane, body: dict[str, Any], message: str) -> None:
    assert message in error(control.post("/runs", json=body), 400)
    assert ok(control.get("/runs")) == DEFAULT_POLICY


@pytest.mark.parametrize("body", [{"start_after": "soon"}, {"finish_after": None}, {"mode": 1}])
def test_run_policy_fields_of_the_wrong_type_are_refused(control: ControlPlane, body: dict[str, Any]) -> None:
    """The spec types start_after/finish_after as numbers and mode as an enum of strings."""
    error(control.post("/runs", json=body), 400)
    assert ok(control.get("/runs")) == DEFAULT_POLICY


# --- faults and health --------------------------------------------------------------------------


def test_health(app: MockApp, control: ControlPlane) -> None:
    health = ok(control.get("/health"))
    assert health == {"status": "ok", "spec": app.spec.title, "operations": len(app.spec.operations)}


def test_faults_add_list_fire_and_clear(client: InProcessClient, control: ControlPlane) -> None:
    assert ok(control.get("/faults")) == {"rules": [], "rateLimit": None}
    rule = {"operation": "listSources", "status": 503, "message": "down for a bit", "times": 1}
    faults = ok(control.post("/faults", json=rule))
    assert len(faults["rules"]) == 1
    assert {k: faults["rules"][0][k] for k in rule} == rule
    assert ok(control.get("/faults")) == faults
    refused = client.get("/1/sources")
    assert (refused.status_code, refused.json()["message"]) == (503, "down for a bit")
    assert client.get("/1/sources").status_code == 200  # times=1: the rule retired
    assert ok(control.delete("/faults")) == {"rules": [], "rateLimit": None}


def test_faults_rate_limit_on_and_off(control: ControlPlane) -> None:
    limited = ok(control.post("/faults", json={"rateLimit": {"limit": 5, "window": 1}}))
    assert limited["rateLimit"]["limit"] == 5 and limited["rateLimit"]["window"] == 1
    assert ok(control.post("/faults", json={"rateLimit": True}))["rateLimit"]["limit"] == 200
    assert ok(control.post("/faults", json={"rateLimit": False}))["rateLimit"] is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"status": 200}, "body.status: 200 is less than the minimum of 400"),
        ({"status": 500, "rate": 2}, "body.rate: 2 is greater than the maximum of 1"),
        ({"operation": "listSources"}, "a fault needs a status, drop=true, drop_after=true or a latency"),
        ({"rateLimit": "yes"}, "body.rateLimit"),
    ],
)
def test_fault_errors(control: ControlPlane, body: dict[str, Any], message: str) -> None:
    assert message in error(control.post("/faults", json=body), 400)
    assert ok(control.get("/faults")) == {"rules": [], "rateLimit": None}


# --- bodies that are not JSON objects ----------------------------------------------------------


@pytest.mark.parametrize("path", ["/reset", "/seed", "/clock", "/runs"])
@pytest.mark.parametrize("content", [b"[1, 2]", b"{not json"], ids=["array", "malformed"])
def test_a_body_that_is_not_a_json_object_is_a_documented_400(
    control: ControlPlane, path: str, content: bytes
) -> None:
    response = control.post(path, content=content, headers={"content-type": "application/json"})
    assert error(response, 400).startswith("body: ")
    assert json.loads(response.text)["status"] == 400
