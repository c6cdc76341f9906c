"""An editor clears a queue: two submissions approved at once, a duplicate merged with one click."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from newsticker.core.audit import AuditEvent
from newsticker.items.models import Item
from tests.e2e.conftest import login
from tests.factories import local, make_item, today

pytestmark = pytest.mark.e2e


def _statuses(live_server, ids):
    return live_server.run(lambda s: [s.get(Item, i).status for i in ids])


def test_bulk_approve_then_merge_a_duplicate(page, live_server, editor):
    day = today() + timedelta(days=9)

    def seed(session):
        first = make_item(session, status="submitted", title="Sprachcafé im Stadtteilhaus")
        second = make_item(
            session,
            status="submitted",
            title="Repair café",
            submitter_email="b@example.org",
            submitter_language="en",
        )
        kept = make_item(
            session, title="Nachbarschaftsfest", starts_at=local(day, 14), ends_at=local(day, 18)
        )
        dupe = make_item(
            session,
            status="submitted",
            title="Nachbarschaftsfest!",
            starts_at=local(day, 15),
            ends_at=local(day, 18),
            link="https://example.org/fest",
        )
        return first.id, second.id, kept.id, dupe.id

    first, second, kept, dupe = live_server.run(seed)
    login(page, live_server, *editor)
    expect(page.get_by_text("3 Einreichungen warten auf eine Entscheidung")).to_be_visible()
    page.get_by_role("link", name="3 Einreichungen warten auf eine Entscheidung").click()

    # Two of the three at once, with the keyboard: tick, tick, approve.
    page.get_by_label(f"#{first} „Sprachcafé im Stadtteilhaus“ auswählen").check()
    page.get_by_label(f"#{second} „Repair café“ auswählen").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Ausgewählte freigeben").click()
    expect(page.get_by_text("2 Einreichungen sind veröffentlicht.")).to_be_visible()
    assert _statuses(live_server, [first, second, dupe]) == ["approved", "approved", "submitted"]
    subjects = sorted(mail.subject for mail in live_server.mails())
    assert subjects == [
        "Published: Repair café",
        "Veröffentlicht: Sprachcafé im Stadtteilhaus",
    ]

    # An empty selection is refused with a message, and nothing changes.
    page.get_by_role("button", name="Ausgewählte freigeben").click()
    expect(page.locator("#error-summary")).to_contain_text(
        "Bitte wählen Sie mindestens eine Einreichung aus."
    )
    assert _statuses(live_server, [dupe]) == ["submitted"]

    # The duplicate's page suggests the kept item; one click merges.
    page.get_by_role("link", name="Nachbarschaftsfest!").click()
    expect(page.get_by_role("heading", name="Wahrscheinliche Dubletten")).to_be_visible()
    page.get_by_role("button", name=f"#{dupe} in #{kept} zusammenführen").click()
    expect(page.get_by_text(f"In #{kept} zusammengeführt.")).to_be_visible()
    merged = live_server.run(lambda s: (s.get(Item, dupe).duplicate_of_id, s.get(Item, kept).link))
    assert merged == (kept, "https://example.org/fest")
    trail = live_server.run(
        lambda s: [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    )
    # The editor's own login is in the trail too (auth.*); the moderation follows it.
    assert [a for a in trail if not a.startswith("auth.")] == [
        "item.approved",
        "item.approved",
        "item.merged",
    ]


@pytest.mark.parametrize("viewport", [{"width": 375, "height": 800}], indirect=False)
def test_the_queue_fits_a_phone(page, live_server, editor, viewport):
    live_server.run(lambda s: make_item(s, status="submitted", title="Ein sehr langer Titel " * 4))
    login(page, live_server, *editor)
    page.goto(f"{live_server.url}/redaktion/einreichungen")
    status = page.locator("table.queue td[data-label='Status']").first
    expect(status).to_be_visible()
    box = status.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
