"""An editor logs in, switches the interface to English and reads a caught mail."""

import pytest

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
    assert page.get_by_role("heading", name="Redaktion").is_visible()

    page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Editor area").is_visible()

    page.get_by_role("link", name="Outbox").first.click()
    assert page.get_by_role("heading", name="Outbox").is_visible()
    page.get_by_role("link", name="Ihre Einreichung ist eingegangen").click()
    assert page.get_by_text("volunteer@example.org").first.is_visible()
    assert page.get_by_text("Danke!").first.is_visible()  # the text part
    frame = page.frame_locator("iframe.mail-preview")
    assert frame.get_by_text("Danke!").is_visible()

    # The choice is remembered on the next page, and logging out works.
    page.goto(f"{live_server.url}/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(f"{live_server.url}/redaktion/")
    page.get_by_role("button", name="Log out").click()
    assert page.get_by_role("heading", name="Editor login").is_visible()


def test_wrong_password_shows_the_error_summary(page, live_server, editor):
    login(page, live_server, editor[0], "wrong password, sorry")
    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert "E-Mail-Adresse oder Passwort ist nicht korrekt." in summary.inner_text()
    # Focus moves to the summary so screen readers announce it.
    assert page.evaluate("document.activeElement.id") == "error-summary"
