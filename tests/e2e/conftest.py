"""Browser fixtures: a live server with its own database and mail catcher, and Chromium.

The server runs in a thread of the test process on a free loopback port; its database
commits for real (a fresh SQLite file, or a separate PostgreSQL database), so the
browser sees what a user would.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import expect
from werkzeug.serving import make_server

from newsticker import create_app
from newsticker.core.catcher import CaughtMail, MailCatcher, read_caught
from newsticker.core.unit_of_work import app_unit_of_work
from tests.conftest import free_port, fresh_database, make_settings, unavailable

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
EDITOR_EMAIL = "redaktion@example.org"
EDITOR_PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.e2e

# Assertions wait as long as actions do (a busy machine renders slowly), not 5 s.
expect.set_options(timeout=15_000)


@dataclass
class LiveServer:
    """A running app: its URL, the app object and its mail catcher."""

    url: str
    app: Flask
    catcher: MailCatcher

    def mails(self) -> list[CaughtMail]:
        """Return the caught mails, newest first."""
        return read_caught(self.catcher.maildir)

    def run(self, func: Any) -> Any:
        """Run func(session) in one committed transaction of the server's app."""
        with app_unit_of_work(self.app) as session:
            return func(session)

    def run_in_request(self, func: Any) -> Any:
        """Run func(session) as run() does, inside a request for the site's base URL.

        For code that builds links with url_for, such as tests.security.world.build_world.
        """
        with (
            app_unit_of_work(self.app) as session,
            self.app.test_request_context(base_url=self.url),
        ):
            return func(session)


@pytest.fixture
def live_settings_overrides() -> dict[str, Any]:
    """Override the live server's settings by redefining this fixture."""
    return {}


@pytest.fixture
def live_port() -> int:
    """Return the live server's port (known before it starts, e.g. to an OpenID provider)."""
    return free_port()


@pytest.fixture
def live_server(
    tmp_path: Path, live_settings_overrides: dict[str, Any], live_port: int
) -> Iterator[LiveServer]:
    """Start the app on a free port with a fresh database and a mail catcher."""
    url = fresh_database(tmp_path)
    catcher = MailCatcher(tmp_path / "catcher", "127.0.0.1", free_port()).start()
    port = live_port
    overrides = {
        "site.base_url": f"http://127.0.0.1:{port}",
        "smtp.port": catcher.port,
        "catcher.maildir": str(catcher.maildir),
        "rate_limits.min_fill_seconds": 0,
        **live_settings_overrides,
    }
    settings = make_settings(url, tmp_path / "instance", **overrides)
    app = create_app(settings)
    app.config["SEND_MAIL_SYNC"] = True
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{port}", app=app, catcher=catcher)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        catcher.stop()
        app.extensions["newsticker_db"].engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Launch Debian's Chromium through Playwright once per run."""
    if not shutil.which("chromium") and not Path(CHROMIUM).exists():
        unavailable(
            "Debian's chromium is not installed (bash .ci/test installs it as root)",
            required_by="NEWSTICKER_REQUIRE_BROWSER",
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def viewport() -> dict[str, int]:
    """Return the viewport size; redefine or parametrize for phones."""
    return {"width": 1280, "height": 900}


@pytest.fixture
def page(browser: Any, viewport: dict[str, int]) -> Iterator[Any]:
    """Open a fresh browser context and page (no cookies, German browser)."""
    context = browser.new_context(viewport=viewport, locale="de-DE")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def editor(live_server: LiveServer) -> tuple[str, str]:
    """Create an admin account on the live server; return its address and password."""
    from newsticker.auth.services import create_user

    live_server.run(lambda s: create_user(s, EDITOR_EMAIL, EDITOR_PASSWORD, role="admin"))
    return EDITOR_EMAIL, EDITOR_PASSWORD


def login(page: Any, live_server: LiveServer, email: str, password: str) -> None:
    """Log in through the login form."""
    page.goto(f"{live_server.url}/redaktion/login")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("button", name="Anmelden").click()


def axe_violations(page: Any) -> list[tuple[str, list[str]]]:
    """Return the WCAG 2.0/2.1 A and AA violations axe-core finds on the page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]})
    return [
        (violation["id"], [node["html"][:200] for node in violation["nodes"]])
        for violation in results.response["violations"]
    ]
