"""An editor composes this week's ticker from the demo content, previews it, sends a test
and reads it in the mail catcher."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from newsticker.demo import load_demo
from tests.e2e.conftest import axe_violations, login

pytestmark = pytest.mark.e2e


def test_compose_preview_and_test_send_the_ticker(page, live_server, editor):
    settings = live_server.app.config["NEWSTICKER_SETTINGS"]
    live_server.run(lambda s: load_demo(s, settings))
    login(page, live_server, *editor)

    page.get_by_role("link", name="Ausgaben").first.click()
    expect(page.get_by_role("heading", name="Ausgaben", level=1)).to_be_visible()
    page.get_by_role(
        "link", name=re.compile(r"Am Entwurf von Ausgabe \d+ weiterarbeiten")
    ).first.click()
    expect(page.get_by_role("heading", name=re.compile(r"^Ausgabe \d+$"))).to_be_visible()
    expect(page.locator("#size-meter")).to_be_visible()

    # Subject and editorial.
    page.get_by_role("textbox", name="Betreff").fill("Newsticker: Sprachcafé, MiMi und Ehrenamt")
    page.get_by_role("textbox", name="Editorial").fill(
        "Liebe Engagierte,\n\ndiese Woche ist **viel los**."
    )
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_text("Die Ausgabe ist gespeichert.")).to_be_visible()

    # Reorder with the buttons (no JavaScript needed), then drop one entry.
    events = page.locator("ol.entries[data-section='events'] > li")
    first = events.nth(0).locator("strong").inner_text()
    second = events.nth(1).locator("strong").inner_text()
    events.nth(0).get_by_role("button", name="Nach unten").click()
    expect(page.get_by_text("Die Reihenfolge ist gespeichert.")).to_be_visible()
    expect(events.nth(0).locator("strong")).to_have_text(second)
    expect(events.nth(1).locator("strong")).to_have_text(first)
    calls = page.locator("ol.entries[data-section='calls'] > li")
    removed = calls.nth(0).locator("strong").inner_text()
    calls.nth(0).get_by_role("button", name=re.compile("entfernen")).click()
    expect(page.get_by_text(f"„{removed}“ ist aus der Ausgabe entfernt.")).to_be_visible()

    # Drag and drop is an enhancement on top of the buttons: the script announces the
    # saved order in its status region once the server accepted it.
    events.nth(1).drag_to(events.nth(0))
    expect(page.locator("#reorder-status")).not_to_be_empty()
    page.reload()
    expect(events.nth(0).locator("strong")).to_have_text(first)

    # Preview at phone and desktop width, and as text.
    page.get_by_role("link", name="Vorschau auf dem Handy, am Desktop und als Text").click()
    expect(page.get_by_role("heading", name="Vorschau", level=1)).to_be_visible()
    for width in (375, 600):
        frame_element = page.locator(f"iframe.preview-{width}")
        box = frame_element.bounding_box()
        assert abs(box["width"] - (width + 2)) <= 2
        frame = page.frame_locator(f"iframe.preview-{width}")
        expect(
            frame.get_by_role("heading", name="Newsticker Engagement & Zusammenleben")
        ).to_be_visible()
        expect(frame.get_by_text("viel los").first).to_be_visible()
    text = page.locator("pre.mail-text").inner_text()
    assert "VERANSTALTUNGEN" in text and "diese Woche ist viel los." in text

    # Test send to the editor, through the normal transport.
    back = page.get_by_role("link", name="Zurück zur Ausgabe, um einen Test zu senden")
    back.scroll_into_view_if_needed()
    back.click()
    page.wait_for_url(re.compile(r"/redaktion/ausgaben/\d+#test$"))
    page.locator("#addresses").fill("redaktion@example.org")
    page.get_by_role("button", name="Test senden").click()
    # One test mail per language the issue goes out in: here only German.
    expect(
        page.get_by_text("Die Testmail ist unterwegs an redaktion@example.org (de).")
    ).to_be_visible()

    caught = [m for m in live_server.mails() if m.subject.startswith("[TEST]")]
    assert len(caught) == 1
    mail = caught[0]
    assert mail.subject == "[TEST] Newsticker: Sprachcafé, MiMi und Ehrenamt"
    assert "redaktion@example.org" in mail.to
    assert removed not in mail.body("plain")
    assert "viel los" in mail.body("html")

    # And read it in the outbox, as the catcher received it.
    page.goto(f"{live_server.url}/redaktion/postausgang")
    page.get_by_role("link", name=mail.subject).click()
    frame = page.frame_locator("iframe.mail-preview")
    expect(frame.get_by_text("viel los").first).to_be_visible()
    # Persian and Arabic read right to left.
    expect(frame.locator("[dir='rtl']").first).to_be_visible()


@pytest.fixture
def bypass_csp_page(browser):
    """A page that may run axe inside the archive's sandboxed issue pages."""
    context = browser.new_context(locale="de-DE", bypass_csp=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_archive_and_composer_meet_wcag(page, bypass_csp_page, live_server, editor):
    settings = live_server.app.config["NEWSTICKER_SETTINGS"]
    live_server.run(lambda s: load_demo(s, settings))

    # The public archive: the list, a publication, and last week's issue as sent.
    page.goto(f"{live_server.url}/archiv")
    expect(page.get_by_role("heading", name="Archiv", level=1)).to_be_visible()
    expect(page.locator("link[rel='alternate'][type='application/atom+xml']")).to_have_count(2)
    assert axe_violations(page) == []
    page.get_by_role("link", name="Newsticker: Sprachcafé und neue Sprechzeiten").click()
    expect(
        page.get_by_role("heading", name="Newsticker Engagement & Zusammenleben")
    ).to_be_visible()
    expect(page.get_by_role("link", name="Abmelden")).to_have_count(0)
    bypass_csp_page.goto(page.url)
    assert axe_violations(bypass_csp_page) == []

    # The composer and its preview.
    login(page, live_server, *editor)
    page.goto(f"{live_server.url}/redaktion/ausgaben")
    assert axe_violations(page) == []
    page.get_by_role(
        "link", name=re.compile(r"Am Entwurf von Ausgabe \d+ weiterarbeiten")
    ).last.click()
    expect(page.get_by_role("heading", name="Zahlen, Daten, Fakten")).to_be_visible()
    assert axe_violations(page) == []
    page.get_by_role("link", name="Vorschau auf dem Handy, am Desktop und als Text").click()
    assert axe_violations(page) == []
