"""Delivery records: created once per recipient, claimed under leases, results, pause, report."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from newsticker.config import get_settings
from newsticker.core.db import utcnow
from newsticker.core.mailqueue import QueuedMail
from newsticker.core.site import site_links
from newsticker.delivery import services
from newsticker.delivery.mails import EditorMails
from newsticker.delivery.models import Delivery, DeliveryReport
from newsticker.issues.models import IssueStatus
from subscribers import services as subscriber_services
from subscribers.models import Subscription
from subscribers.site import site_salts
from tests.factories import make_subscriber, make_user, scheduled_issue, seed_subscribers


@pytest.fixture
def settings_overrides():
    return {
        "delivery.retry_attempts": 3,
        "delivery.retry_delay_seconds": 60,
        "delivery.failure_pause_threshold": 4,
    }


def start(db, issue, now=None):
    return services.start_issue(
        db, issue.id, now=now or utcnow(), settings=get_settings(), links=site_links()
    )


def records(db, issue):
    return list(
        db.scalars(select(Delivery).where(Delivery.issue_id == issue.id).order_by(Delivery.id))
    )


def claim(db, issue, owner="w1", limit=100, now=None, lease=60):
    return services.claim_batch(
        db, issue.id, owner=owner, limit=limit, now=now or utcnow(), lease_seconds=lease
    )


def outcome(row, kind, reply="250 OK"):
    return services.Outcome(row.id, row.subscriber_id, kind, reply, row.attempts)


def record(db, issue, outcomes, owner="w1", now=None):
    return services.record_results(
        db,
        issue.id,
        outcomes,
        owner=owner,
        now=now or utcnow(),
        settings=get_settings(),
        notify=EditorMails(site_links()),
    )


def test_one_record_per_recipient_of_all_the_issues_publications(db):
    both = make_subscriber(db, "beide@example.org", publications=("ticker", "newsletter"))
    letter = make_subscriber(db, "brief@example.org", publications=("newsletter",))
    ticker = make_subscriber(db, "ticker@example.org", publications=("ticker",))
    make_subscriber(db, "offen@example.org", status="pending")
    make_subscriber(db, "weg@example.org", status="unsubscribed")
    make_subscriber(db, "gesperrt@example.org", blocked=True)
    issue = scheduled_issue(db, publication="newsletter")

    report = start(db, issue)

    rows = records(db, issue)
    assert report.recipients == 3
    assert {r.address for r in rows} == {both.email, letter.email, ticker.email}
    by_address = {r.address: r for r in rows}
    # The unsubscribe link names the issue's own publication where the person has it.
    assert by_address[both.email].publication == "newsletter"
    assert by_address[ticker.email].publication == "ticker"
    assert len({r.message_id for r in rows}) == 3
    assert all(r.status == "pending" and r.attempts == 0 for r in rows)
    assert issue.status == IssueStatus.SENDING.value
    # Rendered in the languages its readers need: all three read German (the default).
    assert {s.language for s in issue.snapshots} == {"de"}


def test_starting_twice_creates_the_records_once(db):
    seed_subscribers(db, 5)
    issue = scheduled_issue(db)
    assert start(db, issue) is not None
    assert start(db, issue) is None
    assert len(records(db, issue)) == 5
    assert db.scalar(select(func.count()).select_from(DeliveryReport)) == 1


def test_a_draft_is_never_started(db):
    seed_subscribers(db, 2)
    issue = scheduled_issue(db)
    issue.status = IssueStatus.DRAFT.value
    db.flush()
    assert start(db, issue) is None
    assert records(db, issue) == []
    assert services.get_report(db, issue.id) is None


def test_claims_never_overlap_and_expired_leases_come_back(db):
    seed_subscribers(db, 10)
    issue = scheduled_issue(db)
    start(db, issue)
    now = utcnow()
    first = claim(db, issue, "a", 4, now)
    second = claim(db, issue, "b", 4, now)
    third = claim(db, issue, "c", 10, now)
    ids = [c.id for c in first + second + third]
    assert len(first) == len(second) == 4
    assert len(third) == 2
    assert len(set(ids)) == 10
    assert claim(db, issue, "d", 10, now) == []
    # The workers died: after the lease anyone may take the records again.
    again = claim(db, issue, "e", 10, now + timedelta(seconds=61))
    assert sorted(c.id for c in again) == sorted(ids)


def test_a_paused_issue_gives_nothing_to_claim(db):
    seed_subscribers(db, 3)
    issue = scheduled_issue(db)
    start(db, issue)
    assert services.pause_issue(db, issue.id, reason="test", now=utcnow())
    assert claim(db, issue) == []
    assert services.resume_issue(db, issue.id, now=utcnow())
    assert len(claim(db, issue)) == 3


def test_temporary_failures_back_off_then_fail_for_good(db):
    seed_subscribers(db, 1)
    issue = scheduled_issue(db)
    start(db, issue)
    now = utcnow()
    (row,) = claim(db, issue, now=now)
    record(db, issue, [outcome(row, "retry", "451 4.3.0 try later")], now=now)
    (stored,) = records(db, issue)
    assert (stored.status, stored.attempts) == ("pending", 1)
    assert stored.next_attempt_at == now + timedelta(seconds=60)
    assert stored.lease_until is None
    assert claim(db, issue, now=now + timedelta(seconds=59)) == []
    (row,) = claim(db, issue, now=now + timedelta(seconds=61))
    later = now + timedelta(seconds=61)
    record(db, issue, [outcome(row, "retry", "421 4.7.0 closing")], now=later)
    db.refresh(stored)
    assert stored.next_attempt_at == later + timedelta(seconds=120)  # doubled
    (row,) = claim(db, issue, now=later + timedelta(seconds=121))
    record(db, issue, [outcome(row, "retry", "451 again")], now=later)
    db.refresh(stored)
    assert (stored.status, stored.attempts, stored.result) == ("failed", 3, "451 again")


def test_a_5xx_reply_fails_for_good_and_counts_as_a_bounce(db):
    hard = make_subscriber(db, "unbekannt@example.org")
    policy = make_subscriber(db, "policy@example.org")
    issue = scheduled_issue(db)
    start(db, issue)
    rows = {c.address: c for c in claim(db, issue)}
    record(
        db,
        issue,
        [
            outcome(rows[hard.email], "failed", "550 5.1.1 <unbekannt@example.org>: no such user"),
            outcome(rows[policy.email], "failed", "550 5.7.1 rejected by policy"),
        ],
    )
    assert {r.status for r in records(db, issue)} == {"failed"}
    statuses = dict(db.execute(select(Subscription.subscriber_id, Subscription.status)).all())
    assert statuses[hard.id] == "bounced"
    # A policy refusal says more about our relay than the address: a soft bounce only.
    assert statuses[policy.id] == "confirmed"


def test_a_run_of_failures_pauses_the_issue_and_tells_the_editors(db):
    editor = make_user(db, "redaktion@example.org")
    seed_subscribers(db, 8)
    issue = scheduled_issue(db)
    start(db, issue)
    rows = claim(db, issue)
    done = record(db, issue, [outcome(r, "retry", "451 busy") for r in rows[:3]])
    assert done.state == "sending"
    # A success in between starts the run again.
    done = record(db, issue, [outcome(rows[3], "sent"), outcome(rows[4], "retry", "451 busy")])
    assert services.get_report(db, issue.id).failure_run == 1
    done = record(db, issue, [outcome(r, "failed", "554 5.7.1 relay blocked") for r in rows[5:8]])
    assert done.paused_now
    report = services.get_report(db, issue.id)
    assert report.state == "paused"
    assert "4 failures in a row" in report.pause_reason
    notice = db.scalars(select(QueuedMail).where(QueuedMail.purpose == "delivery_paused")).one()
    assert notice.to_addr == editor.email
    assert f"/redaktion/versand/{issue.id}" in notice.text
    assert claim(db, issue) == []
    assert services.resume_issue(db, issue.id, now=utcnow())
    db.refresh(report)
    assert report.failure_run == 0
    assert report.state == "sending"


def test_who_unsubscribes_after_the_start_is_skipped_when_their_turn_comes(db):
    stays = make_subscriber(db, "bleibt@example.org")
    leaves = make_subscriber(db, "geht@example.org")
    issue = scheduled_issue(db)
    start(db, issue)
    subscriber_services.unsubscribe(db, leaves.id, "ticker", channel="one-click", now=utcnow())
    claimed = claim(db, issue)
    kept = services.skip_unsubscribed(db, claimed, ["ticker"], now=utcnow())
    assert [c.address for c in kept] == [stays.email]
    by_address = {r.address: r for r in records(db, issue)}
    assert by_address[leaves.email].status == "skipped"


def test_finishing_marks_the_issue_sent_and_mails_the_report(db):
    make_user(db, "redaktion@example.org")
    seed_subscribers(db, 3)
    issue = scheduled_issue(db)
    start(db, issue)
    rows = claim(db, issue)
    assert not services.finish_if_done(db, issue.id, now=utcnow(), notify=EditorMails(site_links()))
    record(
        db,
        issue,
        [
            outcome(rows[0], "sent"),
            outcome(rows[1], "sent"),
            outcome(rows[2], "failed", "550 5.1.1 nope"),
        ],
    )
    assert services.finish_if_done(db, issue.id, now=utcnow(), notify=EditorMails(site_links()))
    assert not services.finish_if_done(
        db, issue.id, now=utcnow(), notify=EditorMails(site_links())
    )  # once only
    report = services.get_report(db, issue.id)
    assert (report.state, report.sent, report.failed) == ("finished", 2, 1)
    assert report.failure_reasons == [["550 5.1.1 nope", 1]]
    assert issue.status == IssueStatus.SENT.value
    mail = db.scalars(select(QueuedMail).where(QueuedMail.purpose == "delivery_report")).one()
    assert "550 5.1.1 nope" in mail.text
    assert "leser" in mail.text  # the failed address is listed


def test_cancel_stops_the_rest_and_keeps_what_was_sent(db):
    make_user(db, "redaktion@example.org")
    seed_subscribers(db, 4)
    issue = scheduled_issue(db)
    start(db, issue)
    rows = claim(db, issue, limit=1)
    record(db, issue, [outcome(rows[0], "sent")])
    notify = EditorMails(site_links())
    assert services.cancel_sending(
        db, issue.id, now=utcnow(), notify=notify, actor="redaktion@example.org"
    )
    report = services.get_report(db, issue.id)
    assert (report.state, report.sent, report.cancelled) == ("cancelled", 1, 3)
    assert issue.status == IssueStatus.CANCELLED.value
    assert claim(db, issue) == []
    assert not services.cancel_sending(db, issue.id, now=utcnow(), notify=notify)
    assert db.scalar(
        select(func.count()).select_from(QueuedMail).where(QueuedMail.purpose == "delivery_report")
    )


def test_progress_counts_rate_and_time_left(db):
    seed_subscribers(db, 10)
    issue = scheduled_issue(db)
    now = utcnow()
    start(db, issue, now=now - timedelta(seconds=30))
    rows = claim(db, issue, limit=6, now=now)
    record(db, issue, [outcome(r, "sent") for r in rows[:5]], now=now)
    state = services.progress(db, issue.id, now=now + timedelta(seconds=1))
    assert (state.total, state.sent, state.pending, state.in_flight) == (10, 5, 5, 1)
    assert state.rate_per_second == pytest.approx(5 / 31, rel=0.05)
    assert state.eta_seconds == pytest.approx(5 / state.rate_per_second)


def test_erasing_a_subscriber_erases_their_delivery_records(db):
    gone = make_subscriber(db, "loeschen@example.org")
    make_subscriber(db, "bleibt@example.org")
    issue = scheduled_issue(db)
    start(db, issue)
    subscriber_services.erase_subscriber(db, gone, salts=site_salts())
    db.flush()
    db.expire_all()
    assert [r.address for r in records(db, issue)] == ["bleibt@example.org"]


def test_a_late_start_is_recorded_as_a_misfire(db):
    seed_subscribers(db, 1)
    now = utcnow()
    issue = scheduled_issue(db, send_at=now - timedelta(minutes=20))
    report = start(db, issue, now=now)
    assert report.late_seconds == 20 * 60
    assert "misfire" in services.event_codes(report)


def test_an_issue_grown_too_large_since_scheduling_is_not_started(db, app):
    seed_subscribers(db, 2)
    issue = scheduled_issue(db)
    settings = get_settings().model_copy(
        update={"delivery": get_settings().delivery.model_copy(update={"max_html_bytes": 1_000})}
    )
    with pytest.raises(services.DeliveryError, match="zu groß"):
        services.start_issue(db, issue.id, now=utcnow(), settings=settings, links=site_links())
    assert records(db, issue) == []
    assert issue.status == IssueStatus.SCHEDULED.value
    issue.size_override = True
    db.flush()
    started = services.start_issue(
        db, issue.id, now=utcnow(), settings=settings, links=site_links()
    )
    assert started is not None
