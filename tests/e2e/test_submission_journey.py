"""A volunteer submits on a phone, edits via the private link; an editor approves; the public finds it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from newsticker.core.db import utcnow
from tests.e2e.conftest import axe_violations, login

pytestmark = pytest.mark.e2e


@pytest.fixture
def viewport() -> dict[str, int]:
    """A phone."""
    return {"width": 375, "height": 812}


def no_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_submission_journey(page, live_server, editor):
    day = (utcnow() + timedelta(days=12)).date()

    # 1. Submit on a 375 px wide phone.
    page.goto(f"{live_server.url}/einreichen")
    assert no_horizontal_scroll(page)
    page.get_by_label("Titel", exact=True).fill("Nachbarschaftsfrühstück Fruerlund")
    page.get_by_label("Kurzbeschreibung").fill("Gemeinsam frühstücken und Nachbarn kennenlernen.")
    page.get_by_label("Begegnung").check()
    page.get_by_label("Datum", exact=True).fill(day.isoformat())
    page.get_by_label("Beginn (Uhrzeit)").fill("09:30")
    page.get_by_label("Ende (Uhrzeit)").fill("11:30")
    page.get_by_label("Ort", exact=True).fill("Stadtteiltreff Fruerlund")
    page.get_by_label("Veranstalter").fill("Nachbarschaftsverein Fruerlund")
    page.get_by_label("Ihre E-Mail-Adresse").fill("nachbarin@example.org")
    page.get_by_label("Ich bin einverstanden").check()
    page.get_by_role("button", name="Zur Prüfung senden").click()
    page.get_by_role("heading", name="Vielen Dank!").wait_for()
    assert "nachbarin@example.org" in page.content()
    assert no_horizontal_scroll(page)

    # 2. Read the receipt in the mail catcher.
    (receipt,) = live_server.mails()
    assert receipt.to == "nachbarin@example.org"
    assert "Nachbarschaftsfrühstück Fruerlund" in receipt.subject
    link = re.search(r"http://127\.0\.0\.1:\d+/einreichung/[A-Za-z0-9_-]+", receipt.body("plain"))
    assert link

    # 3. Edit through the private link.
    page.goto(link.group(0))
    page.get_by_text("Wartet auf Prüfung.").wait_for()
    page.get_by_role("link", name="Einreichung ändern").click()
    page.get_by_label("Titel", exact=True).fill("Nachbarschaftsfrühstück in Fruerlund")
    page.get_by_role("button", name="Änderungen speichern").click()
    expect(page.get_by_text("Ihre Änderungen sind gespeichert.")).to_be_visible()
    expect(page.get_by_role("heading", name="Nachbarschaftsfrühstück in Fruerlund")).to_be_visible()

    # 4. An editor logs in and approves.
    login(page, live_server, *editor)
    page.goto(f"{live_server.url}/redaktion/einreichungen")
    page.get_by_role("link", name="Nachbarschaftsfrühstück in Fruerlund").click()
    page.get_by_role("button", name="Freigeben und veröffentlichen").click()
    page.get_by_text("ist veröffentlicht").wait_for()
    approval = live_server.mails()[0]
    assert approval.subject == "Veröffentlicht: Nachbarschaftsfrühstück in Fruerlund"

    # 5. The public page lists it, the iCal feed has it, the search finds it.
    page.goto(f"{live_server.url}/angebote")
    page.get_by_role("link", name="Nachbarschaftsfrühstück in Fruerlund").wait_for()
    assert no_horizontal_scroll(page)
    head = page.locator('link[rel="alternate"][type="text/calendar"]').first
    feed = page.request.get(head.get_attribute("href"))
    assert feed.ok and feed.headers["content-type"].startswith("text/calendar")
    assert "SUMMARY:Nachbarschaftsfrühstück in Fruerlund" in feed.text()
    expect(page.locator('link[rel="alternate"][type="application/atom+xml"]')).to_have_count(1)

    page.get_by_label("Suchbegriff").fill("fruehstueck")
    page.get_by_role("button", name="Suchen").click()
    page.get_by_role("link", name="Nachbarschaftsfrühstück in Fruerlund").wait_for()
    page.get_by_label("Suchbegriff").fill("Frühstück Fruerlund")
    page.get_by_role("button", name="Suchen").click()
    page.get_by_role("link", name="Nachbarschaftsfrühstück in Fruerlund").click()
    page.get_by_role("link", name="Zum Kalender hinzufügen (.ics)").wait_for()


def test_form_errors_on_a_phone_without_javascript(browser, live_server):
    context = browser.new_context(
        viewport={"width": 320, "height": 640}, locale="de-DE", java_script_enabled=False
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/einreichen")
        page.get_by_label("Titel", exact=True).fill("Nur ein Titel")
        page.get_by_role("button", name="Zur Prüfung senden").click()
        summary = page.locator("#error-summary")
        expect(summary).to_contain_text("Bitte beschreiben Sie")
        expect(page.get_by_label("Titel", exact=True)).to_have_value("Nur ein Titel")
        assert page.evaluate("document.documentElement.scrollWidth <= 321")
        assert live_server.mails() == []
    finally:
        context.close()


def test_item_pages_meet_wcag_on_a_phone(browser, live_server):
    from newsticker.demo import load_demo

    settings = live_server.app.config["NEWSTICKER_SETTINGS"]
    live_server.run(lambda s: load_demo(s, settings))
    context = browser.new_context(
        viewport={"width": 375, "height": 812}, locale="de-DE", bypass_csp=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/angebote")
        assert axe_violations(page) == []
        page.goto(f"{live_server.url}/angebote?q=Sprachcafe&bereich=education")
        assert axe_violations(page) == []
        page.get_by_role("link", name="Sprachcafé in der Stadtbibliothek").first.click()
        assert axe_violations(page) == []
        page.goto(f"{live_server.url}/einreichen")
        assert axe_violations(page) == []
        page.get_by_role("button", name="Zur Prüfung senden").click()
        page.locator("#error-summary").wait_for()
        assert axe_violations(page) == []
    finally:
        context.close()
