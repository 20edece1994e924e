"""mockserver: a contract-testing mock of the Algolia Ingestion API, driven by its OpenAPI spec."""

from __future__ import annotations

from .app import MockApp, MockConfig, create_app
from .clock import Clock
from .errors import ApiError, ResponseContractError
from .spec import Spec, load_spec
from .store import Account, Store

__all__ = [
    "Account",
    "ApiError",
    "Clock",
    "MockApp",
    "MockConfig",
    "ResponseContractError",
    "Spec",
    "Store",
    "create_app",
    "load_spec",
]
