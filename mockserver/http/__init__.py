"""The transport: the ASGI face, wire helpers, in-process client, live test server, connection hygiene."""

from __future__ import annotations

from mockserver.http.app import MockApp, create_app

__all__ = ["MockApp", "create_app"]
