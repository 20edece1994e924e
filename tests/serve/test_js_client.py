"""The official JavaScript client (``@algolia/ingestion``) against ``mockserver serve``, end to end.

Runs ``tests/e2e/js/scenario.mjs`` with Node.js. Skipped when Node.js or npm is not installed; the
npm dependencies are installed once (``npm ci`` from the committed lock file) and reused while
package.json and package-lock.json are unchanged.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import ServeFactory

JS_DIR = Path(__file__).resolve().parents[1] / "e2e" / "js"
SCENARIO = JS_DIR / "scenario.mjs"
INSTALL_MARKER = ".mockserver-install-hash"
INSTALL_TIMEOUT = 600.0
SCENARIO_TIMEOUT = 180.0
JS_APP_ID = "JSE2EAPP"


@dataclass(frozen=True)
class NodeProject:
    node: str
    folder: Path


def _install_hash(folder: Path) -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        path = folder / name
        digest.update(name.encode())
        digest.update(path.read_bytes() if path.exists() else b"-")
    return digest.hexdigest()


def _installed(folder: Path, wanted: str) -> bool:
    marker = folder / "node_modules" / INSTALL_MARKER
    return (
        marker.is_file()
        and marker.read_text(encoding="utf-8").strip() == wanted
        and (folder / "node_modules" / "@algolia" / "ingestion" / "package.json").is_file()
        and (folder / "node_modules" / "algoliasearch" / "package.json").is_file()
    )


@pytest.fixture(scope="session")
def node_project() -> Iterator[NodeProject]:
    """Node.js and the scenario's npm dependencies, installed once (and only when out of date)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(name for name, path in (("node", node), ("npm", npm)) if path is None)
        pytest.skip(f"Node.js not installed: {missing} not found on PATH (needed for the JS client e2e test)")
    version = subprocess.run(
        [node, "--version"], capture_output=True, text=True, timeout=60, check=False
    ).stdout.strip()
    major = int(version.lstrip("v").split(".", 1)[0]) if version.startswith("v") else 0
    if major < 18:
        pytest.skip(f"Node.js not installed in a usable version: found {version or 'unknown'}, need 18+")
    wanted = _install_hash(JS_DIR)
    # One install at a time, also across pytest-xdist workers sharing the folder.
    lock_path = Path(tempfile.gettempdir()) / f"mockserver-npm-{hashlib.sha1(bytes(JS_DIR)).hexdigest()}.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not _installed(JS_DIR, wanted):
                has_lock = (JS_DIR / "package-lock.json").is_file()
                command = [npm, "ci" if has_lock else "install", "--no-audit", "--no-fund"]
                try:
                    result = subprocess.run(
                        command,
                        cwd=JS_DIR,
                        capture_output=True,
                        text=True,
                        timeout=INSTALL_TIMEOUT,
                        stdin=subprocess.DEVNULL,
                        check=False,
                    )
                except subprocess.TimeoutExpired:
                    pytest.fail(f"{' '.join(command)} in {JS_DIR} took more than {INSTALL_TIMEOUT:.0f} s")
                if result.returncode != 0:
                    pytest.fail(
                        f"{' '.join(command)} in {JS_DIR} failed ({result.returncode}):\n"
                        f"{result.stdout}\n{result.stderr}"
                    )
                (JS_DIR / "node_modules" / INSTALL_MARKER).write_text(wanted, encoding="utf-8")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    yield NodeProject(node, JS_DIR)


def run_scenario(project: NodeProject, url: str, **env: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [project.node, str(SCENARIO), url],
            cwd=project.folder,
            capture_output=True,
            text=True,
            timeout=SCENARIO_TIMEOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **env},
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the JS scenario did not finish within {SCENARIO_TIMEOUT:.0f} s: {exc.stderr!r}")


