"""openapi-core, the reference for what a valid request is.

Slow (it resolves references on every call), so the app's hot path uses the compiled validators
of ``validation.py``; this module lets the app run on openapi-core instead
(``create_app(validation="openapi-core")``) and lets the test suite check both agree.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from mockserver.engine.errors import BadRequest
from mockserver.engine.validation import MISSING, describe_error, untangle
from mockserver.spec import Operation, Spec

_HOST = "https://data.us.algolia.com"


class _Request:
    """The request protocol openapi-core reads."""

    def __init__(
        self, method: str, path: str, query: Mapping[str, list[str]], body: Any, headers: Mapping[str, str]
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
            header=Headers(dict(headers)),
            cookie=ImmutableMultiDict(),
        )


class ReferenceValidator:
    def __init__(self, spec: Spec) -> None:
        document = dict(spec.document)
        document["servers"] = [{"url": _HOST}]
        self._api = OpenAPI.from_dict(document)

    @staticmethod
    def of(spec: Spec) -> ReferenceValidator:
        """The validator of ``spec``, built once per spec object and process (2.5 s of CPU each) and
        shared by the mocks built on it: it holds nothing of a mock, only the spec's model."""
        return _built(spec)

    def error(
        self, method: str, path: str, query: Mapping[str, list[str]], body: Any, headers: Mapping[str, str]
    ) -> str | None:
        """openapi-core's verdict: None when valid, else its message (with the first schema error)."""
        try:
            self._api.validate_request(_Request(method, path, query, body, headers))
        except Exception as exc:
            # Name the field and the rule, never the values: openapi-core's own text repeats the
            # whole request body, secrets included.
            detail = exc.__cause__
            causes = list(getattr(detail, "schema_errors", None) or getattr(exc, "schema_errors", None) or ())
            try:
                if causes:
                    from jsonschema.exceptions import best_match

                    where = "body" if "body" in type(exc).__name__.lower() else "request"
                    return describe_error(best_match(causes), where, {}, hide_values=True)
                return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
            finally:
                # The errors link to one another and to their tracebacks: left so, they would hold
                # the refused body until the next full garbage collection.
                untangle(causes)
                exc.__cause__ = exc.__context__ = None
                exc.__traceback__ = None
        return None

    def validate(
        self,
        operation: Operation,
        path: str,
        query: Mapping[str, list[str]],
        body: Any,
        headers: Mapping[str, str],
    ) -> None:
        message = self.error(operation.method, path, query, body, headers)
        if message is not None:
            raise BadRequest(message)


@functools.lru_cache(maxsize=4)
def _built(spec: Spec) -> ReferenceValidator:
    return ReferenceValidator(spec)
