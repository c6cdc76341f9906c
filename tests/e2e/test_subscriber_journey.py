"""A reader subscribes, confirms, sets preferences and unsubscribes in one click; the admin
prints the proof of consent."""

import re

import pytest

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
    assert page.get_by_role("heading", name="Fast geschafft").is_visible()

    # The confirmation mail arrives in the catcher.
    (mail,) = live_server.mails()
    assert mail.to == ADDRESS
    assert mail.subject == "Bitte bestätigen Sie Ihr Abonnement"
    link = CONFIRM_LINK.search(mail.body("plain")).group(0)

    # Opening the link changes nothing; the button confirms.
    page.goto(link)
    assert page.get_by_role("heading", name="Abonnement bestätigen").is_visible()
    page.get_by_role("button", name="Abonnement bestätigen").click()
    assert page.get_by_role("heading", name="Ihr Abonnement ist bestätigt").is_visible()

    # Preferences: add the newsletter, switch the mails to English.
    page.get_by_role("link", name="Meine Einstellungen öffnen").click()
    assert page.get_by_role("heading", name="Ihre Einstellungen").is_visible()
    assert axe_violations(page) == []
    assert page.get_by_label("Newsticker Engagement & Zusammenleben").is_checked()
    page.get_by_label("Integration in Flensburg").check()
    page.get_by_label("English").check()
    page.get_by_role("button", name="Einstellungen speichern").click()
    assert page.get_by_text("Ihre Einstellungen wurden gespeichert.").is_visible()
    assert page.get_by_label("Integration in Flensburg").is_checked()

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
    assert page.get_by_role("heading", name="Sie sind nicht angemeldet").is_visible()

    # The admin finds the address and prints the proof of consent.
    login(page, live_server, *editor)
    page.goto(f"{live_server.url}/redaktion/abonnenten")
    page.get_by_label("Adresse oder Name suchen").fill("leserin")
    page.get_by_role("button", name="Suchen").click()
    page.get_by_role("link", name=ADDRESS).click()
    page.get_by_role("link", name="Einwilligungsnachweis (druckbar)").click()
    assert page.get_by_role("heading", name="Einwilligungsnachweis").is_visible()
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
    assert not page.locator(".site-header nav").is_visible()
    assert page.locator("table.subs-log").is_visible()
