"""Sending an issue: delivery records, claims with leases, results, pause, resume, cancel.

The life of a send:

1. `start_issue` (one transaction): the report row, the frozen rendering, and one record
   per recipient (the confirmed subscribers at that moment, each once).
2. Workers, each in transactions of its own: `claim_batch` leases a batch of due records
   (FOR UPDATE SKIP LOCKED on PostgreSQL; on SQLite the claim is a single
   UPDATE … RETURNING that opens its transaction, so it holds the one write lock from its
   first read on), `skip_unsubscribed` drops who left since, the messages go out, and
   `record_results` writes the outcomes of many messages in one transaction.
3. A lease that runs out (a worker died) makes its records claimable again.
4. When no record is pending, `finish_if_done` marks the issue sent and mails the report.

Services flush, never commit: the worker (or command, or job) owns each transaction.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsticker.config import Settings
from newsticker.core.errors import UserError
from newsticker.delivery import audience
from newsticker.delivery.compose import domain_of, message_id
from newsticker.delivery.models import (
    Delivery,
    DeliveryReport,
    DeliveryStatus,
    SendState,
)
from newsticker.issues.models import Issue, IssueStatus

logger = logging.getLogger(__name__)

INSERT_CHUNK = 1000
MAX_BACKOFF = timedelta(hours=6)
# Failure reasons kept in the report (most frequent first).
REPORT_REASONS = 20
# Started this much after the scheduled time (beyond one poll), a send counts as a misfire.
MISFIRE_TOLERANCE = timedelta(seconds=30)

PENDING = DeliveryStatus.PENDING.value


class DeliveryError(UserError):
    """A delivery action that is not possible now, with a message for the editor."""


@dataclass(frozen=True)
class Claimed:
    """A record a worker holds a lease on."""

    id: int
    subscriber_id: int
    address: str
    name: str
    language: str
    publication: str
    message_id: str
    attempts: int


@dataclass(frozen=True)
class Outcome:
    """What the relay said to one message."""

    delivery_id: int
    subscriber_id: int
    kind: Literal["sent", "retry", "failed"]
    reply: str
    attempts: int  # attempts before this one


def publication_slugs(settings: Settings, issue: Issue) -> list[str]:
    """Return the publications whose subscribers receive the issue (its own first)."""
    publication = settings.publication(issue.publication)
    also = publication.also_send_to if publication is not None else []
    return [issue.publication, *also]


def get_report(session: Session, issue_id: int) -> DeliveryReport | None:
    """Return the sending state and report of an issue, if its sending began."""
    return session.scalars(
        select(DeliveryReport).where(DeliveryReport.issue_id == issue_id)
    ).first()


def _event(report: DeliveryReport, now: datetime, text: str) -> None:
    # A new list, so the JSON column is seen as changed.
    report.events = [*(report.events or []), [now.isoformat(), text]]
    report.updated_at = now


# ---------------------------------------------------------------- starting


class _NotStartable(Exception):
    """The issue is not scheduled, or someone else started it."""


def start_issue(
    session: Session,
    issue_id: int,
    *,
    now: datetime,
    settings: Settings,
    allow_held: bool = False,
    actor: str = "",
) -> DeliveryReport | None:
    """Freeze a scheduled issue, create a record per recipient and mark it sending.

    Call it first thing in a fresh transaction: the report row it inserts first is the
    mutex, so of two schedulers or workers starting the same issue only one creates the
    records. Returns None when the issue is not scheduled or was started by someone else
    (a held issue only with allow_held, which is what "send now" does). Raises the
    composing package's IssueError when the issue has nothing left to send.
    """
    from newsticker.issues import services as issue_services

    try:
        with session.begin_nested():
            report = _take_report(session, issue_id, now=now, allow_held=allow_held, actor=actor)
            issue = session.get(Issue, issue_id)
            if issue is None or issue.status != IssueStatus.SCHEDULED.value:
                raise _NotStartable
            snapshots = issue_services.start_sending(session, issue, now=now)
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
                _event(report, now, f"misfire: started {_minutes(late)} after its scheduled time")
                logger.warning("issue %s started %s late (misfire)", issue_id, _minutes(late))
            report.recipients = create_records(session, issue, settings=settings, now=now)
            _event(report, now, f"started with {report.recipients} recipients{_by(actor)}")
            session.flush()
    except _NotStartable:
        return None
    logger.info("issue %s: sending to %s recipients", issue_id, report.recipients)
    return report


def _take_report(
    session: Session, issue_id: int, *, now: datetime, allow_held: bool, actor: str
) -> DeliveryReport:
    report = DeliveryReport(
        issue_id=issue_id, state=SendState.SENDING.value, started_at=now, updated_at=now
    )
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:
        existing = get_report(session, issue_id)
        if existing is None or existing.state != SendState.HELD.value or not allow_held:
            raise _NotStartable from None
        report = existing
        report.state = SendState.SENDING.value
        report.started_at = now
        report.pause_reason = ""
        _event(report, now, f"sent on an editor's request{_by(actor)}")
    return report


def _by(actor: str) -> str:
    return f" by {actor}" if actor else ""


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"


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
                "status": PENDING,
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
    session: Session, issue_id: int, *, now: datetime, late: timedelta
) -> DeliveryReport | None:
    """Keep a scheduled issue that missed its time by too much from going out by itself.

    Call first thing in a fresh transaction; None when it is already held or started.
    """
    report = DeliveryReport(
        issue_id=issue_id, state=SendState.HELD.value, updated_at=now, late_seconds=0
    )
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:
        return None
    issue = session.get(Issue, issue_id)
    report.scheduled_for = issue.scheduled_at if issue else None
    report.late_seconds = int(late.total_seconds())
    report.pause_reason = f"missed its time by {_minutes(late)}"
    _event(report, now, f"held: the scheduler found it {_minutes(late)} after its time")
    session.flush()
    return report


def forget_stale_hold(session: Session, issue: Issue) -> bool:
    """Drop a hold whose issue was rescheduled since (its new time decides again)."""
    report = get_report(session, issue.id)
    if (
        report is not None
        and report.state == SendState.HELD.value
        and report.scheduled_for != issue.scheduled_at
    ):
        session.delete(report)
        session.flush()
        return True
    return False


# ---------------------------------------------------------------- claiming


def claim_batch(
    session: Session,
    issue_id: int,
    *,
    owner: str,
    limit: int,
    now: datetime,
    lease_seconds: float,
) -> list[Claimed]:
    """Lease up to `limit` due records of the issue to `owner`; first thing in a transaction."""
    due = (
        select(Delivery.id)
        .where(
            Delivery.issue_id == issue_id,
            Delivery.status == PENDING,
            Delivery.next_attempt_at <= now,
            or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
            # Nothing is claimed of a paused or cancelled issue.
            select(DeliveryReport.id)
            .where(
                DeliveryReport.issue_id == issue_id,
                DeliveryReport.state == SendState.SENDING.value,
            )
            .exists(),
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Two workers never wait for each other's rows, and never get the same one.
        due = due.with_for_update(skip_locked=True, of=Delivery)
    lease_end = now + timedelta(seconds=lease_seconds)
    rows = session.execute(
        update(Delivery)
        .where(Delivery.id.in_(due.scalar_subquery()))
        # The record's next chance is when the lease ends (if its worker dies).
        .values(lease_until=lease_end, lease_owner=owner, next_attempt_at=lease_end)
        .returning(
            Delivery.id,
            Delivery.subscriber_id,
            Delivery.address,
            Delivery.name,
            Delivery.language,
            Delivery.publication,
            Delivery.message_id,
            Delivery.attempts,
        )
        .execution_options(synchronize_session=False)
    ).all()
    claimed = [
        Claimed(
            id=row.id,
            subscriber_id=row.subscriber_id,
            address=row.address,
            name=row.name,
            language=row.language,
            publication=row.publication,
            message_id=row.message_id,
            attempts=row.attempts,
        )
        for row in rows
    ]
    return sorted(claimed, key=lambda c: c.id)


def skip_unsubscribed(
    session: Session, claimed: Sequence[Claimed], slugs: Sequence[str], *, now: datetime
) -> list[Claimed]:
    """Mark records of people who left since the send began as skipped; return the rest."""
    if not claimed:
        return []
    receiving = audience.still_receiving(session, slugs, {c.subscriber_id for c in claimed})
    gone = [c.id for c in claimed if c.subscriber_id not in receiving]
    if gone:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(gone))
            .values(
                status=DeliveryStatus.SKIPPED.value,
                lease_until=None,
                lease_owner=None,
                result="no longer subscribed when its turn came",
            )
            .execution_options(synchronize_session=False)
        )
    return [c for c in claimed if c.subscriber_id in receiving]


def release(session: Session, ids: Iterable[int], *, owner: str, now: datetime) -> int:
    """Give back leased records that were not sent (shutdown, pause, lease running out)."""
    ids = list(ids)
    if not ids:
        return 0
    result = session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids), Delivery.lease_owner == owner, Delivery.status == PENDING)
        .values(lease_until=None, lease_owner=None, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- results


_TABLE = cast(Table, Delivery.__table__)
_BY_ID = _TABLE.c.id == bindparam("b_id")
_DONE_WITH_LEASE = {
    "attempts": _TABLE.c.attempts + 1,
    "lease_until": None,
    "lease_owner": None,
    "result": bindparam("b_result"),
}
_MARK_SENT = (
    update(_TABLE)
    .where(_BY_ID)
    .values(status=DeliveryStatus.SENT.value, sent_at=bindparam("b_now"), **_DONE_WITH_LEASE)
)
# PostgreSQL: a batch of sent records in one statement (an executemany costs a statement
# per row); the ids and replies come as two arrays, unnested side by side.
_SENT_ROWS = (
    func.unnest(
        bindparam("b_ids", type_=postgresql.ARRAY(BigInteger)),
        bindparam("b_results", type_=postgresql.ARRAY(Text)),
    )
    .table_valued("id", "result")
    .render_derived(name="sent")
)
_MARK_SENT_ARRAYS = (
    update(_TABLE)
    .where(_TABLE.c.id == _SENT_ROWS.c.id)
    .values(
        status=DeliveryStatus.SENT.value,
        sent_at=bindparam("b_now"),
        attempts=_TABLE.c.attempts + 1,
        lease_until=None,
        lease_owner=None,
        result=_SENT_ROWS.c.result,
    )
)
_MARK_FAILED = (
    update(_TABLE).where(_BY_ID).values(status=DeliveryStatus.FAILED.value, **_DONE_WITH_LEASE)
)
# Only while the lease is ours: after it ran out, another worker owns the attempt.
_MARK_RETRY = (
    update(_TABLE)
    .where(_BY_ID, _TABLE.c.lease_owner == bindparam("b_owner"), _TABLE.c.status == PENDING)
    .values(next_attempt_at=bindparam("b_next"), **_DONE_WITH_LEASE)
)


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """Return the wait before the next attempt after `attempts` failed ones."""
    seconds = base_seconds * 2 ** max(attempts - 1, 0)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


@dataclass
class Recorded:
    """What a batch of results changed."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    state: str = SendState.SENDING.value
    paused_now: bool = False


