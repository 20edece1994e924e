"""How each kind of README code block is run: what a reader would do with it, checked.

- Python blocks that define tests run as a downstream project's pytest session (``pytester``, the
  plugin from its entry point, no conftest), with the example project (tests/readme/example_project,
  the "your code" of the examples) on the path.
- Other Python blocks run as scripts, against a ``mockserver serve`` started for them.
- ``sh`` blocks run line by line; a ``mockserver serve`` command is started, waited for until
  ``/__mock__/health`` answers, checked and stopped; the suite's own test command is compared with
  ``.ci/run`` instead of being run (it would run this suite inside itself). In the "Developing"
  section, pytest commands (the fast loop, refreshing the screenshot) are CI's pytest plus options,
  run up to collection only, for the same reason.
- ``sh script`` blocks (the info string says ``script``) run as one script, ``sh -e`` (every
  command must succeed), with this environment's ``mockserver`` first on the PATH; whatever the
  script leaves running (a server in the background) is killed afterwards.

Ports: README's examples use the default port 8787. Blocks run on a port the kernel picks
(``--port 0``) and only the port number is substituted, because 8787 may be taken on a developer's
machine or by a parallel run, and a verdict must not depend on that.
"""

from __future__ import annotations

import builtins
import os
import re
import shlex
import shutil
import signal
import subprocess
import symtable
import sys
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import pytest

from tests.serve.conftest import STOP_TIMEOUT, Served, mockserver_command, wait_until_healthy

from .readme import CI_SCRIPT, EXAMPLE_PROJECT, ROOT, Block

DEFAULT_PORT = "8787"
DEV_SECTION = "Developing"
RUN_TIMEOUT = 300.0  # seconds for one command; generous for a loaded 2-core machine
INNER_OPTIONS = ("-p", "no:cacheprovider", "-p", "no:schemathesis", "-W", "error", "--strict-markers")
_SHELL_SYNTAX = re.compile(r"[|;<>]|\$\(|`")
_PYTEST_COMMAND = re.compile(r"(^|\s|/)(python3?\s+-m\s+)?pytest(\s|$)")

Runner = Callable[[Block, pytest.Pytester, Path], None]


def runner_for(block: Block) -> Runner:
    """The runner for this block; a block no runner can run fails here, with the reason."""
    if block.language == "python":
        return run_tests if re.search(r"^\s*(async\s+)?def test_", block.text, re.M) else run_script
    if block.language in ("sh", "bash", "console", "shell"):
        if block.script:
            return run_shell_script
        if any(_PYTEST_COMMAND.search(line) for line in command_lines(block)):
            return check_dev_commands if block.section == DEV_SECTION else check_ci_command
        return run_commands
    raise AssertionError(
        f"README.md:{block.line}: no way to run a {block.language or 'plain'!r} code block; "
        "give it a language this test knows (python, sh) or teach tests/readme/runners.py"
    )


# --- Python -------------------------------------------------------------------------------------


def undefined_names(source: str) -> list[str]:
    """Names the code reads but never defines, imports or gets from builtins (NameError when run)."""
    top = symtable.symtable(source, "<README block>", "exec")
    defined = {s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported()}
    known = defined | set(dir(builtins))
    missing: set[str] = set()

    def visit(table: symtable.SymbolTable) -> None:
        for symbol in table.get_symbols():
            if symbol.is_referenced() and symbol.is_global() and symbol.get_name() not in known:
                missing.add(symbol.get_name())
        for child in table.get_children():
            visit(child)

    visit(top)
    return sorted(missing)


def _name_problem(block: Block) -> tuple[str, list[str]]:
    """What is wrong with the block's names ("" when nothing), and the imports that would fix it."""
    missing = undefined_names(block.text)
    if not missing:
        return "", []
    imports = _providers(missing)
    return (
        f"README.md:{block.line}: the block uses {missing} but never imports or defines them, so it "
        f"fails with NameError as written; the example project ({EXAMPLE_PROJECT.relative_to(ROOT)}) "
        f"provides them: {'; '.join(imports) or 'it does not provide them'}",
        imports,
    )


