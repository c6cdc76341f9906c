"""A reader subscribes, confirms, sets preferences and unsubscribes in one click; the admin
prints the proof of consent."""

import re

import pytest
from playwright.sync_api import expect

from newsticker.core.site import site_keyring, site_links
from subscribers import services
from tests.e2e.conftest import axe_violations, login

pytestmark = pytest.mark.e2e

ADDRESS = "leserin@example.org"
CONFIRM_LINK = re.compile(r"https?://\S+/bestaetigen/[A-Za-z0-9_-]+")


def test_subscribe_confirm_preferences_one_click_unsubscribe_consent_log(
    page, browser, live_server, editor
):
    # Subscribe through the form, without JavaScript help.
    page.goto(f"{live_server.url}/abonnieren")
    assert axe_violations(page) == []
    page.get_by_label("E-Mail-Adresse").fill(ADDRESS)
    page.get_by_label("Name (freiwillig)").fill("Lea Leserin")
    page.get_by_label("Newsticker Engagement & Zusammenleben").check()
    page.get_by_role("button", name="Abonnieren").click()
    expect(page.get_by_role("heading", name="Fast geschafft")).to_be_visible()

    # The confirmation mail arrives in the catcher.
    (mail,) = live_server.mails()
    assert mail.to == ADDRESS
    assert mail.subject == "Bitte bestätigen Sie Ihr Abonnement"
    link = CONFIRM_LINK.search(mail.body("plain")).group(0)

    # Opening the link changes nothing; the button confirms.
    page.goto(link)
    expect(page.get_by_role("heading", name="Abonnement bestätigen")).to_be_visible()
    page.get_by_role("button", name="Abonnement bestätigen").click()
    expect(page.get_by_role("heading", name="Ihr Abonnement ist bestätigt")).to_be_visible()

    # Preferences: add the newsletter, switch the mails to English.
    page.get_by_role("link", name="Meine Einstellungen öffnen").click()
    expect(page.get_by_role("heading", name="Ihre Einstellungen")).to_be_visible()
    assert axe_violations(page) == []
    expect(page.get_by_label("Newsticker Engagement & Zusammenleben")).to_be_checked()
    page.get_by_label("Integration in Flensburg").check()
    page.get_by_label("English").check()
    page.get_by_role("button", name="Einstellungen speichern").click()
    expect(page.get_by_text("Ihre Einstellungen wurden gespeichert.")).to_be_visible()
    expect(page.get_by_label("Integration in Flensburg")).to_be_checked()

    # A mailbox provider unsubscribes with RFC 8058: POST, no cookie, no redirect.
    with live_server.app.test_request_context():
        ring = site_keyring()

    def find_id(session):
        return services.find_subscriber(session, ADDRESS).id

    subscriber_id = live_server.run(find_id)
    prefixes = services.LinkPrefixes.from_links(site_links(live_server.app))
    url = services.personal_links(ring, prefixes, subscriber_id, "ticker")["unsubscribe"]
    provider = browser.new_context()
    try:
        response = provider.request.post(
            url, form={"List-Unsubscribe": "One-Click"}, max_redirects=0
        )
        assert response.status == 200
        assert "location" not in response.headers
        assert "set-cookie" not in response.headers
    finally:
        provider.close()
    page.goto(url)
    expect(page.get_by_role("heading", name="Sie sind nicht angemeldet")).to_be_visible()

    # The admin finds the address and prints the proof of consent.
    login(page, live_server, *editor)
    page.goto(f"{live_server.url}/redaktion/abonnenten")
    page.get_by_label("Adresse oder Name suchen").fill("leserin")
    page.get_by_role("button", name="Suchen").click()
    page.get_by_role("link", name=ADDRESS).click()
    page.get_by_role("link", name="Einwilligungsnachweis (druckbar)").click()
    expect(page.get_by_role("heading", name="Einwilligungsnachweis")).to_be_visible()
    log = page.locator("table.subs-log").inner_text()
    for text in (
        "Abonnement angefordert",
        "Abonnement bestätigt",
        "In den Einstellungen abonniert",
        "Einwilligung widerrufen (abgemeldet)",
        "Abmeldung mit einem Klick im Mailprogramm (RFC 8058)",
        "127.0.0.1",
        "Fassung 2026-01",
        "@",  # the Message-ID of the confirmation mail
    ):
        assert text in log, text
    page.emulate_media(media="print")
    expect(page.locator(".site-header nav")).to_be_hidden()
    expect(page.locator("table.subs-log")).to_be_visible()
