"""The audience: subscribe, confirm, unsubscribe, preferences, erasure, recipients, bounces.

Every function takes the session first and only flushes; the caller (a request, a
command, a job) commits. Personal links are HMAC-signed per subscriber, publication
and purpose, so unsubscribing needs no stored token; the single-use confirmation link
is random and only its digest is stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from enum import StrEnum
from typing import Any, NamedTuple

from flask import current_app, has_app_context
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import ColumnElement, case, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from newsticker.config import Settings
from newsticker.core.errors import UserError
from newsticker.core.mailqueue import QueuedMail, count_recent
from newsticker.core.tokens import KeyRing, TokenError, random_token, token_digest
from subscribers import mails
from subscribers.addresses import InvalidAddress, address_key, normalise_address, suppression_hash
from subscribers.bounces import BounceResult, parse_bounce
from subscribers.models import (
    BounceEvent,
    Confirmation,
    ConsentAction,
    ConsentEvent,
    Subscriber,
    SubscriberImport,
    Subscription,
    SubscriptionStatus,
    Suppression,
)

logger = logging.getLogger(__name__)

__all__ = [
    "CONSENT_TEXTS",
    "CONSENT_TEXT_VERSION",
    "BouncePolicy",
    "Recipient",
    "SubscriberError",
    "confirm_subscription",
    "personal_links",
    "recipient_rows",
    "record_hard_bounce",
    "record_soft_bounce",
    "request_subscription",
    "unsubscribe",
]

# Paths of the public pages behind personal links; views route exactly these.
CONFIRM_PATH = "/bestaetigen/"
UNSUBSCRIBE_PATH = "/abmelden/"
PREFERENCES_PATH = "/einstellungen/"

UNSUBSCRIBE_PURPOSE = "subscribers:unsubscribe"
PREFERENCES_PURPOSE = "subscribers:preferences"
VERP_PURPOSE = "subscribers:verp"
SUPPRESSION_CONTEXT = b"newsticker:subscribers:suppression"
ONE_CLICK_BODY = "List-Unsubscribe=One-Click"

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

LANGUAGES = ("de", "en")
SUBSCRIBED_ACTIONS = (
    ConsentAction.CONFIRMED.value,
    ConsentAction.SUBSCRIBED.value,
    ConsentAction.ADDED.value,
    ConsentAction.IMPORTED.value,
)
WITHDRAWN_ACTIONS = (ConsentAction.WITHDRAWN.value, ConsentAction.BOUNCED.value)
MAIL_PURPOSES = (mails.CONFIRM_PURPOSE, mails.NOTICE_PURPOSE, mails.DATA_PURPOSE)


class SubscriberError(UserError):
    """A request that cannot be done, with a message for the user."""


# ---------------------------------------------------------------- keys and personal links


def current_keyring() -> KeyRing:
    """Return the running app's key ring: its secret key, then the old ones (rotation)."""
    settings: Settings = current_app.config["NEWSTICKER_SETTINGS"]
    return KeyRing([current_app.config["SECRET_KEY"], *settings.site.old_secret_keys])


def current_salts() -> list[bytes]:
    """Return the suppression-list salts of the running app, newest first."""
    settings: Settings = current_app.config["NEWSTICKER_SETTINGS"]
    return suppression_salts([current_app.config["SECRET_KEY"], *settings.site.old_secret_keys])


def suppression_salts(secrets: Sequence[str]) -> list[bytes]:
    """Derive one salt per secret key; erased addresses are checked against all of them."""
    return [
        hmac.new(secret.encode("utf-8"), SUPPRESSION_CONTEXT, hashlib.sha256).digest()
        for secret in secrets
        if secret
    ]


def unsubscribe_token(keyring: KeyRing, subscriber_id: int, publication: str) -> str:
    """Return the token of one subscriber's unsubscribe link for one publication."""
    return keyring.sign(UNSUBSCRIBE_PURPOSE, subscriber_id, publication)


def preferences_token(keyring: KeyRing, subscriber_id: int) -> str:
    """Return the token of one subscriber's preferences link."""
    return keyring.sign(PREFERENCES_PURPOSE, subscriber_id)


def read_unsubscribe_token(keyring: KeyRing, token: str) -> tuple[int, str]:
    """Return (subscriber id, publication) of a genuine unsubscribe token, or raise TokenError."""
    parts = keyring.verify(UNSUBSCRIBE_PURPOSE, token)
    if len(parts) != 2 or not parts[0].isdigit():
        raise TokenError("malformed unsubscribe token")
    return int(parts[0]), parts[1]


