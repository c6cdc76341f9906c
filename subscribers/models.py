"""Subscribers, their subscriptions, the consent log, confirmations, suppressions, bounces.

Statuses, consent actions, bounce kinds and import states are StrEnums stored through
`StatusType` as VARCHARs of their old lengths: the schema is unchanged, and code reads
enum members back.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from newsticker.core.db import Base, StatusType, UTCDateTime, utcnow
from newsticker.core.i18n import lazy_gettext as _l


class SubscriptionStatus(StrEnum):
    """Where one subscription to one publication stands."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"


STATUS_LABELS: dict[str, Any] = {
    SubscriptionStatus.PENDING: _l("Pending confirmation"),
    SubscriptionStatus.CONFIRMED: _l("Confirmed"),
    SubscriptionStatus.UNSUBSCRIBED: _l("Unsubscribed"),
    SubscriptionStatus.BOUNCED: _l("Bounced"),
}


class ConsentAction(StrEnum):
    """What a line of the consent log records."""

    REQUESTED = "requested"  # the form was sent; a confirmation mail went out
    RESENT = "resent"  # a new confirmation mail after the first link expired
    CONFIRMED = "confirmed"  # the link in the confirmation mail was used
    SUBSCRIBED = "subscribed"  # added on the preferences page (a link only the inbox has)
    ADDED = "added"  # added by an editor, with a consent note
    IMPORTED = "imported"  # imported from a list, with a consent note
    WITHDRAWN = "withdrawn"  # unsubscribed (one click, unsubscribe page, preferences, editor)
    BOUNCED = "bounced"  # taken off the list because mail could not be delivered
    COMPLAINED = "complained"  # taken off every list: the person marked our mail as spam
    REINSTATED = "reinstated"  # an admin put back an address that bounces took off wrongly
    BLOCKED = "blocked"
    UNBLOCKED = "unblocked"
    DATA_REQUESTED = "data_requested"  # a copy of the data was mailed


CONSENT_ACTION_LABELS: dict[str, Any] = {
    ConsentAction.REQUESTED: _l("Subscription requested"),
    ConsentAction.RESENT: _l("Confirmation mail sent again"),
    ConsentAction.CONFIRMED: _l("Subscription confirmed"),
    ConsentAction.SUBSCRIBED: _l("Subscribed on the preferences page"),
    ConsentAction.ADDED: _l("Added by the editors"),
    ConsentAction.IMPORTED: _l("Imported from a list"),
    ConsentAction.WITHDRAWN: _l("Consent withdrawn (unsubscribed)"),
    ConsentAction.BOUNCED: _l("Taken off the list: mail undeliverable"),
    ConsentAction.COMPLAINED: _l("Taken off the list: marked our mail as spam"),
    ConsentAction.REINSTATED: _l("Put back on the list after a wrong bounce"),
    ConsentAction.BLOCKED: _l("Blocked by the editors"),
    ConsentAction.UNBLOCKED: _l("Unblocked by the editors"),
    ConsentAction.DATA_REQUESTED: _l("Copy of the data requested"),
}


class BounceKind(StrEnum):
    """Whether a returned mail says the address is gone or only failed for now."""

    HARD = "hard"  # permanent: unknown user, no such domain
    SOFT = "soft"  # temporary: full mailbox, greylisting, a policy refusal
    COMPLAINT = "complaint"  # the person marked our mail as spam (a feedback report)
    UNSUBSCRIBE = "unsubscribe"  # the person asked by mail (List-Unsubscribe mailto)


BOUNCE_KIND_LABELS: dict[str, Any] = {
    BounceKind.HARD: _l("hard bounce"),
    BounceKind.SOFT: _l("soft bounce"),
    BounceKind.COMPLAINT: _l("spam complaint"),
    BounceKind.UNSUBSCRIBE: _l("unsubscribe mail"),
}


class ImportStatus(StrEnum):
    """Where an uploaded list stands."""

    PREVIEW = "preview"  # checked and kept until an editor imports or discards it
    DONE = "done"


CHANNEL_LABELS: dict[str, Any] = {
    "one-click": _l("one-click unsubscribe from the mail program (RFC 8058)"),
    "unsubscribe-page": _l("unsubscribe link in a mail"),
    "preferences": _l("preferences page"),
    "form": _l("subscription form"),
    "link": _l("confirmation link"),
    "editor": _l("editor area"),
    "import": _l("import"),
    "bounce": _l("bounce handling"),
    "complaint": _l("spam complaint from the mail provider (feedback report)"),
    "mailto": _l("unsubscribe mail (List-Unsubscribe mailto)"),
    "cli": _l("command line"),
}


class Subscriber(Base):
    """One person, known by a normalised address; erasure deletes the row and all below it."""

    __tablename__ = "subscribers"
    # AUTOINCREMENT: SQLite would otherwise hand an erased subscriber's id to the next
    # one, and an old personal link (signed with the id) would open the new person's page.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    # As email-validator normalises it: what mails are sent to.
    email: Mapped[str] = mapped_column(String(320))
    # Case- and Unicode-folded: two spellings of one address are one subscriber.
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(5), default="de")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    blocked_note: Mapped[str] = mapped_column(String(500), default="")

    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="subscriber",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Subscription.publication",
    )


