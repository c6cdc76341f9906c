"""Counting bounces and honouring complaints: who comes off the list, and who goes back on.

A hard bounce (the address is gone) counts until the person consents anew; soft bounces
(full mailbox, greylisting, policy refusals) count only within a window, and one alone
never takes anybody off (the configuration refuses a threshold below two). A spam
complaint takes the address off every list at once and suppresses it, as mailbox
providers require. An admin can put a wrongly removed address back: its bounces stay in
the history but no longer count, and both the consent log and the audit trail say who
did it.

Which mail is a bounce, and of which kind, is subscribers.bounces' business; reading the
mailbox is subscribers.services.returns'. The thresholds come from [bounces] through
`BouncePolicy.from_settings`; without a policy the defaults apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from newsticker.config import Settings
from newsticker.core.audit import Actor, record_event
from newsticker.core.i18n import lazy_gettext as _l
from subscribers.addresses import suppression_hash
from subscribers.models import (
    BounceEvent,
    BounceKind,
    ConsentAction,
    Subscriber,
    SubscriptionStatus,
    Suppression,
)
from subscribers.services.consent import log_consent
from subscribers.services.lookups import SubscriberError, find_subscriber, get_subscriber

_COUNTED = (BounceKind.HARD, BounceKind.SOFT)
# Subscriptions a complaint or an unsubscribe mail ends: all that still receive or might.
_LIVE = (SubscriptionStatus.CONFIRMED, SubscriptionStatus.PENDING)


@dataclass(frozen=True)
class BouncePolicy:
    """When bounces take a subscriber off the list."""

    hard_threshold: int = 1
    soft_threshold: int = 5
    soft_window_days: int = 30

    def __post_init__(self) -> None:
        if self.soft_threshold < 2:
            raise ValueError("a single soft bounce must never take anybody off the list")

    @classmethod
    def from_settings(cls, settings: Settings) -> BouncePolicy:
        """Return the thresholds configured in [bounces]."""
        b = settings.bounces
        return cls(b.hard_threshold, b.soft_threshold, b.soft_window_days)


@dataclass(frozen=True)
class BounceOutcome:
    """What recording one bounce did."""

    subscriber_id: int
    kind: BounceKind
    marked_bounced: bool


def _subscriber_for(session: Session, target: int | str) -> Subscriber | None:
    if isinstance(target, int):
        return get_subscriber(session, target)
    return find_subscriber(session, target)


def _event(
    session: Session,
    subscriber: Subscriber,
    kind: BounceKind,
    *,
    reason: str,
    status: str,
    reason_code: str,
    source: str,
    run_id: int | None,
    now: datetime,
) -> BounceEvent:
    event = BounceEvent(
        subscriber_id=subscriber.id,
        kind=kind,
        status=status[:12],
        reason=" ".join(reason.split())[:1000],
        reason_code=reason_code[:20],
        source=source[:20],
        occurred_at=now,
        run_id=run_id,
        removed=False,
    )
    session.add(event)
    session.flush()
    return event


def _count(session: Session, subscriber_id: int, kind: BounceKind, since: datetime | None) -> int:
    query = (
        select(func.count())
        .select_from(BounceEvent)
        .where(
            BounceEvent.subscriber_id == subscriber_id,
            BounceEvent.kind == kind,
            BounceEvent.cleared_at.is_(None),
        )
    )
    if since is not None:
        query = query.where(BounceEvent.occurred_at >= since)
    return int(session.scalar(query) or 0)


def record_bounce(
    session: Session,
    address_or_subscriber_id: int | str,
    *,
    kind: BounceKind | str,
    reason: str,
    status: str = "",
    reason_code: str = "",
    source: str = "smtp",
    run_id: int | None = None,
    now: datetime,
    policy: BouncePolicy | None = None,
) -> BounceOutcome | None:
    """Count a hard or soft bounce; past the threshold the subscriptions become bounced."""
    if kind not in _COUNTED:
        raise ValueError(f"bounce kind must be 'hard' or 'soft', not {kind!r}")
    kind = BounceKind(kind)
    policy = policy or BouncePolicy()
    subscriber = _subscriber_for(session, address_or_subscriber_id)
    if subscriber is None:
        return None
    event = _event(
        session,
        subscriber,
        kind,
        reason=reason,
        status=status,
        reason_code=reason_code,
        source=source,
        run_id=run_id,
        now=now,
    )
    hard = _count(session, subscriber.id, BounceKind.HARD, None)
    soft = _count(
        session, subscriber.id, BounceKind.SOFT, now - timedelta(days=policy.soft_window_days)
    )
    marked = False
    if hard >= policy.hard_threshold or soft >= policy.soft_threshold:
        for subscription in subscriber.subscriptions:
            if subscription.status != SubscriptionStatus.CONFIRMED:
                continue
            subscription.status = SubscriptionStatus.BOUNCED
            subscription.bounced_at = now
            subscription.updated_at = now
            log_consent(
                session,
                subscriber,
                ConsentAction.BOUNCED,
                publication=subscription.publication,
                now=now,
                channel="bounce",
                detail=f"{kind} {status} {reason}".strip()[:500],
            )
            marked = True
        event.removed = marked
        session.flush()
    return BounceOutcome(subscriber.id, kind, marked)


def record_hard_bounce(
    session: Session,
    address_or_subscriber_id: int | str,
    reason: str,
    *,
    status: str = "",
    now: datetime,
    policy: BouncePolicy | None = None,
) -> BounceOutcome | None:
    """Count a permanent failure (a 5xx reply or report); None for an unknown address."""
    return record_bounce(
        session,
        address_or_subscriber_id,
        kind=BounceKind.HARD,
        reason=reason,
        status=status,
        now=now,
        policy=policy,
    )


def record_soft_bounce(
    session: Session,
    address_or_subscriber_id: int | str,
    reason: str,
    *,
    status: str = "",
    now: datetime,
    policy: BouncePolicy | None = None,
) -> BounceOutcome | None:
    """Count a temporary failure (4xx, full mailbox, policy); None for an unknown address."""
    return record_bounce(
        session,
        address_or_subscriber_id,
        kind=BounceKind.SOFT,
        reason=reason,
        status=status,
        now=now,
        policy=policy,
    )


def record_complaint(
    session: Session,
    subscriber: Subscriber,
    *,
    detail: str,
    salts: Sequence[bytes],
    now: datetime,
    run_id: int | None = None,
) -> bool:
    """Take a complaining address off every list and suppress it; True if that ended any.

    Mailbox providers require a complaint to be honoured at once, for every list: the
    person said our mail is unwanted. The suppression keeps imports and editors from
    bringing the address back; only the person's own new consent lifts it.
    """
    ended = _end_subscriptions(
        session, subscriber, ConsentAction.COMPLAINED, channel="complaint", now=now, detail=detail
    )
    if salts:
        digest = suppression_hash(subscriber.email, salts[0])
        if session.scalar(select(Suppression.id).where(Suppression.digest == digest)) is None:
            session.add(Suppression(digest=digest, created_at=now))
    event = _event(
        session,
        subscriber,
        BounceKind.COMPLAINT,
        reason=detail,
        status="",
        reason_code="complaint",
        source="report",
        run_id=run_id,
        now=now,
    )
    event.removed = bool(ended)
    session.flush()
    return bool(ended)


def record_unsubscribe_mail(
    session: Session,
    subscriber: Subscriber,
    publications: Sequence[str] | None,
    *,
    detail: str,
    now: datetime,
    run_id: int | None = None,
) -> list[str]:
    """End the subscriptions an unsubscribe mail asks to end (all when it names none)."""
    ended = _end_subscriptions(
        session,
        subscriber,
        ConsentAction.WITHDRAWN,
        channel="mailto",
        now=now,
        detail=detail,
        only=publications,
    )
    event = _event(
        session,
        subscriber,
        BounceKind.UNSUBSCRIBE,
        reason=detail,
        status="",
        reason_code="unsubscribe",
        source="mailto",
        run_id=run_id,
        now=now,
    )
    event.removed = bool(ended)
    session.flush()
    return ended


def _end_subscriptions(
    session: Session,
    subscriber: Subscriber,
    action: ConsentAction,
    *,
    channel: str,
    now: datetime,
    detail: str,
    only: Sequence[str] | None = None,
) -> list[str]:
    ended: list[str] = []
    for subscription in subscriber.subscriptions:
        if subscription.status not in _LIVE:
            continue
        if only is not None and subscription.publication not in only:
            continue
        subscription.status = SubscriptionStatus.UNSUBSCRIBED
        subscription.unsubscribed_at = now
        subscription.updated_at = now
        log_consent(
            session,
            subscriber,
            action,
            publication=subscription.publication,
            now=now,
            channel=channel,
            detail=detail[:500],
        )
        ended.append(subscription.publication)
    return ended


def reinstate_subscriber(
    session: Session, subscriber: Subscriber, *, actor: Actor, note: str, now: datetime
) -> list[str]:
    """Put an address that bounces took off wrongly back on its lists; return which.

    Its bounces stay in the history but stop counting, so the next soft bounce does not
    take it off again at once. Complaints and unsubscriptions are the person's own word
    and are never undone here.
    """
    if subscriber.blocked_at is not None:
        raise SubscriberError(_l("This address is blocked. Unblock it first."))
    bounced = [s for s in subscriber.subscriptions if s.status == SubscriptionStatus.BOUNCED]
    if not bounced:
        raise SubscriberError(_l("No subscription of this address was ended by bounces."))
    session.execute(
        update(BounceEvent)
        .where(BounceEvent.subscriber_id == subscriber.id, BounceEvent.cleared_at.is_(None))
        .values(cleared_at=now)
    )
    for subscription in bounced:
        # The person's consent never ended: the confirmation time stays what it was.
        subscription.status = SubscriptionStatus.CONFIRMED
        subscription.bounced_at = None
        subscription.updated_at = now
        log_consent(
            session,
            subscriber,
            ConsentAction.REINSTATED,
            publication=subscription.publication,
            now=now,
            channel="editor",
            actor=actor.label[:320],
            note=note,
        )
    publications = [s.publication for s in bounced]
    record_event(
        session,
        "subscriber.reinstated",
        actor=actor,
        now=now,
        subject=("subscriber", subscriber.id),
        summary=f"put back on {', '.join(publications)} after bounces",
        details={"publications": publications, "note": note[:500]},
    )
    session.flush()
    return publications


def bounce_history(session: Session, subscriber: Subscriber) -> list[BounceEvent]:
    """Return a subscriber's bounces, complaints and unsubscribe mails, newest first."""
    return list(
        session.scalars(
            select(BounceEvent)
            .where(BounceEvent.subscriber_id == subscriber.id)
            .order_by(BounceEvent.occurred_at.desc(), BounceEvent.id.desc())
        )
    )