def read_preferences_token(keyring: KeyRing, token: str) -> int:
    """Return the subscriber id of a genuine preferences token, or raise TokenError."""
    parts = keyring.verify(PREFERENCES_PURPOSE, token)
    if len(parts) != 1 or not parts[0].isdigit():
        raise TokenError("malformed preferences token")
    return int(parts[0])


def personal_links(
    keyring: KeyRing, base_url: str, subscriber_id: int, publication_slug: str
) -> dict[str, str]:
    """Return a subscriber's unsubscribe and preferences URLs and the List-Unsubscribe headers.

    Costs two HMACs and no database access, so it is cheap enough to call per recipient.
    Keys: "unsubscribe", "preferences", "list_unsubscribe" (the header value, "<URL>"),
    "list_unsubscribe_post" (RFC 8058's fixed "List-Unsubscribe=One-Click").
    """
    base = base_url.rstrip("/")
    unsubscribe = (
        f"{base}{UNSUBSCRIBE_PATH}{unsubscribe_token(keyring, subscriber_id, publication_slug)}"
    )
    return {
        "unsubscribe": unsubscribe,
        "preferences": f"{base}{PREFERENCES_PATH}{preferences_token(keyring, subscriber_id)}",
        "list_unsubscribe": f"<{unsubscribe}>",
        "list_unsubscribe_post": ONE_CLICK_BODY,
    }


def list_unsubscribe_headers(links: dict[str, str]) -> dict[str, str]:
    """Return the RFC 2369 / RFC 8058 headers for links from personal_links."""
    return {
        "List-Unsubscribe": links["list_unsubscribe"],
        "List-Unsubscribe-Post": links["list_unsubscribe_post"],
    }


def verp_token(keyring: KeyRing, subscriber_id: int) -> str:
    """Return a short token for a VERP return path ("bounces+TOKEN@domain") of a subscriber.

    Lower-case hex only, because some relays change the case of addresses.
    """
    return f"{subscriber_id}-{_verp_mac(keyring, subscriber_id)}"


def verp_subscriber_id(keyring: KeyRing, token: str) -> int | None:
    """Return the subscriber id of a genuine VERP token, else None.

    Only the newest key is checked: after a rotation the delivery report's recipient
    address still identifies the subscriber.
    """
    number, dash, mac = token.strip().lower().partition("-")
    # Anything from a bounce is hostile input: ASCII digits only, and compare bytes
    # (compare_digest refuses non-ASCII str with a TypeError).
    if not dash or not (number.isascii() and number.isdigit()) or len(number) > 12:
        return None
    expected = _verp_mac(keyring, int(number))
    return int(number) if hmac.compare_digest(expected.encode(), mac.encode()) else None


def _verp_mac(keyring: KeyRing, subscriber_id: int) -> str:
    mac = keyring.sign(VERP_PURPOSE, subscriber_id).rpartition(".")[2]
    return base64.urlsafe_b64decode(mac + "=").hex()[:16]


def confirm_url(token: str) -> str:
    """Return the absolute URL of a confirmation link."""
    return mails.site_url(f"{CONFIRM_PATH}{token}")


def preferences_url(keyring: KeyRing, subscriber_id: int) -> str:
    """Return the absolute URL of a subscriber's preferences page."""
    return mails.site_url(f"{PREFERENCES_PATH}{preferences_token(keyring, subscriber_id)}")


# ---------------------------------------------------------------- lookups


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
        s.publication
        for s in subscriber.subscriptions
        if s.status == SubscriptionStatus.CONFIRMED.value
    ]


def is_suppressed(session: Session, address: str, salts: Sequence[bytes]) -> bool:
    """Return True when an address was erased at its owner's request."""
    digests = [suppression_hash(address, salt) for salt in salts]
    if not digests:
        return False
    found = session.scalar(select(Suppression.id).where(Suppression.digest.in_(digests)).limit(1))
    return found is not None


def _get_or_create_subscriber(
    session: Session, email: str, *, name: str, language: str, now: datetime
) -> tuple[Subscriber, bool]:
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


def _ensure_subscription(
    session: Session, subscriber: Subscriber, publication: str, now: datetime
) -> Subscription:
    subscription = subscription_of(subscriber, publication)
    if subscription is None:
        subscription = Subscription(
            publication=publication,
            status=SubscriptionStatus.PENDING.value,
            created_at=now,
            updated_at=now,
            requested_at=now,
        )
        subscriber.subscriptions.append(subscription)
        session.flush()
    return subscription


