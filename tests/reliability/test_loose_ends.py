"""Why (issue 21, "500s and loose ends"), each against a served process:

- ``POST /__mock__/seed`` with ``baseTime: 9999-12-31T23:59:00Z`` was a 500 (OverflowError);
- seeded data took IDs the API cannot address (``""``, ``"a/b"``, a number);
- ``fixtures: "*"`` must not act as a glob;
- the inspector's own ``GET /favicon.ico`` was journaled as a 403 rejection on every page load;
- "Reset everything" with one tenant's credentials reset that tenant alone, silently.

(Heads over 16 KiB and the file-descriptor log line: test_cheap_requests.py, test_connections.py.)
"""

from __future__ import annotations

from typing import Any

import pytest

from ..serve.conftest import Served, ServeFactory
from .conftest import headers, ok

SOURCE = {"type": "push", "name": "s"}


def refused(served: Served, body: dict[str, Any], *fragments: str) -> None:
    with served.control() as control:
        answer = control.post("/__mock__/seed", json=body)
        assert answer.status_code == 400, answer.text[:400]
        refusal = answer.json()
        assert refusal["status"] == 400 and refusal["error"]["code"] == "invalid_payload", refusal
        for fragment in fragments:
            assert fragment in refusal["message"], refusal["message"]
        assert control.get("/__mock__/state").json()["applications"] == {}  # nothing was seeded


@pytest.mark.parametrize(
    ("data", "fragments"),
    [
        pytest.param(
            {"baseTime": "9999-12-31T23:59:00Z", "sources": [SOURCE]},
            ["baseTime", "between 1970-01-01T00:00:00Z and 9000-01-01T00:00:00Z"],
            id="baseTime-9999",
        ),
        pytest.param(
            {"sources": [{**SOURCE, "sourceID": ""}]},
            ["sources[0].sourceID", "an ID the API can address"],
            id="empty-id",
        ),
        pytest.param(
            {"sources": [{**SOURCE, "sourceID": "a/b"}]}, ["sources[0].sourceID", '"a/b"'], id="slash-id"
        ),
        pytest.param(
            {"sources": [{**SOURCE, "sourceID": 7}]},
            ["sources[0].sourceID", "7 is not of type"],
            id="number-id",
        ),
    ],
)
def test_seed_values_out_of_range_or_unaddressable_are_refused_naming_them(
    serve: ServeFactory, data: dict[str, Any], fragments: list[str]
) -> None:
    served = serve("--access-log", "off")
    refused(served, {"data": data}, "inline data", *fragments)


def test_a_data_set_name_is_not_a_glob(serve: ServeFactory) -> None:
    served = serve("--access-log", "off")
    refused(served, {"fixtures": "*"}, "no data set '*'")
    refused(served, {"fixtures": "cat*"}, "no data set 'cat*'")


def test_a_browser_asking_for_favicon_ico_gets_an_icon_and_no_rejection(serve: ServeFactory) -> None:
    served = serve("--access-log", "off")
    with served.control() as browser:
        page = browser.get("/__mock__/ui")
        assert 'rel="icon" href="ui/favicon.svg?v=' in page.text
        icon = browser.get("/favicon.ico")
        assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml", icon.text[:200]
        assert browser.get("/__mock__/journal").json()["calls"] == []


def test_reset_everything_with_one_applications_credentials_says_what_it_reset(serve: ServeFactory) -> None:
    served = serve("--app-id", "TENANT", "--api-key", "tenant-key", "--access-log", "off")
    with served.control() as control:
        tenant = headers("TENANT", "tenant-key")
        ok(control.post("/__mock__/seed", json={"fixtures": "catalog"}, headers=tenant))
        told = ok(control.post("/__mock__/reset", headers=tenant))
        assert told["reset"] == "TENANT"
        assert told["message"].startswith("reset application 'TENANT' only"), told
        assert "everything needs scope=all" in told["message"], told
