"""A real headless Chromium (Debian's, driven by Playwright) against a live mock.

These tests never skip: without the browser they fail and say how to install it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from playwright.sync_api import Browser, Page, Playwright, ViewportSize, sync_playwright

from mockserver import MockApp, create_app
from mockserver.http.live_server import LiveServer
from tests.conftest import CREDENTIALS

# Debian's Chromium; MOCKSERVER_CHROMIUM names another build.
CHROMIUM = os.environ.get("MOCKSERVER_CHROMIUM", "/usr/bin/chromium")
# Headless, as root, on a machine with no network beyond loopback: nothing may call out.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDE: ViewportSize = {"width": 1280, "height": 900}
DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(
            f"the browser tests need Chromium at {CHROMIUM} and found none: "
            "install it with `apt-get install -y chromium` (Debian), or set MOCKSERVER_CHROMIUM",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture
def screenshots(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """Where a test saves its screenshots: a temporary folder, so that a run leaves the tree as it
    was; docs/ (README shows docs/inspector.png) with ``--update-screenshots``. Each one saved must
    be a PNG."""
    folder = DOCS if request.config.getoption("--update-screenshots") else tmp_path
    before = {path: path.stat().st_mtime_ns for path in folder.glob("*.png")}
    yield folder
    saved = [path for path in folder.glob("*.png") if before.get(path) != path.stat().st_mtime_ns]
    assert saved, f"the test saved no screenshot in {folder}"
    for path in saved:
        assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), f"{path} is not a PNG"


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Module-scoped: Playwright's sync API keeps an event loop running in this thread while it is
    open, which would break every later test of the session that runs a loop of its own."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright, chromium_path: str) -> Iterator[Browser]:
    # Playwright gives every launch a new, empty profile directory of its own.
    launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def mock_app() -> MockApp:
    return create_app(check_responses=True)


@pytest.fixture(scope="module")
def server(mock_app: MockApp) -> Iterator[LiveServer]:
    with LiveServer(mock_app) as live:
        yield live


class Mock:
    """The live mock as a test drives it: Ingestion API calls (with credentials) and control calls."""

    def __init__(self, server: LiveServer) -> None:
        self.url = server.url
        self.http = httpx2.Client(base_url=server.url, headers=CREDENTIALS)

    def api(self, method: str, path: str, **kwargs: Any) -> httpx2.Response:
        return self.http.request(method, path, **kwargs)

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, "/__mock__" + path, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def page_url(self, app_id: str) -> str:
        return f"{self.url}/__mock__/ui?appID={app_id}"


@pytest.fixture
def mock(server: LiveServer) -> Iterator[Mock]:
    """The module's live mock, reset to nothing (journal, clock and faults included)."""
    driver = Mock(server)
    driver.control("POST", "/reset?scope=all", json={})  # server-wide: the journal too
    yield driver
    driver.http.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=WIDE)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    # A refused fetch is logged by Chromium itself ("Failed to load resource"); the page reports those.
    tab.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None
        ),
    )
    yield tab
    context.close()
    assert not errors, f"the page reported errors: {errors}"
