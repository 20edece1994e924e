"""Which tests are heavy, marked where they are collected, and a guard that no unmarked test is.

The markers (registered in pyproject.toml):

- ``process``: starts another process (``mockserver serve``, the CLI, Node.js, a venv, a wheel build)
  or runs a pytest session inside this one (``pytester``);
- ``network``: serves the mock on a real socket (a ``LiveServer`` thread) and talks to it over HTTP;
- ``browser``: drives headless Chromium;
- ``slow``: seconds of CPU per test (schemathesis and Hypothesis runs over the whole spec).

They are given here, at collection, by path and by fixture (:data:`BY_PATH`, :data:`BY_FIXTURE`),
not by each module, so that the list of heavy tests is one table. The fast loop deselects them
(``-m "not process and not network and not browser and not slow"``); CI runs everything.

A table can miss a test, so an audit hook (:func:`install`, :func:`watching`) watches every test
that has none of these markers: when it (or a fixture it sets up) starts a process or binds an
INET socket, the test fails, naming the line that did it. Only CPU-heavy tests (``slow``) can slip
in unnoticed; ``--durations`` shows them.

Under xdist (``-n``), :class:`Scheduling` hands the tests to workers in the order :func:`mark` gives
them (the longest first), keeping the modules of :data:`TOGETHER` on one worker each.
"""

from __future__ import annotations

import functools
import itertools
import re
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

HEAVY = ("process", "network", "browser", "slow")
TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent

# Paths relative to tests/ (a folder ends with "/") and the markers every test under them gets.
BY_PATH: dict[str, tuple[str, ...]] = {
    "browser/": ("browser", "network"),
    "serve/": ("process",),
    "reliability/": ("process",),
    "readme/test_readme_blocks.py": ("process",),
    "readme/test_readme_names.py": ("process",),  # `pytest --help` / `--fixtures` of a bare project
    "test_packaging.py": ("process",),
    "test_schemathesis_cli.py": ("process", "slow"),
    "test_conformance.py": ("slow",),
    "test_published_positive.py": ("slow",),
    "test_properties.py": ("slow",),
    "test_validation_equivalence.py": ("slow",),
    "e2e/test_scenarios.py": ("network", "slow"),
    "e2e/test_search_helpers.py": ("process", "network"),  # mockserver serve, the plugin's live mock
    "e2e/test_client_errors.py::test_wrong_credentials_are_a_403": ("network",),
    "http/test_acl.py::test_the_refusal_reaches_the_official_client": ("network",),
    "unit/test_connections.py": ("network",),  # uvicorn on a real socket
    "unit/test_store.py::test_a_forked_child_never_hands_out_its_parents_ids": ("process",),  # os.fork
    "hostile/test_head_limit.py": ("network",),  # LiveServer on each HTTP parser
    "http/test_error_paths.py::test_a_client_that_hangs_up_before_its_body_is_whole_changes_nothing": (
        "network",
    ),
    "http/test_error_paths.py::test_a_crash_over_a_socket_is_a_json_500_and_reaches_the_server": ("network",),
    "readme/test_repeated_snippet.py": ("process",),
    "unit/test_jsengine.py::test_importing_mockserver_does_not_load_the_engine": ("process",),
    # Seconds each: Hypothesis over every operation, openapi-core (its first use builds its spec
    # model), the spec validated whole, megabyte bodies, the import graph of the package.
    "unit/test_strategies.py": ("slow",),
    "unit/test_validation.py::test_fast_validation_agrees_with_openapi_core": ("slow",),
    "unit/test_validation.py::test_a_refusal_leaves_no_garbage_cycle_holding_the_body": ("slow",),
    "unit/test_validation.py::test_mocks_on_one_spec_share_one_openapi_core_model_and_keep_their_own_"
    "verdicts": ("slow",),
    "unit/test_spec.py::test_bundled_spec_is_valid_openapi": ("slow",),
    "unit/test_import_graph.py": ("slow",),
    "unit/test_depth.py": ("slow",),
    "hostile/test_secrets.py::test_secrets_never_come_back_out": ("slow",),
    "hostile/test_bodies.py::test_a_wide_closed_object_is_refused_with_a_short_message": ("slow",),
    "http/test_shared_limits.py::test_a_large_refused_body_is_freed_at_once_not_by_a_later_"
    "garbage_collection": ("slow",),
}

