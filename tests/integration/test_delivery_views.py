"""The editor's delivery pages: progress without JavaScript, pause, resume, cancel, report."""

import re

import pytest

from newsticker.config import get_settings
from newsticker.core.db import utcnow
from newsticker.core.site import site_links
from newsticker.delivery import services
from newsticker.delivery.mails import EditorMails
from tests.factories import scheduled_issue, seed_subscribers

pytestmark = pytest.mark.usefixtures("no_csrf")


@pytest.fixture
def editor_client(client, editor):
    return client


@pytest.fixture
def sending(db):
    seed_subscribers(db, 6)
    issue = scheduled_issue(db)
    services.start_issue(db, issue.id, now=utcnow(), settings=get_settings(), links=site_links())
    return issue


def page(client, issue):
    return client.get(f"/redaktion/versand/{issue.id}")


def test_the_pages_need_a_login(client, sending):
    assert page(client, sending).status_code == 302
    assert client.post(f"/redaktion/versand/{sending.id}/pausieren").status_code == 302


def test_progress_refreshes_only_when_the_editor_asks(editor_client, sending):
    plain = page(editor_client, sending).get_data(as_text=True)
    assert 'http-equiv="refresh"' not in plain
    assert f"/redaktion/versand/{sending.id}?auto=1" in plain
    response = editor_client.get(f"/redaktion/versand/{sending.id}?auto=1")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<meta http-equiv="refresh" content="5">' in html
    assert '<progress id="delivery-meter" max="6" value="0">' in html
    assert "<script>" not in html and " style=" not in html
    assert "Pause" in html or "Pausieren" in html or "anhalten" in html
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp


def test_pause_resume_and_cancel(editor_client, db, sending):
    url = f"/redaktion/versand/{sending.id}"
    response = editor_client.post(f"{url}/pausieren")
    assert response.status_code == 303
    db.expire_all()
    assert services.get_report(db, sending.id).state == "paused"
    html = page(editor_client, sending).get_data(as_text=True)
    assert 'http-equiv="refresh"' not in html  # nothing moves while paused
    assert f'action="{url}/fortsetzen"' in html
    assert editor_client.post(f"{url}/pausieren").status_code == 409
    assert editor_client.post(f"{url}/fortsetzen").status_code == 303
    # Cancelling needs the confirmation box.
    refused = editor_client.post(f"{url}/absagen")
    assert refused.status_code == 422
    db.expire_all()
    assert services.get_report(db, sending.id).state == "sending"
    assert editor_client.post(f"{url}/absagen", data={"confirm": "yes"}).status_code == 303
    db.expire_all()
    report = services.get_report(db, sending.id)
    assert (report.state, report.cancelled) == ("cancelled", 6)
    html = page(editor_client, sending).get_data(as_text=True)
    assert "fortsetzen" not in html and 'http-equiv="refresh"' not in html


def test_the_report_lists_failures_and_the_log(editor_client, db, sending):
    rows = services.claim_batch(db, sending.id, owner="t", limit=10, now=utcnow(), lease_seconds=60)
    outcomes = [services.Outcome(r.id, r.subscriber_id, "sent", "250 ok", 0) for r in rows[1:]] + [
        services.Outcome(rows[0].id, rows[0].subscriber_id, "failed", "550 5.1.1 gone", 0)
    ]
    notify = EditorMails(site_links())
    services.record_results(
        db, sending.id, outcomes, owner="t", now=utcnow(), settings=get_settings(), notify=notify
    )
    assert services.finish_if_done(db, sending.id, now=utcnow(), notify=notify)
    html = page(editor_client, sending).get_data(as_text=True)
    assert "550 5.1.1 gone" in html and rows[0].address in html
    assert 'http-equiv="refresh"' not in html
    assert re.search(r"<dd>5</dd>", html)  # sent
    listing = editor_client.get("/redaktion/versand/").get_data(as_text=True)
    assert f"/redaktion/versand/{sending.id}" in listing


def test_an_issue_not_sent_yet_says_when_it_goes(editor_client, db):
    issue = scheduled_issue(db)
    html = page(editor_client, issue).get_data(as_text=True)
    assert page(editor_client, issue).status_code == 200
    assert "absagen" not in html
    assert editor_client.get("/redaktion/versand/999").status_code == 404


def _finish(db, issue, *, failed_address_index=0):
    rows = services.claim_batch(db, issue.id, owner="t", limit=10, now=utcnow(), lease_seconds=60)
    outcomes = [
        services.Outcome(
            r.id,
            r.subscriber_id,
            "failed" if i == failed_address_index else "sent",
            "550 5.1.1 gone" if i == failed_address_index else "250 ok",
            0,
        )
        for i, r in enumerate(rows)
    ]
    notify = EditorMails(site_links())
    services.record_results(
        db, issue.id, outcomes, owner="t", now=utcnow(), settings=get_settings(), notify=notify
    )
    assert services.finish_if_done(db, issue.id, now=utcnow(), notify=notify)
    return rows


