"""Subscribers: stored with subscriptions and consent, sign-up forms, and reading their mails."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsticker.core.addresses import normalise_address
from newsticker.core.db import utcnow
from newsticker.core.mailqueue import QueuedMail
from newsticker.core.site import site_keyring
from newsticker.core.tokens import KeyRing
from subscribers.addresses import address_key
from subscribers.models import (
    ConsentAction,
    ConsentEvent,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)

CONFIRM_LINK = re.compile(r"https?://[^/\s]+/bestaetigen/([A-Za-z0-9_-]+)")


def make_subscriber(
    session: Session,
    email: str = "leser@example.org",
    *,
    publications: tuple[str, ...] = ("ticker",),
    status: str = SubscriptionStatus.CONFIRMED,
    name: str = "",
    language: str = "de",
    now: datetime | None = None,
    blocked: bool = False,
) -> Subscriber:
    """Create a subscriber with subscriptions in one status, logged as added by an editor."""
    now = now or utcnow()
    email = normalise_address(email)
    subscriber = Subscriber(
        email=email,
        email_key=address_key(email),
        name=name,
        language=language,
        created_at=now,
        updated_at=now,
        blocked_note="",
        blocked_at=now if blocked else None,
    )
    session.add(subscriber)
    session.flush()
    for slug in publications:
        subscriber.subscriptions.append(
            Subscription(
                publication=slug,
                status=status,
                created_at=now,
                updated_at=now,
                requested_at=now,
                confirmed_at=now if status != SubscriptionStatus.PENDING else None,
            )
        )
        if status != SubscriptionStatus.PENDING:
            session.add(
                ConsentEvent(
                    subscriber_id=subscriber.id,
                    publication=slug,
                    action=ConsentAction.ADDED,
                    occurred_at=now,
                    channel="editor",
                    actor="test",
                    note="factory",
                )
            )
    session.flush()
    return subscriber


def subscribe_form(**overrides: Any) -> dict[str, Any]:
    """Return a valid subscribe form."""
    data: dict[str, Any] = {
        "email": "neu@example.org",
        "name": "Neue Leserin",
        "publications": ["ticker"],
        "language": "de",
        "website": "",
        "started": "",
    }
    data.update(overrides)
    return data


def counts(db: Session) -> dict[str, int]:
    """Return how many subscribers, subscriptions, log lines and queued mails exist."""
    return {
        "subscribers": db.scalar(select(func.count()).select_from(Subscriber)),
        "subscriptions": db.scalar(select(func.count()).select_from(Subscription)),
        "events": db.scalar(select(func.count()).select_from(ConsentEvent)),
        "mails": db.scalar(select(func.count()).select_from(QueuedMail)),
    }


def confirm_token_from(text: str) -> str:
    """Return the confirmation token from a mail's text."""
    match = CONFIRM_LINK.search(text)
    assert match, "no confirmation link in the mail"
    return match.group(1)


def last_mail(db: Session) -> QueuedMail:
    """Return the newest queued mail."""
    return db.scalars(select(QueuedMail).order_by(QueuedMail.id.desc())).first()


def keyring(app: Flask) -> KeyRing:
    """Return the app's key ring (the one that signs subscribers' links)."""
    return site_keyring(app)
