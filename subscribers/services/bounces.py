"""Counting bounces: past a threshold an address's subscriptions become bounced.

A hard bounce (the address is gone) counts for ever until the person consents anew; soft
bounces (full mailbox, greylisting, policy refusals) count only within a window. Which
mail is a bounce, and of which kind, is subscribers.bounces' business; this module only
counts. The thresholds come from [bounces] through `BouncePolicy.from_settings`; without
a policy the defaults apply.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsticker.config import Settings
from newsticker.core.tokens import KeyRing
from subscribers.bounces import BounceResult, parse_bounce
from subscribers.models import (
    BounceEvent,
    BounceKind,
    ConsentAction,
    Subscriber,
    SubscriptionStatus,
)
from subscribers.services.consent import log_consent
from subscribers.services.links import verp_subscriber_id
from subscribers.services.lookups import find_subscriber, get_subscriber


@dataclass(frozen=True)
class BouncePolicy:
    """When bounces take a subscriber off the list."""

    hard_threshold: int = 1
    soft_threshold: int = 5
    soft_window_days: int = 30

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


def record_bounce(
    session: Session,
    address_or_subscriber_id: int | str,
    *,
    kind: BounceKind | str,
    reason: str,
    status: str = "",
    source: str = "smtp",
    now: datetime,
    policy: BouncePolicy | None = None,
) -> BounceOutcome | None:
    """Count a hard or soft bounce; past the threshold the subscriptions become bounced."""
    if kind not in (BounceKind.HARD, BounceKind.SOFT):
        raise ValueError(f"bounce kind must be 'hard' or 'soft', not {kind!r}")
    kind = BounceKind(kind)
    policy = policy or BouncePolicy()
    subscriber = _subscriber_for(session, address_or_subscriber_id)
    if subscriber is None:
        return None
    session.add(
        BounceEvent(
            subscriber_id=subscriber.id,
            kind=kind,
            status=status[:12],
            reason=" ".join(reason.split())[:1000],
            source=source[:20],
            occurred_at=now,
        )
    )
    session.flush()
    hard = session.scalar(
        select(func.count())
        .select_from(BounceEvent)
        .where(BounceEvent.subscriber_id == subscriber.id, BounceEvent.kind == BounceKind.HARD)
    )
    soft = session.scalar(
        select(func.count())
        .select_from(BounceEvent)
        .where(
            BounceEvent.subscriber_id == subscriber.id,
            BounceEvent.kind == BounceKind.SOFT,
            BounceEvent.occurred_at >= now - timedelta(days=policy.soft_window_days),
        )
    )
    marked = False
    if (hard or 0) >= policy.hard_threshold or (soft or 0) >= policy.soft_threshold:
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


@dataclass
class BounceRun:
    """What reading a batch of returned mails found."""

    read: int = 0
    hard: int = 0
    soft: int = 0
    ignored: int = 0  # auto-replies, delay notices, ordinary mail
    unknown: int = 0  # a bounce for an address we do not know (or no longer know)
    marked: int = 0  # subscribers taken off the list

    def add(self, other: BounceRun) -> None:
        """Add another run's counts to this one."""
        for name in ("read", "hard", "soft", "ignored", "unknown", "marked"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def __str__(self) -> str:
        return (
            f"read {self.read}, hard {self.hard}, soft {self.soft}, ignored {self.ignored}, "
            f"unknown {self.unknown}, taken off the list {self.marked}"
        )


def verp_parts(return_path: str) -> tuple[str | None, str | None]:
    """Return the VERP prefix and domain of a return path like "bounces+{token}@example.org"."""
    local, at, domain = return_path.strip().partition("@")
    if not at or "+" not in local:
        return None, None
    return local.split("+", 1)[0], domain or None


def process_bounce_messages(
    session: Session,
    messages: Iterable[bytes],
    *,
    keyring: KeyRing,
    now: datetime,
    return_path: str = "",
    policy: BouncePolicy | None = None,
) -> BounceRun:
    """Classify returned mails and count each bounce against its subscriber."""
    policy = policy or BouncePolicy()
    prefix, domain = verp_parts(return_path)
    run = BounceRun()
    for raw in messages:
        run.read += 1
        result = parse_bounce(raw, verp_prefix=prefix, verp_domain=domain)
        if result is None:
            run.ignored += 1
            continue
        target = _bounce_target(keyring, result)
        if target is None:
            run.unknown += 1
            continue
        outcome = record_bounce(
            session,
            target,
            kind=result.kind,
            reason=result.reason,
            status=result.status,
            source="report",
            now=now,
            policy=policy,
        )
        if outcome is None:
            run.unknown += 1
            continue
        if result.kind == BounceKind.HARD:
            run.hard += 1
        else:
            run.soft += 1
        run.marked += int(outcome.marked_bounced)
    return run


def _bounce_target(keyring: KeyRing, result: BounceResult) -> int | str | None:
    if result.verp_token:
        subscriber_id = verp_subscriber_id(keyring, result.verp_token)
        if subscriber_id is not None:
            return subscriber_id
    return result.recipient
