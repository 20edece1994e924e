"""README's first Python snippet, run twice on one server, fails; the mock says why.

The snippet creates a push source, a destination and a task, then pushes by index name. A second
run makes a second task on the same index, and the push is refused with the service's message
("multiple tasks ... found"); the mock's ``error.detail`` names the tasks, says the setup ran again
and how to avoid it, and README says so right after the snippet.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx

from . import readme, runners

APP_ID = "my-app-id"  # the snippet's


def first_client_snippet() -> readme.Block:
    for block in readme.blocks():
        if block.language == "python" and "chunked_push" in block.text and runners.DEFAULT_PORT in block.text:
            return block
    raise AssertionError("README has no Python snippet that pushes to a mock on port 8787")


def run(source: str, work: Path) -> subprocess.CompletedProcess[str]:
    script = work / "snippet.py"
    script.write_text(source, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=runners.RUN_TIMEOUT,
        check=False,
    )


def test_the_first_snippet_run_twice_is_refused_with_a_detail_that_says_why(tmp_path: Path) -> None:
    block = first_client_snippet()
    assert f'"{APP_ID}"' in block.text
    with runners.served(["serve"], tmp_path, tmp_path / "server.stderr") as server:
        source = re.sub(rf"\b{runners.DEFAULT_PORT}\b", str(server.port), block.text)
        first = run(source, tmp_path)
        assert first.returncode == 0, first.stderr
        second = run(source, tmp_path)
        assert second.returncode != 0, "the second run was expected to fail"
        assert "multiple tasks (" in second.stderr, second.stderr
        assert "found for the Push connector with indexName products" in second.stderr, second.stderr
        tasks = httpx.get(
            f"{server.url}/2/tasks",
            headers={"x-algolia-application-id": APP_ID, "x-algolia-api-key": "my-api-key"},
            timeout=30.0,
        ).json()["tasks"]
        journal = httpx.get(
            f"{server.url}/__mock__/journal",
            params={"operationId": "push", "rejected": "true", "appID": APP_ID},
            timeout=30.0,
        ).json()
    assert len(tasks) == 2, tasks
    refusals = journal["calls"]
    assert refusals, journal
    error = refusals[0]["response"]
    # The tasks in the order they were made (two runs may make theirs within one second: createdAt
    # alone can tie).
    named = re.match(r"multiple tasks \((\S+), (\S+)\) found", error["message"])
    assert named is not None, error["message"]
    by_id = {task["taskID"]: task for task in tasks}
    assert set(named.groups()) == set(by_id), (named.groups(), tasks)
    older, newer = by_id[named.group(1)], by_id[named.group(2)]
    assert older["createdAt"] <= newer["createdAt"], (older, newer)
    detail = error["error"]["detail"]
    for fragment in (
        f"{older['taskID']} (created {older['createdAt']}",
        f"{newer['taskID']} (created {newer['createdAt']}",
        f"{newer['taskID']} repeats {older['taskID']}",
        "the same setup ran again against this mock",
        "POST /__mock__/reset",
        "DELETE /2/tasks/{taskID}",
    ):
        assert fragment in detail, detail
    after = " ".join(block.after.split())
    for fragment in ("twice", "multiple tasks", "error.detail", "POST /__mock__/reset"):
        assert fragment in after, f"README, right after the snippet, should say {fragment!r}: {after}"
