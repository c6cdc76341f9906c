"""Export a publication's list as CSV, streamed from the database, with formula-safe cells."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsticker.core.audit import Actor, record_event
from newsticker.core.db import utcnow
from subscribers.csvwrite import write_export
from subscribers.models import Subscriber, Subscription, SubscriptionStatus

EXPORT_HEADER = (
    "email",
    "name",
    "language",
    "status",
    "requested_at",
    "confirmed_at",
    "unsubscribed_at",
    "bounced_at",
)


def export_rows(
    session: Session, publication: str, *, statuses: Sequence[str] | None = None
) -> Iterator[tuple[Any, ...]]:
    """Yield one row per subscription to a publication (confirmed only by default)."""
    wanted = (
        [SubscriptionStatus(s) for s in statuses] if statuses else [SubscriptionStatus.CONFIRMED]
    )

    def iso(value: datetime | None) -> str:
        return value.isoformat(timespec="seconds") if value is not None else ""

    query = (
        select(
            Subscriber.email,
            Subscriber.name,
            Subscriber.language,
            Subscription.status,
            Subscription.requested_at,
            Subscription.confirmed_at,
            Subscription.unsubscribed_at,
            Subscription.bounced_at,
        )
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(Subscription.publication == publication, Subscription.status.in_(wanted))
        .order_by(Subscriber.email_key)
        .execution_options(yield_per=5000)
    )
    for (
        email,
        name,
        language,
        status,
        requested,
        confirmed,
        unsubscribed,
        bounced,
    ) in session.execute(query):
        yield (
            email,
            name,
            language,
            str(status),
            iso(requested),
            iso(confirmed),
            iso(unsubscribed),
            iso(bounced),
        )


def export_csv(
    session: Session,
    publication: str,
    *,
    statuses: Sequence[str] | None = None,
    who: Actor | None = None,
    now: datetime | None = None,
) -> str:
    """Return a publication's list as CSV whose cells a spreadsheet will not run as formulas.

    The export is recorded in the audit trail (who took which list, how many rows).
    """
    rows = list(export_rows(session, publication, statuses=statuses))
    record_event(
        session,
        "subscriber.exported",
        actor=who or Actor.system("cli"),
        now=now or utcnow(),
        summary=f"{len(rows)} rows of {publication}",
        details={"publication": publication, "rows": len(rows), "statuses": list(statuses or [])},
    )
    return write_export(rows, EXPORT_HEADER)
