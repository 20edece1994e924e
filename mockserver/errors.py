"""Errors the mock answers with: each knows its HTTP status and renders itself Algolia-style."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answered to the client as ``{"message": ..., "status": ...}``."""

    status: int = 400

    def __init__(
        self, message: str, headers: dict[str, str] | None = None, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}
        if status is not None:
            self.status = status

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "status": self.status}


class BadRequest(ApiError):
    status = 400


class Forbidden(ApiError):
    status = 403


class NotFound(ApiError):
    status = 404


class Conflict(ApiError):
    """A valid request the current state refuses: a resource still in use, an input of another type."""

    status = 409


def as_conflict(error: BadRequest) -> Conflict:
    """``error``'s message as a conflict with the resource acted on (for a rule that depends on it)."""
    return Conflict(error.message, error.headers)


class MethodNotAllowed(ApiError):
    status = 405


class PayloadTooLarge(ApiError):
    status = 413


class InjectedFault(ApiError):
    """An error a fault rule asked for; the response checker lets it through."""


class ConnectionDropped(Exception):
    """Raised after the response has started, so the server cuts the connection (a fault rule asked)."""


class ResponseContractError(AssertionError):
    """The mock produced a response its own spec does not allow (a bug in the mock)."""


INVALID_CREDENTIALS = "Invalid Application-Id or API-Key"