class Subscription(Base):
    """One subscriber's relation to one publication."""

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("subscriber_id", "publication"),
        Index("ix_subscriptions_publication_status", "publication", "status", "subscriber_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    publication: Mapped[str] = mapped_column(String(40))
    status: Mapped[SubscriptionStatus] = mapped_column(
        StatusType(SubscriptionStatus, 12), default=SubscriptionStatus.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bounced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    subscriber: Mapped[Subscriber] = relationship(back_populates="subscriptions")


class Confirmation(Base):
    """A double opt-in request: the digest of its single-use link and what it confirms."""

    __tablename__ = "subscription_confirmations"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    publications: Mapped[list[str]] = mapped_column(JSON, default=list)
    # What the form asked for; applied only when the link is used.
    name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(5), default="de")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    subscriber: Mapped[Subscriber] = relationship()


class ConsentEvent(Base):
    """One line of the append-only consent log (never updated; deleted only with the person)."""

    __tablename__ = "consent_events"
    __table_args__ = (Index("ix_consent_events_action_time", "action", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    # Empty for events about the person rather than one publication (blocked, data copy).
    publication: Mapped[str] = mapped_column(String(40), default="")
    action: Mapped[ConsentAction] = mapped_column(StatusType(ConsentAction, 20))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    channel: Mapped[str] = mapped_column(String(20), default="")
    ip: Mapped[str | None] = mapped_column(String(45))
    form_url: Mapped[str] = mapped_column(String(500), default="")
    consent_text_version: Mapped[str] = mapped_column(String(40), default="")
    # The language the consent text was shown in (the page's language, not the mails').
    consent_language: Mapped[str] = mapped_column(String(5), default="")
    message_id: Mapped[str] = mapped_column(String(255), default="")
    mail_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(320), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[str] = mapped_column(String(500), default="")
    # The sign-up this line belongs to, so purging an unconfirmed sign-up takes its IP too.
    confirmation_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscription_confirmations.id", ondelete="SET NULL"), index=True
    )


@event.listens_for(ConsentEvent, "before_update")
def _consent_log_is_append_only(_mapper: Any, _connection: Any, target: ConsentEvent) -> None:
    raise ValueError(f"consent event {target.id} is part of an append-only log")


class Suppression(Base):
    """A salted hash of an erased address: a later import must not bring the person back."""

    __tablename__ = "subscriber_suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BounceEvent(Base):
    """One returned mail, 5xx reply or spam complaint about a subscriber."""

    __tablename__ = "bounce_events"
    __table_args__ = (
        Index("ix_bounce_events_subscriber_time", "subscriber_id", "occurred_at"),
        Index("ix_bounce_events_run", "run_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    kind: Mapped[BounceKind] = mapped_column(StatusType(BounceKind, 11))
    status: Mapped[str] = mapped_column(String(12), default="")
    # The server's own words (Diagnostic-Code, the notice's lines).
    reason: Mapped[str] = mapped_column(String(1000), default="")
    # subscribers.bounces.Reason: what the editors read, in their language.
    reason_code: Mapped[str] = mapped_column(String(20), default="")
    source: Mapped[str] = mapped_column(String(20), default="")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("bounce_runs.id", ondelete="SET NULL"))
    # Whether this event took the subscriber off the list.
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when an admin put the address back: the event no longer counts.
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BounceRun(Base):
    """One reading of the bounce mailbox: what it found, and what it could not read."""

    __tablename__ = "bounce_runs"
    __table_args__ = (Index("ix_bounce_runs_started", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(300), default="")  # the Maildir or IMAP folder
    trigger: Mapped[str] = mapped_column(String(20), default="")  # "scheduler", "cli"
    # Counts by kind ({"bounce": 3, "delay": 1, ...}) and by effect ({"hard": 2, ...}).
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    # [{"message": name, "reason": why}, ...] of the messages moved to the quarantine.
    quarantined: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)


class ReturnedMessage(Base):
    """A message of the bounce mailbox already counted, by digest: reading it twice counts once.

    Moving a message out of the inbox happens after the commit; a crash in between leaves
    it there, and the next run finds its digest here and only moves it.
    """

    __tablename__ = "bounce_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20), default="")
    run_id: Mapped[int | None] = mapped_column(ForeignKey("bounce_runs.id", ondelete="SET NULL"))
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ConsentProof(Base):
    """The proof of one double opt-in: the confirmation mail as sent, and who used its link.

    Kept while the subscription lasts and `retention.consent_proof_years` after it ends,
    whatever the mail queue's retention; erasure deletes it with the person.
    """

    __tablename__ = "consent_proofs"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    confirmation_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscription_confirmations.id", ondelete="SET NULL"), index=True
    )
    publications: Mapped[list[str]] = mapped_column(JSON, default=list)
    address: Mapped[str] = mapped_column(String(320))
    consent_text_version: Mapped[str] = mapped_column(String(40), default="")
    consent_language: Mapped[str] = mapped_column(String(5), default="")
    channel: Mapped[str] = mapped_column(String(20), default="")
    form_url: Mapped[str] = mapped_column(String(500), default="")
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_ip: Mapped[str | None] = mapped_column(String(45))
    message_id: Mapped[str] = mapped_column(String(255), default="")
    mail_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The confirmation mail byte for byte as the sender hands it to the relay (CRLF).
    raw_message: Mapped[bytes] = mapped_column(LargeBinary)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_ip: Mapped[str | None] = mapped_column(String(45))


class SubscriberImport(Base):
    """One import of a list: who, when, with which consent note, and what came of it."""

    __tablename__ = "subscriber_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(320), default="")
    channel: Mapped[str] = mapped_column(String(10), default="cli")
    filename: Mapped[str] = mapped_column(String(255), default="")
    publication: Mapped[str] = mapped_column(String(40))
    consent_note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ImportStatus] = mapped_column(
        StatusType(ImportStatus, 12), default=ImportStatus.PREVIEW
    )
    # The uploaded file, kept only between the preview and the confirmation.
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    # [[row, value, kind, reason], ...] in the language of whoever ran the import.
    report: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
