"""openapi-core, the reference for what a valid request is.

Slow (it resolves references on every call), so the app's hot path uses the compiled validators
of ``validation.py``; this module lets the app run on openapi-core instead
(``create_app(validation="openapi-core")``) and lets the test suite check both agree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from .errors import BadRequest
from .spec import Operation, Spec
from .validation import MISSING

_HOST = "https://data.us.algolia.com"


class _Request:
    """The request protocol openapi-core reads."""

    def __init__(
        self, method: str, path: str, query: Mapping[str, list[str]], body: Any, headers: dict[str, str]
    ):
        self.host_url = _HOST
        self.method = method.lower()
        self.path = path
        self.path_pattern = None
        self.content_type = "application/json"
        self.body = b"" if body is MISSING else json.dumps(body).encode()
        self.parameters = RequestParameters(
            path={},
            query=ImmutableMultiDict([(k, v) for k, values in query.items() for v in values]),
            header=Headers(headers),
            cookie=ImmutableMultiDict(),
        )


class ReferenceValidator:
    def __init__(self, spec: Spec) -> None:
        document = dict(spec.document)
        document["servers"] = [{"url": _HOST}]
        self._api = OpenAPI.from_dict(document)

    def error(
        self, method: str, path: str, query: Mapping[str, list[str]], body: Any, headers: dict[str, str]
    ) -> str | None:
        """openapi-core's verdict: None when valid, else its message (with the first schema error)."""
        try:
            self._api.validate_request(_Request(method, path, query, body, headers))
        except Exception as exc:
            detail = exc.__cause__
            causes = getattr(detail, "schema_errors", None) or ()
            first = next(iter(causes), None)
            suffix = f": {getattr(first, 'message', '')}" if first is not None else ""
            return f"{exc}{suffix}"
        return None

    def validate(
        self,
        operation: Operation,
        path: str,
        query: Mapping[str, list[str]],
        body: Any,
        headers: dict[str, str],
    ) -> None:
        message = self.error(operation.method, path, query, body, headers)
        if message is not None:
            raise BadRequest(message)
