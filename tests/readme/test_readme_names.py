"""Every option, fixture, attribute, marker key, flag and route README names exists, and every public
one is named in README: both ways, for each kind of name.

Data-driven on both sides. README's names come from its text (names in backticks in the relevant
sections, and what its code blocks use); the code's names come from its public faces: ``pytest
--help`` (ini options), the registered marker line, ``pytest --fixtures``, the ``ingestion_mock``
fixture's type, ``mockserver.cli.build_parser()`` and the control plane's ``/__mock__/openapi.json``.
Adding an option means changing the code and README, not this test.
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mockserver import create_app
from mockserver.cli import build_parser
from mockserver.http.inprocess import InProcessClient

from . import readme

MARKER = "ingestion_mock"
_IDENT = re.compile(r"^[a-z][a-z0-9_]*$")
_KEYWORD_SPAN = re.compile(r"^([a-z][a-z0-9_]*)=")
_METHODS = "GET|POST|PUT|PATCH|DELETE"
_ROUTE_SPAN = re.compile(rf"^((?:{_METHODS})(?:\|(?:{_METHODS}))*)\s+(\S+)")


# --- README's side ------------------------------------------------------------------------------


def _python_blocks() -> list[ast.Module]:
    return [ast.parse(b.text) for b in readme.blocks() if b.language == "python"]


def _marker_keys_of(paragraph: str) -> set[str]:
    """Marker keys a paragraph names: the bare names listed after "Marker arguments:", and any
    `key=value` span in a paragraph about the marker."""
    names: set[str] = set()
    if paragraph.lstrip().startswith("Marker arguments:"):
        names |= {s for s in readme.spans(paragraph) if _IDENT.match(s)}
    if "marker" in paragraph.lower():
        names |= {m.group(1) for s in readme.spans(paragraph) if (m := _KEYWORD_SPAN.match(s))}
    return names


def readme_marker_keys() -> set[str]:
    names: set[str] = set()
    for paragraph in readme.paragraphs(readme.prose()):
        names |= _marker_keys_of(paragraph)
    pytest_section = readme.section("In your pytest suite").prose
    names |= {m.group(1) for s in readme.spans(pytest_section) if (m := _KEYWORD_SPAN.match(s))}
    for module in _python_blocks():
        for node in ast.walk(module):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == f"pytest.mark.{MARKER}":
                names |= {k.arg for k in node.keywords if k.arg}
    return names


def readme_ini_options() -> set[str]:
    """`ingestion_mock_x` spans, and `ingestion_mock_*` read as "ingestion_mock_KEY for every marker
    key this paragraph lists" (README: "The same settings exist as `ingestion_mock_*` options")."""
    names: set[str] = set()
    for paragraph in readme.paragraphs(readme.prose()):
        spans = readme.spans(paragraph)
        names |= {s for s in spans if re.fullmatch(rf"{MARKER}_[a-z0-9_]+", s)}
        if f"{MARKER}_*" in spans:
            keys = _marker_keys_of(paragraph)
            assert keys, f"README says `{MARKER}_*` in a paragraph that lists no marker keys: {paragraph!r}"
            names |= {f"{MARKER}_{key}" for key in keys}
    return names


def readme_fixture_table() -> set[str]:
    """The first column of the fixture table in "In your pytest suite"."""
    rows = [r for r in readme.section("In your pytest suite").prose.splitlines() if r.startswith("| `")]
    assert rows, "README's pytest section has no fixture table"
    return {readme.spans(row.split("|")[1])[0] for row in rows}


def readme_fixtures() -> set[str]:
    """The table's names, and every ``ingestion_*`` argument of README's test functions."""
    names = readme_fixture_table()
    for module in _python_blocks():
        for node in ast.walk(module):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
                names |= {a.arg for a in node.args.args if a.arg.startswith("ingestion_")}
    return names


def _attributes(fixtures: tuple[str, ...]) -> set[str]:
    """`.name` spans of these fixtures' rows of the fixture table, and ``fixture.name`` anywhere in
    README, prose or code."""
    names: set[str] = set()
    rows = [r for r in readme.section("In your pytest suite").prose.splitlines() if r.startswith("| `")]
    for row in rows:
        if readme.spans(row.split("|")[1])[0] in fixtures:
            names |= {m.group(1) for s in readme.spans(row) if (m := re.match(r"^\.([a-z_][a-z0-9_]*)", s))}
    text = readme.README.read_text(encoding="utf-8")
    names |= set(re.findall(rf"\b(?:{'|'.join(fixtures)})\.([a-z_][a-z0-9_]*)", text))
    return names


def readme_mock_attributes() -> set[str]:
    return _attributes(("ingestion_mock", "ingestion_server"))


def readme_factory_attributes() -> set[str]:
    return _attributes(("ingestion_client_factory",))


