"""One decision behind "send this issue": start it, queue it, join it, or say why not.

`send_or_queue` serves `newsticker send-issue [--now]` and the progress page's "send
now"; these tests take it through every case, and the page through its two answers.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from newsticker.config import get_settings
from newsticker.core.db import utcnow
from newsticker.core.site import site_links
from newsticker.delivery import services
from newsticker.delivery.mails import EditorMails
from newsticker.delivery.services import SendDecision
from newsticker.issues.models import Issue, IssueStatus
from tests.factories import (
    committed_app,
    create_editor,
    in_transaction,
    login,
    make_issue,
    scheduled_issue,
    seed_subscribers,
)


def send(db, issue_id, *, send_now=False, now=None, settings=None):
    return services.send_or_queue(
        db,
        issue_id,
        now=now or utcnow(),
        send_now=send_now,
        settings=settings or get_settings(),
        links=site_links(),
        actor="test",
    )


def test_a_due_issue_is_started(db):
    seed_subscribers(db, 3)
    issue = scheduled_issue(db)
    result = send(db, issue.id)
    assert result.decision == SendDecision.STARTED
    assert result.report is not None and result.report.recipients == 3
    assert issue.status == IssueStatus.SENDING


def test_a_later_issue_is_queued_and_left_alone(db):
    later = utcnow() + timedelta(days=1)
    issue = scheduled_issue(db, send_at=later)
    version = issue.version
    result = send(db, issue.id)
    assert result.decision == SendDecision.QUEUED
    assert result.scheduled_at == later
    assert services.get_report(db, issue.id) is None
    db.refresh(issue)
    assert (issue.status, issue.scheduled_at, issue.version) == (
        IssueStatus.SCHEDULED,
        later,
        version,
    )


def test_send_now_brings_a_later_issue_forward(db):
    seed_subscribers(db, 2)
    issue = scheduled_issue(db, send_at=utcnow() + timedelta(days=1))
    version = issue.version
    now = utcnow()
    result = send(db, issue.id, send_now=True, now=now)
    assert result.decision == SendDecision.STARTED
    db.refresh(issue)
    assert issue.scheduled_at == now
    assert issue.version > version  # an editor's form of before is stale now
    assert result.report is not None and result.report.late_seconds == 0


def test_an_issue_under_way_is_joined_and_not_started_twice(db):
    seed_subscribers(db, 2)
    issue = scheduled_issue(db)
    assert send(db, issue.id).decision == SendDecision.STARTED
    again = send(db, issue.id, send_now=True)
    assert again.decision == SendDecision.JOINED
    assert again.report is not None and again.report.recipients == 2


def test_a_paused_send_must_be_resumed_first(db):
    seed_subscribers(db, 2)
    issue = scheduled_issue(db)
    send(db, issue.id)
    services.pause_issue(db, issue.id, reason="relay down", now=utcnow())
    result = send(db, issue.id, send_now=True)
    assert result.decision == SendDecision.PAUSED
    assert result.report is not None and result.report.pause_reason == "relay down"


def test_an_ended_send_has_nothing_left(db):
    seed_subscribers(db, 2)
    issue = scheduled_issue(db)
    send(db, issue.id)
    services.cancel_sending(db, issue.id, now=utcnow(), notify=EditorMails(site_links()))
    assert send(db, issue.id).decision == SendDecision.ENDED


def test_a_held_issue_is_sent_on_request(db):
    seed_subscribers(db, 2)
    issue = scheduled_issue(db, send_at=utcnow() - timedelta(hours=3))
    notify = EditorMails(site_links())
    assert services.hold_issue(db, issue.id, now=utcnow(), late=timedelta(hours=3), notify=notify)
    result = send(db, issue.id)
    assert result.decision == SendDecision.STARTED
    assert result.report is not None and result.report.state == "sending"
    assert ["sent_on_request", "test"] in [[e[1], e[2].get("actor")] for e in result.report.events]


def test_drafts_other_issues_and_unknown_ids_are_not_sent(db):
    draft = make_issue(db)
    assert send(db, draft.id, send_now=True).decision == SendDecision.DRAFT
    cancelled = make_issue(db, number=2, status=IssueStatus.CANCELLED)
    result = send(db, cancelled.id, send_now=True)
    assert (result.decision, result.status) == (SendDecision.UNSENDABLE, "cancelled")
    assert send(db, 999_999).decision == SendDecision.MISSING
    assert services.get_report(db, draft.id) is None
    assert services.get_report(db, cancelled.id) is None


def test_an_issue_too_large_is_refused_and_nothing_moves(tmp_path):
    app = committed_app(tmp_path, **{"delivery.max_html_bytes": 10_000})
    later = utcnow() + timedelta(days=1)

    def seed(session):
        seed_subscribers(session, 2)
        return scheduled_issue(session, send_at=later, items=8).id

    issue_id = in_transaction(app, seed)
    with pytest.raises(services.DeliveryError, match="too large"):
        in_transaction(
            app,
            lambda s: services.send_or_queue(
                s,
                issue_id,
                now=utcnow(),
                send_now=True,
                settings=get_settings(),
                links=site_links(),
            ),
        )
    issue = in_transaction(app, lambda s: s.get(Issue, issue_id))
    assert (issue.status, issue.scheduled_at) == (IssueStatus.SCHEDULED, later)
    assert in_transaction(app, lambda s: services.get_report(s, issue_id)) is None


# ---------------------------------------------------------------- the page's "send now"


@pytest.fixture
def editor_client(app, client, db):
    app.config["WTF_CSRF_ENABLED"] = False
    create_editor(db)
    login(client)
    return client


def test_send_now_on_the_page_starts_a_held_issue(editor_client, db):
    seed_subscribers(db, 2)
    issue = scheduled_issue(db, send_at=utcnow() - timedelta(hours=3))
    notify = EditorMails(site_links())
    services.hold_issue(db, issue.id, now=utcnow(), late=timedelta(hours=3), notify=notify)
    response = editor_client.post(f"/redaktion/versand/{issue.id}/jetzt-senden")
    assert response.status_code == 303
    assert services.get_report(db, issue.id).state == "sending"


def test_send_now_on_the_page_refuses_a_draft(editor_client, db):
    draft = make_issue(db)
    response = editor_client.post(f"/redaktion/versand/{draft.id}/jetzt-senden")
    assert response.status_code == 409
    assert services.get_report(db, draft.id) is None
