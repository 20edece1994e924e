"""Fixtures shared by the HTTP tests of the pipeline (tasks, runs, pushes, source actions)."""

from __future__ import annotations

import pytest

from mockserver import Clock, MockApp
from mockserver.engine.store import Account
from tests.conftest import APP_ID
from tests.helpers import T0


@pytest.fixture
def account(app: MockApp) -> Account:
    """The test application's data."""
    return app.store.account(APP_ID)


@pytest.fixture
def clock(app: MockApp) -> Clock:
    """The mock's clock, frozen at T0."""
    app.store.clock.freeze(T0)
    return app.store.clock
