"""mockserver: a contract-testing mock of the Algolia Ingestion API, driven by its OpenAPI spec.

The public names load on first use, so ``import mockserver`` (and the pytest plugin it registers)
stays cheap for suites that never start a mock.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockserver.control.mock_control import MockControl
    from mockserver.engine.clock import Clock
    from mockserver.engine.core import Answer, ApiRequest, Engine
    from mockserver.engine.errors import ApiError, ResponseContractError
    from mockserver.engine.journal import Call, Journal
    from mockserver.engine.store import Account, RunPolicy, Store
    from mockserver.factory import open_mock
    from mockserver.http.app import MockApp, create_app
    from mockserver.http.live_server import LiveServer
    from mockserver.pytest_plugin.clients import ClientFactory
    from mockserver.pytest_plugin.intercept import Interception
    from mockserver.pytest_plugin.mock_handle import IngestionMock
    from mockserver.settings import MockSettings
    from mockserver.spec import Spec, load_spec

_PUBLIC = {
    "Account": "engine.store",
    "Answer": "engine.core",
    "ApiError": "engine.errors",
    "ApiRequest": "engine.core",
    "Call": "engine.journal",
    "ClientFactory": "pytest_plugin.clients",
    "Clock": "engine.clock",
    "Engine": "engine.core",
    "IngestionMock": "pytest_plugin.mock_handle",
    "Interception": "pytest_plugin.intercept",
    "Journal": "engine.journal",
    "LiveServer": "http.live_server",
    "MockApp": "http.app",
    "MockControl": "control.mock_control",
    "MockSettings": "settings",
    "ResponseContractError": "engine.errors",
    "RunPolicy": "engine.store",
    "Spec": "spec",
    "Store": "engine.store",
    "create_app": "http.app",
    "load_spec": "spec",
    "open_mock": "factory",
}

__all__ = [
    "Account",
    "Answer",
    "ApiError",
    "ApiRequest",
    "Call",
    "ClientFactory",
    "Clock",
    "Engine",
    "IngestionMock",
    "Interception",
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
    "open_mock",
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