def _log(
    session: Session,
    subscriber: Subscriber,
    action: ConsentAction,
    *,
    now: datetime,
    **values: Any,
) -> None:
    """Append a line to the consent log."""
    session.add(
        ConsentEvent(subscriber_id=subscriber.id, action=action.value, occurred_at=now, **values)
    )


def _mails_recently(session: Session, address: str, *, hours: int, now: datetime) -> int:
    since = now - timedelta(hours=hours)
    return sum(
        count_recent(session, to=address, purpose=purpose, since=since)
        for purpose in (mails.CONFIRM_PURPOSE, mails.NOTICE_PURPOSE)
    )


# ---------------------------------------------------------------- subscribing


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


def request_subscription(
    session: Session,
    signup: SignupRequest,
    *,
    keyring: KeyRing,
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
    subscriber, _created = _get_or_create_subscriber(
        session, email, name=signup.name, language=signup.language, now=now
    )
    already = set(confirmed_publications(subscriber))
    wanted = [p for p in publications if p not in already]
    if not wanted:
        mails.queue_already_subscribed(
            session,
            to=subscriber.email,
            language=signup.language,
            publications=publications,
            preferences_url=preferences_url(keyring, subscriber.id),
        )
        return SignupOutcome.NOTICE_SENT
    _send_confirmation(
        session,
        subscriber,
        wanted,
        action=ConsentAction.REQUESTED,
        name=signup.name,
        language=signup.language,
        ip=signup.ip,
        form_url=signup.form_url,
        consent_text_version=signup.consent_text_version,
        channel=signup.channel,
        actor=signup.actor,
        note=signup.note,
        now=now,
        window=window,
    )
    return SignupOutcome.CONFIRMATION_SENT


def _send_confirmation(
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
    form_url: str = "",
    consent_text_version: str = CONSENT_TEXT_VERSION,
    channel: str = "form",
    actor: str = "",
    note: str = "",
) -> Confirmation:
    for publication in publications:
        _ensure_subscription(session, subscriber, publication, now)
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
        to=subscriber.email,
        language=confirmation.language,
        publications=publications,
        confirm_url=confirm_url(token),
        expires_at=confirmation.expires_at,
    )
    for publication in publications:
        _log(
            session,
            subscriber,
            action,
            publication=publication,
            now=now,
            ip=ip,
            form_url=form_url[:500],
            consent_text_version=consent_text_version,
            message_id=mail.message_id,
            mail_queued_at=mail.created_at,
            channel=channel,
            actor=actor,
            note=note,
            confirmation_id=confirmation.id,
        )
    session.flush()
    return confirmation


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
    session: Session, token: str, *, ip: str | None, now: datetime
) -> ConfirmResult:
    """Use a confirmation link once: the chosen publications become confirmed."""
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
        subscription = _ensure_subscription(session, subscriber, publication, now)
        _set_confirmed(subscription, now)
        _log(
            session,
            subscriber,
            ConsentAction.CONFIRMED,
            publication=publication,
            now=now,
            ip=ip,
            channel="link",
            confirmation_id=confirmation.id,
        )
    _fresh_start(session, subscriber)
    session.flush()
    return ConfirmResult(ConfirmState.CONFIRMED, confirmation)


def _set_confirmed(subscription: Subscription, now: datetime) -> None:
    subscription.status = SubscriptionStatus.CONFIRMED.value
    subscription.confirmed_at = now
    subscription.unsubscribed_at = None
    subscription.bounced_at = None
    subscription.updated_at = now


def _fresh_start(session: Session, subscriber: Subscriber) -> None:
    """Forget old bounces and a suppression once the person has consented anew."""
    session.execute(delete(BounceEvent).where(BounceEvent.subscriber_id == subscriber.id))
    if has_app_context():
        digests = [suppression_hash(subscriber.email, salt) for salt in current_salts()]
        session.execute(delete(Suppression).where(Suppression.digest.in_(digests)))


