"""The HTTP face of the engine (a Starlette app)."""

from __future__ import annotations

from .app import MockApp, create_app

__all__ = ["MockApp", "create_app"]