def _providers(names: list[str]) -> list[str]:
    found: list[str] = []
    for name in names:
        for path in sorted((EXAMPLE_PROJECT / "myproject").glob("*.py")):
            module = "myproject" + ("" if path.stem == "__init__" else f".{path.stem}")
            if path.stem == name:
                found.append(f"from myproject import {name}")
            elif re.search(rf"^def {re.escape(name)}\(", path.read_text(encoding="utf-8"), re.M):
                found.append(f"from {module} import {name}")
    return found


def _example_env() -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(EXAMPLE_PROJECT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


def run_tests(block: Block, pytester: pytest.Pytester, work: Path) -> None:
    """The block is a test module of a downstream project; every test in it must pass.

    A block with names it never imports fails; when the example project provides them, the block is
    still run with those imports added, so the failure also says whether that would be enough.
    """
    problem, imports = _name_problem(block)
    pytester.makepyfile(test_readme_example="".join(f"{i}  # added\n" for i in imports) + block.text)
    assert not list(pytester.path.rglob("conftest.py")), "the downstream project must have no conftest"
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = _example_env()["PYTHONPATH"]
    try:
        result = pytester.runpytest_subprocess(*INNER_OPTIONS, "-v", timeout=RUN_TIMEOUT)
    finally:
        if previous is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = previous
    outcomes = result.parseoutcomes()
    defined = len(re.findall(r"^\s*(?:async\s+)?def test_", block.text, re.M))
    passed = outcomes.get("passed", 0)
    if result.ret != 0 or passed < defined or set(outcomes) - {"passed", "seconds"}:
        raise AssertionError(
            (f"{problem}\nWith those imports added, the" if problem else f"README.md:{block.line}: the")
            + f" block's tests did not all pass ({outcomes}):\n"
            + "\n".join(result.outlines[-60:])
        )
    if problem:
        raise AssertionError(f"{problem}\n(with those imports added, its tests pass)")


def run_script(block: Block, pytester: pytest.Pytester, work: Path) -> None:
    """The block is a script: run it; when it talks to a mock on port 8787, serve one for it, point
    the script at it, and afterwards check what README says right after the block."""
    problem, _ = _name_problem(block)
    if problem:
        raise AssertionError(problem)
    if not re.search(rf"\b{DEFAULT_PORT}\b", block.text):
        _run_python(block, block.text, work)
        return
    with served(["serve"], work, work / "server.stderr") as server:
        _run_python(block, _on_port(block, block.text, server.port), work)
        _check_claimed_urls(block, server.port)


def _run_python(block: Block, source: str, work: Path) -> None:
    script = work / "readme_example.py"
    script.write_text(source, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=work,
        env=_example_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    if done.returncode != 0:
        raise AssertionError(
            f"README.md:{block.line}: the script exited with {done.returncode}:\n{done.stderr[-4000:]}"
        )


def _on_port(block: Block, text: str, port: int) -> str:
    if DEFAULT_PORT not in text:
        raise AssertionError(
            f"README.md:{block.line}: a script for a running mock that names no port {DEFAULT_PORT}: "
            "it cannot be pointed at the mock this test serves"
        )
    return re.sub(rf"\b{DEFAULT_PORT}\b", str(port), text)


def _check_claimed_urls(block: Block, port: int) -> None:
    """README's promise right after the block (``GET http://127.0.0.1:8787/...``) must hold."""
    for method, url in re.findall(r"`(GET) (http://127\.0\.0\.1:8787/\S+?)`", block.after):
        answer = httpx.request(method, _on_port(block, url, port), timeout=30.0)
        assert answer.status_code == 200, f"README.md:{block.line}: {method} {url}: {answer.text}"
        body = answer.json()
        records = body.get("records", body) if isinstance(body, dict) else body
        assert records, f"README.md:{block.line}: {method} {url} answered nothing: {body}"


# --- sh -----------------------------------------------------------------------------------------


def command_lines(block: Block) -> list[str]:
    """The block's commands: one a line, comments and blank lines left out."""
    lines = []
    for line in block.text.splitlines():
        words = shlex.split(line, comments=True)
        if words:
            lines.append(line)
    return lines


def ci_test_command() -> str:
    """The line of .ci/run that is README's test command (the one that runs pytest)."""
    found = [
        line.strip()
        for line in CI_SCRIPT.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#") and _PYTEST_COMMAND.search(line)
    ]
    assert len(found) == 1, f"{CI_SCRIPT}: expected one line that runs pytest, found {found}"
    return found[0]


def check_ci_command(block: Block, pytester: pytest.Pytester, work: Path) -> None:
    """The suite's own test command: not run here (it would run this suite inside itself), but it
    must be exactly what CI runs."""
    lines = command_lines(block)
    expected = ci_test_command()
    assert lines == [expected], (
        f"README.md:{block.line}: the test command README gives is not the one .ci/run runs:\n"
        f"  README:  {lines}\n  .ci/run: {expected}"
    )


def check_dev_commands(block: Block, pytester: pytest.Pytester, work: Path) -> None:
    """A developer's commands for this suite: each is CI's pytest (same interpreter) with other
    options; the markers a ``-m`` expression names are registered; and pytest, given those options
    in the project's folder, collects tests (``--collect-only``: the options, paths and expression
    hold; running them would run this suite inside itself)."""
    prefix = shlex.split(ci_test_command().split("&&")[-1])[:3]  # .venv/bin/python -m pytest
    registered = {line.split(":")[0].strip() for line in _pytest_ini()["markers"]}
    for line in command_lines(block):
        words = shlex.split(line, comments=True)
        assert words[:3] == prefix, (
            f"README.md:{block.line}: {line!r} does not run pytest as .ci/run does ({shlex.join(prefix)})"
        )
        options = words[3:]
        for index, word in enumerate(options[:-1]):
            if word == "-m":
                names = set(re.findall(r"[A-Za-z_]\w*", options[index + 1])) - {"and", "or", "not"}
                assert names <= registered, (
                    f"README.md:{block.line}: -m names markers pyproject.toml does not register: "
                    f"{sorted(names - registered)}"
                )
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_CORE_"))}
        done = subprocess.run(
            [sys.executable, *words[1:], "--collect-only", "-q", "-p", "no:cacheprovider"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
        )
        summary = done.stdout.strip().splitlines()[-1:] or [""]
        collected = re.match(r"(\d+)(?:/\d+)? tests? collected", summary[0])
        assert done.returncode == 0 and collected and int(collected.group(1)) > 0, (
            f"README.md:{block.line}: {line!r} collects nothing (exit {done.returncode}):\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )


def _pytest_ini() -> dict[str, list[str]]:
    with (ROOT / "pyproject.toml").open("rb") as file:
        options: dict[str, list[str]] = tomllib.load(file)["tool"]["pytest"]["ini_options"]
    return options


def run_commands(block: Block, pytester: pytest.Pytester, work: Path) -> None:
    """Every command line of the block, in a fresh copy of the project when it installs the project
    (``pip install .``), else in a folder holding the example project's files (``petstore.yaml``)."""
    lines = command_lines(block)
    installs = any(re.search(r"pip install\b.*\s\.(\s|$)|-e\s+'?\.", line) for line in lines)
    folder = work / ("clone" if installs else "project")
    (copy_project if installs else copy_example_files)(folder)
    for number, line in enumerate(lines):
        for segment in _segments(block, line):
            _run_segment(block, segment, folder, work / f"server-{number}.stderr")


def _segments(block: Block, line: str) -> list[list[str]]:
    """``a && b && c`` as [a, b, c]; other shell syntax is refused (this runner does not emulate it)."""
    code = line.split(" #", 1)[0]
    if _SHELL_SYNTAX.search(code.replace("&&", "")):
        raise AssertionError(f"README.md:{block.line}: cannot run {line!r}: shell syntax beyond '&&'")
    segments: list[list[str]] = [[]]
    for word in shlex.split(line, comments=True):
        if word == "&&":
            segments.append([])
        else:
            segments[-1].append(word)
    if any(not s for s in segments):
        raise AssertionError(f"README.md:{block.line}: cannot run {line!r}: an empty command")
    return segments


def _run_segment(block: Block, words: list[str], folder: Path, stderr_path: Path) -> None:
    program = Path(words[0])
    if program.name == "mockserver" and words[1:2] == ["serve"]:
        executable = folder / program if len(program.parts) > 1 else None
        with served(words[1:], folder, stderr_path, executable=executable) as server:
            assert server.process.poll() is None, f"README.md:{block.line}: {server.describe()}"
        return
    done = subprocess.run(
        words, cwd=folder, capture_output=True, text=True, timeout=RUN_TIMEOUT, env=_plain_env()
    )
    if done.returncode != 0:
        raise AssertionError(
            f"README.md:{block.line}: {shlex.join(words)} exited with {done.returncode}:\n"
            f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
        )


def run_shell_script(block: Block, pytester: pytest.Pytester, work: Path) -> None:
    """The block as one script (``sh -e``), in a folder holding the example project's files, in a
    session of its own: what it leaves running is killed when it ends, passed or failed.

    Its output goes to files, not pipes: a server left in the background would hold a pipe open.
    """
    folder = work / "project"
    copy_example_files(folder)
    script = work / "readme_example.sh"
    script.write_text(block.text, encoding="utf-8")
    here = str(Path(sys.executable).parent)  # this environment's mockserver, as if installed
    env = {**os.environ, "PATH": os.pathsep.join([here, os.environ.get("PATH", "")])}
    out, err = work / "script.stdout", work / "script.stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            ["sh", "-e", str(script)],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,  # its own process group: the script's background jobs included
        )
        try:
            ended = _ended_unreaped(process.pid, RUN_TIMEOUT)
        finally:
            _kill_group(process.pid)  # before the script is reaped: its PID, the group's, stays taken
            status = process.wait()
    said = f"{out.read_text(errors='replace')[-2000:]}\n{err.read_text(errors='replace')[-4000:]}"
    if not ended:
        raise AssertionError(
            f"README.md:{block.line}: the script did not end within {RUN_TIMEOUT:.0f} s:\n{said}"
        )
    if status != 0:
        raise AssertionError(f"README.md:{block.line}: the script exited with {status}:\n{said}")


def _ended_unreaped(pid: int, timeout: float) -> bool:
    """Whether the child ``pid`` ended within ``timeout`` seconds; it is left to be reaped."""
    deadline = time.monotonic() + timeout
    while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _kill_group(group: int) -> None:
    """SIGKILL to the process group this runner started (nothing when it is gone already)."""
    with suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)


def _plain_env() -> dict[str, str]:
    """The environment of a new shell: this suite's virtual environment is not active in it."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    here = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != here)
    return env


@contextmanager
def served(
    argv: list[str], folder: Path, stderr_path: Path, executable: Path | None = None
) -> Iterator[Served]:
    """``mockserver serve ...`` on a free port: started, healthy, then stopped; it must stop cleanly."""
    args = argv[1:]
    port_at = [i for i, word in enumerate(args) if word == "--port"]
    for index in port_at:
        args[index + 1] = "0"
    args = [("--port=0" if word.startswith("--port=") else word) for word in args]
    if not any(word == "--port" or word.startswith("--port=") for word in args):
        args += ["--port", "0"]
    command = [str(executable)] if executable is not None else mockserver_command()
    stderr_file = stderr_path.open("wb")
    process = subprocess.Popen(
        [*command, "serve", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr_file,
        cwd=folder,
        env={**(_plain_env() if executable is not None else os.environ), "PYTHONUNBUFFERED": "1"},
    )
    server = Served(process, stderr_path, ["serve", *args], _stderr_file=stderr_file)
    try:
        wait_until_healthy(server)
        yield server
    finally:
        status = server.stop(signal.SIGTERM, timeout=STOP_TIMEOUT)
    if status != 0 or "Traceback" in server.stderr():
        raise AssertionError(f"mockserver serve did not stop cleanly (exit {status}): {server.describe()}")


def copy_project(folder: Path) -> None:
    """A fresh clone's files: what git tracks, as it is in the working tree (links kept as links)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        elif source.is_file():
            shutil.copy2(source, target)


def copy_example_files(folder: Path) -> None:
    """The files README's commands name (``petstore.yaml``), beside nothing else."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in EXAMPLE_PROJECT.iterdir():
        if path.is_file():
            shutil.copy2(path, folder / path.name)
