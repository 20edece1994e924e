"""Where the suite finds the specs Algolia publishes, and the bundled ones they are held to.

The published spec lives beside the repository (``../shared/reference/upstream/ingestion.yml``, see
its README there), not in it: a user's clone has no copy, and the tests that need it skip, saying so.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUNDLED_SPEC = ROOT / "mockserver" / "data" / "spec" / "ingestion.yaml"
BUNDLED_SEARCH_SPEC = ROOT / "mockserver" / "data" / "spec" / "search.yaml"
PUBLISHED_DIR = ROOT.parent / "shared" / "reference" / "upstream"


def published_spec(api: str = "Ingestion") -> Path:
    """The published ingestion.yml (``api="Search"``: search.yml); the calling test is skipped when it
    is not beside the repository."""
    path = PUBLISHED_DIR / f"{api.lower()}.yml"
    if not path.is_file():
        if os.environ.get("CI"):  # CI has it beside the clone: a missing copy must not pass unnoticed
            pytest.fail(f"the published {api} spec is not at {path}, and CI must hold the mock to it")
        pytest.skip(
            f"the published {api} spec is not at {path} (it sits beside the repository on the "
            "maintainers' machines and in CI, not in a clone)"
        )
    return path


def published_search_spec() -> Path:
    """The published search.yml, as :func:`published_spec` finds it."""
    return published_spec("Search")
