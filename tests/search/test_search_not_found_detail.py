"""Every Search API 404 answers the service's manner of wording alone in ``message`` and the mock's
diagnosis (which index, record, synonym, rule or task is missing, and where) in ``error.detail``."""

from __future__ import annotations

import pytest

from mockserver.http.inprocess import InProcessClient

# (method, path, body, message, a part of the detail)
MISSING: list[tuple[str, str, object, str, str]] = [
    ("GET", "/1/indexes/nope/x", None, "ObjectID does not exist", "no index 'nope'"),
    ("GET", "/1/indexes/p/nope", None, "ObjectID does not exist", "no record 'nope' in index 'p'"),
    ("GET", "/1/indexes/nope/settings", None, "Index does not exist", "no index 'nope'"),
    ("GET", "/1/indexes/p/synonyms/s9", None, "Synonym 's9' does not exist", "has no synonym 's9'"),
    ("GET", "/1/indexes/p/rules/r9", None, "Rule 'r9' does not exist", "has no rule 'r9'"),
    ("GET", "/1/indexes/p/task/999999", None, "Task 999999 does not exist", "issued no task 999999"),
    ("GET", "/1/task/999999", None, "Task 999999 does not exist", "issued no task 999999"),
    ("POST", "/1/indexes/nope/query", {}, "Index does not exist", "has no index 'nope'"),
    ("POST", "/1/indexes/nope/browse", {}, "Index does not exist", "has no index 'nope'"),
]


@pytest.mark.parametrize(("method", "path", "body", "message", "detail"), MISSING)
def test_a_search_404_keeps_its_diagnosis_in_the_detail(
    client: InProcessClient, method: str, path: str, body: object, message: str, detail: str
) -> None:
    assert client.put("/1/indexes/p/1", json={"title": "one"}).status_code == 200
    answer = client.request(method, path, json=body)
    assert answer.status_code == 404, answer.text
    error = answer.json()
    assert error["message"] == message
    assert error["status"] == 404
    assert error["error"]["code"] == "resource_not_found"
    assert detail in error["error"]["detail"]
