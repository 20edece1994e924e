"""mockserver: a contract-testing mock of the Algolia Ingestion API, driven by its OpenAPI spec.

The public names load on first use, so ``import mockserver`` (and the pytest plugin it registers)
stays cheap for suites that never start a mock.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .clock import Clock
    from .control import MockControl
    from .engine import Answer, ApiRequest, Engine
    from .errors import ApiError, ResponseContractError
    from .handle import IngestionMock
    from .http.app import MockApp, create_app
    from .journal import Call, Journal
    from .server import LiveServer
    from .settings import MockSettings
    from .spec import Spec, load_spec
    from .store import Account, RunPolicy, Store

_PUBLIC = {
    "Account": "store",
    "Answer": "engine",
    "ApiError": "errors",
    "ApiRequest": "engine",
    "Call": "journal",
    "Clock": "clock",
    "Engine": "engine",
    "IngestionMock": "handle",
    "Journal": "journal",
    "LiveServer": "server",
    "MockApp": "http.app",
    "MockControl": "control",
    "MockSettings": "settings",
    "ResponseContractError": "errors",
    "RunPolicy": "store",
    "Spec": "spec",
    "Store": "store",
    "create_app": "http.app",
    "load_spec": "spec",
}

__all__ = [
    "Account",
    "Answer",
    "ApiError",
    "ApiRequest",
    "Call",
    "Clock",
    "Engine",
    "IngestionMock",
    "Journal",
    "LiveServer",
    "MockApp",
    "MockControl",
    "MockSettings",
    "ResponseContractError",
    "RunPolicy",
    "Spec",
    "Store",
    "create_app",
    "load_spec",
]


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'mockserver' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
