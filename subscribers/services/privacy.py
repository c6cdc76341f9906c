"""A subscriber's rights over their data: a copy of it (GDPR Art. 15 and 20), and erasure.

Erasure deletes the person and everything below them and keeps only a salted hash of
the address, so a later import cannot bring the person back without their knowledge.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from newsticker.config import Settings
from newsticker.core.audit import Actor, record_event
from newsticker.core.db import utcnow
from newsticker.core.links import Links
from newsticker.core.mailqueue import QueuedMail, count_recent
from newsticker.core.tokens import KeyRing
from subscribers import mails
from subscribers.addresses import suppression_hash
from subscribers.models import BounceEvent, ConsentAction, ConsentEvent, Subscriber, Suppression
from subscribers.services.consent import log_consent
from subscribers.services.links import DATA_COPY_LINK_DAYS, data_copy_url, preferences_url
from subscribers.services.proofs import consent_proofs

# Our own mails to the person; erasure takes those still in the queue with it.
MAIL_PURPOSES = (mails.CONFIRM_PURPOSE, mails.NOTICE_PURPOSE, mails.DATA_PURPOSE)


def subscriber_data_json(session: Session, subscriber: Subscriber) -> str:
    """Return the data copy as JSON text (the machine-readable download, GDPR Art. 20)."""
    return json.dumps(subscriber_data(session, subscriber), indent=2, ensure_ascii=False)


def subscriber_data(session: Session, subscriber: Subscriber) -> dict[str, Any]:
    """Return everything stored about a subscriber (GDPR Art. 15 and 20), as JSON-ready data."""

    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    events = session.scalars(
        select(ConsentEvent)
        .where(ConsentEvent.subscriber_id == subscriber.id)
        .order_by(ConsentEvent.occurred_at, ConsentEvent.id)
    )
    bounces = session.scalars(
        select(BounceEvent)
        .where(BounceEvent.subscriber_id == subscriber.id)
        .order_by(BounceEvent.occurred_at)
    )
    return {
        "email": subscriber.email,
        "name": subscriber.name,
        "language": subscriber.language,
        "created_at": when(subscriber.created_at),
        "updated_at": when(subscriber.updated_at),
        "blocked_at": when(subscriber.blocked_at),
        "subscriptions": [
            {
                "publication": s.publication,
                "status": str(s.status),
                "requested_at": when(s.requested_at),
                "confirmed_at": when(s.confirmed_at),
                "unsubscribed_at": when(s.unsubscribed_at),
                "bounced_at": when(s.bounced_at),
            }
            for s in subscriber.subscriptions
        ],
        "consent_log": [
            {
                "time": when(e.occurred_at),
                "action": str(e.action),
                "publication": e.publication or None,
                "channel": e.channel or None,
                "ip": e.ip,
                "form_url": e.form_url or None,
                "consent_text_version": e.consent_text_version or None,
                "confirmation_mail_message_id": e.message_id or None,
                "confirmation_mail_time": when(e.mail_queued_at),
                "note": e.note or None,
                "source": e.detail or None,
            }
            for e in events
        ],
        "bounces": [
            {
                "time": when(b.occurred_at),
                "kind": str(b.kind),
                "status": b.status,
                "reason": b.reason,
            }
            for b in bounces
        ],
        "consent_proofs": [
            {
                "publications": list(p.publications or []),
                "requested_at": when(p.requested_at),
                "requested_ip": p.requested_ip,
                "consent_text_version": p.consent_text_version or None,
                "consent_language": p.consent_language or None,
                "confirmation_mail_message_id": p.message_id or None,
                "confirmed_at": when(p.confirmed_at),
                "confirmed_ip": p.confirmed_ip,
            }
            for p in consent_proofs(session, subscriber)
        ],
    }


def send_data_copy(
    session: Session,
    subscriber: Subscriber,
    *,
    keyring: KeyRing,
    links: Links,
    settings: Settings,
    ip: str | None,
    now: datetime,
    window_hours: int = 24,
) -> bool:
    """Mail the subscriber a link to their data; False if one went out recently.

    The mail carries an expiring link to a page with the data in words and as a JSON
    download, not the data itself: a long JSON text in a mail body is neither readable
    nor a file a person can keep or hand on.
    """
    since = now - timedelta(hours=window_hours)
    if count_recent(session, to=subscriber.email, purpose=mails.DATA_PURPOSE, since=since):
        return False
    mail = mails.queue_data_copy(
        session,
        settings=settings,
        to=subscriber.email,
        language=subscriber.language,
        data_url=data_copy_url(links, keyring, subscriber.id),
        link_days=DATA_COPY_LINK_DAYS,
        preferences_url=preferences_url(links, keyring, subscriber.id),
    )
    log_consent(
        session,
        subscriber,
        ConsentAction.DATA_REQUESTED,
        now=now,
        ip=ip,
        channel="preferences",
        message_id=mail.message_id,
        mail_queued_at=mail.created_at,
    )
    session.flush()
    return True


def erase_subscriber(
    session: Session,
    subscriber: Subscriber,
    *,
    salts: Sequence[bytes],
    who: Actor | None = None,
    now: datetime | None = None,
) -> None:
    """Delete a person and everything about them; remember only a salted hash of the address.

    The hash lets an import refuse the address later, so the person is not brought back
    without their knowledge; it cannot be turned back into the address.
    """
    if not salts:
        raise ValueError("erasure needs a salt for the suppression list")
    digest = suppression_hash(subscriber.email, salts[0])
    if session.scalar(select(Suppression.id).where(Suppression.digest == digest)) is None:
        session.add(Suppression(digest=digest))
    # Our own mails to the person that wait in the queue (or were kept for the outbox).
    session.execute(
        delete(QueuedMail).where(
            QueuedMail.to_addr == subscriber.email, QueuedMail.purpose.in_(MAIL_PURPOSES)
        )
    )
    # The trail names the number only: the person's address is gone with them.
    record_event(
        session,
        "subscriber.erased",
        actor=who or Actor.system("subscriber"),
        now=now or utcnow(),
        subject=("subscriber", subscriber.id),
        details={"publications": sorted(s.publication for s in subscriber.subscriptions)},
    )
    session.delete(subscriber)
    session.flush()
