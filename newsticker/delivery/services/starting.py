"""Starting a send: freeze the issue, one record per recipient; hold what missed its time.

`start_issue` runs first thing in a fresh transaction: the report row it inserts first is
the mutex, so of two schedulers or workers starting the same issue only one creates the
records. `send_or_queue` is the one decision behind "send this issue" (the command's
send-issue, the editor's "send now"): start it now, or say why not.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsticker.config import Settings
from newsticker.core.audit import Actor, record_event
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.core.links import Links
from newsticker.delivery import audience
from newsticker.delivery.headers import domain_of, message_id
from newsticker.delivery.models import Delivery, DeliveryReport, DeliveryStatus, SendState
from newsticker.delivery.services.reports import (
    DeliveryError,
    Notifier,
    add_event,
    get_report,
    minutes_text,
)
from newsticker.issues.models import Issue, IssueStatus
from newsticker.issues.services import bring_forward, issue_publications, start_sending

logger = logging.getLogger(__name__)

INSERT_CHUNK = 1000
# Started this much after the scheduled time (beyond one poll), a send counts as a misfire.
MISFIRE_TOLERANCE = timedelta(seconds=30)


def publication_slugs(settings: Settings, issue: Issue) -> list[str]:
    """Return the publications whose subscribers receive the issue (its own first).

    The editors' choice for this issue, else the configured also_send_to.
    """
    return issue_publications(settings, issue)


class _NotStartable(Exception):
    """The issue is not scheduled (or not due), or someone else started it."""


def start_issue(
    session: Session,
    issue_id: int,
    *,
    now: datetime,
    settings: Settings,
    links: Links,
    allow_held: bool = False,
    actor: str = "",
    due_by: datetime | None = None,
    who: Actor | None = None,
) -> DeliveryReport | None:
    """Freeze a scheduled issue, create a record per recipient and mark it sending.

    Call it first thing in a fresh transaction: the report row it inserts first is the
    mutex, so of two schedulers or workers starting the same issue only one creates the
    records. Returns None when the issue is not scheduled (or, with due_by, scheduled
    after that time) or was started by someone else (a held issue only with allow_held,
    which is what "send now" does). Raises the composing package's IssueError when the
    issue has nothing left to send.
    """
    try:
        with session.begin_nested():
            report = _take_report(session, issue_id, now=now, allow_held=allow_held, actor=actor)
            issue = session.get(Issue, issue_id)
            if issue is None or issue.status != IssueStatus.SCHEDULED:
                raise _NotStartable
            if due_by is not None and issue.scheduled_at and issue.scheduled_at > due_by:
                raise _NotStartable
            snapshots = start_sending(session, issue, now=now, links=links, settings=settings)
            largest = max((snapshot.html_bytes for snapshot in snapshots), default=0)
            if largest > settings.delivery.max_html_bytes and not issue.size_override:
                # It grew after it was scheduled (an item was edited): the editors decide.
                raise DeliveryError(
                    _l(
                        "The issue is too large to send: its HTML has %(size)d KB, the limit "
                        "is %(limit)d KB. Take it back to draft and shorten it, or confirm "
                        "the size when you schedule it again.",
                        size=largest // 1024,
                        limit=settings.delivery.max_html_bytes // 1024,
                    )
                )
            report.scheduled_for = issue.scheduled_at
            late = now - issue.scheduled_at if issue.scheduled_at else timedelta(0)
            report.late_seconds = max(int(late.total_seconds()), 0)
            if late > MISFIRE_TOLERANCE + timedelta(seconds=settings.schedule.poll_seconds):
                add_event(report, now, "misfire", minutes=int(late.total_seconds() // 60))
                logger.warning("issue %s started %s late (misfire)", issue_id, minutes_text(late))
            report.recipients = create_records(session, issue, settings=settings, now=now)
            add_event(report, now, "started", recipients=report.recipients, actor=actor)
            record_event(
                session,
                "delivery.started",
                actor=who or Actor.system(actor or "scheduler"),
                now=now,
                subject=("issue", issue_id),
                summary=f"{issue.publication} #{issue.number}: {report.recipients} recipients",
                details={"recipients": report.recipients, "late_seconds": report.late_seconds},
            )
            session.flush()
    except _NotStartable:
        return None
    logger.info("issue %s: sending to %s recipients", issue_id, report.recipients)
    return report


def _take_report(
    session: Session, issue_id: int, *, now: datetime, allow_held: bool, actor: str
) -> DeliveryReport:
    report = DeliveryReport(
        issue_id=issue_id, state=SendState.SENDING, started_at=now, updated_at=now
    )
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:
        # Someone started it already (or it is held, or there is no such issue).
        existing = get_report(session, issue_id)
        if existing is None or existing.state != SendState.HELD or not allow_held:
            raise _NotStartable from None
        report = existing
        report.state = SendState.SENDING
        report.started_at = now
        report.pause_reason = ""
        add_event(report, now, "sent_on_request", actor=actor)
    return report


def create_records(session: Session, issue: Issue, *, settings: Settings, now: datetime) -> int:
    """Insert one pending record per recipient, streaming; return how many."""
    domain = domain_of(settings.mail.sender)
    # Random per issue, so Message-IDs are unique across installations and databases.
    key = f"nt{issue.id}.{secrets.token_hex(4)}"
    count = 0
    chunk: list[dict[str, Any]] = []
    for row in audience.recipients(session, publication_slugs(settings, issue)):
        chunk.append(
            {
                "issue_id": issue.id,
                "subscriber_id": row.subscriber_id,
                "publication": row.publication,
                "address": row.address,
                "name": (row.name or "")[:200],
                "language": row.language or settings.site.default_language,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "message_id": message_id(key, row.subscriber_id, domain),
                "result": "",
            }
        )
        if len(chunk) >= INSERT_CHUNK:
            session.execute(insert(Delivery), chunk)
            count += len(chunk)
            chunk = []
    if chunk:
        session.execute(insert(Delivery), chunk)
        count += len(chunk)
    return count


def hold_issue(
    session: Session, issue_id: int, *, now: datetime, late: timedelta, notify: Notifier
) -> DeliveryReport | None:
    """Keep a scheduled issue that missed its time by too much from going out by itself.

    Call first thing in a fresh transaction; None when it is already held or started.
    `notify` tells the editors that it waits for their decision.
    """
    report = DeliveryReport(issue_id=issue_id, state=SendState.HELD, updated_at=now, late_seconds=0)
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:
        return None
    issue = session.get(Issue, issue_id)
    report.scheduled_for = issue.scheduled_at if issue else None
    report.late_seconds = int(late.total_seconds())
    report.pause_reason = f"missed its time by {minutes_text(late)}"
    add_event(report, now, "held", minutes=int(late.total_seconds() // 60))
    session.flush()
    notify.held(session, report)
    return report


def forget_stale_hold(session: Session, issue: Issue) -> bool:
    """Drop a hold whose issue was rescheduled since (its new time decides again)."""
    report = get_report(session, issue.id)
    if (
        report is not None
        and report.state == SendState.HELD
        and report.scheduled_for != issue.scheduled_at
    ):
        session.delete(report)
        session.flush()
        return True
    return False


# ---------------------------------------------------------------- send now, or queue


class SendDecision(StrEnum):
    """What "send this issue" came to."""

    STARTED = "started"  # this call froze it and created its records
    JOINED = "joined"  # its send is under way (started elsewhere): join its workers
    QUEUED = "queued"  # scheduled for later: the scheduler starts it then
    PAUSED = "paused"  # its send is paused: resume it first
    ENDED = "ended"  # its send finished or was cancelled: nothing is left to send
    DRAFT = "draft"  # a draft is never sent: an editor schedules it first
    UNSENDABLE = "unsendable"  # cancelled, or sent without a send here: nothing to send
    MISSING = "missing"  # there is no such issue


@dataclass(frozen=True)
class SendOrQueue:
    """What `send_or_queue` did, with what the caller tells about it."""

    decision: SendDecision
    status: IssueStatus | None = None
    scheduled_at: datetime | None = None
    report: DeliveryReport | None = None


def send_or_queue(
    session: Session,
    issue_id: int,
    *,
    now: datetime,
    send_now: bool,
    settings: Settings,
    links: Links,
    actor: str = "",
    who: Actor | None = None,
) -> SendOrQueue:
    """Start the issue's send if it is due (or send_now brings it forward); else say why not.

    Call it first thing in a fresh transaction: its first statement writes (moving the
    time forward, or inserting the report row), which on SQLite takes the write lock
    before anything is read. A held issue is started too: it waits for exactly this.
    Raises UserError when the issue cannot be sent as it is (too large, empty).
    """
    if send_now:
        bring_forward(session, issue_id, now=now)
    report = start_issue(
        session,
        issue_id,
        now=now,
        settings=settings,
        links=links,
        allow_held=True,
        actor=actor,
        due_by=now,
        who=who,
    )
    issue = session.get(Issue, issue_id)
    if issue is None:
        return SendOrQueue(SendDecision.MISSING)
    status, scheduled_at = IssueStatus(issue.status), issue.scheduled_at
    if report is not None:
        return SendOrQueue(SendDecision.STARTED, status, scheduled_at, report)
    report = get_report(session, issue_id)
    state = report.state if report is not None else None
    decision = SendDecision.JOINED
    if state is None or state == SendState.HELD:
        if status == IssueStatus.DRAFT:
            decision = SendDecision.DRAFT
        elif status != IssueStatus.SCHEDULED:
            decision = SendDecision.UNSENDABLE
        elif scheduled_at is not None and scheduled_at > now:
            decision = SendDecision.QUEUED
    elif state == SendState.PAUSED:
        decision = SendDecision.PAUSED
    elif state != SendState.SENDING:
        decision = SendDecision.ENDED
    return SendOrQueue(decision, status, scheduled_at, report)
