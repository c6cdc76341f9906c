"""Control of a send: pause, resume, cancel, and finishing when nothing is pending.

Each starts with one conditional UPDATE of the report row: it decides (only one of two
editors, or of a worker and an editor, wins) and, on SQLite, takes the write lock before
anything is read. Only then are the records and the issue changed. What the editors must
hear of (a send paused by failures, the report) goes to the `Notifier` the caller passes.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from newsticker.core.audit import Actor, record_event
from newsticker.core.webhooks import emit_event
from newsticker.delivery.models import (
    CANCELLABLE_STATES,
    Delivery,
    DeliveryReport,
    DeliveryStatus,
    SendState,
)
from newsticker.delivery.services.progress import fill_report, has_pending
from newsticker.delivery.services.reports import Notifier, add_event, get_report
from newsticker.issues.models import Issue, IssueStatus
from newsticker.issues.services import mark_sent, stop_sending

logger = logging.getLogger(__name__)


def _record(
    session: Session,
    action: str,
    issue_id: int,
    who: Actor | None,
    actor: str,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    """Add a turn of a send to the audit trail (by a person, the command line or the system)."""
    issue = session.get(Issue, issue_id)
    record_event(
        session,
        action,
        actor=who or Actor.system(actor or "system"),
        now=now,
        subject=("issue", issue_id),
        summary=f"{issue.publication} #{issue.number}" if issue is not None else "",
        details=details,
    )


def pause_issue(
    session: Session,
    issue_id: int,
    *,
    reason: str,
    now: datetime,
    actor: str = "",
    notify: Notifier | None = None,
    who: Actor | None = None,
) -> bool:
    """Stop workers from claiming more of the issue; return False if it was not sending.

    A pause nobody asked for (failures in a row) passes `notify`, to tell the editors.
    """
    changed = session.execute(
        update(DeliveryReport)
        .where(
            DeliveryReport.issue_id == issue_id,
            DeliveryReport.state == SendState.SENDING,
        )
        .values(state=SendState.PAUSED, paused_at=now, pause_reason=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        return False
    report = get_report(session, issue_id)
    if report is not None:
        session.refresh(report)
        add_event(report, now, "paused", actor=actor, reason=reason)
        _record(session, "delivery.paused", issue_id, who, actor, now, {"reason": reason[:500]})
        if notify is not None:
            notify.paused(session, report)
    logger.warning("issue %s paused: %s", issue_id, reason)
    session.flush()
    return True


def resume_issue(
    session: Session, issue_id: int, *, now: datetime, actor: str = "", who: Actor | None = None
) -> bool:
    """Let workers go on with a paused issue; the failure run starts again from zero."""
    # The conditional update comes first: it decides, and on SQLite takes the write lock.
    changed = session.execute(
        update(DeliveryReport)
        .where(
            DeliveryReport.issue_id == issue_id,
            DeliveryReport.state == SendState.PAUSED,
        )
        .values(state=SendState.SENDING, failure_run=0, pause_reason="", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        return False
    # Records waiting for a retry because of the outage may go now (not those in a
    # worker's hands: their lease still runs).
    session.execute(
        update(Delivery)
        .where(
            Delivery.issue_id == issue_id,
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.next_attempt_at > now,
            or_(Delivery.lease_until.is_(None), Delivery.lease_until <= now),
        )
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    report = get_report(session, issue_id)
    if report is not None:
        session.refresh(report)
        add_event(report, now, "resumed", actor=actor)
        _record(session, "delivery.resumed", issue_id, who, actor, now)
    session.flush()
    return True


def cancel_sending(
    session: Session,
    issue_id: int,
    *,
    now: datetime,
    notify: Notifier,
    actor: str = "",
    who: Actor | None = None,
) -> bool:
    """Stop an issue for good: records not yet sent are cancelled, the report is mailed."""
    changed = session.execute(
        update(DeliveryReport)
        .where(
            DeliveryReport.issue_id == issue_id,
            DeliveryReport.state.in_(CANCELLABLE_STATES),
        )
        .values(state=SendState.CANCELLED, finished_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        return False
    session.execute(
        update(Delivery)
        .where(Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.PENDING)
        .values(
            status=DeliveryStatus.CANCELLED,
            lease_until=None,
            lease_owner=None,
            result="the issue was cancelled",
        )
        .execution_options(synchronize_session=False)
    )
    issue = session.get(Issue, issue_id)
    if issue is not None:
        stop_sending(session, issue, now=now)
    report = get_report(session, issue_id)
    assert report is not None
    session.refresh(report)
    add_event(report, now, "cancelled", actor=actor)
    _record(session, "delivery.cancelled", issue_id, who, actor, now)
    fill_report(session, report)
    session.flush()
    if report.recipients:
        notify.ended(session, report)
        report.report_mailed_at = now
    return True


def finish_if_done(session: Session, issue_id: int, *, now: datetime, notify: Notifier) -> bool:
    """Mark the issue sent and mail the report once no record is pending; True if we did."""
    if has_pending(session, issue_id):
        return False
    changed = session.execute(
        update(DeliveryReport)
        .where(
            DeliveryReport.issue_id == issue_id,
            DeliveryReport.state == SendState.SENDING,
        )
        .values(state=SendState.FINISHED, finished_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        return False  # another worker finished it, or it is paused or cancelled
    report = get_report(session, issue_id)
    assert report is not None
    session.refresh(report)
    fill_report(session, report)
    add_event(report, now, "finished")
    issue = session.get(Issue, issue_id)
    if issue is not None and issue.status == IssueStatus.SENDING:
        mark_sent(session, issue, now=now)
    notify.ended(session, report)
    report.report_mailed_at = now
    if issue is not None:
        data = {
            "id": issue.id,
            "publication": issue.publication,
            "number": issue.number,
            "subject": issue.subject,
            "sent_at": now.isoformat(),
            "recipients": {"sent": report.sent, "failed": report.failed, "skipped": report.skipped},
        }
        emit_event(session, "issue.sent", data, now=now)
    session.flush()
    logger.info(
        "issue %s finished: sent %s, failed %s, skipped %s",
        issue_id,
        report.sent,
        report.failed,
        report.skipped,
    )
    return True
