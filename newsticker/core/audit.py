"""The audit trail: who changed what of consequence, when, from where.

Every feature records its consequential actions here (approve, reject, schedule, send,
import, erase, role change, login ...), in the same transaction as the change itself,
so a rolled-back change leaves no entry and a committed one always has one. It lives in
core because the subscribers package records too and may import nothing above core.

An entry names its actor twice: by account id (for filtering) and by a label written
at the time (an account's address, "cli", "scheduler", "api token 'CMS'"), so the trail
stays readable after an account is deleted. Entries are deleted after
`retention.audit_days` by a nightly job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from newsticker.core.db import Base, UTCDateTime

__all__ = ["Actor", "AuditEvent", "purge_audit_events", "record_event"]

MAX_SUMMARY = 500


class AuditEvent(Base):
    """One consequential action."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_at", "at"),
        Index("ix_audit_events_action_at", "action", "at"),
        Index("ix_audit_events_actor_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Dotted names, area first: "item.approved", "subscriber.erased", "auth.login_failed".
    action: Mapped[str] = mapped_column(String(60))
    actor_id: Mapped[int | None] = mapped_column(
        Integer
    )  # no foreign key: entries outlive accounts
    actor: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str] = mapped_column(String(64), default="")
    subject_type: Mapped[str] = mapped_column(String(40), default="")
    subject_id: Mapped[str] = mapped_column(String(64), default="")
    summary: Mapped[str] = mapped_column(String(MAX_SUMMARY), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


@dataclass(frozen=True)
class Actor:
    """Who acts: an account (id and address) or a process ("cli", "scheduler"), and from where."""

    label: str
    user_id: int | None = None
    ip: str = ""

    @classmethod
    def system(cls, label: str) -> Actor:
        """Return a process as actor (the command line, the scheduler, a worker)."""
        return cls(label=label)


def record_event(
    session: Session,
    action: str,
    *,
    actor: Actor,
    now: datetime,
    subject: tuple[str, object] | None = None,
    summary: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an entry to the trail in the caller's transaction."""
    subject_type, subject_id = subject if subject else ("", "")
    event = AuditEvent(
        at=now,
        action=action,
        actor_id=actor.user_id,
        actor=actor.label[:320],
        ip=actor.ip[:64],
        subject_type=subject_type,
        subject_id=str(subject_id)[:64],
        summary=summary[:MAX_SUMMARY],
        details=dict(details or {}),
    )
    session.add(event)
    return event


def purge_audit_events(session: Session, *, before: datetime) -> int:
    """Delete the entries older than a time; return how many."""
    result = session.execute(delete(AuditEvent).where(AuditEvent.at < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def recent_events(session: Session, *, limit: int = 100) -> list[AuditEvent]:
    """Return the newest entries first."""
    return list(session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)))
