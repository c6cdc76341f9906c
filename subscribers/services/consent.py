"""Consent: the consent log, the texts people agree to, and using a confirmation link.

The log is append-only (`ConsentEvent` refuses updates); every change of a subscription
writes a line here. The single-use confirmation link is random and only its digest is
stored. A GET of the link changes nothing (mail scanners fetch links); the POST confirms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from flask_babel.speaklater import LazyString
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from newsticker.core.i18n import lazy_gettext as _l
from newsticker.core.tokens import token_digest
from newsticker.core.webhooks import emit_event
from subscribers.addresses import suppression_hash
from subscribers.models import (
    BounceEvent,
    Confirmation,
    ConsentAction,
    ConsentEvent,
    Subscriber,
    Subscription,
    SubscriptionStatus,
    Suppression,
)
from subscribers.services.lookups import LANGUAGES, ensure_subscription
from subscribers.services.proofs import confirm_proof

# What the person agrees to on the form. A new wording gets a new version (never edit
# an old one): the consent log names the version each person saw.
CONSENT_TEXT_VERSION = "2026-01"
CONSENT_TEXTS: dict[str, LazyString] = {
    "2026-01": _l(
        "I would like to receive the publications I ticked by e-mail. I can unsubscribe at "
        "any time with one click from a link in every mail. My address is used for nothing "
        "else and is deleted when I unsubscribe and ask for erasure."
    ),
}


# Consent log lines that start or end receiving a publication, as webhook events. An import
# is left out: thousands of rows at once are no news to another system.
WEBHOOK_EVENTS: dict[ConsentAction, str] = {
    ConsentAction.CONFIRMED: "subscriber.confirmed",
    ConsentAction.SUBSCRIBED: "subscriber.confirmed",
    ConsentAction.ADDED: "subscriber.confirmed",
    ConsentAction.REINSTATED: "subscriber.confirmed",
    ConsentAction.WITHDRAWN: "subscriber.unsubscribed",
    ConsentAction.BOUNCED: "subscriber.unsubscribed",
    ConsentAction.COMPLAINED: "subscriber.unsubscribed",
}


def log_consent(
    session: Session,
    subscriber: Subscriber,
    action: ConsentAction,
    *,
    now: datetime,
    **values: Any,
) -> None:
    """Append a line to the consent log (and tell webhooks when receiving starts or ends)."""
    session.add(ConsentEvent(subscriber_id=subscriber.id, action=action, occurred_at=now, **values))
    event = WEBHOOK_EVENTS.get(action)
    if event and values.get("publication"):
        # No address or name: a receiver that needs them asks the API with a token.
        data = {
            "subscriber_id": subscriber.id,
            "publication": values["publication"],
            "reason": str(action),
            "channel": values.get("channel") or "",
        }
        emit_event(session, event, data, now=now)


def set_confirmed(subscription: Subscription, now: datetime) -> None:
    """Mark a subscription confirmed (receiving), clearing an unsubscription or a bounce."""
    subscription.status = SubscriptionStatus.CONFIRMED
    subscription.confirmed_at = now
    subscription.unsubscribed_at = None
    subscription.bounced_at = None
    subscription.updated_at = now


def fresh_start(session: Session, subscriber: Subscriber, salts: Sequence[bytes]) -> None:
    """Forget old bounces and a suppression once the person has consented anew."""
    session.execute(delete(BounceEvent).where(BounceEvent.subscriber_id == subscriber.id))
    digests = [suppression_hash(subscriber.email, salt) for salt in salts]
    if digests:
        session.execute(delete(Suppression).where(Suppression.digest.in_(digests)))


class ConfirmState(StrEnum):
    """What a confirmation link can find."""

    VALID = "valid"
    CONFIRMED = "confirmed"  # used before: confirming twice is harmless
    EXPIRED = "expired"
    INVALID = "invalid"


@dataclass
class ConfirmResult:
    """The state of a confirmation link and what it is about."""

    state: ConfirmState
    confirmation: Confirmation | None = None

    @property
    def subscriber(self) -> Subscriber | None:
        """Return the subscriber the link belongs to."""
        return self.confirmation.subscriber if self.confirmation is not None else None


def inspect_confirmation(session: Session, token: str, *, now: datetime) -> ConfirmResult:
    """Return what a confirmation link is, changing nothing (GET may come from a scanner)."""
    if not token or len(token) > 200:
        return ConfirmResult(ConfirmState.INVALID)
    confirmation = session.scalars(
        select(Confirmation).where(Confirmation.token_digest == token_digest(token))
    ).one_or_none()
    if confirmation is None or confirmation.subscriber.blocked_at is not None:
        return ConfirmResult(ConfirmState.INVALID)
    if confirmation.used_at is not None:
        return ConfirmResult(ConfirmState.CONFIRMED, confirmation)
    if confirmation.expires_at <= now:
        return ConfirmResult(ConfirmState.EXPIRED, confirmation)
    return ConfirmResult(ConfirmState.VALID, confirmation)


def confirm_subscription(
    session: Session, token: str, *, ip: str | None, now: datetime, salts: Sequence[bytes]
) -> ConfirmResult:
    """Use a confirmation link once: the chosen publications become confirmed.

    The salts find a suppression of the address to lift: the person has consented anew.
    """
    result = inspect_confirmation(session, token, now=now)
    if result.state != ConfirmState.VALID or result.confirmation is None:
        return result
    confirmation = result.confirmation
    subscriber = confirmation.subscriber
    confirmation.used_at = now
    if confirmation.name:
        subscriber.name = confirmation.name
    if confirmation.language in LANGUAGES:
        subscriber.language = confirmation.language
    for publication in confirmation.publications:
        subscription = ensure_subscription(session, subscriber, publication, now)
        set_confirmed(subscription, now)
        log_consent(
            session,
            subscriber,
            ConsentAction.CONFIRMED,
            publication=publication,
            now=now,
            ip=ip,
            channel="link",
            confirmation_id=confirmation.id,
        )
    fresh_start(session, subscriber, salts)
    confirm_proof(session, confirmation, ip=ip, now=now)
    session.flush()
    return ConfirmResult(ConfirmState.CONFIRMED, confirmation)
