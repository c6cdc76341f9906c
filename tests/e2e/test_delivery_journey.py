"""An editor watches the demo ticker go out; every demo subscriber finds it in the inbox."""

import threading
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from newsticker.core.db import utcnow
from newsticker.delivery.sender import send_due_issues
from tests.e2e.conftest import login
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def live_settings_overrides():
    # Slow enough to watch: the progress page shows the send under way.
    return {"delivery.messages_per_second": 0.5, "delivery.lease_seconds": 60}


def schedule_demo_ticker(session, settings):
    from newsticker.core.site import site_links
    from newsticker.demo import load_demo
    from newsticker.issues.services import open_draft, schedule_issue
    from subscribers.services import recipient_rows

    load_demo(session, settings)
    issue = open_draft(session, "ticker")
    send_at = utcnow() + timedelta(seconds=3)
    schedule_issue(
        session,
        issue,
        send_at=send_at,
        now=utcnow(),
        max_html_bytes=settings.delivery.max_html_bytes,
        links=site_links(),
        version=None,
        user_id=None,
    )
    recipients = [row.address for row in recipient_rows(session, ["ticker"])]
    return issue.id, issue.subject, send_at, recipients


def test_scheduled_ticker_goes_out_while_the_editor_watches(page, live_server, editor):
    app = live_server.app
    settings = app.config["NEWSTICKER_SETTINGS"]
    issue_id, subject, send_at, recipients = live_server.run(
        lambda s: schedule_demo_ticker(s, settings)
    )
    assert len(recipients) >= 3

    login(page, live_server, *editor)
    page.goto(f"{live_server.url}/redaktion/versand/{issue_id}")
    expect(page.get_by_text("Geplant für")).to_be_visible()
    # Nothing reloads unless the editor asks for it (WCAG 2.2.1).
    refresh = page.locator('meta[http-equiv="refresh"]')
    expect(refresh).to_have_count(0)
    page.get_by_role("link", name="Diese Seite alle 5 Sekunden aktualisieren").click()
    expect(refresh).to_have_count(1)

    # The scheduler's job, once the time has come (what `python scheduler.py` runs).
    wait_until(lambda: utcnow() > send_at, timeout=30, what="the issue's sending time")
    job = threading.Thread(target=send_due_issues, args=(app, settings), daemon=True)
    job.start()

    expect(page.get_by_role("heading", name="Fortschritt")).to_be_visible(timeout=30_000)
    expect(refresh).to_have_count(1)  # refreshes without JS
    expect(page.get_by_role("button", name="Versand anhalten")).to_be_visible()
    # The page reloads itself until the send is done.
    expect(page.get_by_text("Abgeschlossen", exact=True).first).to_be_visible(timeout=60_000)
    job.join(timeout=30)
    assert not job.is_alive()
    expect(refresh).to_have_count(0)
    meter = page.locator("#delivery-meter")
    expect(meter).to_have_attribute("value", str(len(recipients)))
    expect(meter).to_have_attribute("max", str(len(recipients)))

    mails = live_server.mails()
    for address in recipients:
        got = [m for m in mails if address in m.to and m.message["List-Id"]]
        assert len(got) == 1, address
        assert got[0].subject == subject or got[0].subject.startswith("Newsticker")
        assert got[0].message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    report = [m for m in mails if editor[0] in m.to]
    assert report and "Versandbericht" in report[0].subject

    page.goto(f"{live_server.url}/redaktion/versand/")
    expect(
        page.get_by_role("link", name="Newsticker Engagement & Zusammenleben").first
    ).to_be_visible()