# Tests run without coverage's trace hook (pytest-cov's ``no_cover`` marker, under ``--cov``). On
# Python 3.11 the hook slows every line of Python in the process about 2.3x, not only the package's
# (Hypothesis alone, drawing values: 41 -> 89-99 CPU seconds): the harness of a test whose mock runs
# in a child process (not measured) and the generators of the comparison tests paid it for nothing.
# What these tests run of the package, faster tests run too: measured with ``--cov-context=test``
# on 2026-12-06, leaving them out took the branch coverage from 88.93% to 88.89%. The in-process
# conformance run (schemathesis over every operation, 30 s of CPU untraced, 66 s traced) alone ran
# 23 lines; unit tests run them now (tests/unit/test_conformance_filters.py, the journal's budget
# of a value it cannot pack), all but two (conformance.py's skip of such a case, a batch body no
# validator lets through).
UNTRACED = (
    "browser/",
    "readme/",
    "reliability/",
    "serve/test_check.py",
    "serve/test_faults.py",
    "serve/test_generic_mode.py",
    "serve/test_isolation.py",
    "serve/test_js_client.py",
    "serve/test_persistence.py",
    "serve/test_ready.py",
    "test_conformance.py::test_the_mock_conforms_to_its_spec_in_process",
    "test_packaging.py",
    "test_published_positive.py",
    "test_schemathesis_cli.py",
    "test_validation_equivalence.py",
)


def stop_the_workers_stray_coverage(config: pytest.Config) -> None:
    """In an xdist worker, stop the coverage pytest-cov (7.1) started before it knew it was a worker.

    pytest-cov starts coverage when it loads, as for the controller (the worker's options still hold
    ``-n``), and again at session start as the worker, without stopping the first: that one's data is
    never saved, but coverage keeps its collectors on a stack, so while the worker's pauses for a
    ``no_cover`` test the stray one resumes, and :data:`UNTRACED` tests ran traced under ``-n``
    (measured: ``sys.gettrace()`` set in them; Hypothesis at ~2x the CPU). Stopped here, at
    configuration, before the worker's starts: what the worker measures is unchanged."""
    if not hasattr(config, "workerinput"):
        return
    import coverage

    plugin = config.pluginmanager.get_plugin("_cov")
    controller = getattr(plugin, "cov_controller", None)
    stray = coverage.Coverage.current()
    if stray is not None and id(getattr(controller, "cov", None)) == id(stray):  # pytest-cov's, early
        stray.stop()


# Fixtures (anywhere in a test's closure) and the markers a test that uses them gets.
BY_FIXTURE: dict[str, tuple[str, ...]] = {
    "pytester": ("process",),
    "live_server": ("network",),  # tests/conftest.py
    "_ingestion_mock_server": ("network",),  # the plugin's ingestion_server / ingestion_client
}

# Modules whose tests share an expensive module-scoped fixture (a Chromium, a served mock, two
# pytest runs, one generation of the published spec's cases): under xdist (``-n``), each runs on
# one worker, so the fixture is set up once (:class:`Scheduling`; the xdist_group marker is not
# used: pytest 9.2 ignores the node IDs ``--dist loadgroup`` rewrites, pytest-xdist issue #1386).
TOGETHER = (
    "browser/",
    "reliability/",
    "serve/test_faults.py",
    "e2e/test_search_helpers.py",
    "serve/test_isolation.py",
    "serve/test_generic_mode.py",
    "readme/test_readme_names.py",
    "test_published_positive.py",
)

# The order tests are handed to xdist workers in: the modules of the longest single tests (a minute
# or more each, alone on an idle machine) first, then by marker, so that no worker is left running
# a long test started last.
LONGEST = (
    "test_packaging.py",
    "readme/test_readme_blocks.py",
    "test_schemathesis_cli.py",
    "test_conformance.py",
    "serve/test_check.py",
    "plugin/test_strategies_downstream.py",
)
ORDER = ("process", "browser", "slow", "network")
# Modules with none of the markers whose tests still take seconds each (a spec read and compared
# whole): handed out before the other unmarked modules, so that the run ends on short tests (one
# of them last cost a worker 8 s alone at the end).
SECONDS = ("unit/test_ledger.py", "unit/test_spec_descriptions.py")


