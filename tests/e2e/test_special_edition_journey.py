"""A special edition: the editor chooses the ticker's readers too, sees them counted, and
each reader finds one mail whose footer names the subscription it came through."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from newsticker.core.db import utcnow
from newsticker.delivery.sender import send_due_issues
from newsticker.issues.models import Issue
from tests.e2e.conftest import axe_violations, login
from tests.factories import make_issue, make_item, make_subscriber

pytestmark = pytest.mark.e2e

TICKER = "Newsticker Engagement & Zusammenleben"
NEWSLETTER = "Integration in Flensburg"


def setup(session):
    make_subscriber(session, "beide@example.org", publications=("ticker", "newsletter"))
    make_subscriber(session, "brief@example.org", publications=("newsletter",))
    make_subscriber(session, "ticker1@example.org", publications=("ticker",))
    make_subscriber(session, "ticker2@example.org", publications=("ticker",), language="en")
    make_subscriber(session, "offen@example.org", publications=("ticker",), status="pending")
    issue = make_issue(session, publication="newsletter", items=[make_item(session)])
    # Not going to the ticker's readers by configuration: the editor chooses them.
    issue.also_send_to = []
    session.flush()
    return issue.id


def test_a_special_edition_to_two_publications(page, live_server, editor):
    issue_id = live_server.run(setup)
    login(page, live_server, *editor)
    page.goto(f"{live_server.url}/redaktion/ausgaben/{issue_id}#audience")

    total = page.locator("#audience-total")
    expect(total).to_have_text("2")
    page.get_by_role("checkbox", name=TICKER).check()
    page.get_by_role("button", name="Auswahl übernehmen").click()
    expect(page.get_by_text("Die Empfänger sind gespeichert.")).to_be_visible()

    # Counted per publication, a person in both once, and said so.
    rows = page.locator("#audience-count tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(NEWSLETTER)
    expect(rows.nth(0)).to_contain_text("2")
    expect(rows.nth(1)).to_contain_text(TICKER)
    expect(rows.nth(1)).to_contain_text("3")
    expect(total).to_have_text("4")
    expect(page.get_by_text(re.compile(r"1 Person hat mehr als eine"))).to_be_visible()
    expect(page.get_by_text("Sie geht an 4 Personen")).to_be_visible()
    assert axe_violations(page) == []

    # Schedule it, then let the scheduler's job send it once its time has come.
    day = (utcnow() + timedelta(days=2)).date()
    page.get_by_label("Datum").fill(day.isoformat())
    page.get_by_label("Uhrzeit").fill("10:00")
    page.get_by_role("button", name="Planen", exact=True).click()
    expect(page.get_by_text(re.compile(r"Ausgabe \d+ ist für .* geplant"))).to_be_visible()
    expect(page.get_by_role("button", name="Zurück in den Entwurf")).to_be_visible()

    def due_now(session):
        session.get(Issue, issue_id).scheduled_at = utcnow() - timedelta(seconds=1)

    live_server.run(due_now)
    settings = live_server.app.config["NEWSTICKER_SETTINGS"]
    send_due_issues(live_server.app, settings)

    issue_mails = [m for m in live_server.mails() if m.message["List-Id"]]
    by_address = {}
    for mail in issue_mails:
        by_address.setdefault(mail.to, []).append(mail)
    assert sorted(by_address) == [
        "beide@example.org",
        "brief@example.org",
        "ticker1@example.org",
        "ticker2@example.org",
    ]
    assert all(len(mails) == 1 for mails in by_address.values())  # one mail each
    expected = {
        "beide@example.org": ("Sie erhalten diese Mail, weil Sie", NEWSLETTER),
        "brief@example.org": ("Sie erhalten diese Mail, weil Sie", NEWSLETTER),
        "ticker1@example.org": ("Sie erhalten diese Mail, weil Sie", TICKER),
        "ticker2@example.org": ("You receive this mail because you subscribed to", TICKER),
    }
    for address, (sentence, name) in expected.items():
        text = by_address[address][0].body("plain")
        footer = text[text.index(sentence) :].split("\n", 1)[0]
        assert name in footer, (address, footer)
        other = NEWSLETTER if name == TICKER else TICKER
        assert other not in footer, (address, footer)

    # The ticker reader's unsubscribe link ends their ticker subscription, nothing else.
    text = by_address["ticker1@example.org"][0].body("plain")
    link = re.search(r"(http://127\.0\.0\.1:\d+/abmelden/\S+)", text).group(1)
    page.goto(link)
    expect(page.get_by_text(TICKER).first).to_be_visible()
    page.get_by_role("button", name="Jetzt abmelden").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    def statuses(session):
        from sqlalchemy import select

        from subscribers.models import Subscriber, Subscription

        rows = session.execute(
            select(Subscriber.email, Subscription.publication, Subscription.status).join(
                Subscription, Subscription.subscriber_id == Subscriber.id
            )
        ).all()
        return {(email, slug): str(status) for email, slug, status in rows}

    now = live_server.run(statuses)
    assert now[("ticker1@example.org", "ticker")] == "unsubscribed"
    assert now[("beide@example.org", "ticker")] == "confirmed"
    assert now[("beide@example.org", "newsletter")] == "confirmed"
