"""A volunteer submits an event with an Arabic version on a phone; an editor approves both.

The extra language is a repeatable group: without JavaScript two groups are there; with
it, one shows and a button adds the next. After approval the Arabic visitor's link
shows the Arabic text right to left, and the search finds the event by an Arabic word.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from newsticker.core.db import utcnow
from tests.e2e.conftest import axe_violations, login

pytestmark = pytest.mark.e2e

TITLE = "Sprachcafé am Hafen"
ARABIC_TITLE = "مقهى اللغة في الميناء"


@pytest.fixture
def viewport() -> dict[str, int]:
    """A phone."""
    return {"width": 375, "height": 812}


def test_a_submission_with_an_arabic_version_is_approved_and_shown(page, live_server, editor):
    day = (utcnow() + timedelta(days=12)).date()
    page.goto(f"{live_server.url}/einreichen")
    page.get_by_label("Titel", exact=True).fill(TITLE)
    page.get_by_label("Kurzbeschreibung").fill("Deutsch üben bei Tee und Kuchen.")
    page.get_by_label("Bildung & Sprache").check()
    page.get_by_label("Datum", exact=True).fill(day.isoformat())
    page.get_by_label("Beginn (Uhrzeit)").fill("16:00")
    page.get_by_label("Veranstalter").fill("Sprachcafé e. V.")

    # The extra language: one group shows, the button adds a second one.
    page.get_by_text("Diesen Text in einer weiteren Sprache hinzufügen").click()
    groups = page.locator("[data-version-group]")
    expect(groups.nth(0)).to_be_visible()
    expect(groups.nth(1)).to_be_hidden()
    page.get_by_role("button", name="Weitere Sprache hinzufügen").click()
    expect(groups.nth(1)).to_be_visible()
    first = groups.nth(0)
    first.get_by_label("Sprache", exact=True).select_option("ar")
    first.get_by_label("Titel in dieser Sprache").fill(ARABIC_TITLE)
    first.get_by_label("Kurze Beschreibung in dieser Sprache").fill("تدرّب على الألمانية مع الشاي.")
    assert axe_violations(page) == []

    page.get_by_label("Ihre E-Mail-Adresse").fill("cafe@example.org")
    page.get_by_label("Ich bin einverstanden").check()
    page.get_by_role("button", name="Zur Prüfung senden").click()
    page.get_by_role("heading", name="Vielen Dank!").wait_for()

    # The editor sees the Arabic text with the submission and approves both at once.
    login(page, live_server, *editor)
    page.goto(f"{live_server.url}/redaktion/einreichungen")
    page.get_by_role("link", name=TITLE).click()
    versions = page.locator("#versions")
    expect(versions.get_by_text(ARABIC_TITLE)).to_be_visible()
    expect(versions.get_by_text("wartet auf Prüfung")).to_be_visible()
    page.get_by_role("button", name="Freigeben und veröffentlichen").click()
    page.get_by_text("ist veröffentlicht").wait_for()

    # The public page in Arabic, right to left, with a link back to the German original.
    page.goto(f"{live_server.url}/angebote")
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("link", name="Arabisch").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(ARABIC_TITLE)
    expect(heading).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("link", name="Deutsch")).to_be_visible()
    assert axe_violations(page) == []

    # The search finds it by an Arabic word.
    page.goto(f"{live_server.url}/angebote?q=الميناء")
    expect(page.get_by_role("link", name=TITLE)).to_be_visible()
