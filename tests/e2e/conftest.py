"""Browser fixtures: the app on a real server thread, and Debian's Chromium driven by pytest-playwright.

pytest-playwright gives `browser` (one Chromium per run), `context` and `page`
(fresh cookies per test); the two fixtures below point it at Debian's
Chromium with the flags this machine needs.
"""
from __future__ import annotations

import shutil
import threading
from typing import Any, Iterator

import pytest
from werkzeug.serving import make_server

from tests.conftest import service_unavailable

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--lang=nl"]  # Chromium's own date and time fields in Dutch, as on the office's computers


@pytest.fixture
def live_url(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright launches Debian's Chromium (Playwright's own browser download is not used)."""
    if not shutil.which("chromium"):
        service_unavailable("Debian's chromium (make test installs it)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """Each test's page: its own cookies, a laptop-sized window, a Dutch browser."""
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}, "locale": "nl-NL"}
