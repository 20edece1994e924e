"""Why: "One request freezes everyone" — a spinning transformation or a 10 MB body held up every
other client. Now they run off the event loop, other applications do not wait for them, and a
request's transformations stop at --transform-budget."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx

from ..serve.conftest import Served
from .conftest import headers, ok, pipeline

SPIN = "async function transform(record, helper) { while (true) {} }"


def _in_background(work: Any) -> tuple[threading.Thread, dict[str, Any]]:
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["response"] = work()
        except Exception as exc:  # reported by the test's assertions
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def _answered_while(thread: threading.Thread, served: Served, app_id: str) -> int:
    """Requests of another application (and the control plane) answered while ``thread`` runs."""
    answered = 0
    with httpx.Client(base_url=served.url, headers=headers(app_id), timeout=30) as other:
        while thread.is_alive():
            assert other.get("/1/sources").status_code == 200
            assert other.get("/__mock__/health").status_code == 200
            answered += 1
    return answered


def test_a_spinning_transformation_does_not_hold_up_other_applications(open_server: Served) -> None:
    with httpx.Client(base_url=open_server.url, headers=headers("SPINNER"), timeout=60) as spinner:
        pipeline(spinner, "spin", SPIN)
        records = [{"objectID": str(i)} for i in range(20)]
        thread, result = _in_background(
            lambda: spinner.post("/1/push/spin", json={"action": "addObject", "records": records})
        )
        answered = _answered_while(thread, open_server, "BYSTANDER")
        thread.join()
        assert "error" not in result, result
        run_id = ok(result["response"])["runID"]
        events = ok(spinner.get(f"/1/runs/{run_id}/events", params={"itemsPerPage": 100}))["events"]
    assert answered > 0  # the bystander was served while the push was still running
    failed = [e for e in events if e["type"] == "transform" and e["status"] == "failed"]
    assert len(failed) == 20  # every record failed its transform event: stopped, or over the budget
    messages = {e["data"]["error"]["message"] for e in failed}
    assert any("transform_budget" in m for m in messages), messages


def test_a_large_body_is_parsed_without_holding_up_other_applications(open_server: Served) -> None:
    with httpx.Client(base_url=open_server.url, headers=headers("BIGBODY"), timeout=60) as big:
        pipeline(big, "bulk")
        records = [{"objectID": str(i), "text": "x" * 180} for i in range(45_000)]
        body = json.dumps({"action": "addObject", "records": records}).encode()
        assert 8_000_000 < len(body) < 10 * 1024 * 1024
        thread, result = _in_background(
            lambda: big.post("/1/push/bulk", content=body, headers={"content-type": "application/json"})
        )
        answered = _answered_while(thread, open_server, "BYSTANDER2")
        thread.join()
        assert "error" not in result, result
        ok(result["response"])
    assert answered > 0


def test_a_request_waiting_for_its_own_applications_spin_does_not_hold_up_others(open_server: Served) -> None:
    url = open_server.url
    order: list[str] = []
    pause = threading.Event()  # never set: its wait() is a plain pause
    with (
        httpx.Client(base_url=url, headers=headers("SPINNER2"), timeout=60) as spinner,
        httpx.Client(base_url=url, headers=headers("SPINNER2"), timeout=60) as same,
        httpx.Client(base_url=url, headers=headers("BYSTANDER3"), timeout=60) as other,
    ):
        pipeline(spinner, "spin2", SPIN)
        records = [{"objectID": str(i)} for i in range(20)]
        push, _ = _in_background(
            lambda: spinner.post("/1/push/spin2", json={"action": "addObject", "records": records})
        )
        pause.wait(0.3)  # the push reaches its transformation (its budget is 2 s)

        def same_app() -> None:
            same.get("/1/sources")
            order.append("same")

        waiting, _ = _in_background(same_app)
        pause.wait(0.1)  # the same application's request is waiting for the push
        while waiting.is_alive():
            assert other.get("/__mock__/health").status_code == 200
            order.append("other")
        waiting.join()
        push.join()
    # Another client was answered while the same application's request waited for the push.
    assert "other" in order and order.index("other") < order.index("same"), order
