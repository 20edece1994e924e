"""Errors the mock answers with: each knows its HTTP status and code, and renders itself as the service does.

The service's error body (seen against a live application) is
``{"error": {"code": "<code>"}, "message": "<text>", "status": <http status>}``: a machine-readable
code beside the message. Where the mock knows more than the service says (which field, which rule),
and the service's own wording is known, the message keeps the service's wording and the mock's
diagnosis goes into ``error.detail`` alone. Where the message is the mock's own wording, a detail is
also appended to it: the official clients show ``message`` and nothing else of the body.
"""

from __future__ import annotations

from typing import Any

# The code answered with each status. 400 and 404 were seen on the live service; the others follow
# the same style (snake_case, what went wrong) and are the mock's choice. The mock itself never
# answers 409 (nothing public shows one from this API); a stub or an injected fault may.
CODE_BY_STATUS: dict[int, str] = {
    400: "invalid_payload",
    401: "unauthorized",
    403: "forbidden",
    404: "resource_not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable_entity",
    429: "too_many_requests",
    431: "request_header_fields_too_large",
    500: "internal_error",
    501: "not_implemented",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


def code_for_status(status: int) -> str:
    """The error code the mock answers with ``status`` (``http_<status>`` for one it has no name for)."""
    return CODE_BY_STATUS.get(status, f"http_{status}")


def shown(value: Any, limit: int = 40) -> str:
    """``repr(value)`` cut to about ``limit`` characters (a 2,000-digit number is named, not echoed)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 4 * limit:
        return f"<an integer of about {int(value.bit_length() * 0.30103)} digits>"
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def error_body(
    status: int, message: str, code: str | None = None, detail: str | None = None
) -> dict[str, Any]:
    """An error body in the service's shape, for errors raised outside an ``ApiError``."""
    error: dict[str, Any] = {"code": code or code_for_status(status)}
    if detail is not None:
        error["detail"] = detail
    return {"error": error, "message": message, "status": status}


class ApiError(Exception):
    """An error answered to the client as ``{"error": {"code"}, "message", "status"}``.

    ``code`` defaults to the class's (or, for a status given at run time, the status's) code;
    ``detail`` is the mock's own diagnosis, answered as ``error.detail``; ``observed``: ``message``
    is the service's exact wording (seen on the live service), never changed, so the detail stays
    in ``error.detail`` alone; ``apart``: the same for a message in the service's manner that was not
    seen live (the Search API's 404s). Otherwise the message the client shows ends with the detail too.
    ``not_ready``: not a refusal but "not there yet", what a client polling for a run's result
    expects and polls again on (a 404 for an event its run has not published yet); the journal
    keeps the mark so test tooling does not count the answer as a rejection.
    """

    status: int = 400
    code: str | None = None  # None: the code of ``status``

    def __init__(
        self,
        message: str,
        headers: dict[str, str] | None = None,
        status: int | None = None,
        *,
        code: str | None = None,
        detail: str | None = None,
        observed: bool = False,
        apart: bool = False,
        not_ready: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        elif status is not None:
            self.code = None  # the status changed: so does the code that goes with it
        self.detail = detail
        self.observed = observed
        self.apart = apart
        self.not_ready = not_ready

    def body(self) -> dict[str, Any]:
        message = self.message
        if self.detail is not None and not (self.observed or self.apart):
            message = f"{message} ({self.detail})"
        return error_body(self.status, message, self.code, self.detail)


class BadRequest(ApiError):
    """A request the service cannot act on, validation failures included."""

    status = 400
    code = "invalid_payload"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


INVALID_CREDENTIALS = "Invalid Application-Id or API-Key"


class InvalidCredentials(Forbidden):
    """No, malformed or wrong application ID / API key."""

    code = "invalid_credentials"

    def __init__(self, message: str = INVALID_CREDENTIALS, headers: dict[str, str] | None = None) -> None:
        super().__init__(message, headers)


class NotFound(ApiError):
    status = 404
    code = "resource_not_found"


class ResourceInUse(BadRequest):
    """A resource that cannot be deleted while others use it (a source a task reads, ...).

    400: the published spec documents only 400 for these operations; its deleteSource,
    deleteDestination and deleteAuthentication descriptions forbid deleting what is in use, without
    a status. A transformation in use is an assumed rule (transformation-in-use). The code is ours.
    """

    code = "resource_in_use"


class MissingReference(BadRequest):
    """A body field naming a resource that does not exist (the body fits the schema).

    400 on every operation, create or update alike: the published spec documents 400 for these
    operations, and the observed 404 is for a resource the URL names. The code says what is wrong.
    """

    code = "resource_not_found"


class NotServed(ApiError):
    """An operation of the spec the mock does not serve (``x-mock-served: false``): answered before
    the request is validated, naming the operation. 402 is the status the published Search spec
    documents for a feature an application does not have (ledger: search-unserved-operations)."""

    status = 402
    code = "operation_not_served"


class MethodNotAllowed(ApiError):
    status = 405
    code = "method_not_allowed"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class TooManyRequests(ApiError):
    status = 429
    code = "too_many_requests"


class InjectedFault(ApiError):
    """An error a fault rule asked for; the response checker lets it through. Its code is its status's."""


class ConnectionDropped(Exception):
    """Raised after the response has started, so the server cuts the connection (a fault rule asked)."""


class ResponseContractError(AssertionError):
    """The mock produced a response its own spec does not allow (a bug in the mock)."""


class RequestTimeout(ApiError):
    """The client took longer than the mock waits for a request body."""

    status = 408
    code = "request_timeout"


class LimitExceeded(ApiError):
    """A configured cap (applications, resources) would be passed; the message names it."""

    status = 429
    code = "limit_exceeded"


class StateUnavailable(ApiError):
    """The write could not be made durable in the state file; nothing was changed."""

    status = 503
    code = "state_file_unavailable"