def readme_flags(command: str) -> set[str]:
    """Flags of ``mockserver COMMAND``: in spans and sh lines that run it, and (for serve) in spans
    of the "Standalone server" section that start with a flag."""
    places = [s for s in readme.spans(readme.prose()) if f"mockserver {command}" in s]
    for block in readme.blocks():
        if block.language == "sh":
            places += [
                line.split(" #")[0] for line in block.text.splitlines() if f"mockserver {command}" in line
            ]
    # What follows the command, up to the end of its shell command (a `$(...)` inside another
    # command, a redirection, a list): the other command's flags are not its own.
    places = [re.split(r"[)\">;&]", p[p.index(f"mockserver {command}") :])[0] for p in places]
    if command == "serve":
        places += [s for s in readme.spans(readme.section("Standalone server").prose) if s.startswith("--")]
    return {flag for place in places for flag in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", place)}


def readme_routes() -> set[tuple[str, str]]:
    """(method, path) pairs: `METHOD[|METHOD] path` spans of "Control plane" (paths under
    /__mock__/), and spans naming a /__mock__/ path anywhere (GET when no method is given)."""
    routes: set[tuple[str, str]] = set()
    for span in readme.spans(readme.section("Control plane").prose):
        match = _ROUTE_SPAN.match(span)
        if match and not match.group(2).startswith(("/", "http")):
            routes |= {(m, f"/__mock__/{match.group(2)}") for m in match.group(1).split("|")}
    for span in readme.spans(readme.prose()):
        match = _ROUTE_SPAN.match(span)
        methods, target = (match.group(1).split("|"), match.group(2)) if match else (["GET"], span)
        path = re.sub(r"^https?://[^/]+", "", target).split("?")[0]
        if path.startswith("/__mock__/") and path != "/__mock__/":  # the bare prefix names no route
            routes |= {(m, path) for m in methods}
    return routes


# --- the code's side ----------------------------------------------------------------------------


def _pytest_output(folder: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"pytest {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def listings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """``pytest --help`` and ``pytest --fixtures`` as a project without conftest sees them."""
    folder = tmp_path_factory.mktemp("empty_project")
    return {"help": _pytest_output(folder, "--help"), "fixtures": _pytest_output(folder, "--fixtures")}


def code_ini_options(listings: dict[str, str], config: pytest.Config, mock: Any) -> set[str]:
    return set(re.findall(rf"^  ({MARKER}_[a-z0-9_]+) \(", listings["help"], re.M))


def code_marker_keys(listings: dict[str, str], config: pytest.Config, mock: Any) -> set[str]:
    lines = [line for line in config.getini("markers") if line.startswith(f"{MARKER}(")]
    assert len(lines) == 1, f"expected one registered {MARKER} marker, found {lines}"
    return set(re.findall(r"([a-z_][a-z0-9_]*)=", lines[0].split(":")[0]))


def code_fixtures(listings: dict[str, str], config: pytest.Config, mock: Any) -> set[str]:
    names: set[str] = set()
    ours = False
    for line in listings["fixtures"].splitlines():
        heading = re.match(r"^-+ fixtures defined from (\S+) -+$", line)
        if heading:
            ours = heading.group(1).startswith("mockserver")
        elif ours and (found := re.match(r"^([a-z_][a-z0-9_]*)( \[\w+ scope\])? -- ", line)):
            names.add(found.group(1))
    return names


def code_mock_attributes(listings: dict[str, str], config: pytest.Config, mock: Any) -> set[str]:
    return {name for name in dir(mock) if not name.startswith("_")}  # instance attributes too


def code_factory_attributes(listings: dict[str, str], config: pytest.Config, mock: Any) -> set[str]:
    from mockserver.pytest_plugin.clients import ClientFactory

    return {name for name in vars(ClientFactory) if not name.startswith("_")}


def _flags_of(command: str) -> set[str]:
    subcommands = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    parser = subcommands[0].choices[command]
    return {o for a in parser._actions for o in a.option_strings if o.startswith("--")}


def code_serve_flags(listings: dict[str, str], config: pytest.Config, mock: Any) -> set[str]:
    return _flags_of("serve")


def code_check_flags(listings: dict[str, str], config: pytest.Config, mock: Any) -> set[str]:
    return _flags_of("check")


def code_spec_diff_flags(listings: dict[str, str], config: pytest.Config, mock: Any) -> set[str]:
    return _flags_of("spec-diff")


def code_spec_path_flags(listings: dict[str, str], config: pytest.Config, mock: Any) -> set[str]:
    return _flags_of("spec-path")


def control_paths() -> dict[str, set[str]]:
    """The control plane's own description: path -> methods."""
    with InProcessClient(create_app(), base_url="http://mock") as client:
        answer = client.get("/__mock__/openapi.json")
    assert answer.status_code == 200, answer.text
    paths: dict[str, Any] = answer.json()["paths"]
    methods = {"get", "post", "put", "patch", "delete"}
    return {path: {m.upper() for m in item if m in methods} for path, item in paths.items()}


def code_routes(listings: dict[str, str], config: pytest.Config, mock: Any) -> set[tuple[str, str]]:
    return {(method, path) for path, methods in control_paths().items() for method in methods}


def _template(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$")


def _route_matches(named: tuple[str, str], real: tuple[str, str]) -> bool:
    return named[0] == real[0] and bool(_template(real[1]).match(re.sub(r"\{[^/]+?\}", "X", named[1])))


# --- the checks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    name: str
    named: Callable[[], set[Any]]  # what README names
    documented: Callable[[], set[Any]]  # what README documents (a public name must be here)
    real: Callable[[dict[str, str], pytest.Config, Any], set[Any]]
    same: Callable[[Any, Any], bool] = lambda a, b: bool(a == b)


KINDS = [
    Kind("marker keys", readme_marker_keys, readme_marker_keys, code_marker_keys),
    Kind("ini options", readme_ini_options, readme_ini_options, code_ini_options),
    Kind("fixtures", readme_fixtures, readme_fixture_table, code_fixtures),
    Kind("ingestion_mock attributes", readme_mock_attributes, readme_mock_attributes, code_mock_attributes),
    Kind(
        "ingestion_client_factory attributes",
        readme_factory_attributes,
        readme_factory_attributes,
        code_factory_attributes,
    ),
    Kind(
        "mockserver serve flags",
        lambda: readme_flags("serve"),
        lambda: readme_flags("serve"),
        code_serve_flags,
    ),
    Kind(
        "mockserver check flags",
        lambda: readme_flags("check"),
        lambda: readme_flags("check"),
        code_check_flags,
    ),
    Kind(
        "mockserver spec-diff flags",
        lambda: readme_flags("spec-diff"),
        lambda: readme_flags("spec-diff"),
        code_spec_diff_flags,
    ),
    Kind(
        "mockserver spec-path flags",
        lambda: readme_flags("spec-path"),
        lambda: readme_flags("spec-path"),
        code_spec_path_flags,
    ),
    Kind("control-plane routes", readme_routes, readme_routes, code_routes, _route_matches),
]


@pytest.fixture
def real_names(
    listings: dict[str, str], pytestconfig: pytest.Config, ingestion_mock: Any
) -> Iterator[Callable[[Kind], set[Any]]]:
    yield lambda kind: kind.real(listings, pytestconfig, ingestion_mock)


def _show(names: set[Any]) -> list[str]:
    return sorted(" ".join(n) if isinstance(n, tuple) else str(n) for n in names)


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_every_name_readme_gives_exists(kind: Kind, real_names: Callable[[Kind], set[Any]]) -> None:
    named, real = kind.named(), real_names(kind)
    assert real, f"found no {kind.name} in the code: the listing this test reads has changed"
    assert named, f"README names no {kind.name}: the text this test reads has changed"
    missing = {n for n in named if not any(kind.same(n, r) for r in real)}
    assert not missing, (
        f"README names {kind.name} that do not exist: {_show(missing)} (they are: {_show(real)})"
    )


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_every_public_name_is_in_readme(kind: Kind, real_names: Callable[[Kind], set[Any]]) -> None:
    documented, real = kind.documented(), real_names(kind)
    assert real, f"found no {kind.name} in the code: the listing this test reads has changed"
    missing = {r for r in real if not any(kind.same(d, r) for d in documented)}
    assert not missing, f"README does not document these {kind.name}: {_show(missing)}"


# --- the readers themselves ---------------------------------------------------------------------


def test_the_wildcard_expands_over_the_paragraphs_marker_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (
        'Marker arguments: `alpha`, `beta_gamma`, `"frozen"`. The same exist as `ingestion_mock_*` options.\n'
    )
    monkeypatch.setattr(readme, "prose", lambda: text)
    assert readme_ini_options() == {"ingestion_mock_alpha", "ingestion_mock_beta_gamma"}


def test_routes_are_read_with_methods_paths_and_templates() -> None:
    assert _route_matches(("GET", "/__mock__/indexes/{name}"), ("GET", "/__mock__/indexes/{indexName}"))
    assert _route_matches(("GET", "/__mock__/indexes/products"), ("GET", "/__mock__/indexes/{indexName}"))
    assert not _route_matches(
        ("POST", "/__mock__/indexes/products"), ("GET", "/__mock__/indexes/{indexName}")
    )
    assert not _route_matches(("GET", "/__mock__/indexes"), ("GET", "/__mock__/indexes/{indexName}"))
