"""Check the mock's own responses against the spec, so it cannot drift from its contract unnoticed."""

from __future__ import annotations

from typing import Any

from mockserver.engine.errors import ResponseContractError
from mockserver.engine.validation import SchemaCheck
from mockserver.spec import Operation


class ResponseChecker:
    """``strict_errors``: error statuses must be documented too (true for the bundled Ingestion spec,
    whose every operation documents the errors the mock answers; a foreign spec may not)."""

    def __init__(self, strict_errors: bool = True) -> None:
        self.strict_errors = strict_errors
        self._compiled: dict[tuple[str, int], SchemaCheck | None] = {}

    def _validator(self, operation: Operation, status: int) -> SchemaCheck | None:
        key = (operation.operation_id, status)
        if key not in self._compiled:
            _, schema = operation.response_schema(status)
            self._compiled[key] = SchemaCheck(schema) if schema is not None else None
        return self._compiled[key]

    def check(self, operation: Operation, status: int, body: Any) -> None:
        documented, _ = operation.response_schema(status)
        if not documented and status >= 400 and not self.strict_errors:
            return
        if not documented:
            raise ResponseContractError(
                f"{operation.operation_id} answered {status}, which the spec does not document"
            )
        validator = self._validator(operation, status)
        if validator is None:
            return
        message = validator.error(body, "response")
        if message is not None:
            raise ResponseContractError(
                f"{operation.operation_id} answered {status} against its spec: {message}"
            )
