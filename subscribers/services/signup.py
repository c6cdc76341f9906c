"""Signing up (double opt-in): record the request and mail the confirmation link.

Nothing an unconfirmed request says changes a confirmed subscriber: the name and
language wait in the confirmation until its link is used. An address gets at most one
confirmation or notice mail per window, and the visitor sees the same answer whatever
happened (the page must not tell whether an address is known).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsticker.config import Settings
from newsticker.core.links import Links
from newsticker.core.mailqueue import count_recent
from newsticker.core.tokens import KeyRing, random_token, token_digest
from subscribers import mails
from subscribers.addresses import address_key, normalise_address
from subscribers.models import Confirmation, ConsentAction, Subscriber
from subscribers.services.consent import (
    CONSENT_TEXT_VERSION,
    ConfirmState,
    inspect_confirmation,
    log_consent,
)
from subscribers.services.links import confirm_url, preferences_url
from subscribers.services.lookups import (
    LANGUAGES,
    confirmed_publications,
    ensure_subscription,
    get_or_create_subscriber,
)
from subscribers.services.proofs import keep_proof, proof_language


class SignupOutcome(StrEnum):
    """What a sign-up did; the visitor sees the same answer whatever it is."""

    CONFIRMATION_SENT = "confirmation_sent"
    NOTICE_SENT = "notice_sent"  # every chosen publication was already confirmed
    MAIL_LIMIT = "mail_limit"  # this address already had a mail in the window
    BLOCKED = "blocked"


@dataclass(frozen=True)
class SignupRequest:
    """What the subscribe form sent, and where from."""

    email: str
    name: str
    language: str
    publications: tuple[str, ...]
    ip: str | None
    form_url: str
    consent_text_version: str = CONSENT_TEXT_VERSION
    # The language the page showed the consent text in ("" when no text was shown).
    consent_language: str = ""
    channel: str = "form"
    actor: str = ""
    note: str = ""


@dataclass(frozen=True)
class MailWindow:
    """How long a confirmation link works, and how often an address may get a mail."""

    link_hours: int = 48
    mail_window_hours: int = 24

    @classmethod
    def from_settings(cls, settings: Settings) -> MailWindow:
        """Return the window configured in [subscribers] and [rate_limits]."""
        return cls(
            link_hours=settings.subscribers.confirmation_link_hours,
            mail_window_hours=settings.rate_limits.confirmation_mails_per_address_hours,
        )


def _mails_recently(session: Session, address: str, *, hours: int, now: datetime) -> int:
    since = now - timedelta(hours=hours)
    return sum(
        count_recent(session, to=address, purpose=purpose, since=since)
        for purpose in (mails.CONFIRM_PURPOSE, mails.NOTICE_PURPOSE)
    )


def request_subscription(
    session: Session,
    signup: SignupRequest,
    *,
    keyring: KeyRing,
    links: Links,
    settings: Settings,
    now: datetime,
    window: MailWindow | None = None,
) -> SignupOutcome:
    """Record a sign-up and send the confirmation mail (double opt-in).

    Nothing an unconfirmed request says changes a confirmed subscriber: the name and
    language wait in the confirmation until its link is used.
    """
    window = window or MailWindow()
    email = normalise_address(signup.email)
    publications = tuple(dict.fromkeys(signup.publications))
    if not publications:
        raise ValueError("a sign-up needs at least one publication")
    existing = session.scalars(
        select(Subscriber).where(Subscriber.email_key == address_key(email))
    ).one_or_none()
    if existing is not None and existing.blocked_at is not None:
        return SignupOutcome.BLOCKED
    to = existing.email if existing is not None else email
    if _mails_recently(session, to, hours=window.mail_window_hours, now=now) > 0:
        return SignupOutcome.MAIL_LIMIT
    subscriber, _created = get_or_create_subscriber(
        session, email, name=signup.name, language=signup.language, now=now
    )
    already = set(confirmed_publications(subscriber))
    wanted = [p for p in publications if p not in already]
    if not wanted:
        mails.queue_already_subscribed(
            session,
            settings=settings,
            to=subscriber.email,
            language=signup.language,
            publications=publications,
            preferences_url=preferences_url(links, keyring, subscriber.id),
        )
        return SignupOutcome.NOTICE_SENT
    send_confirmation(
        session,
        subscriber,
        wanted,
        action=ConsentAction.REQUESTED,
        name=signup.name,
        language=signup.language,
        ip=signup.ip,
        form_url=signup.form_url,
        consent_text_version=signup.consent_text_version,
        consent_language=signup.consent_language,
        channel=signup.channel,
        actor=signup.actor,
        note=signup.note,
        now=now,
        window=window,
        links=links,
        settings=settings,
    )
    return SignupOutcome.CONFIRMATION_SENT


def send_confirmation(
    session: Session,
    subscriber: Subscriber,
    publications: Sequence[str],
    *,
    action: ConsentAction,
    name: str,
    language: str,
    ip: str | None,
    now: datetime,
    window: MailWindow,
    links: Links,
    settings: Settings,
    form_url: str = "",
    consent_text_version: str = CONSENT_TEXT_VERSION,
    consent_language: str = "",
    channel: str = "form",
    actor: str = "",
    note: str = "",
) -> Confirmation:
    """Store a single-use confirmation link, mail it, keep it as proof, log the request."""
    for publication in publications:
        ensure_subscription(session, subscriber, publication, now)
    token = random_token()
    confirmation = Confirmation(
        subscriber_id=subscriber.id,
        token_digest=token_digest(token),
        publications=list(publications),
        created_at=now,
        expires_at=now + timedelta(hours=window.link_hours),
        name=name,
        language=language if language in LANGUAGES else subscriber.language,
    )
    session.add(confirmation)
    session.flush()
    mail = mails.queue_confirmation(
        session,
        settings=settings,
        to=subscriber.email,
        language=confirmation.language,
        publications=publications,
        confirm_url=confirm_url(links, token),
        expires_at=confirmation.expires_at,
    )
    for publication in publications:
        log_consent(
            session,
            subscriber,
            action,
            publication=publication,
            now=now,
            ip=ip,
            form_url=form_url[:500],
            consent_text_version=consent_text_version,
            consent_language=consent_language[:5],
            message_id=mail.message_id,
            mail_queued_at=mail.created_at,
            channel=channel,
            actor=actor,
            note=note,
            confirmation_id=confirmation.id,
        )
    keep_proof(
        session,
        subscriber,
        confirmation,
        mail,
        consent_language=consent_language,
        consent_text_version=consent_text_version,
        channel=channel,
        form_url=form_url,
        ip=ip,
        now=now,
    )
    session.flush()
    return confirmation


def resend_confirmation(
    session: Session,
    token: str,
    *,
    ip: str | None,
    now: datetime,
    links: Links,
    settings: Settings,
    window: MailWindow | None = None,
) -> SignupOutcome | None:
    """Send a fresh link for an expired one; None when the old link is not expired."""
    window = window or MailWindow()
    result = inspect_confirmation(session, token, now=now)
    if result.state != ConfirmState.EXPIRED or result.confirmation is None:
        return None
    old = result.confirmation
    subscriber = old.subscriber
    if _mails_recently(session, subscriber.email, hours=window.mail_window_hours, now=now):
        return SignupOutcome.MAIL_LIMIT
    already = set(confirmed_publications(subscriber))
    wanted = [p for p in old.publications if p not in already]
    if not wanted:
        return SignupOutcome.NOTICE_SENT
    send_confirmation(
        session,
        subscriber,
        wanted,
        action=ConsentAction.RESENT,
        name=old.name,
        language=old.language,
        ip=ip,
        now=now,
        window=window,
        links=links,
        settings=settings,
        channel="link",
        # The text was shown once, with the first request; the new mail repeats that request.
        consent_language=proof_language(session, old),
    )
    return SignupOutcome.CONFIRMATION_SENT
