"""A downstream project's test file using mockserver.strategies with @given, run through pytester."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

DOWNSTREAM = """
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from mockserver import create_app
from mockserver import strategies as ms

HEADERS = {"x-algolia-application-id": "DOWNSTREAM", "x-algolia-api-key": "key"}
APP = create_app(check_responses=True)
CLIENT = TestClient(APP, base_url="http://mock", headers=HEADERS)


@settings(max_examples=20, deadline=None)
@given(body=ms.source_create(type="json", name=st.just("feed")))
def test_my_client_creates_json_sources(body):
    assert body["type"] == "json" and body["input"]["url"].startswith("http")
    answer = CLIENT.post("/1/sources", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["name"] == "feed"


@settings(max_examples=20, deadline=None)
@given(invalid=ms.invalid_authentication_create())
def test_my_client_sees_why_a_bad_authentication_is_refused(invalid):
    answer = CLIENT.post("/1/authentications", json=invalid.value)
    assert answer.status_code == 400, (invalid, answer.text)
    assert answer.json()["message"]


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_my_client_lists_what_exists(data):
    state = ms.State.from_app(APP, "DOWNSTREAM")
    request = data.draw(ms.request("listSources", state))
    assert request.send(CLIENT).status_code == 200
"""


def test_a_downstream_suite_uses_the_strategies(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_downstream=DOWNSTREAM)
    result = pytester.runpytest_subprocess("-W", "error", "-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=3)