def record_results(
    session: Session,
    issue_id: int,
    outcomes: Sequence[Outcome],
    *,
    owner: str,
    now: datetime,
    settings: Settings,
) -> Recorded:
    """Write the outcomes of many messages at once; pause the issue after too many failures."""
    delivery = settings.delivery
    done = Recorded()
    sent_rows: list[dict[str, Any]] = []
    retry_rows: list[dict[str, Any]] = []
    failed_rows: list[dict[str, Any]] = []
    refused: list[Outcome] = []
    for outcome in outcomes:
        attempts = outcome.attempts + 1
        row: dict[str, Any] = {"b_id": outcome.delivery_id, "b_result": outcome.reply[:1000]}
        if outcome.kind == "sent":
            sent_rows.append(row)
        elif outcome.kind == "retry" and attempts < delivery.retry_attempts:
            wait = backoff(attempts, delivery.retry_delay_seconds)
            retry_rows.append({**row, "b_next": now + wait})
        else:
            failed_rows.append(row)
            if outcome.kind == "failed":
                refused.append(outcome)
    # Core statements of constant shape: compiled once, each run as one executemany. (A
    # record erased meanwhile with its subscriber simply matches no row.)
    if sent_rows and session.get_bind().dialect.name == "postgresql":
        session.execute(
            _MARK_SENT_ARRAYS,
            {
                "b_ids": [row["b_id"] for row in sent_rows],
                "b_results": [row["b_result"] for row in sent_rows],
                "b_now": now,
            },
        )
    elif sent_rows:
        session.execute(_MARK_SENT, [{**row, "b_now": now} for row in sent_rows])
    if retry_rows:
        session.execute(_MARK_RETRY, [{**row, "b_owner": owner} for row in retry_rows])
    if failed_rows:
        session.execute(_MARK_FAILED, failed_rows)
    for outcome in refused:
        audience.record_refusal(
            session, outcome.subscriber_id, outcome.reply, now=now, settings=settings
        )
    done.sent, done.retried, done.failed = len(sent_rows), len(retry_rows), len(failed_rows)
    _update_failure_run(session, issue_id, outcomes, now=now, settings=settings, done=done)
    return done