def resend_confirmation(
    session: Session,
    token: str,
    *,
    ip: str | None,
    now: datetime,
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
    _send_confirmation(
        session,
        subscriber,
        wanted,
        action=ConsentAction.RESENT,
        name=old.name,
        language=old.language,
        ip=ip,
        now=now,
        window=window,
        channel="link",
    )
    return SignupOutcome.CONFIRMATION_SENT


# ---------------------------------------------------------------- unsubscribing


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
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return UnsubscribeOutcome.UNKNOWN
    subscription = subscription_of(subscriber, publication)
    if subscription is None or subscription.status == SubscriptionStatus.UNSUBSCRIBED.value:
        return UnsubscribeOutcome.NOT_SUBSCRIBED
    _set_unsubscribed(session, subscriber, subscription, channel=channel, now=now, actor=actor)
    session.flush()
    return UnsubscribeOutcome.UNSUBSCRIBED


def _set_unsubscribed(
    session: Session,
    subscriber: Subscriber,
    subscription: Subscription,
    *,
    channel: str,
    now: datetime,
    actor: str = "",
) -> None:
    subscription.status = SubscriptionStatus.UNSUBSCRIBED.value
    subscription.unsubscribed_at = now
    subscription.updated_at = now
    _log(
        session,
        subscriber,
        ConsentAction.WITHDRAWN,
        publication=subscription.publication,
        now=now,
        channel=channel,
        actor=actor,
    )


# ---------------------------------------------------------------- preferences


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
) -> PreferenceChanges:
    """Apply the preferences form: publications ticked and unticked, name and language.

    Ticking a publication here confirms it at once: the page is reached only through a
    personal link mailed to this address, which is what the confirmation mail proves.
    """
    changes = PreferenceChanges()
    wanted = set(publications)
    for publication in known_publications:
        subscription = subscription_of(subscriber, publication)
        status = subscription.status if subscription is not None else None
        if publication in wanted and status != SubscriptionStatus.CONFIRMED.value:
            subscription = _ensure_subscription(session, subscriber, publication, now)
            _set_confirmed(subscription, now)
            _log(
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
        elif publication not in wanted and status == SubscriptionStatus.CONFIRMED.value:
            assert subscription is not None
            _set_unsubscribed(session, subscriber, subscription, channel="preferences", now=now)
            changes.unsubscribed.append(publication)
    if changes.subscribed:
        _fresh_start(session, subscriber)
    if name != subscriber.name or (language in LANGUAGES and language != subscriber.language):
        subscriber.name = name
        if language in LANGUAGES:
            subscriber.language = language
        subscriber.updated_at = now
        changes.details = True
    session.flush()
    return changes


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
                "status": s.status,
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
                "action": e.action,
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
            {"time": when(b.occurred_at), "kind": b.kind, "status": b.status, "reason": b.reason}
            for b in bounces
        ],
    }


