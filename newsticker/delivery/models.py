"""Delivery records (one per issue and recipient), the per-issue report and the send budget."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from newsticker.core.db import Base, StatusType, UTCDateTime, utcnow
from newsticker.core.i18n import lazy_gettext as _l


class DeliveryStatus(StrEnum):
    """Where one recipient of one issue stands."""

    PENDING = "pending"  # to be sent (claimed while lease_until lies in the future)
    SENT = "sent"  # the relay accepted it
    FAILED = "failed"  # a 5xx reply, or temporary failures until the attempts ran out
    SKIPPED = "skipped"  # unsubscribed, bounced or blocked after the send began
    CANCELLED = "cancelled"  # the issue was cancelled before this one went out


# Statuses that are final: nothing more happens to such a record.
DONE_STATUSES = frozenset(
    {
        DeliveryStatus.SENT,
        DeliveryStatus.FAILED,
        DeliveryStatus.SKIPPED,
        DeliveryStatus.CANCELLED,
    }
)


class SendState(StrEnum):
    """Where the sending of one issue stands."""

    SENDING = "sending"  # workers may claim its records
    PAUSED = "paused"  # an editor or the failure threshold stopped it; resume goes on
    HELD = "held"  # it missed its time by more than the grace period; an editor decides
    CANCELLED = "cancelled"  # stopped for good; pending records were cancelled
    FINISHED = "finished"  # every record is final; the report was mailed


# States in which nothing more happens to a send.
FINAL_STATES = frozenset({SendState.FINISHED, SendState.CANCELLED})
# States from which a send can still be cancelled.
CANCELLABLE_STATES = frozenset({SendState.SENDING, SendState.PAUSED, SendState.HELD})

SEND_STATE_LABELS: dict[SendState, Any] = {
    SendState.SENDING: _l("Sending"),
    SendState.PAUSED: _l("Paused"),
    SendState.HELD: _l("Held: missed its time"),
    SendState.CANCELLED: _l("Cancelled"),
    SendState.FINISHED: _l("Finished"),
}


class Delivery(Base):
    """One issue to one recipient: claimed by a worker for a lease, sent once, recorded."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("issue_id", "subscriber_id"),
        # What a claim reads: the issue's pending records in the order they fall due. A
        # claim moves next_attempt_at to the end of its lease, so a claim is a short range
        # scan of this index, however many records the issue has.
        Index("ix_deliveries_claim", "issue_id", "status", "next_attempt_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"))
    # Erasing a subscriber erases their delivery records too (no address outlives them).
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    # The publication the unsubscribe link names (the newsletter also goes to the ticker's).
    publication: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    language: Mapped[str] = mapped_column(String(5), default="de")
    status: Mapped[DeliveryStatus] = mapped_column(
        StatusType(DeliveryStatus, 10), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When the record may be claimed next: now, after a retry's wait, or when a lease ends.
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A worker's claim: nobody else takes the record until the lease runs out.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(40))
    # Stable per issue and recipient, so a resend after a crash is recognisably the same mail.
    message_id: Mapped[str] = mapped_column(String(255))
    # The relay's last answer ("250 2.0.0 queued as …", "550 5.1.1 no such user", …).
    result: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeliveryReport(Base):
    """The sending of one issue: its state, the failure run, and the report kept afterwards."""

    __tablename__ = "delivery_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id", ondelete="CASCADE"), unique=True)
    state: Mapped[SendState] = mapped_column(StatusType(SendState, 10), default=SendState.SENDING)
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How late the send started after its scheduled time (a scheduler that was down).
    late_seconds: Mapped[int] = mapped_column(Integer, default=0)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    # Failures in a row across all workers; at the threshold the issue pauses.
    failure_run: Mapped[int] = mapped_column(Integer, default=0)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pause_reason: Mapped[str] = mapped_column(Text, default="")
    # [[reason, count], ...], most frequent first: the report without personal data.
    failure_reasons: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
    # Notes for the report: misfires, pauses, resumes, who cancelled ([[iso time, text]]).
    # [time, code, {values}] (newsticker.delivery.log words them); older lines [time, text].
    events: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
    report_mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def duration_seconds(self) -> float | None:
        """Return how long the send took (so far)."""
        if self.started_at is None:
            return None
        end = self.finished_at or utcnow()
        return max((end - self.started_at).total_seconds(), 0.0)


class SendBudget(Base):
    """The relay's per-second pace shared by every worker: the next free sending slot."""

    __tablename__ = "delivery_send_budget"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Seconds since the epoch: the earliest moment the next message may go out.
    next_slot: Mapped[float] = mapped_column(Float, default=0.0)


class SendMinute(Base):
    """Messages granted in one minute, for the per-hour limit (a sliding window of minutes)."""

    __tablename__ = "delivery_send_minutes"

    # Minutes since the epoch.
    minute: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    count: Mapped[int] = mapped_column(Integer, default=0)
