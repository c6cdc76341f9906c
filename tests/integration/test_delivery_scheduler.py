"""The scheduler's delivery jobs: due issues go out once, late ones are recorded or held."""

from collections import Counter
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from newsticker import jobs
from newsticker.config import get_settings
from newsticker.core.db import utcnow
from newsticker.core.mailqueue import QueuedMail
from newsticker.core.site import site_links
from newsticker.delivery import services
from newsticker.delivery.sender import IssueSender
from newsticker.issues.models import Issue, IssueStatus
from newsticker.scheduling import in_unit_of_work, registered_jobs
from tests.factories import (
    TZ,
    Relay,
    committed_app,
    in_transaction,
    make_issue,
    make_item,
    make_user,
    scheduled_issue,
    seed_subscribers,
    today,
)

EDITOR = "redaktion@example.org"


def setup(tmp_path, port, *, late: timedelta, count: int = 5):
    app = committed_app(tmp_path, **{"smtp.port": port})

    def seed(session):
        make_user(session, EDITOR)
        seed_subscribers(session, count)
        return scheduled_issue(session, send_at=utcnow() - late).id

    return app, in_transaction(app, seed)


def recipients(relay):
    return Counter(r.rcpt for r in relay.received if r.rcpt != EDITOR)


def test_down_at_ten_up_at_twenty_past_sends_once_and_records_the_misfire(tmp_path, caplog):
    with Relay() as relay:
        app, issue_id = setup(tmp_path, relay.port, late=timedelta(minutes=20))
        job = in_unit_of_work(app, jobs.send_due_issues)  # as the scheduler runs it
        first = job()
        second = job()
    assert first.started == [issue_id]
    assert second.started == [] and second.drained == {}
    assert sorted(recipients(relay).values()) == [1] * 5
    report = in_transaction(app, lambda s: services.get_report(s, issue_id))
    assert report.state == "finished"
    assert 20 * 60 <= report.late_seconds < 21 * 60
    assert ["misfire", 20] in [[e[1], e[2].get("minutes")] for e in report.events]
    assert "started 20 min late (misfire)" in caplog.text
    issue = in_transaction(app, lambda s: s.get(Issue, issue_id))
    assert issue.status == IssueStatus.SENT.value


def test_an_issue_far_past_its_time_is_held_until_an_editor_sends_it(tmp_path):
    with Relay() as relay:
        app, issue_id = setup(tmp_path, relay.port, late=timedelta(hours=3))
        job = in_unit_of_work(app, jobs.send_due_issues)
        run = job()
        assert run.held == [issue_id] and run.started == []
        assert job().held == []  # the editors are told once
        assert recipients(relay) == Counter()
        held_mails = [r for r in relay.received if r.rcpt == EDITOR]
        assert len(held_mails) == 1
        assert "Not sent yet" in held_mails[0].message["Subject"] or "Noch nicht" in str(
            held_mails[0].message["Subject"]
        )
        settings = app.config["NEWSTICKER_SETTINGS"]
        report = in_transaction(
            app,
            lambda s: services.start_issue(
                s,
                issue_id,
                now=utcnow(),
                settings=settings,
                links=site_links(app),
                allow_held=True,
                actor=EDITOR,
            ),
        )
        assert report.recipients == 5
        IssueSender(app, settings).drain(issue_id, wait=True)
    assert sorted(recipients(relay).values()) == [1] * 5


def test_rescheduling_a_held_issue_lets_the_new_time_decide(tmp_path):
    app, issue_id = setup(tmp_path, 1, late=timedelta(hours=3), count=0)
    in_unit_of_work(app, jobs.send_due_issues)()

    def reschedule(session):
        issue = session.get(Issue, issue_id)
        issue.scheduled_at = utcnow() - timedelta(seconds=5)

    in_transaction(app, reschedule)
    run = in_unit_of_work(app, jobs.send_due_issues)()
    assert run.started == [issue_id]


def test_jobs_and_their_times_come_from_the_settings(app):
    settings = get_settings().model_copy(
        update={
            "schedule": get_settings().schedule.model_copy(
                update={"draft_weekday": "tue", "draft_time": time(7, 30), "poll_seconds": 30}
            )
        }
    )
    by_id = {job["id"]: job for job in registered_jobs(settings)}
    assert by_id["send-due-issues"]["trigger_args"] == {"seconds": 30}
    assert by_id["prepare-weekly-draft"]["trigger_args"] == {
        "day_of_week": "tue",
        "hour": 7,
        "minute": 30,
    }
    assert by_id["remind-editors-of-draft"]["trigger_args"] == {"hour": 9, "minute": 0}
    defaults = {job["id"]: job for job in registered_jobs(get_settings())}
    assert defaults["prepare-weekly-draft"]["trigger_args"]["day_of_week"] == "mon"
    # Every job names a function of newsticker.jobs.
    assert all(callable(getattr(jobs, job["func"], None)) for job in defaults.values())
    assert defaults["purge-delivery-records"]["func"] == "purge_delivery_records"
    assert defaults["prepare-weekly-draft"]["trigger_args"]["hour"] == 8


def test_the_weekly_draft_is_prepared_and_the_editors_told_once(app, db, caught):
    make_user(db, EDITOR)
    make_item(db, title="Sprachcafé")
    drafted = in_unit_of_work(app, jobs.prepare_weekly_draft)()
    assert len(drafted) == 1
    assert in_unit_of_work(app, jobs.prepare_weekly_draft)() == []  # nothing new: no second mail
    issue = db.get(Issue, drafted[0])
    assert issue.status == IssueStatus.DRAFT.value and issue.publication == "ticker"
    mails = [m for m in caught() if m.to == EDITOR]
    assert len(mails) == 1
    assert f"/redaktion/ausgaben/{issue.id}" in mails[0].body("plain")


@pytest.mark.parametrize(("days", "reminded"), [(1, True), (2, False)])
def test_editors_are_reminded_the_day_before_when_it_is_still_a_draft(
    app, db, caught, days, reminded
):
    make_user(db, EDITOR)
    planned = datetime.combine(today() + timedelta(days=days), time(10), TZ)
    issue = make_issue(db, items=[make_item(db)], window_start=planned)
    db.flush()
    assert bool(in_unit_of_work(app, jobs.remind_editors_of_draft)()) is reminded
    assert in_unit_of_work(app, jobs.remind_editors_of_draft)() == []  # never twice
    mails = [m for m in caught() if m.to == EDITOR]
    assert len(mails) == (1 if reminded else 0)
    if reminded:
        assert str(issue.number) in mails[0].subject
        assert db.scalar(
            select(func.count()).where(QueuedMail.purpose == "delivery_draft_reminder")
        )
