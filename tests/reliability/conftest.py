"""Fixtures of the reliability suite: real ``mockserver serve`` processes, probed as a careless or
hostile client would (every request goes to 127.0.0.1)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import ok_2xx as ok

from ..serve.conftest import STOP_TIMEOUT, Served, ServeFactory, serve, start_mockserver

__all__ = ["headers", "ok", "pipeline", "rss_bytes", "serve"]


def headers(app_id: str, api_key: str = "some-key") -> dict[str, str]:
    return {"x-algolia-application-id": app_id, "x-algolia-api-key": api_key}


def pipeline(client: httpx.Client, index: str, code: str | None = None) -> str:
    """A push source, a destination on ``index`` (through a transformation of ``code`` when given)
    and the task that links them; returns the task ID."""
    destination: dict[str, Any] = {"type": "search", "name": "d", "input": {"indexName": index}}
    if code is not None:
        transformation = ok(client.post("/1/transformations", json={"name": "t", "code": code}))
        destination["transformationIDs"] = [transformation["transformationID"]]
    destination_id = ok(client.post("/1/destinations", json=destination))["destinationID"]
    source_id = ok(client.post("/1/sources", json={"type": "push", "name": "s"}))["sourceID"]
    task = ok(
        client.post(
            "/2/tasks", json={"sourceID": source_id, "destinationID": destination_id, "action": "save"}
        )
    )
    task_id: str = task["taskID"]
    return task_id


def rss_bytes(pid: int) -> int:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for pid {pid}")


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One open server (no configured credentials) for a module; tests use their own app IDs."""
    path = tmp_path_factory.mktemp("reliability") / "open.stderr"
    served = start_mockserver(["--transform-budget", "2", "--access-log", "off"], path)
    try:
        yield served
    finally:
        served.stop(signal.SIGTERM, timeout=STOP_TIMEOUT)


_ = ServeFactory  # re-exported fixture types
