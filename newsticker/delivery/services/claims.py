"""Claims: a worker leases a batch of due records, drops who left since, gives back the rest.

A claim is the first statement of a worker's transaction. On PostgreSQL it selects FOR
UPDATE SKIP LOCKED, so two workers never wait for each other's rows and never get the
same one; on SQLite the claim is a single UPDATE … RETURNING that opens its transaction,
so it holds the one write lock from its first read on. A claim moves the record's
`next_attempt_at` to the end of its lease: if the worker dies, the record is claimable
again when the lease runs out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from newsticker.delivery import audience
from newsticker.delivery.models import Delivery, DeliveryReport, DeliveryStatus, SendState


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
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.next_attempt_at <= now,
            or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
            # Nothing is claimed of a paused or cancelled issue.
            select(DeliveryReport.id)
            .where(
                DeliveryReport.issue_id == issue_id,
                DeliveryReport.state == SendState.SENDING,
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
                status=DeliveryStatus.SKIPPED,
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
        .where(
            Delivery.id.in_(ids),
            Delivery.lease_owner == owner,
            Delivery.status == DeliveryStatus.PENDING,
        )
        .values(lease_until=None, lease_owner=None, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
