"""Demo subscribers for both publications; loading them twice adds nothing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsticker.config import Settings
from newsticker.core.db import utcnow
from subscribers.addresses import address_key
from subscribers.models import (
    ConsentAction,
    ConsentEvent,
    Subscriber,
    Subscription,
    SubscriptionStatus,
)

DEMO_NOTE = "Demo-Daten: Verteiler der Stabsstelle Integration (Einwilligung per Anmeldeformular)"

# (address, name, language, publications, status); example.org is reserved (RFC 2606).
BOTH = ("ticker", "newsletter")
CONFIRMED = SubscriptionStatus.CONFIRMED
UNSUBSCRIBED = SubscriptionStatus.UNSUBSCRIBED
# fmt: off
DEMO_SUBSCRIBERS: tuple[tuple[str, str, str, tuple[str, ...], SubscriptionStatus], ...] = (
    ("kulturverein@example.org", "Deutsch-Dänischer Kulturverein", "de", BOTH, CONFIRMED),
    ("migrationsberatung@example.org", "Migrationsberatung Nord", "de", BOTH, CONFIRMED),
    ("sprachcafe@example.org", "Sprachcafé Fördestraße", "de", ("ticker",), CONFIRMED),
    ("anna.petersen@example.org", "Anna Petersen", "de", ("ticker",), CONFIRMED),
    ("ahmad.haddad@example.org", "Ahmad Haddad", "de", BOTH, CONFIRMED),
    ("olena.kowalenko@example.org", "Olena Kowalenko", "en", ("ticker",), CONFIRMED),
    ("jens.hansen@example.org", "Jens Hansen", "de", ("newsletter",), CONFIRMED),
    ("fatemeh.hosseini@example.org", "Fatemeh Hosseini", "en", ("newsletter",), CONFIRMED),
    ("ehrenamt@example.org", "Ehrenamtsbörse", "de", ("ticker",), CONFIRMED),
    ("maren.thomsen@example.org", "Maren Thomsen", "de", ("ticker",), UNSUBSCRIBED),
)
# fmt: on


def load_demo_subscribers(session: Session, settings: Settings) -> tuple[str, int]:
    """Add the demo subscribers that are not there yet; return ("subscribers", count)."""
    slugs = {p.slug for p in settings.publications}
    keys = [address_key(email) for email, *_rest in DEMO_SUBSCRIBERS]
    existing = set(
        session.scalars(select(Subscriber.email_key).where(Subscriber.email_key.in_(keys)))
    )
    now = utcnow()
    added = 0
    for number, (email, name, language, publications, status) in enumerate(DEMO_SUBSCRIBERS):
        if address_key(email) in existing:
            continue
        since = now - timedelta(days=7 * (len(DEMO_SUBSCRIBERS) - number))
        subscriber = Subscriber(
            email=email,
            email_key=address_key(email),
            name=name,
            language=language,
            created_at=since,
            updated_at=since,
            blocked_note="",
        )
        session.add(subscriber)
        session.flush()
        for slug in publications:
            if slug not in slugs:
                continue
            subscription = Subscription(
                subscriber_id=subscriber.id,
                publication=slug,
                status=status,
                created_at=since,
                updated_at=since,
                requested_at=since,
                confirmed_at=since,
                unsubscribed_at=now - timedelta(days=3) if status == UNSUBSCRIBED else None,
            )
            session.add(subscription)
            session.add(
                ConsentEvent(
                    subscriber_id=subscriber.id,
                    publication=slug,
                    action=ConsentAction.IMPORTED,
                    occurred_at=since,
                    channel="import",
                    actor="demo",
                    note=DEMO_NOTE,
                    detail="demo",
                )
            )
            if status == UNSUBSCRIBED:
                session.add(
                    ConsentEvent(
                        subscriber_id=subscriber.id,
                        publication=slug,
                        action=ConsentAction.WITHDRAWN,
                        occurred_at=now - timedelta(days=3),
                        channel="one-click",
                    )
                )
        added += 1
    session.flush()
    return "subscribers", added