def _relative(item: pytest.Item) -> str | None:
    """The item's file relative to tests/ (None for a file that is not one of ours)."""
    return _relative_path(str(item.path))


@functools.cache
def _relative_path(path: str) -> str | None:
    """(Once per file: resolving a path asks the file system, and every item asks three times.)"""
    resolved = Path(path).resolve()
    return resolved.relative_to(TESTS).as_posix() if resolved.is_relative_to(TESTS) else None


def _test_id(item: pytest.Item, relative: str) -> str:
    """``file.py::test_x[params]``, the file relative to tests/."""
    return relative + "::" + item.nodeid.split("::", 1)[1] if "::" in item.nodeid else relative


def untraced(item: pytest.Item) -> bool:
    """Whether the item runs without coverage's trace hook (:data:`UNTRACED`)."""
    relative = _relative(item)
    return relative is not None and any(_covers(w, relative, _test_id(item, relative)) for w in UNTRACED)


def markers_for(item: pytest.Item) -> list[str]:
    relative = _relative(item)
    if relative is None:
        return []
    test = _test_id(item, relative)
    found: list[str] = []
    for where, names in BY_PATH.items():
        if _covers(where, relative, test):
            found += names
    fixtures = set(getattr(item, "fixturenames", ()))
    for fixture, names in BY_FIXTURE.items():
        if fixture in fixtures:
            found += names
    return sorted(set(found), key=HEAVY.index)


def _covers(where: str, relative: str, test: str) -> bool:
    """A folder ("serve/"), a file ("test_packaging.py") or a test ("file.py::test_x", all its
    parameters)."""
    if where.endswith("/"):
        return relative.startswith(where)
    return where in (relative, test) or test.startswith((where + "[", where + "::"))


def deselected_whole(path: Path, markexpr: str) -> bool:
    """Whether ``-m markexpr`` deselects every test under ``path`` (a folder or a file of tests/)
    whatever else they are marked with, given the markers :data:`BY_PATH` gives all of it: then it
    need not be imported at all (the fast loop skips importing the heavy modules, a third of the
    suite's collection time). Only an expression of the heavy markers alone is judged; any other
    (an unknown name, a marker's arguments) is left to pytest."""
    if not markexpr or not _HEAVY_EXPRESSION.fullmatch(markexpr):
        return False
    names = set(re.findall(r"[A-Za-z_]\w*", markexpr)) - {"and", "or", "not"}
    if not names <= set(HEAVY):
        return False
    resolved = path.resolve()
    if not resolved.is_relative_to(TESTS):
        return False
    relative = resolved.relative_to(TESTS).as_posix() + ("/" if resolved.is_dir() else "")
    given = {
        name
        for where, names_given in BY_PATH.items()
        if "::" not in where and (relative.startswith(where) if where.endswith("/") else where == relative)
        for name in names_given
    }
    if not given:
        return False
    others = [name for name in HEAVY if name not in given]
    try:
        code = compile(markexpr, "-m", "eval")
    except SyntaxError:
        return False
    for chosen in itertools.product((False, True), repeat=len(others)):  # every marking it may also have
        values = {name: True for name in given} | dict(zip(others, chosen, strict=True))
        if eval(code, {"__builtins__": {}}, values):  # names and and/or/not only
            return False
    return True


_HEAVY_EXPRESSION = re.compile(r"[\sA-Za-z_()]*")


def mark(items: list[pytest.Item]) -> None:
    """Give each item its heavy markers, then order the modules: :data:`LONGEST`, then by
    :data:`ORDER`, then :data:`SECONDS` (a module stays in one piece, its order kept, so
    module-scoped fixtures are set up once)."""
    rank: dict[Path, tuple[int, int, int]] = {}
    for item in items:
        names = markers_for(item)
        for name in names:
            item.add_marker(name)
        if untraced(item):
            item.add_marker("no_cover")
        module = _relative(item) or ""
        first = LONGEST.index(module) if module in LONGEST else len(LONGEST)
        weight = (
            first,
            min((ORDER.index(n) for n in names), default=len(ORDER)),
            0 if module in SECONDS else 1,
        )
        rank[item.path] = min(rank.get(item.path, weight), weight)
    items.sort(key=lambda item: rank[item.path])  # stable: the order within a module is kept