def scenario_result(result: subprocess.CompletedProcess[str], context: str) -> dict[str, Any]:
    assert result.returncode == 0, (
        f"the JS scenario failed ({result.returncode}):\nstdout:\n{result.stdout}\n"
        f"stderr:\n{result.stderr}\n{context}"
    )
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert lines, f"the JS scenario printed nothing:\n{result.stderr}"
    parsed: dict[str, Any] = json.loads(lines[-1])
    return parsed


def test_js_client_runs_the_whole_pipeline(node_project: NodeProject, serve: ServeFactory) -> None:
    server = serve()
    output = scenario_result(run_scenario(node_project, server.url), server.describe())
    assert output["ok"] is True
    assert output["appId"] == JS_APP_ID
    assert output["clientVersion"].startswith("1.")
    assert output["runStatus"] == "finished"
    assert output["indexName"] == "js-e2e-products"
    assert output["nbHits"] == 3
    assert [r["objectID"] for r in output["records"]] == ["sku-1", "sku-2", "sku-3"]
    assert output["records"][2] == {
        "objectID": "sku-3",
        "name": "Sock",
        "price": 9.99,
        "tags": ["wool", "warm"],
    }
    # The Search client's replaceAllObjectsWithTransformation, then a search, through the same mock.
    assert output["replaced"]["pushes"] == 2
    assert output["indexNames"] == ["js-e2e-products"]  # the temporary index moved back over it
    assert output["search"] == {"query": "shoe", "nbHits": 1, "objectIDs": ["sku-4"]}

    # What the mock holds matches what the JS client was told.
    headers = {"x-algolia-application-id": JS_APP_ID, "x-algolia-api-key": "python-side"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30.0) as client:
        source = client.get(f"/1/sources/{output['sourceID']}")
        assert source.status_code == 200, source.text
        assert source.json()["type"] == "push"
        task = client.get(f"/2/tasks/{output['taskID']}")
        assert task.status_code == 200, task.text
        assert task.json()["sourceID"] == output["sourceID"]
        assert task.json()["destinationID"] == output["destinationID"]
        run = client.get(f"/1/runs/{output['runID']}")
        assert run.status_code == 200, run.text
        journal = client.get("/__mock__/journal", params={"appID": JS_APP_ID}).json()["calls"]
        index = client.get("/__mock__/indexes/js-e2e-products", params={"appID": JS_APP_ID}).json()
    assert sorted(r["objectID"] for r in index["records"]) == ["sku-4", "sku-5"]
    operations = [c["operation_id"] for c in journal if c["status"] == 200]
    for expected in (
        *("createSource", "createDestination", "createTask", "runTask", "pushTask"),
        *("operationIndex", "push", "getIndexTask", "listIndices", "searchSingleIndex"),
    ):
        assert expected in operations, operations
    assert [c for c in journal if c["status"] >= 400] == []


def test_js_client_works_with_strict_credentials(node_project: NodeProject, serve: ServeFactory) -> None:
    server = serve("--app-id", "STRICTJS", "--api-key", "strict-js-key")
    result = run_scenario(
        node_project, server.url, MOCKSERVER_APP_ID="STRICTJS", MOCKSERVER_API_KEY="strict-js-key"
    )
    assert scenario_result(result, server.describe())["appId"] == "STRICTJS"


def test_js_scenario_exits_non_zero_on_a_failure(node_project: NodeProject, serve: ServeFactory) -> None:
    server = serve("--fail-next", "createTask:400:1")
    result = run_scenario(node_project, server.url)
    assert result.returncode != 0, result.stdout
    assert "scenario failed" in result.stderr
    assert "Injected fault" in result.stderr
    assert result.stdout.strip() == ""


def test_js_scenario_exits_non_zero_on_wrong_credentials(
    node_project: NodeProject, serve: ServeFactory
) -> None:
    server = serve("--app-id", "STRICTJS", "--api-key", "strict-js-key")
    result = run_scenario(node_project, server.url)
    assert result.returncode != 0, result.stdout
    assert "Invalid Application-Id or API-Key" in result.stderr
