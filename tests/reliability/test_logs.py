"""Why: "Secrets in logs" — an API key in the query string reached the journal and the JSON access
log, and raw paths could forge text log lines."""

from __future__ import annotations

import httpx

from ..serve.conftest import ServeFactory
from .conftest import ok

SECRET = "query-secret-key-1234"


def test_query_credentials_are_masked_in_the_journal_and_both_access_logs(serve: ServeFactory) -> None:
    for kind in ("json", "text"):
        served = serve("--access-log", kind)
        with httpx.Client(base_url=served.url, timeout=30) as client:
            params = {"x-algolia-application-id": "LOGAPP", "x-algolia-api-key": SECRET}
            assert client.get("/1/sources", params=params).status_code == 200
            client.get("/1/sources/%1b[2J%0aforged 200 line", params=params)
            journal = ok(client.get("/__mock__/journal"))
        log = served.stderr()
        assert SECRET not in log, kind
        assert SECRET not in str(journal)
        assert "\x1b" not in log and "\nforged" not in log, kind
