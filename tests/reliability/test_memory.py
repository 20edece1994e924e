"""Why: "Memory grows without bound" — the journal kept rejected bodies whole, snapshots were never
freed. Now large rejected bodies are journaled as a size marker, snapshots are capped and freed by a
reset, and the journal has a byte budget; a refusal frees its body at once, and the served process
returns large blocks to the OS."""

from __future__ import annotations

import json

import httpx
import pytest

from ..serve.conftest import ServeFactory
from .conftest import headers, ok, rss_bytes


@pytest.mark.parametrize(
    "junk",
    [
        json.dumps({"type": "push", "name": "big", "junk": ["y" * 1000] * 9_500}).encode(),
        # broken JSON (found by a new user: +10 MB a request, until a garbage collection)
        b"{" + b"x" * 9_500_000,
    ],
    ids=["not-valid", "not-json"],
)
def test_six_rejected_10_mb_bodies_leave_the_memory_where_it_was(serve: ServeFactory, junk: bytes) -> None:
    served = serve("--access-log", "off")
    with httpx.Client(base_url=served.url, headers=headers("MEM"), timeout=60) as client:
        client.get("/1/sources")
        # The first refusal loads the validator that explains refusals (tens of MB of modules, once).
        assert client.post("/1/sources", json={"type": "push", "name": "w", "junk": 1}).status_code == 400
        idle = rss_bytes(served.pid)
        for _ in range(6):
            answer = client.post("/1/sources", content=junk, headers={"content-type": "application/json"})
            assert answer.status_code == 400, answer.text
        grown = rss_bytes(served.pid) - idle
        calls = ok(client.get("/__mock__/journal", params={"rejected": "true"}))["calls"]
    kept = {"truncated": True, "bytes": len(junk), "kept": 0} if junk.endswith(b"}") else None
    assert [(c["status"], c["body"]) for c in calls[-6:]] == [(400, kept)] * 6
    # What a refused body leaves is the allocator's, and `mockserver serve` has it hand large
    # blocks back (measured +12 MiB; +80-100 MiB while the refusal's errors formed a cycle).
    assert grown < 40 * 1024 * 1024, f"RSS grew by {grown / 2**20:.0f} MiB"


def test_the_journal_keeps_to_its_byte_budget(serve: ServeFactory) -> None:
    served = serve("--journal-bytes", "2000000", "--access-log", "off")
    body = {"type": "push", "name": "n" * 100_000}
    with httpx.Client(base_url=served.url, headers=headers("BUDGET"), timeout=60) as client:
        for _ in range(20):
            ok(client.post("/1/sources", json=body))
        kept = ok(client.get("/__mock__/journal", params={"limit": 1000}))
    assert 0 < kept["total"] < 20  # the oldest calls went first
    assert kept["calls"][-1]["seq"] == 19  # the newest stayed


def test_snapshots_are_capped_and_freed_by_a_reset(serve: ServeFactory) -> None:
    served = serve("--access-log", "off")
    with httpx.Client(base_url=served.url, timeout=30) as control:
        for _ in range(32):
            ok(control.post("/__mock__/snapshots"))
        refused = control.post("/__mock__/snapshots")
        assert refused.status_code == 400 and "32" in refused.json()["message"]
        ok(control.post("/__mock__/reset"))
        ok(control.post("/__mock__/snapshots"))
