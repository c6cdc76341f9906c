"""Retention: sign-ups that were never confirmed are deleted, with the IP addresses they logged.

Confirmed consent stays (it is the proof of consent); a subscriber with nothing left goes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from subscribers.models import (
    Confirmation,
    ConsentEvent,
    ConsentProof,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)
from subscribers.services.proofs import purge_unconfirmed_proofs


@dataclass
class PurgeRun:
    """What one purge of unconfirmed sign-ups deleted."""

    confirmations: int = 0
    subscriptions: int = 0
    subscribers: int = 0


def purge_pending_signups(session: Session, *, now: datetime, days: int) -> PurgeRun:
    """Delete sign-ups not confirmed within `days`, with the IP addresses they recorded.

    Confirmed consent stays (it is the proof); a subscriber with nothing left goes.
    Safe to run twice.
    """
    cutoff = now - timedelta(days=days)
    run = PurgeRun()
    stale = select(Confirmation.id).where(
        Confirmation.used_at.is_(None), Confirmation.created_at < cutoff
    )
    # The request lines and proofs of unconfirmed sign-ups hold their IP: they go with them.
    session.execute(delete(ConsentEvent).where(ConsentEvent.confirmation_id.in_(stale)))
    purge_unconfirmed_proofs(session, stale=stale, cutoff=cutoff)
    result = session.execute(
        delete(Confirmation).where(
            or_(
                Confirmation.id.in_(stale),
                # Used links are only kept to tell a second click it is harmless.
                Confirmation.used_at < cutoff,
            )
        )
    )
    run.confirmations = int(result.rowcount or 0)  # type: ignore[attr-defined]
    result = session.execute(
        delete(Subscription).where(
            Subscription.status == SubscriptionStatus.PENDING,
            Subscription.created_at < cutoff,
        )
    )
    run.subscriptions = int(result.rowcount or 0)  # type: ignore[attr-defined]
    has_subscription = select(Subscription.id).where(Subscription.subscriber_id == Subscriber.id)
    has_log = select(ConsentEvent.id).where(ConsentEvent.subscriber_id == Subscriber.id)
    has_proof = select(ConsentProof.id).where(ConsentProof.subscriber_id == Subscriber.id)
    result = session.execute(
        delete(Subscriber).where(
            Subscriber.created_at < cutoff,
            Subscriber.blocked_at.is_(None),
            ~has_subscription.exists(),
            ~has_log.exists(),
            ~has_proof.exists(),
        )
    )
    run.subscribers = int(result.rowcount or 0)  # type: ignore[attr-defined]
    session.expire_all()
    return run