def send_data_copy(
    session: Session,
    subscriber: Subscriber,
    *,
    keyring: KeyRing,
    ip: str | None,
    now: datetime,
    window_hours: int = 24,
) -> bool:
    """Mail the subscriber a copy of their data as JSON; False if one went out recently."""
    since = now - timedelta(hours=window_hours)
    if count_recent(session, to=subscriber.email, purpose=mails.DATA_PURPOSE, since=since):
        return False
    data = json.dumps(subscriber_data(session, subscriber), indent=2, ensure_ascii=False)
    mail = mails.queue_data_copy(
        session,
        to=subscriber.email,
        language=subscriber.language,
        data_json=data,
        preferences_url=preferences_url(keyring, subscriber.id),
    )
    _log(
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


def erase_subscriber(session: Session, subscriber: Subscriber, *, salts: Sequence[bytes]) -> None:
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
    session.delete(subscriber)
    session.flush()


# ---------------------------------------------------------------- editors


def add_subscriber(
    session: Session,
    *,
    email: str,
    name: str,
    language: str,
    publications: Sequence[str],
    note: str,
    actor: str,
    salts: Sequence[bytes],
    now: datetime,
    ask_confirmation: bool = False,
    keyring: KeyRing | None = None,
    window: MailWindow | None = None,
) -> Subscriber:
    """Add a subscriber by hand with the editor's note on how consent was given.

    With ask_confirmation the person gets the confirmation mail instead (double opt-in).
    """
    email = normalise_address(email)
    if not note.strip():
        raise SubscriberError(_l("Please say how and when the person consented."))
    if is_suppressed(session, email, salts):
        raise SubscriberError(
            _l(
                "This address was erased at the person's request. Only the person can "
                "subscribe again, through the subscription form."
            )
        )
    existing = find_subscriber(session, email)
    if existing is not None and existing.blocked_at is not None:
        raise SubscriberError(_l("This address is blocked. Unblock it first."))
    if existing is not None:
        statuses = {s.publication: s.status for s in existing.subscriptions}
        for publication in publications:
            status = statuses.get(publication)
            if status == SubscriptionStatus.CONFIRMED.value:
                raise SubscriberError(_l("This address is already subscribed."))
            if status in (SubscriptionStatus.UNSUBSCRIBED.value, SubscriptionStatus.BOUNCED.value):
                raise SubscriberError(
                    _l(
                        "This address has unsubscribed or bounced. Only the person can "
                        "subscribe again, through the subscription form."
                    )
                )
    if ask_confirmation:
        if keyring is None:
            raise ValueError("ask_confirmation needs the key ring")
        request_subscription(
            session,
            SignupRequest(
                email=email,
                name=name,
                language=language,
                publications=tuple(publications),
                ip=None,
                form_url="",
                channel="editor",
                actor=actor,
                note=note,
            ),
            keyring=keyring,
            now=now,
            window=window,
        )
        subscriber = find_subscriber(session, email)
        assert subscriber is not None
        return subscriber
    subscriber, created = _get_or_create_subscriber(
        session, email, name=name, language=language, now=now
    )
    if not created and name and not subscriber.name:
        subscriber.name = name
    for publication in publications:
        subscription = _ensure_subscription(session, subscriber, publication, now)
        _set_confirmed(subscription, now)
        _log(
            session,
            subscriber,
            ConsentAction.ADDED,
            publication=publication,
            now=now,
            channel="editor",
            actor=actor,
            note=note.strip(),
        )
    session.flush()
    return subscriber


def block_subscriber(
    session: Session, subscriber: Subscriber, *, actor: str, note: str, now: datetime
) -> None:
    """Stop all mail to a subscriber and refuse new sign-ups of the address."""
    if subscriber.blocked_at is not None:
        return
    subscriber.blocked_at = now
    subscriber.blocked_note = note.strip()[:500]
    _log(
        session,
        subscriber,
        ConsentAction.BLOCKED,
        now=now,
        channel="editor",
        actor=actor,
        note=note,
    )
    session.flush()


def unblock_subscriber(
    session: Session, subscriber: Subscriber, *, actor: str, now: datetime
) -> None:
    """Lift a block; confirmed subscriptions receive mail again."""
    if subscriber.blocked_at is None:
        return
    subscriber.blocked_at = None
    subscriber.blocked_note = ""
    _log(session, subscriber, ConsentAction.UNBLOCKED, now=now, channel="editor", actor=actor)
    session.flush()


@dataclass(frozen=True)
class SubscriberFilters:
    """The editor list's search and filters."""

    query: str = ""
    publication: str = ""
    status: str = ""


def search_subscribers(
    session: Session, filters: SubscriberFilters, *, page: int = 1, per_page: int = 50
) -> tuple[list[Subscriber], int]:
    """Return one page of subscribers matching the filters, newest first, and the total."""
    query = select(Subscriber)
    text = filters.query.strip()
    if text:
        query = query.where(
            or_(
                Subscriber.email_key.contains(text.casefold(), autoescape=True),
                func.lower(Subscriber.name).contains(text.lower(), autoescape=True),
            )
        )
    if filters.status == "blocked":
        query = query.where(Subscriber.blocked_at.is_not(None))
    if filters.publication or filters.status in {s.value for s in SubscriptionStatus}:
        sub = select(Subscription.id).where(Subscription.subscriber_id == Subscriber.id)
        if filters.publication:
            sub = sub.where(Subscription.publication == filters.publication)
        if filters.status in {s.value for s in SubscriptionStatus}:
            sub = sub.where(Subscription.status == filters.status)
        query = query.where(sub.exists())
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Subscriber.created_at.desc(), Subscriber.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return list(rows), total


def subscription_counts(session: Session) -> dict[str, dict[str, int]]:
    """Return {publication: {status: count}} over all subscriptions."""
    counts: dict[str, dict[str, int]] = {}
    rows = session.execute(
        select(Subscription.publication, Subscription.status, func.count()).group_by(
            Subscription.publication, Subscription.status
        )
    )
    for publication, status, number in rows:
        counts.setdefault(publication, {})[status] = number
    return counts


@dataclass(frozen=True)
class WeekGrowth:
    """Subscriptions and withdrawals in one week (Monday to Sunday, local time)."""

    week_start: date
    subscribed: int
    withdrawn: int


def growth_by_week(session: Session, *, weeks: int, now: datetime, tz: tzinfo) -> list[WeekGrowth]:
    """Return the last `weeks` weeks of subscriptions and withdrawals, oldest first."""
    today = now.astimezone(tz).date()
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    since = datetime.combine(first, datetime.min.time(), tz)
    subscribed = dict.fromkeys(range(weeks), 0)
    withdrawn = dict.fromkeys(range(weeks), 0)
    rows = session.execute(
        select(ConsentEvent.occurred_at, ConsentEvent.action)
        .where(
            ConsentEvent.action.in_(SUBSCRIBED_ACTIONS + WITHDRAWN_ACTIONS),
            ConsentEvent.occurred_at >= since,
        )
        .execution_options(yield_per=5000)
    )
    for occurred_at, action in rows:
        index = (occurred_at.astimezone(tz).date() - first).days // 7
        if 0 <= index < weeks:
            target = subscribed if action in SUBSCRIBED_ACTIONS else withdrawn
            target[index] += 1
    return [
        WeekGrowth(first + timedelta(weeks=i), subscribed[i], withdrawn[i]) for i in range(weeks)
    ]


def consent_log(session: Session, subscriber: Subscriber) -> list[ConsentEvent]:
    """Return a subscriber's consent log, oldest first."""
    return list(
        session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.subscriber_id == subscriber.id)
            .order_by(ConsentEvent.occurred_at, ConsentEvent.id)
        )
    )


