"""Where the suite finds the Ingestion spec Algolia publishes, and the bundled one it is held to.

The published spec lives beside the repository (``../shared/reference/upstream/ingestion.yml``, see
its README there), not in it: a user's clone has no copy, and the tests that need it skip, saying so.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUNDLED_SPEC = ROOT / "mockserver" / "data" / "spec" / "ingestion.yaml"
PUBLISHED_DIR = ROOT.parent / "shared" / "reference" / "upstream"


def published_spec() -> Path:
    """The published ingestion.yml; the calling test is skipped when it is not beside the repository."""
    path = PUBLISHED_DIR / "ingestion.yml"
    if not path.is_file():
        if os.environ.get("CI"):  # CI has it beside the clone: a missing copy must not pass unnoticed
            pytest.fail(f"the published Ingestion spec is not at {path}, and CI must hold the mock to it")
        pytest.skip(
            f"the published Ingestion spec is not at {path} (it sits beside the repository on the "
            "maintainers' machines and in CI, not in a clone)"
        )
    return path
