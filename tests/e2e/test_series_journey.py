"""A weekly series is shown once: in the list, the search, the ticker draft and the archive.

On the demo content plus a weekly cooking evening with a cancelled date, a visitor sees
each series as one card with its rule in words and its dates, finds it once by a search,
and the editor finds it once in the ticker draft and, after sending, once in the archive.
axe stays at zero violations on the list, the search and the composer at 375 and 1280 px.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from newsticker.core.db import utcnow
from newsticker.core.site import site_links
from newsticker.demo import load_demo
from newsticker.issues.models import Issue, IssueStatus
from newsticker.issues.services import mark_sent, start_sending
from newsticker.items.recurrence import Recurrence
from tests.e2e.conftest import axe_violations, login
from tests.factories import TZ, make_item, today

pytestmark = pytest.mark.e2e

CAFE = "Sprachcafé in der Stadtbibliothek"
COOKING = "Gemeinsam kochen im Stadtteilhaus"
WIDTHS = (375, 1280)


def _next_tuesday() -> Any:
    days = (1 - today().weekday()) % 7 or 7
    return today() + timedelta(days=days)


def _add_cooking_series(session: Any) -> None:
    first = _next_tuesday()
    make_item(
        session,
        title=COOKING,
        summary="Jede Woche gemeinsam kochen und essen.",
        starts_at=datetime.combine(first, datetime.min.time().replace(hour=17), TZ),
        ends_at=datetime.combine(first, datetime.min.time().replace(hour=19), TZ),
        rule=Recurrence(freq="weekly", count=16, exceptions=(first + timedelta(days=7),)),
        tags=["Kochen"],
    )


def _no_violations(page: Any, where: str) -> None:
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        assert axe_violations(page) == [], f"{where} at {width}px"


def _cards(page: Any, title: str) -> Any:
    return page.locator("article.item-card").filter(
        has=page.get_by_role("link", name=title, exact=True)
    )


def test_a_weekly_series_is_shown_once_everywhere(page, live_server, editor):
    settings = live_server.app.config["NEWSTICKER_SETTINGS"]
    live_server.run(lambda s: load_demo(s, settings))
    live_server.run(_add_cooking_series)

    # The public list: each series once, as its rule in words with its next dates.
    page.goto(f"{live_server.url}/angebote")
    expect(_cards(page, CAFE)).to_have_count(1)
    cafe = _cards(page, CAFE)
    expect(cafe.locator(".item-rule")).to_have_text("jeden Mittwoch, 16–18 Uhr")
    expect(cafe.get_by_text("Nächster Termin:")).to_be_visible()
    expect(cafe.get_by_text("Weitere Termine:")).to_be_visible()
    cooking = _cards(page, COOKING)
    expect(cooking).to_have_count(1)
    expect(cooking.locator(".item-rule")).to_have_text("jeden Dienstag, 17–19 Uhr")
    expect(cooking.locator("li.cancelled")).to_have_count(1)
    expect(cooking.locator("li.cancelled")).to_contain_text("(fällt aus)")
    expect(page.locator("#result-count")).to_contain_text("in den nächsten 90 Tagen")
    _no_violations(page, "/angebote")

    # A Persian item page runs right to left as a whole, interface words left to right.
    page.get_by_role("link", name="اطلاعات سلامت: سلامت روان", exact=True).click()
    expect(page.locator("article.item-page")).to_have_attribute("dir", "rtl")
    expect(page.locator("dl.item-facts")).to_have_attribute("dir", "rtl")
    expect(page.locator("dl.item-facts dt").first).to_have_attribute("dir", "ltr")
    title = page.get_by_role("heading", level=1).bounding_box()
    facts = page.locator("dl.item-facts dt").first.bounding_box()
    # Title and details both end at the right edge of the content.
    assert abs((title["x"] + title["width"]) - (facts["x"] + facts["width"])) < 4
    _no_violations(page, "Persian item page")

    # The search: one card, and how many were found.
    page.goto(f"{live_server.url}/angebote")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_label("Suchbegriff").fill("kochen")
    page.get_by_role("button", name="Suchen").click()
    page.wait_for_url(re.compile(r"q=kochen"))
    expect(_cards(page, COOKING)).to_have_count(1)
    expect(page.locator("article.item-card")).to_have_count(1)
    expect(page.locator("#result-count")).to_have_text("1 Veranstaltung passt zu Ihrer Suche.")
    _no_violations(page, "/angebote?q=kochen")

    # The ticker draft: the series once, pinned to its next date, with its rule.
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, live_server, *editor)
    page.get_by_role("link", name="Ausgaben").first.click()
    # The cooking evening was approved after the demo's draft: take it in, in date order.
    page.get_by_role("button", name="Neue Beiträge in den Entwurf holen").first.click()
    expect(page.get_by_text("1 neue Einträge wurden dem Entwurf hinzugefügt.")).to_be_visible()
    page.get_by_role("link", name="Ausgaben").first.click()
    page.get_by_role(
        "link", name=re.compile(r"Am Entwurf von Ausgabe \d+ weiterarbeiten")
    ).first.click()
    events = page.locator("ol.entries[data-section='events'] > li")
    expect(events.filter(has_text=CAFE)).to_have_count(1)
    expect(events.filter(has_text=COOKING)).to_have_count(1)
    expect(events.filter(has_text=CAFE).locator(".entry-series")).to_contain_text(
        "jeden Mittwoch, 16–18 Uhr · Nächster Termin:"
    )
    starts = [s.strip() for s in events.locator(".entry-when").all_inner_texts()]
    assert len(starts) >= 3
    _no_violations(page, "composer")

    # Sent, the issue in the archive carries each series once with its dates.
    def send_draft(session: Any) -> int:
        issue = session.query(Issue).filter_by(publication="ticker", status=IssueStatus.DRAFT).one()
        # As the demo's sent ticker: scheduled now, sent at once (no scheduler here).
        issue.status = IssueStatus.SCHEDULED
        issue.scheduled_at = utcnow()
        start_sending(session, issue, now=utcnow(), links=site_links())
        mark_sent(session, issue, now=utcnow())
        return int(issue.number)

    number = live_server.run_in_request(send_draft)
    page.goto(f"{live_server.url}/archiv/ticker/{number}")
    expect(page.get_by_role("link", name=CAFE, exact=True)).to_have_count(1)
    expect(page.get_by_role("link", name=COOKING, exact=True)).to_have_count(1)
    expect(page.get_by_text("jeden Dienstag, 17–19 Uhr")).to_have_count(1)
    text = page.context.request.get(f"{live_server.url}/archiv/ticker/{number}.txt").text()
    assert text.count(CAFE) == 1 and text.count(COOKING) == 1
    assert "Wann: jeden Dienstag, 17–19 Uhr" in text