def mail_sent_times(session: Session, message_ids: Iterable[str]) -> dict[str, datetime]:
    """Return when the mails with these Message-IDs were handed to the relay (while kept)."""
    ids = [m for m in set(message_ids) if m]
    if not ids:
        return {}
    rows = session.execute(
        select(QueuedMail.message_id, QueuedMail.sent_at).where(
            QueuedMail.message_id.in_(ids), QueuedMail.sent_at.is_not(None)
        )
    )
    return {message_id: sent_at for message_id, sent_at in rows if sent_at is not None}


def recent_imports(session: Session, limit: int = 10) -> list[SubscriberImport]:
    """Return the latest finished imports, newest first."""
    return list(
        session.scalars(
            select(SubscriberImport)
            .where(SubscriberImport.status == "done")
            .order_by(SubscriberImport.id.desc())
            .limit(limit)
        )
    )


# ---------------------------------------------------------------- recipients


def _receives(publication_slugs: Sequence[str]) -> tuple[ColumnElement[bool], ...]:
    """Return the conditions under which a subscription receives issues (joined to Subscriber)."""
    return (
        Subscription.publication.in_(list(publication_slugs)),
        Subscription.status == SubscriptionStatus.CONFIRMED.value,
        Subscriber.blocked_at.is_(None),
    )


class Recipient(NamedTuple):
    """One address an issue goes to."""

    subscriber_id: int
    address: str
    name: str
    language: str
    # The first of the requested publications this subscriber receives: the one the
    # unsubscribe link in the mail should name.
    publication: str


def recipient_rows(
    session: Session, publication_slugs: Sequence[str], *, batch_size: int = 2000
) -> Iterator[Recipient]:
    """Yield each confirmed, unblocked subscriber of any of the publications once, by id.

    Streamed from the database in batches, so 100,000 recipients never sit in memory.
    Unconfirmed, unsubscribed, bounced and blocked addresses are left out; erased ones
    no longer exist.
    """
    slugs = list(dict.fromkeys(publication_slugs))
    if not slugs:
        return
    rank = case({slug: index for index, slug in enumerate(slugs)}, value=Subscription.publication)
    query = (
        select(
            Subscriber.id,
            Subscriber.email,
            Subscriber.name,
            Subscriber.language,
            Subscription.publication,
        )
        .join(Subscription, Subscription.subscriber_id == Subscriber.id)
        .where(*_receives(slugs))
        .order_by(Subscriber.id, rank)
        .execution_options(yield_per=batch_size)
    )
    last_id: int | None = None
    for row in session.execute(query):
        if row[0] == last_id:
            continue
        last_id = row[0]
        yield Recipient(row[0], row[1], row[2], row[3], row[4])


