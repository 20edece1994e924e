"""The shipped spec, as it is, passes schemathesis's own command line against a served mock.

No rewritten spec and no excluded check: README's ``schemathesis --config-file "$(mockserver
spec-path --schemathesis-config)" run "$(mockserver spec-path)" --url URL --checks all ...``, as a
user would type it (only the URL is the served mock's, and a small ``--max-examples`` is added),
against a real ``mockserver serve`` process. The configuration only says that valid data may get
the 400 the API documents everywhere.
"""

from __future__ import annotations

import re
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockserver.spec import bundled_spec_path
from tests.readme import readme
from tests.serve.conftest import Served, mockserver_command, start_mockserver

MAX_EXAMPLES = 4  # per operation and phase: keeps the run under a minute on a loaded 2-core machine
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


SPEC_PATH = "$(mockserver spec-path)"
CONFIG_PATH = "$(mockserver spec-path --schemathesis-config)"
README_URL = "http://127.0.0.1:8787"


def readme_command() -> list[str]:
    """README's schemathesis command line, as words (the one span that starts ``schemathesis run``)."""
    found = [span for span in readme.spans(readme.prose()) if span.startswith("schemathesis ")]
    assert len(found) == 1, f"README should give one schemathesis command, it gives {found}"
    return shlex.split(found[0])


def spec_path_printed(*args: str) -> str:
    done = subprocess.run(
        [*mockserver_command(), "spec-path", *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return done.stdout.removesuffix("\n")


def test_mockserver_spec_path_prints_the_installed_spec_that_readme_hands_to_schemathesis() -> None:
    words = readme_command()
    # not spec/ingestion.yaml: a clone's
    assert words[:5] == ["schemathesis", "--config-file", CONFIG_PATH, "run", SPEC_PATH], words
    printed = spec_path_printed()
    assert Path(printed) == bundled_spec_path() and Path(printed).is_file(), printed
    assert Path(spec_path_printed("--schemathesis-config")).is_file()


def test_schemathesis_cli_finds_nothing_with_every_check(served: Served, tmp_path: Path) -> None:
    words = readme_command()
    assert README_URL in words, words
    substitutes = {
        SPEC_PATH: spec_path_printed(),
        CONFIG_PATH: spec_path_printed("--schemathesis-config"),
        README_URL: served.url,
    }
    command = [
        *schemathesis_command(),
        *(substitutes.get(word, word) for word in words[1:]),
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