def test_records_of_sends_over_for_longer_than_the_retention_are_deleted(db):
    from datetime import timedelta

    from sqlalchemy import func, select

    from newsticker.delivery.models import Delivery
    from newsticker.jobs import purge_delivery_records

    seed_subscribers(db, 6)
    old, recent, running = (scheduled_issue(db, number=n) for n in (1, 2, 3))
    for issue in (old, recent, running):
        services.start_issue(
            db, issue.id, now=utcnow(), settings=get_settings(), links=site_links()
        )
    _finish(db, old)
    _finish(db, recent)
    days = get_settings().retention.delivery_record_days
    services.get_report(db, old.id).finished_at = utcnow() - timedelta(days=days, minutes=1)
    services.get_report(db, recent.id).finished_at = utcnow() - timedelta(days=days - 1)
    db.commit()

    assert purge_delivery_records() == 6
    assert purge_delivery_records() == 0  # a second run finds nothing
    left = dict(
        db.execute(select(Delivery.issue_id, func.count()).group_by(Delivery.issue_id)).all()
    )
    assert left == {recent.id: 6, running.id: 6}
    # The report keeps its figures, and the progress shows them.
    progress = services.progress(db, old.id, now=utcnow())
    assert progress.records_purged and progress.finished
    assert (progress.total, progress.sent, progress.failed, progress.pending) == (6, 5, 1, 0)
    assert not services.progress(db, recent.id, now=utcnow()).records_purged


def test_the_report_page_of_a_purged_send_shows_its_figures_and_reasons(editor_client, db):
    from datetime import timedelta

    from newsticker.jobs import purge_delivery_records

    seed_subscribers(db, 6)
    issue = scheduled_issue(db)
    services.start_issue(db, issue.id, now=utcnow(), settings=get_settings(), links=site_links())
    rows = _finish(db, issue)
    services.get_report(db, issue.id).finished_at = utcnow() - timedelta(days=400)
    db.commit()
    assert purge_delivery_records() == 6
    html = page(editor_client, issue).get_data(as_text=True)
    assert rows[0].address not in html  # the address is gone with the records
    assert "1 × 550 5.1.1 gone" in html
    assert re.search(r"<dd>5</dd>", html) and re.search(r"<dd>6</dd>", html)
    assert "90 Tage" in html


def test_the_log_reads_in_the_readers_language_with_names_and_local_times(
    editor_client, db, editor, sending
):
    editor.name = "Mara Schmidt"
    db.flush()
    url = f"/redaktion/versand/{sending.id}"
    assert editor_client.post(f"{url}/pausieren").status_code == 303
    paused = page(editor_client, sending).get_data(as_text=True)
    assert "Angehalten: angehalten von Mara Schmidt" in paused
    assert editor_client.post(f"{url}/fortsetzen").status_code == 303
    html = page(editor_client, sending).get_data(as_text=True)
    log = html.split('class="delivery-events"')[1].split("</ul>")[0]
    assert "Versand an 6 Empfängerinnen und Empfänger begonnen." in log
    assert "Angehalten von Mara Schmidt." in log and "Fortgesetzt von Mara Schmidt." in log
    assert "redaktion@example.org" not in log and " UTC" not in log
    editor_client.set_cookie("newsticker_lang", "en")
    log = page(editor_client, sending).get_data(as_text=True).split('class="delivery-events"')[1]
    log = log.split("</ul>")[0]
    assert "Started for 6 recipients." in log
    assert "Paused by Mara Schmidt." in log and "Resumed by Mara Schmidt." in log
    # An English date (month name first) in the site's local time, not ISO and UTC.
    assert re.search(r"<time datetime=\"[^\"]+\">[A-Z][a-z]{2} \d{1,2}, \d{4}", log)


def test_log_lines_from_before_codes_are_shown_as_written(db):
    from datetime import UTC, datetime

    from newsticker.delivery.log import log_lines

    at = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
    lines = log_lines([[at.isoformat(), "started with 3 recipients"]], {})
    assert [(line.at, line.text) for line in lines] == [(at, "started with 3 recipients")]


def test_the_overview_lists_a_sent_issue_without_a_report(editor_client, db):
    # The demo's first issue is marked sent without a send (no report): the overview used
    # to list sends through their reports only, and said no issue had been sent.
    from newsticker.issues.models import IssueStatus
    from tests.factories import make_issue

    sent = make_issue(db, number=1, status=IssueStatus.SENT, sent_at=utcnow())
    draft = make_issue(db, number=2)
    listing = editor_client.get("/redaktion/versand/").get_data(as_text=True)
    assert f'href="/redaktion/versand/{sent.id}"' in listing
    assert f'href="/redaktion/versand/{draft.id}"' not in listing
    assert "noch keine Ausgabe versendet" not in listing
    assert page(editor_client, sent).status_code == 200


def test_the_overview_says_so_when_nothing_was_sent(editor_client, db):
    from tests.factories import make_issue

    make_issue(db)
    listing = editor_client.get("/redaktion/versand/").get_data(as_text=True)
    assert "noch keine Ausgabe versendet" in listing
