"""A live server on a temporary SQLite file, and headless Chromium to drive it.

The server runs the real bank with real CSRF, in a thread on 127.0.0.1; every test
opens its own browser context, so it starts as a fresh anonymous learner.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from quizapp.extensions import db
from tests.conftest import BANK_CONTENT, load_content, make_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
MOBILE: ViewportSize = {"width": 360, "height": 740}

OpenPage = Callable[..., Page]


class ErrorsOnlyHandler(WSGIRequestHandler):
    """Log only failed requests, so a failing test shows them and nothing else."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if str(code)[:1] in "45" and getattr(self, "path", "") != "/favicon.ico":
            super().log_request(code, size)


@contextmanager
def serve(content_dir: Path, folder: Path) -> Iterator[str]:
    """Serve `content_dir` on a SQLite file in `folder`; yield the base URL."""
    database = folder / "browser.sqlite"
    app = make_app(
        content_dir,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{database}",
        # A file database takes the default pool: each server thread its connection.
        SQLALCHEMY_ENGINE_OPTIONS={},
        WTF_CSRF_ENABLED=True,
    )
    load_content(app, content_dir)
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=ErrorsOnlyHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app with the real bank, served over HTTP; yields its base URL."""
    with serve(BANK_CONTENT, tmp_path_factory.mktemp("browser")) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless; skipped only outside CI when it is missing."""
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {CHROMIUM} is missing: install chromium.")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def open_page(browser: Browser, live_server: str) -> Iterator[OpenPage]:
    """Open a page in a new context (fresh cookies) at a viewport, JS on or off."""
    contexts = []

    def open_(viewport: ViewportSize = DESKTOP, *, javascript: bool = True) -> Page:
        context = browser.new_context(
            base_url=live_server,
            viewport=viewport,
            java_script_enabled=javascript,
            reduced_motion="reduce",
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()
