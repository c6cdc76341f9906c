"""Finding subscribers and their subscriptions, and creating them when a sign-up needs them.

The shared ground of the other service modules: none of these functions mails anyone or
writes the consent log.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsticker.core.errors import UserError
from newsticker.core.i18n import MAIL_LANGUAGES
from subscribers.addresses import InvalidAddress, address_key, normalise_address, suppression_hash
from subscribers.models import Subscriber, Subscription, SubscriptionStatus, Suppression

# The languages subscriber mails and pages are written in.
LANGUAGES = MAIL_LANGUAGES


class SubscriberError(UserError):
    """A request that cannot be done, with a message for the user."""


def get_subscriber(session: Session, subscriber_id: int) -> Subscriber | None:
    """Return the subscriber with this id, or None (erased, or never there)."""
    return session.get(Subscriber, subscriber_id)


def find_subscriber(session: Session, address: str) -> Subscriber | None:
    """Return the subscriber of an address (any spelling of it), or None."""
    try:
        key = address_key(normalise_address(address))
    except InvalidAddress:
        return None
    return session.scalars(select(Subscriber).where(Subscriber.email_key == key)).one_or_none()


def subscription_of(subscriber: Subscriber, publication: str) -> Subscription | None:
    """Return the subscriber's subscription to a publication, or None."""
    return next((s for s in subscriber.subscriptions if s.publication == publication), None)


def confirmed_publications(subscriber: Subscriber) -> list[str]:
    """Return the slugs the subscriber currently receives."""
    return [
        s.publication for s in subscriber.subscriptions if s.status == SubscriptionStatus.CONFIRMED
    ]


def is_suppressed(session: Session, address: str, salts: Sequence[bytes]) -> bool:
    """Return True when an address was erased at its owner's request."""
    digests = [suppression_hash(address, salt) for salt in salts]
    if not digests:
        return False
    found = session.scalar(select(Suppression.id).where(Suppression.digest.in_(digests)).limit(1))
    return found is not None


def get_or_create_subscriber(
    session: Session, email: str, *, name: str, language: str, now: datetime
) -> tuple[Subscriber, bool]:
    """Return the subscriber of a normalised address and whether it was created just now."""
    key = address_key(email)
    subscriber = session.scalars(
        select(Subscriber).where(Subscriber.email_key == key)
    ).one_or_none()
    if subscriber is not None:
        return subscriber, False
    subscriber = Subscriber(
        email=email,
        email_key=key,
        name=name,
        language=language,
        created_at=now,
        updated_at=now,
        blocked_note="",
    )
    # Two sign-ups of one new address at once: the second one finds the first one's row.
    try:
        with session.begin_nested():
            session.add(subscriber)
    except IntegrityError:
        found = session.scalars(select(Subscriber).where(Subscriber.email_key == key)).one()
        return found, False
    return subscriber, True


def ensure_subscription(
    session: Session, subscriber: Subscriber, publication: str, now: datetime
) -> Subscription:
    """Return the subscriber's subscription to a publication, adding a pending one if none."""
    subscription = subscription_of(subscriber, publication)
    if subscription is None:
        subscription = Subscription(
            publication=publication,
            status=SubscriptionStatus.PENDING,
            created_at=now,
            updated_at=now,
            requested_at=now,
        )
        subscriber.subscriptions.append(subscription)
        session.flush()
    return subscription
