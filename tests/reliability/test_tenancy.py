"""Why: "The control plane is open" — anonymous callers read and wiped a credentialed server's data,
and one worker's clock, run policy, faults and snapshot restores hit every other worker. Now the
control plane needs the configured credentials (or the admin key) and acts on the caller's own
application; a wildcard bind warns and the banner shows an address clients can reach."""

from __future__ import annotations

import httpx

from ..serve.conftest import Served, ServeFactory
from .conftest import headers, ok

APP, KEY, ADMIN = "TEAMAPP", "team-key", "admin-secret"


def test_with_credentials_the_control_plane_needs_them(serve: ServeFactory) -> None:
    served = serve("--app-id", APP, "--api-key", KEY, "--admin-key", ADMIN)
    with httpx.Client(base_url=served.url, timeout=30) as anonymous, served.client(APP, KEY) as owner:
        ok(owner.post("/1/sources", json={"type": "push", "name": "kept"}))
        for method, path in [("GET", "/state"), ("GET", "/journal"), ("POST", "/reset"), ("GET", "/apps")]:
            refused = anonymous.request(method, "/__mock__" + path)
            assert refused.status_code == 403, (path, refused.text)
            assert refused.json()["error"]["code"] == "invalid_credentials"
        wrong = anonymous.get("/__mock__/state", headers={"x-mockserver-admin-key": "guess"})
        assert wrong.status_code == 403
        assert anonymous.get("/__mock__/health").status_code == 200
        sources = ok(owner.get("/__mock__/state"))["applications"][APP]["sources"]
        assert [s["name"] for s in sources] == ["kept"]  # the anonymous reset changed nothing
        assert owner.get("/__mock__/state", params={"scope": "all"}).status_code == 403  # admin only
        admin = {"x-mockserver-admin-key": ADMIN}
        assert APP in ok(anonymous.get("/__mock__/state", headers=admin))["applications"]


def test_clock_runs_faults_and_snapshots_are_per_application(open_server: Served) -> None:
    url = open_server.url
    with (
        httpx.Client(base_url=url, headers=headers("WORKER1"), timeout=30) as one,
        httpx.Client(base_url=url, headers=headers("WORKER2"), timeout=30) as two,
    ):
        before = ok(two.get("/__mock__/clock"))["now"]
        ok(one.post("/__mock__/clock", json={"now": "2030-01-01T00:00:00Z", "freeze": True}))
        assert ok(one.get("/__mock__/clock"))["now"] == "2030-01-01T00:00:00Z"
        assert ok(two.get("/__mock__/clock"))["now"][:4] == before[:4]
        assert ok(one.post("/__mock__/runs", json={"mode": "deferred"}))["mode"] == "deferred"
        assert ok(two.get("/__mock__/runs"))["mode"] == "immediate"
        ok(one.post("/__mock__/faults", json={"operation": "listSources", "status": 503}))
        assert one.get("/1/sources").status_code == 503
        assert two.get("/1/sources").status_code == 200  # not injected into the other worker
        assert ok(two.get("/__mock__/faults"))["rules"] == []
        assert [r["app"] for r in ok(one.get("/__mock__/faults"))["rules"]] == ["WORKER1"]
        assert one.post("/__mock__/faults", json={"rateLimit": True}).status_code == 403  # server-wide
        ok(one.delete("/__mock__/faults"))
        snapshot = ok(one.post("/__mock__/snapshots"))["snapshotID"]
        ok(two.post("/1/sources", json={"type": "push", "name": "after the snapshot"}))
        assert two.post(f"/__mock__/snapshots/{snapshot}/restore").status_code == 404  # not its snapshot
        ok(one.post(f"/__mock__/snapshots/{snapshot}/restore"))
        names = [s["name"] for s in ok(two.get("/1/sources"))["sources"]]
        assert names == ["after the snapshot"]  # worker 1's restore did not roll back worker 2
        ok(one.post("/__mock__/reset"))
        ok(two.post("/__mock__/reset"))


def test_a_wildcard_bind_warns_and_shows_a_reachable_address(serve: ServeFactory) -> None:
    served = serve("--host", "0.0.0.0")
    banner = served.stderr()
    assert "warning: listening on 0.0.0.0" in banner
    assert "reachable from the network" in banner
    assert served.url.startswith("http://127.0.0.1:")
