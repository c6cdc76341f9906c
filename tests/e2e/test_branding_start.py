"""The city's look in the browser and in a received mail; the start page, axe-clean.

The live server runs with a logo, a main colour and a name of its own; the start page
shows them at phone and desktop width, its sign-up form sends a confirmation mail
through the real SMTP catcher, and that mail, opened in the browser, carries the same
logo, colour and name.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from newsticker.demo import load_demo
from tests.e2e.conftest import axe_violations

pytestmark = pytest.mark.e2e

NAME = "Stadt Musterhausen"
COLOUR = "#7a1f2b"
RGB = "rgb(122, 31, 43)"
ADDRESS = "leserin@example.org"
SCREENSHOTS = Path("/tmp/newsticker-screenshots")


def _logo(path: Path) -> Path:
    image = Image.new("RGB", (120, 40), (255, 255, 255))
    for x in range(10, 110):
        for y in range(10, 30):
            image.putpixel((x, y), (122, 31, 43))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


@pytest.fixture
def live_settings_overrides(tmp_path: Path) -> dict[str, Any]:
    return {
        "site.name": NAME,
        "site.colour": COLOUR,
        "site.logo": str(_logo(tmp_path / "logo.png")),
        "site.logo_alt": "",
    }


def _logo_loaded(page: Any, selector: str) -> bool:
    return bool(page.eval_on_selector(selector, "img => img.complete && img.naturalWidth > 0"))


@pytest.mark.parametrize("width", [375, 1280])
def test_start_page_carries_the_branding_and_is_axe_clean(browser, live_server, width):
    live_server.run(lambda s: load_demo(s, live_server.app.config["NEWSTICKER_SETTINGS"]))
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="de-DE")
    page = context.new_page()
    try:
        response = page.goto(f"{live_server.url}/")
        assert response is not None and response.status == 200
        header = page.locator(".site-header")
        expect(header).to_have_css("background-color", RGB)
        expect(page.locator(".site-name")).to_contain_text(NAME)
        assert _logo_loaded(page, ".site-logo")
        expect(page.get_by_role("heading", name="Als Nächstes")).to_be_visible()
        expect(page.get_by_role("heading", name="Neueste Ausgaben")).to_be_visible()
        expect(page.get_by_role("button", name="Abonnieren")).to_be_visible()
        icon = page.eval_on_selector('link[rel="icon"]', "link => link.href")
        assert page.request.get(icon).headers["content-type"].startswith("image/svg+xml")
        # Nothing wider than the screen on a phone (WCAG 1.4.10 reflow).
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"start-{width}.png"), full_page=True)
        assert axe_violations(page) == []
    finally:
        context.close()


def test_a_mail_received_through_the_catcher_carries_the_branding(page, live_server):
    page.goto(f"{live_server.url}/")
    page.get_by_label("E-Mail-Adresse").fill(ADDRESS)
    page.get_by_label("Newsticker Engagement & Zusammenleben").check()
    page.get_by_role("button", name="Abonnieren").click()
    expect(page.get_by_role("heading", name="Fast geschafft")).to_be_visible()

    (mail,) = live_server.mails()
    assert mail.to == ADDRESS
    html = mail.body("html")
    assert html is not None
    assert f'src="{live_server.url}/logo"' in html
    assert re.search(r"background:\s*#7a1f2b", html)
    assert NAME in html and NAME in (mail.body("plain") or "")

    # Opened as a mail program would show it: a page of its own (without the site's CSP),
    # which loads the logo from the site. It is served under the site's address because
    # Chromium keeps pages from elsewhere away from a loopback server.
    mail_page = f"{live_server.url}/caught-mail.html"
    page.route(
        mail_page,
        lambda route: route.fulfill(status=200, content_type="text/html", body=html),
    )
    page.goto(mail_page)
    masthead = page.locator(".masthead")
    expect(masthead).to_have_css("background-color", RGB)
    expect(masthead).to_contain_text(NAME)
    page.wait_for_function("document.querySelector('.masthead img').complete")
    assert _logo_loaded(page, ".masthead img")
