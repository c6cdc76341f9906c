"""What a subscriber changes through a personal link: unsubscribing and the preferences page.

Withdrawal takes effect at once and is logged with its channel (one-click from the mail
program, the unsubscribe page, the preferences page, an editor).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from subscribers.models import ConsentAction, Subscriber, Subscription, SubscriptionStatus
from subscribers.services.consent import (
    CONSENT_TEXT_VERSION,
    fresh_start,
    log_consent,
    set_confirmed,
)
from subscribers.services.lookups import (
    LANGUAGES,
    ensure_subscription,
    get_subscriber,
    subscription_of,
)


class UnsubscribeOutcome(StrEnum):
    """What an unsubscribe did."""

    UNSUBSCRIBED = "unsubscribed"
    NOT_SUBSCRIBED = "not_subscribed"  # nothing to do (twice is harmless)
    UNKNOWN = "unknown"  # no such subscriber (erased)


def unsubscribe(
    session: Session,
    subscriber_id: int,
    publication: str,
    *,
    channel: str,
    now: datetime,
    actor: str = "",
) -> UnsubscribeOutcome:
    """Withdraw consent for one publication at once and log how."""
    subscriber = get_subscriber(session, subscriber_id)
    if subscriber is None:
        return UnsubscribeOutcome.UNKNOWN
    subscription = subscription_of(subscriber, publication)
    if subscription is None or subscription.status == SubscriptionStatus.UNSUBSCRIBED:
        return UnsubscribeOutcome.NOT_SUBSCRIBED
    _set_unsubscribed(session, subscriber, subscription, channel=channel, now=now, actor=actor)
    session.flush()
    return UnsubscribeOutcome.UNSUBSCRIBED


def is_subscribed(subscriber: Subscriber | None, publication: str) -> bool:
    """Return whether an unsubscribe link still has something to end (not yet unsubscribed)."""
    if subscriber is None:
        return False
    subscription = subscription_of(subscriber, publication)
    return subscription is not None and subscription.status != SubscriptionStatus.UNSUBSCRIBED


def _set_unsubscribed(
    session: Session,
    subscriber: Subscriber,
    subscription: Subscription,
    *,
    channel: str,
    now: datetime,
    actor: str = "",
) -> None:
    subscription.status = SubscriptionStatus.UNSUBSCRIBED
    subscription.unsubscribed_at = now
    subscription.updated_at = now
    log_consent(
        session,
        subscriber,
        ConsentAction.WITHDRAWN,
        publication=subscription.publication,
        now=now,
        channel=channel,
        actor=actor,
    )


@dataclass
class PreferenceChanges:
    """What a preferences form changed."""

    subscribed: list[str] = field(default_factory=list)
    unsubscribed: list[str] = field(default_factory=list)
    details: bool = False

    def __bool__(self) -> bool:
        return bool(self.subscribed or self.unsubscribed or self.details)


def update_preferences(
    session: Session,
    subscriber: Subscriber,
    *,
    name: str,
    language: str,
    publications: Iterable[str],
    known_publications: Sequence[str],
    ip: str | None,
    now: datetime,
    salts: Sequence[bytes],
) -> PreferenceChanges:
    """Apply the preferences form: publications ticked and unticked, name and language.

    Ticking a publication here confirms it at once: the page is reached only through a
    personal link mailed to this address, which is what the confirmation mail proves.
    The salts find a suppression of the address to lift when something is ticked.
    """
    changes = PreferenceChanges()
    wanted = set(publications)
    for publication in known_publications:
        subscription = subscription_of(subscriber, publication)
        status = subscription.status if subscription is not None else None
        if publication in wanted and status != SubscriptionStatus.CONFIRMED:
            subscription = ensure_subscription(session, subscriber, publication, now)
            set_confirmed(subscription, now)
            log_consent(
                session,
                subscriber,
                ConsentAction.SUBSCRIBED,
                publication=publication,
                now=now,
                ip=ip,
                channel="preferences",
                consent_text_version=CONSENT_TEXT_VERSION,
            )
            changes.subscribed.append(publication)
        elif publication not in wanted and status == SubscriptionStatus.CONFIRMED:
            assert subscription is not None
            _set_unsubscribed(session, subscriber, subscription, channel="preferences", now=now)
            changes.unsubscribed.append(publication)
    if changes.subscribed:
        fresh_start(session, subscriber, salts)
    if name != subscriber.name or (language in LANGUAGES and language != subscriber.language):
        subscriber.name = name
        if language in LANGUAGES:
            subscriber.language = language
        subscriber.updated_at = now
        changes.details = True
    session.flush()
    return changes
