"""An editor logs in, switches the interface to English and reads a caught mail."""

import pytest
from playwright.sync_api import expect

from newsticker.core.mail import SmtpTransport, build_message
from tests.e2e.conftest import login

pytestmark = pytest.mark.e2e


def test_login_switch_to_english_open_outbox(page, live_server, editor):
    # A mail the system sent earlier, caught on loopback.
    settings = live_server.app.config["NEWSTICKER_SETTINGS"]
    SmtpTransport(settings.smtp).send(
        build_message(
            sender=settings.mail.sender,
            to="volunteer@example.org",
            subject="Ihre Einreichung ist eingegangen",
            text="Danke!",
            html="<p>Danke!</p>",
        )
    )
    login(page, live_server, *editor)
    expect(page.get_by_role("heading", name="Redaktion")).to_be_visible()

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Editor area")).to_be_visible()

    page.get_by_role("link", name="Outbox").first.click()
    expect(page.get_by_role("heading", name="Outbox")).to_be_visible()
    page.get_by_role("link", name="Ihre Einreichung ist eingegangen").click()
    expect(page.get_by_text("volunteer@example.org").first).to_be_visible()
    expect(page.get_by_text("Danke!").first).to_be_visible()  # the text part
    frame = page.frame_locator("iframe.mail-preview")
    expect(frame.get_by_text("Danke!")).to_be_visible()

    # The choice is remembered on the next page, and logging out works.
    page.goto(f"{live_server.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(f"{live_server.url}/redaktion/")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Editor login")).to_be_visible()


def test_wrong_password_shows_the_error_summary(page, live_server, editor):
    login(page, live_server, editor[0], "wrong password, sorry")
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("E-Mail-Adresse oder Passwort ist nicht korrekt.")
    # Focus moves to the summary so screen readers announce it.
    expect(summary).to_be_focused()
