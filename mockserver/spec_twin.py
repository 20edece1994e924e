"""A spec file's parsed JSON twin: the YAML document as JSON, kept next to it, read in a millisecond.

Parsing the bundled Ingestion spec's YAML takes ~40 ms (PyYAML's C loader), about half of what a
test session pays to load the spec. The twin (``ingestion.parsed.json``) holds the parsed document
together with the SHA-256 of the YAML it came from, so the YAML stays the one source of truth: a
twin that does not match its YAML byte for byte is ignored and the YAML is parsed. A test keeps the
bundled twins current; regenerate them with
``python -m mockserver.spec_twin spec/ingestion.yaml spec/search.yaml spec/control.yaml``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

SUFFIX = ".parsed.json"


def twin_path(path: Path) -> Path:
    """Where the twin of the spec file ``path`` lives (``ingestion.yaml`` -> ``ingestion.parsed.json``)."""
    return path.with_name(path.stem + SUFFIX)


def read_document(path: Path) -> Any:
    """The document the YAML (or JSON) file ``path`` holds: from its twin when the twin was made
    from exactly this file, else parsed."""
    raw = path.read_bytes()
    twin = twin_path(path)
    if twin.is_file():
        try:
            parsed = json.loads(twin.read_bytes())  # (the standard library's: it is imported already)
        except ValueError:
            parsed = None  # a damaged twin is no twin
        if isinstance(parsed, dict) and parsed.get("sha256") == _digest(raw):
            return parsed.get("document")
    return parse_yaml(raw)


def parse_yaml(raw: bytes) -> Any:
    import yaml  # (on first need: importing it takes ~20 ms, and a current twin needs none of it)

    return yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def write_twin(path: Path) -> Path:
    """Write (or refresh) the twin of ``path``. Refuses a document JSON cannot hold exactly (YAML's
    dates, non-string keys): its twin would be a different document."""
    raw = path.read_bytes()
    document = parse_yaml(raw)
    unchanged = f"{path}: the document does not survive JSON unchanged (dates or non-string keys?)"
    try:
        encoded = json.dumps({"sha256": _digest(raw), "document": document}, separators=(",", ":")).encode()
    except (TypeError, ValueError):
        raise ValueError(unchanged) from None
    if json.loads(encoded)["document"] != document:
        raise ValueError(unchanged)
    twin = twin_path(path)
    twin.write_bytes(encoded + b"\n")
    return twin


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m mockserver.spec_twin SPEC.yaml [...]", file=sys.stderr)
        return 2
    for name in argv:
        print(write_twin(Path(name)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
