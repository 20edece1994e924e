"""docs/architecture.md stays true: it names every module, and its layers hold in the import graph."""

from __future__ import annotations

import re
from pathlib import Path

from tests.unit.test_import_graph import PACKAGE, import_graph

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def _layers() -> dict[str, int]:
    """Module prefix (``mockserver.engine``) -> layer number, from the doc's layer table."""
    layers: dict[str, int] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        row = re.match(r"\|\s*(\d+) [^|]*\|([^|]*)\|", line)
        if row is None:
            continue
        for name in re.findall(r"`([\w.]+)`", row.group(2)):
            layers["mockserver" if name == "mockserver" else f"mockserver.{name}"] = int(row.group(1))
    return layers


def _layer_of(module: str, layers: dict[str, int]) -> int:
    """The layer of the longest prefix the table names."""
    parts = module.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in layers:
            return layers[prefix]
    raise AssertionError(f"{module} is in no layer of {DOC.name}: add it to the layer table")


def test_the_doc_has_a_layer_table() -> None:
    layers = _layers()
    assert layers["mockserver.engine"] < layers["mockserver.http"] < layers["mockserver.pytest_plugin"]


def test_no_module_imports_a_higher_layer() -> None:
    layers = _layers()
    wrong = [
        f"{module} (layer {_layer_of(module, layers)}) imports {target} (layer {_layer_of(target, layers)})"
        for module, targets in sorted(import_graph().items())
        for target in sorted(targets)
        if _layer_of(target, layers) > _layer_of(module, layers)
    ]
    assert not wrong, "\n".join(wrong)


def test_the_map_names_every_module() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] in ("strategies", "resources") or path.name == "__init__.py":
            if path.name == "__init__.py" and relative.parent.name and f"{relative.parent.name}/" not in text:
                missing.append(str(relative.parent) + "/")
            continue  # (named as a package: its modules are described by the package's own docstring)
        if not re.search(rf"(?<![\w/]){re.escape(path.name)}\b", text):
            missing.append(str(relative))
    assert not missing, f"{DOC.name} does not name {missing}: add them to its map"
