"""What an outside attack found on the control plane, each held by a test through the ASGI app."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mockserver import MockApp, create_app
from mockserver.engine.faults import MAX_TIMES
from mockserver.http.inprocess import InProcessClient
from tests.helpers import refused

HUGE = str(9**2000)  # an integer no float holds
RULE = '{"operation":"listTasks","status":500,'
ZEROS = "1" + "0" * 400


def post_json(app: MockApp, path: str, text: str) -> Any:
    with InProcessClient(app, base_url="http://mock") as bare:
        return bare.post(path, content=text.encode(), headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    ("path", "text", "field"),
    [
        ("/__mock__/clock", '{"advance": ' + HUGE + "}", "advance"),
        ("/__mock__/clock", '{"advance": ' + ZEROS + "}", "advance"),
        ("/__mock__/clock", '{"advance": -' + ZEROS + "}", "advance"),
        ("/__mock__/faults", '{"operation":"listTasks","status":500,"latency":' + HUGE + "}", "latency"),
        ("/__mock__/faults", '{"operation":"listTasks","latency":[0,' + HUGE + "]}", "latency"),
        ("/__mock__/faults", '{"operation":"listTasks","status":500,"times":' + HUGE + "}", "times"),
        ("/__mock__/faults", RULE + '"retry_after":' + HUGE + "}", "retry_after"),
        ("/__mock__/faults", '{"operation":"listTasks","status":500,"rate":' + HUGE + "}", "rate"),
        ("/__mock__/faults", '{"rateLimit":{"limit":' + HUGE + "}}", "limit"),
        ("/__mock__/faults", '{"rateLimit":{"window":' + HUGE + "}}", "window"),
        ("/__mock__/stubs", '{"operation":"listTasks","times":' + HUGE + "}", "times"),
        ("/__mock__/stubs", '{"operation":"listTasks","status":' + HUGE + "}", "status"),
        ("/__mock__/runs", '{"start_after":' + HUGE + "}", "start_after"),
        ("/__mock__/runs", '{"finish_after":' + ZEROS + "}", "finish_after"),
    ],
)
def test_a_huge_integer_is_refused_naming_its_field(app: MockApp, path: str, text: str, field: str) -> None:
    app.control.clock(freeze=True)
    before = app.control.faults(), app.control.stubs(), app.control.clock(), app.control.run_policy()
    answer = post_json(app, path, text)
    message = refused(answer)
    assert answer.json()["error"]["code"] == "invalid_payload"
    assert field in message, message
    assert len(message) < 1000, "the value is shown shortened, not in full"
    after = app.control.faults(), app.control.stubs(), app.control.clock(), app.control.run_policy()
    assert after == before  # a refused request changes nothing


@pytest.mark.parametrize("path", ["/__mock__/faults", "/__mock__/stubs"])
def test_times_has_a_documented_maximum(app: MockApp, path: str) -> None:
    rule: dict[str, Any] = {"operation": "listTasks", "times": MAX_TIMES}
    rule.update({"status": 500} if path.endswith("faults") else {"check": False})
    with InProcessClient(app, base_url="http://mock") as bare:
        assert bare.post(path, json=rule).status_code == 200
        message = refused(bare.post(path, json={**rule, "times": MAX_TIMES + 1}))
    assert "times" in message and str(MAX_TIMES) in message, message


def test_the_pytest_api_refuses_the_same_huge_values(app: MockApp) -> None:
    with pytest.raises(ValueError, match="advance"):
        app.control.clock(advance=9**2000)
    with pytest.raises(ValueError, match="latency"):
        app.control.add_fault(operation="listTasks", status=500, latency=9**2000)
    with pytest.raises(ValueError, match="times"):
        app.control.add_stub(operation="listTasks", times=MAX_TIMES + 1)


def test_an_unexpected_exception_on_a_control_route_is_a_json_500(
    app: MockApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**_: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(app.control, "clock", broken)
    with InProcessClient(app, base_url="http://mock", raise_app_exceptions=False) as bare:
        answer = bare.post("/__mock__/clock", json={"advance": 1})
    assert answer.status_code == 500
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert body["error"]["code"] == "internal_error"
    assert body["status"] == 500
    assert "/__mock__/clock" in body["message"]
    assert "Traceback" not in answer.text and "boom" not in answer.text


# --- 2. the control plane's bodies are held to --max-body-bytes ----------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/__mock__/clock"),
        ("POST", "/__mock__/seed"),
        ("PUT", "/__mock__/sources/0a1b2c3d-0000-4000-8000-000000000201/records"),
        ("POST", "/__mock__/stubs"),
    ],
)
@pytest.mark.parametrize("declared", [True, False])
def test_a_control_body_over_max_body_bytes_is_a_413(method: str, path: str, declared: bool) -> None:
    app = create_app(check_responses=True, max_body_bytes=1000)
    before = app.control.dump(None)
    body = b'{"data": {"sources": []}, "records": [], "pad": "' + b"x" * 2000 + b'"}'

    def pieces() -> Iterator[bytes]:  # no content-length: the limit holds while reading
        yield body[:500]
        yield body[500:]

    content: Any = body if declared else pieces()
    with InProcessClient(app, base_url="http://mock") as bare:
        answer = bare.request(method, path, content=content, headers={"content-type": "application/json"})
    message = refused(answer, 413)
    assert answer.json()["error"]["code"] == "payload_too_large"
    assert "1000 bytes" in message, message
    assert app.control.dump(None) == before


def test_a_control_body_within_max_body_bytes_is_read() -> None:
    app = create_app(check_responses=True, max_body_bytes=1000)
    with InProcessClient(app, base_url="http://mock") as bare:
        assert bare.post("/__mock__/clock", json={"advance": 5}).status_code == 200


# --- 4. one way to name the application; no unknown query parameter ------------------------------


def with_sources(app: MockApp) -> None:
    for app_id in ("A", "B"):
        headers = {"x-algolia-application-id": app_id, "x-algolia-api-key": "k"}
        with InProcessClient(app, base_url="http://mock", headers=headers) as client:
            assert client.post("/1/sources", json={"type": "push", "name": app_id}).status_code == 200


def test_reset_reads_the_application_from_the_query_as_from_the_body(app: MockApp) -> None:
    with_sources(app)
    with InProcessClient(app, base_url="http://mock", headers={"x-algolia-application-id": "A"}) as a:
        assert a.post("/__mock__/reset", params={"appID": "B"}).status_code == 200  # open server
    assert len(app.store.accounts["A"].sources) == 1
    assert "B" not in app.store.accounts or not app.store.accounts["B"].sources


def test_the_query_and_the_body_naming_two_applications_is_refused(app: MockApp) -> None:
    with_sources(app)
    with InProcessClient(app, base_url="http://mock") as bare:
        message = refused(bare.post("/__mock__/reset", params={"appID": "A"}, json={"appID": "B"}))
    assert "appID" in message, message
    assert len(app.store.accounts["A"].sources) == 1 and len(app.store.accounts["B"].sources) == 1


@pytest.mark.parametrize(
    ("method", "path", "name"),
    [
        ("GET", "/__mock__/stubs", "appID"),
        ("GET", "/__mock__/faults", "appId"),
        ("POST", "/__mock__/clock", "nope"),
        ("GET", "/__mock__/clock", "advance"),
    ],
)
def test_a_query_parameter_a_route_does_not_define_is_refused(
    app: MockApp, method: str, path: str, name: str
) -> None:
    before = app.control.clock(freeze=True)
    with InProcessClient(app, base_url="http://mock") as bare:
        answer = bare.request(
            method, path, params={name: "B"}, json={"advance": 5} if method == "POST" else None
        )
    message = refused(answer)
    assert f"query.{name}" in message, message
    assert app.control.clock() == before


# --- 5. small ones ---------------------------------------------------------------------------------


def test_an_unknown_inspector_asset_is_a_404_with_an_error_code(app: MockApp) -> None:
    with InProcessClient(app, base_url="http://mock") as bare:
        answer = bare.get("/__mock__/ui/nope.js")
    refused(answer, 404)
    assert answer.json()["error"]["code"] == "resource_not_found"


@pytest.mark.parametrize("app_id", ["\x00", "a\nb", "x" * 300])
def test_an_application_id_that_is_not_a_printable_identifier_is_refused(app: MockApp, app_id: str) -> None:
    with InProcessClient(app, base_url="http://mock") as bare:
        message = refused(bare.get("/__mock__/state", params={"appID": app_id}))
        assert "appID" in message, message
        refused(bare.post("/__mock__/reset", json={"appID": app_id}))
    assert app_id not in app.store.accounts


def test_an_index_is_looked_up_in_the_callers_own_application(app: MockApp) -> None:
    headers = {"x-algolia-application-id": "A", "x-algolia-api-key": "k"}
    app.store.account("A").indexes["products"] = {"1": {"objectID": "1"}}
    with InProcessClient(app, base_url="http://mock", headers=headers) as a:
        answer = a.get("/__mock__/indexes/products")
    assert answer.status_code == 200, answer.text
    assert answer.json()["nbHits"] == 1
