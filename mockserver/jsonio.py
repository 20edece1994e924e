"""JSON in and out of the mock."""

from __future__ import annotations

import json
from typing import Any


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON; NaN and infinities are refused (JSON cannot hold them)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