_REPORT = cast(Table, DeliveryReport.__table__)
_RUN_AND_STATE = select(_REPORT.c.failure_run, _REPORT.c.state).where(
    _REPORT.c.issue_id == bindparam("b_issue")
)
_SET_RUN = (
    update(_REPORT)
    .where(_REPORT.c.issue_id == bindparam("b_issue"))
    .values(failure_run=bindparam("b_run"))
    .returning(_REPORT.c.failure_run, _REPORT.c.state)
)
_ADD_TO_RUN = (
    update(_REPORT)
    .where(_REPORT.c.issue_id == bindparam("b_issue"))
    .values(failure_run=_REPORT.c.failure_run + bindparam("b_run"))
    .returning(_REPORT.c.failure_run, _REPORT.c.state)
)


def _update_failure_run(
    session: Session,
    issue_id: int,
    outcomes: Sequence[Outcome],
    *,
    now: datetime,
    settings: Settings,
    done: Recorded,
) -> None:
    if not outcomes:
        return
    failures = sum(1 for o in outcomes if o.kind != "sent")
    if failures == 0:
        # The common case reads instead of writing: workers do not queue for the row lock.
        row = session.execute(_RUN_AND_STATE, {"b_issue": issue_id}).first()
        if row is not None and row.failure_run:
            row = session.execute(_SET_RUN, {"b_issue": issue_id, "b_run": 0}).first()
    elif failures < len(outcomes):
        trailing = 0
        for outcome in reversed(outcomes):
            if outcome.kind == "sent":
                break
            trailing += 1
        row = session.execute(_SET_RUN, {"b_issue": issue_id, "b_run": trailing}).first()
    else:
        row = session.execute(_ADD_TO_RUN, {"b_issue": issue_id, "b_run": failures}).first()
    if row is None:
        return
    failure_run, state = int(row.failure_run), str(row.state)
    done.state = state
    threshold = settings.delivery.failure_pause_threshold
    if failure_run >= threshold and state == SendState.SENDING.value:
        last = next((o.reply for o in reversed(outcomes) if o.kind != "sent"), "")
        reason = f"{failure_run} failures in a row; the last: {last}"[:1000]
        if pause_issue(session, issue_id, reason=reason, now=now, automatic=True):
            done.state = SendState.PAUSED.value
            done.paused_now = True


