"""Assertions shared by the test modules: an answer was a success, or a refusal with a message."""

from __future__ import annotations

from typing import Any, Protocol


class Answer(Protocol):
    """What the tests read of an HTTP answer (httpx, httpx2 and the TestClient's all fit)."""

    status_code: int

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


def ok(response: Answer) -> Any:
    """The JSON body of a 200 answer (the assertion shows the body otherwise)."""
    assert response.status_code == 200, response.text
    return response.json()


def refused(response: Answer, status: int = 400) -> str:
    """The Algolia-style ``message`` of an answer refused with ``status``."""
    assert response.status_code == status, response.text
    message = response.json()["message"]
    assert isinstance(message, str)
    return message
