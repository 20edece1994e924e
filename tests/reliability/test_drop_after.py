"""Why: "Drops never model applied, answer lost" — now --drop-after applies the write and then cuts
the connection, so idempotent retries can be tested."""

from __future__ import annotations

import httpx
import pytest

from ..serve.conftest import ServeFactory
from .conftest import headers, ok


def test_drop_after_applies_the_write_then_cuts_the_connection(serve: ServeFactory) -> None:
    served = serve("--drop-after", "createSource")
    with httpx.Client(base_url=served.url, headers=headers("DROP"), timeout=30) as client:
        with pytest.raises(httpx.HTTPError):
            client.post("/1/sources", json={"type": "push", "name": "applied"})
        names = [s["name"] for s in ok(client.get("/1/sources"))["sources"]]
    assert names == ["applied"]