def send_state(session: Session, issue_id: int) -> str | None:
    """Return the sending state of an issue (None before it started)."""
    return session.scalar(select(DeliveryReport.state).where(DeliveryReport.issue_id == issue_id))


# ---------------------------------------------------------------- pause, resume, cancel


def pause_issue(
    session: Session,
    issue_id: int,
    *,
    reason: str,
    now: datetime,
    actor: str = "",
    automatic: bool = False,
) -> bool:
    """Stop workers from claiming more of the issue; return False if it was not sending."""
    changed = session.execute(
        update(DeliveryReport)
        .where(
            DeliveryReport.issue_id == issue_id,
            DeliveryReport.state == SendState.SENDING.value,
        )
        .values(state=SendState.PAUSED.value, paused_at=now, pause_reason=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        return False
    report = get_report(session, issue_id)
    if report is not None:
        session.refresh(report)
        _event(report, now, f"paused{_by(actor)}: {reason}")
        if automatic:
            from newsticker.delivery.mails import queue_paused_notice

            queue_paused_notice(session, report)
    logger.warning("issue %s paused: %s", issue_id, reason)
    session.flush()
    return True


def resume_issue(session: Session, issue_id: int, *, now: datetime, actor: str = "") -> bool:
    """Let workers go on with a paused issue; the failure run starts again from zero."""
    # The conditional update comes first: it decides, and on SQLite takes the write lock.
    changed = session.execute(
        update(DeliveryReport)
        .where(
            DeliveryReport.issue_id == issue_id,
            DeliveryReport.state == SendState.PAUSED.value,
        )
        .values(state=SendState.SENDING.value, failure_run=0, pause_reason="", updated_at=now)
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
            Delivery.status == PENDING,
            Delivery.next_attempt_at > now,
            or_(Delivery.lease_until.is_(None), Delivery.lease_until <= now),
        )
        .values(next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    report = get_report(session, issue_id)
    if report is not None:
        session.refresh(report)
        _event(report, now, f"resumed{_by(actor)}")
    session.flush()
    return True


CANCELLABLE = (SendState.SENDING.value, SendState.PAUSED.value, SendState.HELD.value)
FINAL_STATES = (SendState.FINISHED.value, SendState.CANCELLED.value)


def cancel_sending(session: Session, issue_id: int, *, now: datetime, actor: str = "") -> bool:
    """Stop an issue for good: records not yet sent are cancelled, the report is mailed."""
    changed = session.execute(
        update(DeliveryReport)
        .where(DeliveryReport.issue_id == issue_id, DeliveryReport.state.in_(CANCELLABLE))
        .values(state=SendState.CANCELLED.value, finished_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        return False
    session.execute(
        update(Delivery)
        .where(Delivery.issue_id == issue_id, Delivery.status == PENDING)
        .values(
            status=DeliveryStatus.CANCELLED.value,
            lease_until=None,
            lease_owner=None,
            result="the issue was cancelled",
        )
        .execution_options(synchronize_session=False)
    )
    issue = session.get(Issue, issue_id)
    if issue is not None and issue.status in (
        IssueStatus.SCHEDULED.value,
        IssueStatus.SENDING.value,
    ):
        issue.status = IssueStatus.CANCELLED.value
        issue.updated_at = now
    report = get_report(session, issue_id)
    assert report is not None
    session.refresh(report)
    _event(report, now, f"cancelled{_by(actor)}")
    _fill_report(session, report)
    session.flush()
    if report.recipients:
        from newsticker.delivery.mails import queue_report

        queue_report(session, report)
        report.report_mailed_at = now
    return True


# ---------------------------------------------------------------- finishing and progress


def has_pending(session: Session, issue_id: int) -> bool:
    """Return whether any record of the issue still waits to be sent."""
    return (
        session.scalar(
            select(Delivery.id)
            .where(Delivery.issue_id == issue_id, Delivery.status == PENDING)
            .limit(1)
        )
        is not None
    )


def next_due(session: Session, issue_id: int, *, now: datetime) -> datetime | None:
    """Return when the next pending record becomes claimable (a retry or a lease running out)."""
    value = session.scalar(
        select(func.min(Delivery.next_attempt_at)).where(
            Delivery.issue_id == issue_id, Delivery.status == PENDING
        )
    )
    return None if value is None else max(value, now)


def finish_if_done(session: Session, issue_id: int, *, now: datetime) -> bool:
    """Mark the issue sent and mail the report once no record is pending; True if we did."""
    if has_pending(session, issue_id):
        return False
    changed = session.execute(
        update(DeliveryReport)
        .where(
            DeliveryReport.issue_id == issue_id,
            DeliveryReport.state == SendState.SENDING.value,
        )
        .values(state=SendState.FINISHED.value, finished_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if not changed.rowcount:  # type: ignore[attr-defined]
        return False  # another worker finished it, or it is paused or cancelled
    from newsticker.delivery.mails import queue_report
    from newsticker.issues import services as issue_services

    report = get_report(session, issue_id)
    assert report is not None
    session.refresh(report)
    _fill_report(session, report)
    _event(report, now, "finished")
    issue = session.get(Issue, issue_id)
    if issue is not None and issue.status == IssueStatus.SENDING.value:
        issue_services.mark_sent(session, issue, now=now)
    queue_report(session, report)
    report.report_mailed_at = now
    session.flush()
    logger.info(
        "issue %s finished: sent %s, failed %s, skipped %s",
        issue_id,
        report.sent,
        report.failed,
        report.skipped,
    )
    return True


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
            Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.FAILED.value
        )
    ):
        counter[" ".join(str(result).split())[:200] or "?"] += 1
    return [[reason, count] for reason, count in counter.most_common(REPORT_REASONS)]


def failed_deliveries(session: Session, issue_id: int, *, limit: int = 100) -> list[Delivery]:
    """Return failed records of the issue (for the report), oldest first."""
    return list(
        session.scalars(
            select(Delivery)
            .where(Delivery.issue_id == issue_id, Delivery.status == DeliveryStatus.FAILED.value)
            .order_by(Delivery.id)
            .limit(limit)
        )
    )


def _fill_report(session: Session, report: DeliveryReport) -> None:
    counts = status_counts(session, report.issue_id)
    report.sent = counts.get(DeliveryStatus.SENT.value, 0)
    report.failed = counts.get(DeliveryStatus.FAILED.value, 0)
    report.skipped = counts.get(DeliveryStatus.SKIPPED.value, 0)
    report.cancelled = counts.get(DeliveryStatus.CANCELLED.value, 0)
    report.failure_reasons = failure_reasons(session, report.issue_id)


@dataclass
class Progress:
    """Where the sending of an issue stands, for the progress page and the command."""

    state: str | None
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


RATE_WINDOW = timedelta(seconds=60)


def progress(session: Session, issue_id: int, *, now: datetime) -> Progress:
    """Return counts, the current rate and the estimated time left of an issue's send."""
    report = get_report(session, issue_id)
    counts = status_counts(session, issue_id)
    purged = False
    if not counts and report is not None and report.state in FINAL_STATES:
        # The records are gone (purge_records): the report kept the counts.
        counts = {
            DeliveryStatus.SENT.value: report.sent,
            DeliveryStatus.FAILED.value: report.failed,
            DeliveryStatus.SKIPPED.value: report.skipped,
            DeliveryStatus.CANCELLED.value: report.cancelled,
        }
        purged = report.recipients > 0
    result = Progress(
        state=report.state if report else None,
        report=report,
        counts=counts,
        records_purged=purged,
    )
    result.total = sum(counts.values())
    result.sent = counts.get(DeliveryStatus.SENT.value, 0)
    result.failed = counts.get(DeliveryStatus.FAILED.value, 0)
    result.skipped = counts.get(DeliveryStatus.SKIPPED.value, 0)
    result.cancelled = counts.get(DeliveryStatus.CANCELLED.value, 0)
    result.pending = counts.get(PENDING, 0)
    if result.pending:
        pending = and_(Delivery.issue_id == issue_id, Delivery.status == PENDING)
        result.in_flight = int(
            session.scalar(select(func.count()).where(pending, Delivery.lease_until > now)) or 0
        )
        result.retrying = int(
            session.scalar(select(func.count()).where(pending, Delivery.attempts > 0)) or 0
        )
    if report is not None and report.state == SendState.SENDING.value and report.started_at:
        since = max(now - RATE_WINDOW, report.started_at)
        seconds = (now - since).total_seconds()
        recent = session.scalar(
            select(func.count()).where(
                Delivery.issue_id == issue_id,
                Delivery.status == DeliveryStatus.SENT.value,
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
            .where(DeliveryReport.state == SendState.SENDING.value)
            .order_by(DeliveryReport.started_at, DeliveryReport.issue_id)
        )
    )


def recent_reports(session: Session, *, limit: int = 50) -> list[tuple[DeliveryReport, Issue]]:
    """Return the latest sends with their issues, newest first."""
    rows = session.execute(
        select(DeliveryReport, Issue)
        .join(Issue, Issue.id == DeliveryReport.issue_id)
        .order_by(DeliveryReport.id.desc())
        .limit(limit)
    ).all()
    return [(report, issue) for report, issue in rows]
