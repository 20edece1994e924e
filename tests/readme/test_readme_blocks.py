"""Every code block of README.md runs as written (see runners.py for how each kind is run)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from . import readme, runners

pytest_plugins = ["pytester"]

BLOCKS = readme.blocks()


def test_readme_has_code_blocks_to_run() -> None:
    assert len(BLOCKS) >= 5, f"found only {len(BLOCKS)} code blocks in {readme.README}"


@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_readme_block_runs_as_written(block: readme.Block, pytester: pytest.Pytester, tmp_path: Path) -> None:
    run = runners.runner_for(block)
    run(block, pytester, tmp_path)


def test_the_test_command_block_is_recognised_and_equals_ci() -> None:
    test_commands = [b for b in BLOCKS if runners.runner_for(b) is runners.check_ci_command]
    assert len(test_commands) == 1, [b.id for b in test_commands]
    assert runners.command_lines(test_commands[0]) == [runners.ci_test_command()]


def test_undefined_names_are_found_in_tests_and_at_module_level() -> None:
    source = (
        "import pytest\n"
        "from x import used\n"
        "value = used()\n"
        "def test_a(fixture):\n"
        "    helper(fixture, value, len)\n"
        "    local = 1\n"
        "    return local\n"
        "print(missing_too)\n"
    )
    assert runners.undefined_names(source) == ["helper", "missing_too"]


def test_a_block_in_an_unknown_language_fails_with_the_reason() -> None:
    block = readme.Block("ruby", "puts 1\n", 7, "Somewhere")
    with pytest.raises(AssertionError, match=r"README.md:7: no way to run a 'ruby' code block"):
        runners.runner_for(block)


def test_shell_syntax_the_runner_cannot_honour_fails_with_the_reason(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    block = readme.Block("sh", "mockserver serve | tee log\n", 3, "Somewhere")
    with pytest.raises(AssertionError, match=r"README.md:3: cannot run .*shell syntax beyond '&&'"):
        runners.run_commands(block, pytester, tmp_path)


# --- the runners fail when a block does not do what it shows ------------------------------------


def test_a_failing_test_block_fails(pytester: pytest.Pytester, tmp_path: Path) -> None:
    block = readme.Block(
        "python", "def test_it(ingestion_mock):\n    assert len(ingestion_mock.journal) == 1\n", 9, ""
    )
    with pytest.raises(
        AssertionError, match=r"README.md:9: the block's tests did not all pass \({'failed': 1}\)"
    ):
        runners.run_tests(block, pytester, tmp_path)


def test_a_failing_script_or_command_fails(pytester: pytest.Pytester, tmp_path: Path) -> None:
    script = readme.Block("python", "raise SystemExit(3)\n", 4, "")
    with pytest.raises(AssertionError, match=r"README.md:4: the script exited with 3"):
        runners.run_script(script, pytester, tmp_path)
    command = readme.Block("sh", "true && false  # the second fails\n", 5, "")
    with pytest.raises(AssertionError, match=r"README.md:5: false exited with 1"):
        runners.run_commands(command, pytester, tmp_path)


def test_a_test_command_that_differs_from_ci_fails_and_is_not_run(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    block = readme.Block("sh", ".venv/bin/python -m pytest -x\n", 6, "")
    assert runners.runner_for(block) is runners.check_ci_command
    with pytest.raises(
        AssertionError, match=r"README.md:6: the test command README gives is not the one .ci/run"
    ):
        runners.check_ci_command(block, pytester, tmp_path)


def test_a_failing_script_block_fails_with_its_output(pytester: pytest.Pytester, tmp_path: Path) -> None:
    block = readme.Block("sh", "echo first\nfalse\necho never\n", 8, "", script=True)
    assert runners.runner_for(block) is runners.run_shell_script
    with pytest.raises(AssertionError, match=r"README.md:8: the script exited with 1:\nfirst\n") as raised:
        runners.run_shell_script(block, pytester, tmp_path)
    assert "never" not in str(raised.value)


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie, killed and not yet reaped, is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def test_what_a_script_block_leaves_running_is_killed(pytester: pytest.Pytester, tmp_path: Path) -> None:
    block = readme.Block("sh", "sleep 600 &\necho $! > ../sleeper.pid\n", 9, "", script=True)
    runners.run_shell_script(block, pytester, tmp_path)
    pid = int((tmp_path / "sleeper.pid").read_text())
    for _ in range(200):  # bounded: the kill is sent before the runner returns
        if not _running(pid):
            break
        time.sleep(0.05)
    assert not _running(pid), f"the script's background process {pid} is still running"


def test_developer_commands_are_checked_up_to_collection(pytester: pytest.Pytester, tmp_path: Path) -> None:
    def block(line: str) -> readme.Block:
        return readme.Block("sh", line + "\n", 8, runners.DEV_SECTION)

    fast = block('.venv/bin/python -m pytest -W error -m "not slow" tests/unit/test_clock.py')
    assert runners.runner_for(fast) is runners.check_dev_commands
    runners.check_dev_commands(fast, pytester, tmp_path)
    with pytest.raises(AssertionError, match=r"README.md:8: -m names markers .* register: \['slowish'\]"):
        runners.check_dev_commands(block('.venv/bin/python -m pytest -m "not slowish"'), pytester, tmp_path)
    with pytest.raises(AssertionError, match=r"README.md:8: .* collects nothing \(exit 4\)"):
        runners.check_dev_commands(
            block(".venv/bin/python -m pytest tests/no_such_file.py"), pytester, tmp_path
        )
    with pytest.raises(AssertionError, match=r"README.md:8: .* does not run pytest as .ci/run does"):
        runners.check_dev_commands(block("python -m pytest tests/unit"), pytester, tmp_path)
