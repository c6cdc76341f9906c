"""Where a send stands: counts per status, rate and time left, reports, and their retention.

The per-recipient records hold addresses and names; they are kept only as long as
someone may ask about one mail (`purge_records`). The report row keeps the counts and
the reasons of failures, filled when the send ends (`fill_report`), so the progress page
still shows them after the records are gone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from newsticker.delivery.models import (
    FINAL_STATES,
    Delivery,
    DeliveryReport,
    DeliveryStatus,
    SendState,
)
from newsticker.delivery.services.reports import get_report
from newsticker.issues.models import Issue, IssueStatus

# Failure reasons kept in the report (most frequent first).
REPORT_REASONS = 20
RATE_WINDOW = timedelta(seconds=60)


def has_pending(session: Session, issue_id: int) -> bool:
    """Return whether any record of the issue still waits to be sent."""
    return (
        session.scalar(
            select(Delivery.id)
            .where(Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.PENDING)
            .limit(1)
        )
        is not None
    )


def next_due(session: Session, issue_id: int, *, now: datetime) -> datetime | None:
    """Return when the next pending record becomes claimable (a retry or a lease running out)."""
    value = session.scalar(
        select(func.min(Delivery.next_attempt_at)).where(
            Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.PENDING
        )
    )
    return None if value is None else max(value, now)


def status_counts(session: Session, issue_id: int) -> dict[str, int]:
    """Return how many records of the issue are in each status."""
    rows = session.execute(
        select(Delivery.status, func.count())
        .where(Delivery.issue_id == issue_id)
        .group_by(Delivery.status)
    ).all()
    return {str(status): int(count) for status, count in rows}


def failure_reasons(session: Session, issue_id: int) -> list[list[Any]]:
    """Return [[reason, count], ...] of the failed records, most frequent first."""
    counter: Counter[str] = Counter()
    for (result,) in session.execute(
        select(Delivery.result).where(
            Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.FAILED
        )
    ):
        counter[" ".join(str(result).split())[:200] or "?"] += 1
    return [[reason, count] for reason, count in counter.most_common(REPORT_REASONS)]


def failed_deliveries(session: Session, issue_id: int, *, limit: int = 100) -> list[Delivery]:
    """Return failed records of the issue (for the report), oldest first."""
    return list(
        session.scalars(
            select(Delivery)
            .where(Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.FAILED)
            .order_by(Delivery.id)
            .limit(limit)
        )
    )


def fill_report(session: Session, report: DeliveryReport) -> None:
    """Copy the final counts and failure reasons of the records into the report."""
    counts = status_counts(session, report.issue_id)
    report.sent = counts.get(DeliveryStatus.SENT, 0)
    report.failed = counts.get(DeliveryStatus.FAILED, 0)
    report.skipped = counts.get(DeliveryStatus.SKIPPED, 0)
    report.cancelled = counts.get(DeliveryStatus.CANCELLED, 0)
    report.failure_reasons = failure_reasons(session, report.issue_id)


@dataclass
class Progress:
    """Where the sending of an issue stands, for the progress page and the command."""

    state: SendState | None
    total: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0
    pending: int = 0
    in_flight: int = 0
    retrying: int = 0
    rate_per_second: float = 0.0
    eta_seconds: float | None = None
    report: DeliveryReport | None = None
    counts: dict[str, int] = field(default_factory=dict)
    # The send is long over and its per-recipient records were deleted: the counts are
    # the report's.
    records_purged: bool = False

    @property
    def done(self) -> int:
        """Return how many records are final."""
        return self.total - self.pending

    @property
    def finished(self) -> bool:
        """Return whether every record is sent or finally failed (or skipped, cancelled)."""
        return self.state in FINAL_STATES


def progress(session: Session, issue_id: int, *, now: datetime) -> Progress:
    """Return counts, the current rate and the estimated time left of an issue's send."""
    report = get_report(session, issue_id)
    counts = status_counts(session, issue_id)
    purged = False
    if not counts and report is not None and report.state in FINAL_STATES:
        # The records are gone (purge_records): the report kept the counts.
        counts = {
            DeliveryStatus.SENT: report.sent,
            DeliveryStatus.FAILED: report.failed,
            DeliveryStatus.SKIPPED: report.skipped,
            DeliveryStatus.CANCELLED: report.cancelled,
        }
        purged = report.recipients > 0
    result = Progress(
        state=report.state if report else None,
        report=report,
        counts=counts,
        records_purged=purged,
    )
    result.total = sum(counts.values())
    result.sent = counts.get(DeliveryStatus.SENT, 0)
    result.failed = counts.get(DeliveryStatus.FAILED, 0)
    result.skipped = counts.get(DeliveryStatus.SKIPPED, 0)
    result.cancelled = counts.get(DeliveryStatus.CANCELLED, 0)
    result.pending = counts.get(DeliveryStatus.PENDING, 0)
    if result.pending:
        pending = and_(Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.PENDING)
        result.in_flight = int(
            session.scalar(select(func.count()).where(pending, Delivery.lease_until > now)) or 0
        )
        result.retrying = int(
            session.scalar(select(func.count()).where(pending, Delivery.attempts > 0)) or 0
        )
    if report is not None and report.state == SendState.SENDING and report.started_at:
        since = max(now - RATE_WINDOW, report.started_at)
        seconds = (now - since).total_seconds()
        recent = session.scalar(
            select(func.count()).where(
                Delivery.issue_id == issue_id,
                Delivery.status == DeliveryStatus.SENT,
                Delivery.sent_at >= since,
            )
        )
        if seconds > 0.5 and recent:
            result.rate_per_second = int(recent) / seconds
            result.eta_seconds = result.pending / result.rate_per_second
    return result


def purge_records(session: Session, *, before: datetime) -> int:
    """Delete the per-recipient records of sends that ended before a time; return how many.

    They hold addresses and names, kept only as long as someone may ask about one mail;
    the report keeps the counts and the reasons of failures (filled when the send ended).
    """
    ended = select(DeliveryReport.issue_id).where(
        DeliveryReport.state.in_(FINAL_STATES), DeliveryReport.finished_at < before
    )
    result = session.execute(
        delete(Delivery)
        .where(Delivery.issue_id.in_(ended))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def sending_issue_ids(session: Session) -> list[int]:
    """Return the issues whose records workers may claim now, oldest first."""
    return list(
        session.scalars(
            select(DeliveryReport.issue_id)
            .where(DeliveryReport.state == SendState.SENDING)
            .order_by(DeliveryReport.started_at, DeliveryReport.issue_id)
        )
    )


def recent_reports(
    session: Session, *, limit: int = 50
) -> list[tuple[DeliveryReport | None, Issue]]:
    """Return the latest sends with their issues, newest first.

    Every issue that is being sent or was sent is listed, also one without a report
    (the demo's first issue, or one sent before delivery kept reports): it has no
    counts to show, but it was sent. Issues scheduled, held or cancelled after their
    sending began are listed through their report.
    """
    when = func.coalesce(DeliveryReport.started_at, Issue.sent_at, Issue.scheduled_at)
    rows = session.execute(
        select(DeliveryReport, Issue)
        .select_from(Issue)
        .outerjoin(DeliveryReport, DeliveryReport.issue_id == Issue.id)
        .where(
            or_(
                DeliveryReport.id.is_not(None),
                Issue.status.in_([IssueStatus.SENDING, IssueStatus.SENT]),
            )
        )
        .order_by(when.desc(), Issue.id.desc())
        .limit(limit)
    ).all()
    return [(report, issue) for report, issue in rows]
