"""The wheel as a user gets it: built from the repo, installed into a fresh venv, served by its command.

Slow (tens of seconds: a build, a venv, an install whose dependencies come from PyPI), but it is the
only test that catches a spec left out of the wheel or a broken ``mockserver`` entry point.
"""

from __future__ import annotations

import configparser
import json
import os
import socket
import subprocess
import sys
import time
import venv
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]
BUNDLED_SPEC = "mockserver/data/spec/ingestion.yaml"
HEADERS = {"x-algolia-application-id": "PKGAPP", "x-algolia-api-key": "pkg-key"}

BUILD_TIMEOUT = 300.0
INSTALL_TIMEOUT = 600.0
START_TIMEOUT = 60.0


def _clean_env() -> dict[str, str]:
    """The environment minus anything that would make a child see this venv or this checkout."""
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME"}}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run(args: Sequence[str | Path], cwd: Path, timeout: float, what: str) -> str:
    try:
        done = subprocess.run(
            [str(a) for a in args],
            cwd=cwd,
            env=_clean_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{what} took longer than {timeout:.0f}s: {' '.join(map(str, args))}\n{exc.stderr!r}")
    if done.returncode != 0:
        pytest.fail(
            f"{what} failed (exit {done.returncode}): {' '.join(map(str, args))}\n"
            f"--- stdout ---\n{done.stdout}\n--- stderr ---\n{done.stderr}"
        )
    return done.stdout


def _build_wheel(outdir: Path) -> Path:
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", outdir, REPO], REPO, BUILD_TIMEOUT, "build")
    wheels = sorted(outdir.glob("*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {outdir}, found {[w.name for w in wheels]}"
    return wheels[0]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _serving(command: Sequence[str | Path], cwd: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` with stdout+stderr to ``log``; always stop it (terminate, then kill)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(c) for c in command], cwd=cwd, env=_clean_env(), stdout=out, stderr=subprocess.STDOUT
        )
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def _wait_until_up(proc: subprocess.Popen[bytes], http: httpx.Client, log: Path, port: int) -> None:
    """Wait for the server to name its URL in its log (so it is ours that answers), then for an answer."""
    ready = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"mockserver exited with {proc.returncode} before answering:\n{log.read_text()}")
        if ready in log.read_text():
            try:
                http.get("/1/sources", headers=HEADERS)
                return
            except httpx.TransportError as exc:
                last = exc
        time.sleep(0.02)
    pytest.fail(f"mockserver did not answer within {START_TIMEOUT:.0f}s ({last!r}):\n{log.read_text()}")


def _json(response: httpx.Response, log: Path) -> Any:
    assert response.headers.get("content-type", "").startswith("application/json"), (
        f"{response.request.method} {response.request.url}: not JSON: {response.text}\n{log.read_text()}"
    )
    return response.json()


def _exercise(http: httpx.Client, log: Path) -> None:
    """List (empty), refuse without credentials, create, list again."""
    listed = http.get("/1/sources", headers=HEADERS)
    assert listed.status_code == 200, f"{listed.status_code} {listed.text}\n{log.read_text()}"
    body = _json(listed, log)
    assert body["sources"] == []
    assert body["pagination"]["nbItems"] == 0

    refused = http.get("/1/sources")
    assert refused.status_code == 403, refused.text

    created = http.post(
        "/1/sources",
        headers={**HEADERS, "content-type": "application/json"},
        content=json.dumps({"type": "json", "name": "feed", "input": {"url": "https://x.test/f.json"}}),
    )
    assert created.status_code == 200, f"{created.status_code} {created.text}\n{log.read_text()}"
    source_id = _json(created, log)["sourceID"]

    listed = http.get("/1/sources", headers=HEADERS)
    body = _json(listed, log)
    assert [s["sourceID"] for s in body["sources"]] == [source_id]
    assert body["pagination"]["nbItems"] == 1


def test_wheel_installs_and_serves(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path / "dist")

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert BUNDLED_SPEC in names, f"{BUNDLED_SPEC} missing from {wheel.name}: {sorted(names)}"
        assert "mockserver/cli.py" in names
        assert "mockserver/data/ledger.yaml" in names, "spec-diff --ledger reads the ledger from the package"
        assert not any(n.startswith("tests/") for n in names), "the test suite leaked into the wheel"
        [entry_points_name] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        entry_points = configparser.ConfigParser()
        entry_points.read_string(archive.read(entry_points_name).decode())
    assert entry_points.get("console_scripts", "mockserver") == "mockserver.cli:main"

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True, clear=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # (--no-compile: byte-compiling the dependencies is pip's work, not the wheel's; it cost seconds of CPU)
    install: list[str | Path] = [python, "-m", "pip", "install", "--quiet", "--no-compile", wheel]
    _run(install, tmp_path, INSTALL_TIMEOUT, "pip install")

    # The installed package (not this checkout) is what answers, and its spec is the bundled copy.
    where = _run(
        [python, "-c", "import mockserver.spec as s; print(s.__file__); print(s.bundled_spec_path())"],
        tmp_path,
        60,
        "import check",
    ).split()
    assert where[0].startswith(str(env_dir)), f"mockserver imported from {where[0]}, not the fresh venv"
    assert where[1].endswith(BUNDLED_SPEC), f"spec loaded from {where[1]}, not the bundled copy"

    mockserver = env_dir / "bin" / "mockserver"
    assert mockserver.exists(), f"no console script at {mockserver}"
    help_text = _run([mockserver, "--help"], tmp_path, 60, "mockserver --help")
    assert "serve" in help_text
    # What README hands to schemathesis: the installed copy (a pip user has no spec/ folder).
    printed = _run([mockserver, "spec-path"], tmp_path, 60, "mockserver spec-path").strip()
    assert printed.startswith(str(env_dir)) and printed.endswith(BUNDLED_SPEC), printed
    assert Path(printed).is_file(), printed

    port = _free_port()
    log = tmp_path / "mockserver.log"
    command: list[str | Path] = [mockserver, "serve", "--port", str(port), "--log-level", "info"]
    with (
        _serving(command, tmp_path, log) as proc,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http,
    ):
        _wait_until_up(proc, http, log, port)

        try:
            _exercise(http, log)
        except httpx.HTTPError as exc:
            pytest.fail(f"talking to mockserver failed: {exc!r}\n--- server log ---\n{log.read_text()}")
        assert proc.poll() is None, f"mockserver died while serving:\n{log.read_text()}"
