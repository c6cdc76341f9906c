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

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import JSON, Index, Integer, Select, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from newsticker.core.csvsafe import write_csv
from newsticker.core.db import Base, UTCDateTime

__all__ = [
    "Actor",
    "AuditEvent",
    "AuditFilters",
    "actor_or",
    "audit_csv",
    "audit_rows",
    "known_actions",
    "purge_audit_events",
    "record_event",
    "search_events",
]

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


def actor_or(actor: Actor | None, user_id: int | None = None, default: str = "system") -> Actor:
    """Return the actor given, else an account named by id, else a process by its label."""
    if actor is not None:
        return actor
    return Actor(label=f"user #{user_id}", user_id=user_id) if user_id else Actor.system(default)


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


@dataclass(frozen=True)
class AuditFilters:
    """What the trail's page shows: an actor (part of the label, or an account id), an
    action (or an area, "item." for every item action), and a range of local days."""

    actor: str = ""
    action: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _filtered(filters: AuditFilters, tz: tzinfo) -> Select[Any]:
    query = select(AuditEvent)
    actor = filters.actor.strip()
    if actor.isdigit():
        query = query.where(AuditEvent.actor_id == int(actor))
    elif actor:
        query = query.where(func.lower(AuditEvent.actor).contains(actor.lower(), autoescape=True))
    if filters.action.endswith("."):
        query = query.where(AuditEvent.action.startswith(filters.action, autoescape=True))
    elif filters.action:
        query = query.where(AuditEvent.action == filters.action)
    if filters.date_from is not None:
        query = query.where(AuditEvent.at >= datetime.combine(filters.date_from, time(), tz))
    if filters.date_to is not None:
        end = datetime.combine(filters.date_to + timedelta(days=1), time(), tz)
        query = query.where(AuditEvent.at < end)
    return query


def search_events(
    session: Session, filters: AuditFilters, *, tz: tzinfo, page: int = 1, per_page: int = 50
) -> tuple[list[AuditEvent], int]:
    """Return one page of the trail, newest first, and how many entries match."""
    query = _filtered(filters, tz)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    events = session.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((max(page, 1) - 1) * per_page)
        .limit(per_page)
    )
    return list(events), total


def known_actions(session: Session) -> list[str]:
    """Return the actions the trail holds, for the filter's list."""
    return list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))


def audit_rows(
    session: Session, filters: AuditFilters, *, tz: tzinfo
) -> Iterator[tuple[object, ...]]:
    """Yield the matching entries, oldest first, as rows for a CSV export."""
    # Plain columns, not entities: an export of many thousand rows builds no ORM objects.
    query = (
        _filtered(filters, tz)
        .with_only_columns(
            AuditEvent.at,
            AuditEvent.action,
            AuditEvent.actor,
            AuditEvent.actor_id,
            AuditEvent.ip,
            AuditEvent.subject_type,
            AuditEvent.subject_id,
            AuditEvent.summary,
        )
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    for at, action, actor, actor_id, ip, subject_type, subject_id, summary in session.execute(
        query.execution_options(yield_per=1000)
    ):
        yield (
            at.astimezone(tz).isoformat(timespec="seconds"),
            action,
            actor,
            "" if actor_id is None else actor_id,
            ip,
            subject_type,
            subject_id,
            summary,
        )


def audit_csv(
    session: Session,
    filters: AuditFilters,
    *,
    tz: tzinfo,
    header: tuple[object, ...],
    actor: Actor,
    now: datetime,
) -> str:
    """Return the matching entries as formula-safe CSV, and record that they were exported."""
    rows = list(audit_rows(session, filters, tz=tz))
    body = write_csv(rows, header)
    record_event(
        session,
        "audit.exported",
        actor=actor,
        now=now,
        summary=f"{len(rows)} entries",
        details={
            "actor": filters.actor,
            "action": filters.action,
            "from": filters.date_from.isoformat() if filters.date_from else "",
            "to": filters.date_to.isoformat() if filters.date_to else "",
        },
    )
    return body