def receiving_subscriber_ids(
    session: Session, publication_slugs: Sequence[str], subscriber_ids: Iterable[int]
) -> set[int]:
    """Return those of the subscribers who still receive any of the publications now.

    Delivery asks this just before sending a batch, so someone who unsubscribed after
    the recipient list was made gets nothing.
    """
    ids = list(subscriber_ids)
    found: set[int] = set()
    for start in range(0, len(ids), 5000):
        found.update(
            session.scalars(
                select(Subscription.subscriber_id)
                .join(Subscriber, Subscriber.id == Subscription.subscriber_id)
                .where(
                    Subscription.subscriber_id.in_(ids[start : start + 5000]),
                    *_receives(publication_slugs),
                )
            )
        )
    return found


def count_recipients(session: Session, publication_slugs: Sequence[str]) -> int:
    """Return how many addresses recipient_rows would yield."""
    return (
        session.scalar(
            select(func.count(func.distinct(Subscription.subscriber_id)))
            .join(Subscriber, Subscription.subscriber_id == Subscriber.id)
            .where(*_receives(publication_slugs))
        )
        or 0
    )


# ---------------------------------------------------------------- retention


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
    # The request lines of unconfirmed sign-ups hold their IP: they go with them.
    session.execute(delete(ConsentEvent).where(ConsentEvent.confirmation_id.in_(stale)))
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
            Subscription.status == SubscriptionStatus.PENDING.value,
            Subscription.created_at < cutoff,
        )
    )
    run.subscriptions = int(result.rowcount or 0)  # type: ignore[attr-defined]
    has_subscription = select(Subscription.id).where(Subscription.subscriber_id == Subscriber.id)
    has_log = select(ConsentEvent.id).where(ConsentEvent.subscriber_id == Subscriber.id)
    result = session.execute(
        delete(Subscriber).where(
            Subscriber.created_at < cutoff,
            Subscriber.blocked_at.is_(None),
            ~has_subscription.exists(),
            ~has_log.exists(),
        )
    )
    run.subscribers = int(result.rowcount or 0)  # type: ignore[attr-defined]
    session.expire_all()
    return run


# ---------------------------------------------------------------- bounces


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

    @classmethod
    def current(cls) -> BouncePolicy:
        """Return the running app's policy, or the defaults outside an app."""
        if has_app_context():
            return cls.from_settings(current_app.config["NEWSTICKER_SETTINGS"])
        return cls()


@dataclass(frozen=True)
class BounceOutcome:
    """What recording one bounce did."""

    subscriber_id: int
    kind: str
    marked_bounced: bool


def _subscriber_for(session: Session, target: int | str) -> Subscriber | None:
    if isinstance(target, int):
        return session.get(Subscriber, target)
    return find_subscriber(session, target)


def record_bounce(
    session: Session,
    address_or_subscriber_id: int | str,
    *,
    kind: str,
    reason: str,
    status: str = "",
    source: str = "smtp",
    now: datetime,
    policy: BouncePolicy | None = None,
) -> BounceOutcome | None:
    """Count a hard or soft bounce; past the threshold the subscriptions become bounced."""
    if kind not in ("hard", "soft"):
        raise ValueError(f"bounce kind must be 'hard' or 'soft', not {kind!r}")
    policy = policy or BouncePolicy.current()
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
        .where(BounceEvent.subscriber_id == subscriber.id, BounceEvent.kind == "hard")
    )
    soft = session.scalar(
        select(func.count())
        .select_from(BounceEvent)
        .where(
            BounceEvent.subscriber_id == subscriber.id,
            BounceEvent.kind == "soft",
            BounceEvent.occurred_at >= now - timedelta(days=policy.soft_window_days),
        )
    )
    marked = False
    if (hard or 0) >= policy.hard_threshold or (soft or 0) >= policy.soft_threshold:
        for subscription in subscriber.subscriptions:
            if subscription.status != SubscriptionStatus.CONFIRMED.value:
                continue
            subscription.status = SubscriptionStatus.BOUNCED.value
            subscription.bounced_at = now
            subscription.updated_at = now
            _log(
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
        kind="hard",
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
        kind="soft",
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
    policy = policy or BouncePolicy.current()
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
        setattr(run, result.kind, getattr(run, result.kind) + 1)
        run.marked += int(outcome.marked_bounced)
    return run


def _bounce_target(keyring: KeyRing, result: BounceResult) -> int | str | None:
    if result.verp_token:
        subscriber_id = verp_subscriber_id(keyring, result.verp_token)
        if subscriber_id is not None:
            return subscriber_id
    return result.recipient
