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
