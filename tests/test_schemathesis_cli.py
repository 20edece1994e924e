"""The shipped spec, as it is, passes schemathesis's own command line against a served mock.

No rewritten spec and no excluded check: ``schemathesis run spec/ingestion.yaml --url URL
--checks all``, exactly as a user would type it, against a real ``mockserver serve`` process.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockserver.spec import bundled_spec_path
from tests.serve.conftest import CREDENTIALS, Served, start_mockserver

MAX_EXAMPLES = 6  # per operation and phase: keeps the run near a minute on a loaded 2-core machine
SEED = 2
RUN_TIMEOUT = 600  # seconds: a hung run fails instead of blocking the suite


def schemathesis_command() -> list[str]:
    script = Path(sys.executable).with_name("schemathesis")
    if script.exists():
        return [str(script)]
    found = shutil.which("schemathesis")
    if found is None:
        pytest.fail("the schemathesis command is not installed (it comes with mockserver's test extra)")
    return [found]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    path = tmp_path_factory.mktemp("schemathesis-cli") / "mockserver.stderr"
    server = start_mockserver([], path)
    try:
        yield server
    finally:
        server.stop(signal.SIGTERM)


def test_schemathesis_cli_finds_nothing_with_every_check(served: Served, tmp_path: Path) -> None:
    headers = [arg for name, value in CREDENTIALS.items() for arg in ("-H", f"{name}: {value}")]
    command = [
        *schemathesis_command(),
        "run",
        str(bundled_spec_path()),
        "--url",
        served.url,
        "--checks",
        "all",
        *headers,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--no-color",
    ]
    # cwd: schemathesis writes its cache of failures under the working directory.
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    output = done.stdout + done.stderr
    summary = re.search(r"(\d+) generated, (\d+) passed", output)
    assert done.returncode == 0, f"schemathesis exited with {done.returncode}:\n{output}"
    assert summary is not None and int(summary.group(1)) > 0, f"schemathesis tested nothing:\n{output}"
    for word in ("failure", "error"):
        assert not re.search(rf"=+ .*\b\d+ {word}s?\b", output), output
    assert "Selected: 59/59" in output and "Tested: 59" in output, output
