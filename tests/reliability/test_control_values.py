"""Why: "Control-plane values that break the API" — values that were accepted and made every later
call answer 500. Now each is refused with 400 and a message, and the API keeps answering."""

from __future__ import annotations

import pytest

from ..serve.conftest import Served
from .conftest import ok

REFUSED: list[tuple[str, dict[str, object]]] = [
    ("/__mock__/clock", {"advance": 1e308}),
    ("/__mock__/clock", {"now": "9999-12-31T00:00:00Z"}),
    ("/__mock__/clock", {"advance": -1e12}),
    ("/__mock__/runs", {"mode": "deferred", "finish_after": 1e308}),
    ("/__mock__/runs", {"start_after": -5}),
    ("/__mock__/faults", {"operation": "noSuchOperation", "status": 503}),
    ("/__mock__/faults", {"latency": 1e308}),
    ("/__mock__/faults", {"status": 503, "retry_after": 10**12}),
    ("/__mock__/faults", {"rateLimit": {"window": 1e308}}),
    ("/__mock__/faults", {"rateLimit": {"limit": -1}}),
    ("/__mock__/settings", {"seed": 1e308}),
    ("/__mock__/settings", {"seed": 10**40}),
]


@pytest.mark.parametrize(("path", "body"), REFUSED, ids=[f"{p}-{next(iter(b), '')}" for p, b in REFUSED])
def test_out_of_range_values_are_refused_and_the_api_keeps_working(
    open_server: Served, path: str, body: dict[str, object]
) -> None:
    with open_server.control() as control:
        refused = control.post(path, json=body)
        assert refused.status_code == 400, refused.text
        assert refused.json()["message"]
        with open_server.client("VALUES", "some-key") as client:
            ok(client.post("/1/sources", json={"type": "push", "name": "still fine"}))
            ok(client.get("/1/runs"))
        ok(control.post("/__mock__/reset"))