class Scheduling(LoadScopeScheduling):  # type: ignore[misc]  # xdist ships no type information
    """xdist's ``load`` scheduling (each test goes to the next free worker, in collection order),
    except that the tests of a module in :data:`TOGETHER` go to one worker, as one unit."""

    def __init__(self, config: pytest.Config, log: object = None) -> None:
        super().__init__(config, log)
        # LoadScopeScheduling hands out the largest units first; :func:`mark` chose the order.
        self.config.option.loadscopereorder = False

    def _split_scope(self, nodeid: str) -> str:
        return scheduling_unit(nodeid)


def scheduling_unit(nodeid: str) -> str:
    """The unit a test is handed to a worker in: its module's for :data:`TOGETHER`, else itself."""
    module = nodeid.split("::", 1)[0]
    relative = module.removeprefix("tests/")
    together = module != relative and any(_covers(where, relative, relative) for where in TOGETHER)
    return module if together else nodeid


def is_heavy(item: pytest.Item) -> bool:
    return any(item.get_closest_marker(name) is not None for name in HEAVY)


# --- the guard ------------------------------------------------------------------------------------

# Audit events (docs.python.org/3/library/audit_events.html) that start a process or a server.
_PROCESS_EVENTS = frozenset(
    {"subprocess.Popen", "os.system", "os.posix_spawn", "os.fork", "os.exec", "os.spawn"}
)
_SERVER_EVENTS = frozenset({"socket.bind"})

_current: pytest.Item | None = None
_seen: list[str] = []


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if _current is None or (event not in _PROCESS_EVENTS and event not in _SERVER_EVENTS):
        return
    if event in _SERVER_EVENTS and args[0].family not in (2, 10):  # AF_INET, AF_INET6 only
        return
    if not is_heavy(_current):
        what = "started a process" if event in _PROCESS_EVENTS else "bound a socket"
        _seen.append(f"{what} ({event}{_describe(args)}{_where()})")


def _describe(args: tuple[Any, ...]) -> str:
    shown = [repr(a)[:120] for a in args[1:3] if a is not None]
    return f": {', '.join(shown)}" if shown else ""


def _where() -> str:
    """The innermost line of the tests that led there (else of this repository's code)."""
    ours = [
        frame
        for frame in traceback.extract_stack()
        if Path(frame.filename).is_relative_to(ROOT)
        and Path(frame.filename) != Path(__file__)
        and ".venv" not in Path(frame.filename).parts
    ]
    tests = [frame for frame in ours if Path(frame.filename).is_relative_to(TESTS)]
    for frame in (tests or ours)[-1:]:
        return f" at {Path(frame.filename).relative_to(ROOT)}:{frame.lineno}"
    return ""


_installed = False


def install() -> None:
    """Once per process (an audit hook cannot be removed; it does nothing between tests)."""
    global _installed
    if not _installed:
        # croniter runs `file` on the interpreter when first imported (platform.architecture()):
        # imported here, that is no test's doing.
        import croniter  # noqa: F401

        sys.addaudithook(_hook)
        _installed = True


@contextmanager
def watching(item: pytest.Item) -> Iterator[None]:
    """Around one test's setup, call and teardown: what it did that only heavy tests may do.
    (Nested, as tests/test_heavy.py does, the outer test's record is put back afterwards.)"""
    global _current
    outer, seen = _current, list(_seen)
    _current = item
    _seen.clear()
    try:
        yield
    finally:
        _current = outer
        _seen[:] = seen


def verdict(item: pytest.Item) -> str | None:
    if not _seen:
        return None
    return (
        f"{item.nodeid} {'; '.join(sorted(set(_seen)))}, but it has none of the markers {HEAVY}: "
        "the fast loop would run it. Add it to BY_PATH or BY_FIXTURE in tests/heavy.py."
    )
