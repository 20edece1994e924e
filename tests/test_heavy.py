"""tests/heavy.py: the markers it gives, the guard on the unmarked, and the xdist scheduling."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from tests import heavy

pytest_plugins = ["pytester"]


@pytest.fixture
def unmarked(pytester: pytest.Pytester) -> pytest.Item:
    """A test of no heavy kind (it lives outside tests/, so no table names it)."""
    return pytester.getitem("def test_func(): pass")


def test_an_unmarked_test_that_starts_a_process_is_named_with_the_line(unmarked: pytest.Item) -> None:
    with heavy.watching(unmarked):
        subprocess.run([sys.executable, "-c", "pass"], check=True, timeout=60)
        verdict = heavy.verdict(unmarked)
    assert verdict is not None
    assert "test_func started a process (subprocess.Popen" in verdict
    assert "at tests/test_heavy.py:" in verdict
    assert "tests/heavy.py" in verdict


def test_an_unmarked_test_that_binds_a_socket_is_named(unmarked: pytest.Item) -> None:
    with heavy.watching(unmarked), socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        verdict = heavy.verdict(unmarked)
    assert verdict is not None and "bound a socket (socket.bind: ('127.0.0.1', 0)" in verdict


def test_a_marked_test_may_do_both(unmarked: pytest.Item) -> None:
    unmarked.add_marker("network")
    with heavy.watching(unmarked), socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        subprocess.run([sys.executable, "-c", "pass"], check=True, timeout=60)
        assert heavy.verdict(unmarked) is None


def test_an_unmarked_test_that_does_neither_passes(unmarked: pytest.Item) -> None:
    with heavy.watching(unmarked):
        assert sum(range(10)) == 45
        assert heavy.verdict(unmarked) is None


def test_the_tables_cover_folders_files_and_single_tests() -> None:
    assert heavy._covers("serve/", "serve/test_cli.py", "serve/test_cli.py::test_x")
    assert not heavy._covers("serve/", "reliability/test_logs.py", "reliability/test_logs.py::test_x")
    assert heavy._covers("test_packaging.py", "test_packaging.py", "test_packaging.py::test_wheel")
    assert heavy._covers("a.py::test_x", "a.py", "a.py::test_x[param]")
    assert not heavy._covers("a.py::test_x", "a.py", "a.py::test_x_other")


def test_a_module_kept_together_is_one_scheduling_unit() -> None:
    unit = heavy.scheduling_unit
    assert unit("tests/browser/test_inspector.py::test_a") == "tests/browser/test_inspector.py"
    assert unit("tests/serve/test_faults.py::test_b[x]") == "tests/serve/test_faults.py"
    assert unit("tests/serve/test_cli.py::test_c") == "tests/serve/test_cli.py::test_c"


FAST_LOOP = "not process and not network and not browser and not slow"


def test_what_the_fast_loop_deselects_whole_is_not_imported() -> None:
    whole = heavy.deselected_whole
    assert whole(heavy.TESTS / "serve", FAST_LOOP)
    assert whole(heavy.TESTS / "serve" / "test_cli.py", FAST_LOOP)
    assert whole(heavy.TESTS / "test_packaging.py", FAST_LOOP)
    assert whole(heavy.TESTS / "unit" / "test_connections.py", "not network")
    # Some of its tests are light (one test is named, not the file), or none is named at all.
    assert not whole(heavy.TESTS / "unit" / "test_validation.py", FAST_LOOP)
    assert not whole(heavy.TESTS / "http", FAST_LOOP)
    assert not whole(heavy.TESTS / "http" / "test_sources.py", FAST_LOOP)


def test_a_file_is_kept_when_some_marking_of_its_tests_may_be_selected() -> None:
    whole = heavy.deselected_whole
    connections = heavy.TESTS / "unit" / "test_connections.py"  # network, by its path
    assert not whole(connections, "network")
    assert not whole(connections, "not network or process")  # a test also marked process is selected
    assert not whole(heavy.TESTS / "test_conformance.py", "slow")
    assert not whole(connections, "not network and not mine")  # a name it does not judge
    assert not whole(connections, "not network(x=1)")  # a marker's arguments
    assert not whole(connections, "not (network")  # pytest reports the error
    assert not whole(connections, "")
