"""A volunteer translator in the loop: asked by an editor, answers through the mailed link."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from newsticker.core.audit import AuditEvent
from tests.e2e.conftest import axe_violations, login
from tests.factories import make_item, today

pytestmark = pytest.mark.e2e

LINK = re.compile(r"http://127\.0\.0\.1:\d+/uebersetzen/[A-Za-z0-9_-]+")
TITLE_AR = "فطور متعدد الثقافات"
SUMMARY_AR = "نفطر معاً ونتعرف على الجيران."


def test_editor_asks_translator_answers_editor_publishes(browser, page, live_server, editor):
    item_id = live_server.run(lambda s: make_item(s, title="Interkulturelles Frühstück").id)
    login(page, live_server, *editor)

    # The translators are kept in the moderation area.
    page.get_by_role("navigation", name="Redaktion").get_by_role(
        "link", name="Einreichungen"
    ).click()
    page.get_by_role("link", name="Übersetzende und Übersetzungsanfragen").click()
    page.get_by_role("link", name="Übersetzende Person hinzufügen").click()
    page.get_by_label("Name").fill("Amal Haddad")
    page.get_by_label("E-Mail-Adresse").fill("amal@example.org")
    page.get_by_label("Arabisch (العربية)").check()
    page.get_by_role("radio", name="English").check()
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_text("„Amal Haddad“ ist gespeichert.")).to_be_visible()

    # On the item's page: ask for a translation into Arabic, due in a week.
    page.goto(f"{live_server.url}/redaktion/einreichungen/{item_id}")
    page.get_by_role("link", name="Übersetzung anfragen").click()
    page.get_by_label("Sprache und übersetzende Person").select_option(label="Amal Haddad")
    page.get_by_label("Gewünscht bis").fill((today() + timedelta(days=7)).isoformat())
    page.get_by_label("Notiz für die übersetzende Person").fill("Danke dir!")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Anfrage senden").click()
    expect(
        page.get_by_text("Die Anfrage ist per Mail an die übersetzende Person gegangen.")
    ).to_be_visible()
    expect(page.get_by_role("cell", name="Wartet auf die Übersetzung")).to_be_visible()

    # The mail, in English as she chose, carries her private link.
    mail = live_server.mails()[0]
    assert mail.to == "amal@example.org"
    assert mail.subject == "Could you translate “Interkulturelles Frühstück” into Arabic (العربية)?"
    link = LINK.search(mail.body("plain")).group(0)

    # The translator has no account: a fresh browser, the link, the original, RTL fields.
    context = browser.new_context(viewport={"width": 375, "height": 800}, locale="de-DE")
    translator = context.new_page()
    translator.goto(link)
    expect(translator.locator("html")).to_have_attribute("lang", "en")
    expect(
        translator.get_by_role("heading", name="Translation into Arabic (العربية)", exact=True)
    ).to_be_visible()
    expect(translator.get_by_text("Interkulturelles Frühstück")).to_be_visible()
    expect(translator.get_by_label("Title")).to_have_attribute("dir", "rtl")
    assert axe_violations(translator) == []

    # An empty version is refused with a message and nothing is stored.
    translator.get_by_role("button", name="Send the translation").click()
    expect(translator.locator("#error-summary")).to_contain_text("Please enter a title.")

    translator.get_by_label("Title").fill(TITLE_AR)
    translator.get_by_label("Short description").fill(SUMMARY_AR)
    translator.get_by_role("button", name="Send the translation").click()
    expect(translator.get_by_role("heading", name="Thank you!")).to_be_visible()
    # The link works once.
    reused = translator.goto(link)
    assert reused.status == 410
    expect(
        translator.get_by_text("Thank you, this translation has already been sent")
    ).to_be_visible()
    context.close()

    # The dashboard lists it for review; the editor publishes it beside the original.
    page.goto(f"{live_server.url}/redaktion/")
    section = page.locator("section.dash-translations")
    expect(section).to_contain_text("Übersetzung zu prüfen")
    section.get_by_role("link", name="Interkulturelles Frühstück").click()
    expect(page.get_by_text(TITLE_AR)).to_be_visible()
    page.get_by_role("button", name="Übersetzung freigeben und veröffentlichen").click()
    expect(page.get_by_text("Die Übersetzung ist veröffentlicht.")).to_be_visible()
    expect(page.get_by_text("Veröffentlicht", exact=False).first).to_be_visible()

    # The public page shows the Arabic version, marked right to left.
    page.goto(f"{live_server.url}/angebote/{item_id}?sprache=ar")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(TITLE_AR)
    expect(heading).to_have_attribute("dir", "rtl")

    trail = live_server.run(
        lambda s: [
            e.action
            for e in s.scalars(
                select(AuditEvent)
                .where(AuditEvent.action.startswith("translation."))
                .order_by(AuditEvent.id)
            )
        ]
    )
    assert trail == ["translation.requested", "translation.submitted", "translation.published"]
