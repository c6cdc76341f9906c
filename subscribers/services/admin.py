"""The editors' work on the list: add, block and unblock people; search, count, report.

An editor adds a person only with a note on how they consented; an address that was
erased, unsubscribed or bounced comes back only through the person's own sign-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from newsticker.config import Settings
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.core.links import Links
from newsticker.core.mailqueue import QueuedMail
from newsticker.core.tokens import KeyRing
from subscribers.addresses import normalise_address
from subscribers.models import (
    BounceEvent,
    BounceKind,
    ConsentAction,
    ConsentEvent,
    ImportStatus,
    Subscriber,
    SubscriberImport,
    Subscription,
    SubscriptionStatus,
)
from subscribers.services.consent import log_consent, set_confirmed
from subscribers.services.lookups import (
    SubscriberError,
    ensure_subscription,
    find_subscriber,
    get_or_create_subscriber,
    is_suppressed,
)
from subscribers.services.signup import MailWindow, SignupRequest, request_subscription

SUBSCRIBED_ACTIONS = (
    ConsentAction.CONFIRMED,
    ConsentAction.SUBSCRIBED,
    ConsentAction.ADDED,
    ConsentAction.IMPORTED,
)
WITHDRAWN_ACTIONS = (ConsentAction.WITHDRAWN, ConsentAction.BOUNCED)
# The list's filter offers the subscription statuses and this one of the person.
BLOCKED_FILTER = "blocked"


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
    links: Links | None = None,
    settings: Settings | None = None,
    window: MailWindow | None = None,
) -> Subscriber:
    """Add a subscriber by hand with the editor's note on how consent was given.

    With ask_confirmation the person gets the confirmation mail instead (double opt-in);
    that needs the key ring, the links and the settings of the mail.
    """
    email = normalise_address(email)
    if not note.strip():
        raise SubscriberError(_l("Please say how and when the person consented."))
    existing = find_subscriber(session, email)
    if is_suppressed(session, email, salts):
        if existing is not None:
            # Still known, yet suppressed: the person complained about our mail.
            raise SubscriberError(
                _l(
                    "This address marked our mail as spam. Only the person can subscribe "
                    "again, through the subscription form."
                )
            )
        raise SubscriberError(
            _l(
                "This address was erased at the person's request. Only the person can "
                "subscribe again, through the subscription form."
            )
        )
    if existing is not None and existing.blocked_at is not None:
        raise SubscriberError(_l("This address is blocked. Unblock it first."))
    if existing is not None:
        statuses = {s.publication: s.status for s in existing.subscriptions}
        for publication in publications:
            status = statuses.get(publication)
            if status == SubscriptionStatus.CONFIRMED:
                raise SubscriberError(_l("This address is already subscribed."))
            if status in (SubscriptionStatus.UNSUBSCRIBED, SubscriptionStatus.BOUNCED):
                raise SubscriberError(
                    _l(
                        "This address has unsubscribed or bounced. Only the person can "
                        "subscribe again, through the subscription form."
                    )
                )
    if ask_confirmation:
        if keyring is None or links is None or settings is None:
            raise ValueError("ask_confirmation needs the key ring, the links and the settings")
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
            links=links,
            settings=settings,
            now=now,
            window=window,
        )
        subscriber = find_subscriber(session, email)
        assert subscriber is not None
        return subscriber
    subscriber, created = get_or_create_subscriber(
        session, email, name=name, language=language, now=now
    )
    if not created and name and not subscriber.name:
        subscriber.name = name
    for publication in publications:
        subscription = ensure_subscription(session, subscriber, publication, now)
        set_confirmed(subscription, now)
        log_consent(
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
    log_consent(
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
    log_consent(
        session, subscriber, ConsentAction.UNBLOCKED, now=now, channel="editor", actor=actor
    )
    session.flush()


@dataclass(frozen=True)
class SubscriberFilters:
    """The editor list's search and filters."""

    query: str = ""
    publication: str = ""
    status: str = ""


def _subscription_status(value: str) -> SubscriptionStatus | None:
    try:
        return SubscriptionStatus(value)
    except ValueError:
        return None


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
    if filters.status == BLOCKED_FILTER:
        query = query.where(Subscriber.blocked_at.is_not(None))
    status = _subscription_status(filters.status)
    if filters.publication or status is not None:
        sub = select(Subscription.id).where(Subscription.subscriber_id == Subscriber.id)
        if filters.publication:
            sub = sub.where(Subscription.publication == filters.publication)
        if status is not None:
            sub = sub.where(Subscription.status == status)
        query = query.where(sub.exists())
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Subscriber.created_at.desc(), Subscriber.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return list(rows), total


def subscription_counts(session: Session) -> dict[str, dict[SubscriptionStatus, int]]:
    """Return {publication: {status: count}} over all subscriptions."""
    counts: dict[str, dict[SubscriptionStatus, int]] = {}
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
            .where(SubscriberImport.status == ImportStatus.DONE)
            .order_by(SubscriberImport.id.desc())
            .limit(limit)
        )
    )


def returns_since(session: Session, since: datetime) -> dict[BounceKind, int]:
    """Return how many bounces and complaints of each kind arrived since a time (zero included)."""
    counts = dict.fromkeys(BounceKind, 0)
    rows = session.execute(
        select(BounceEvent.kind, func.count())
        .where(BounceEvent.occurred_at >= since)
        .group_by(BounceEvent.kind)
    )
    for kind, count in rows:
        counts[kind] = count
    return counts


def withdrawn_since(session: Session, publication_slugs: Sequence[str], since: datetime) -> int:
    """Return how many subscriptions to these publications ended (withdrawn, bounced) since."""
    return (
        session.scalar(
            select(func.count())
            .select_from(ConsentEvent)
            .where(
                ConsentEvent.action.in_(WITHDRAWN_ACTIONS),
                ConsentEvent.publication.in_(list(publication_slugs)),
                ConsentEvent.occurred_at >= since,
            )
        )
        or 0
    )
