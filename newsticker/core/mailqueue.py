"""Transactional mail: recorded in the request's transaction, sent after the commit, retried."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from newsticker.core.db import Base, UTCDateTime, utcnow
from newsticker.core.mail import (
    MailError,
    PermanentMailError,
    SmtpConnection,
    SmtpTransport,
    TemporaryMailError,
    build_message,
    message_bytes,
)

logger = logging.getLogger(__name__)

CLAIM_SECONDS = 300
PENDING_KEY = "queued_mail_ids"


class QueuedMail(Base):
    """One transactional mail (receipt, confirmation, notice) and its sending state."""

    __tablename__ = "mail_queue"
    __table_args__ = (Index("ix_mail_queue_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    purpose: Mapped[str] = mapped_column(String(40), index=True)
    to_addr: Mapped[str] = mapped_column(String(320), index=True)
    sender: Mapped[str] = mapped_column(String(400))
    reply_to: Mapped[str | None] = mapped_column(String(400))
    subject: Mapped[str] = mapped_column(String(500))
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    message_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


def queue_mail(
    session: Session,
    *,
    purpose: str,
    to: str,
    sender: str,
    subject: str,
    text: str,
    html: str | None = None,
    reply_to: str | None = None,
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
) -> QueuedMail:
    """Record a mail in the current transaction; it is sent after the commit."""
    # Build once now so a bad header fails the request instead of the sender later.
    # The Date is the moment the mail was written, whenever it is (re)sent.
    created = utcnow()
    msg = build_message(
        sender=sender,
        to=to,
        subject=subject,
        text=text,
        html=html,
        reply_to=reply_to,
        message_id=message_id,
        headers=headers,
        date=created,
    )
    mail = QueuedMail(
        created_at=created,
        purpose=purpose,
        to_addr=to,
        sender=sender,
        reply_to=reply_to,
        subject=subject,
        text=text,
        html=html,
        headers=dict(headers or {}),
        message_id=str(msg["Message-ID"]),
        next_attempt_at=utcnow(),
    )
    session.add(mail)
    session.flush()
    session.info.setdefault(PENDING_KEY, []).append(mail.id)
    return mail


def take_pending_ids(session: Session) -> list[int]:
    """Return and forget the ids of mails queued in this session since the last call."""
    ids: list[int] = session.info.pop(PENDING_KEY, [])
    return ids


def count_recent(session: Session, *, to: str, purpose: str, since: datetime) -> int:
    """Count mails of one purpose queued for one address since a time (per-address limits)."""
    return len(
        session.scalars(
            select(QueuedMail.id).where(
                QueuedMail.to_addr == to,
                QueuedMail.purpose == purpose,
                QueuedMail.created_at >= since,
            )
        ).all()
    )


@dataclass
class QueueRun:
    """What one run of the queue did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def _claim(factory: sessionmaker[Session], mail_id: int) -> QueuedMail | None:
    """Claim one due mail atomically so two senders never both send it."""
    now = utcnow()
    with factory() as session, session.begin():
        claimed = session.execute(
            update(QueuedMail)
            .where(
                QueuedMail.id == mail_id,
                QueuedMail.status == "pending",
                or_(QueuedMail.claimed_until.is_(None), QueuedMail.claimed_until < now),
            )
            .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
        mail = session.get(QueuedMail, mail_id)
        if mail is not None:
            session.expunge(mail)
        return mail


def _record(
    factory: sessionmaker[Session], mail_id: int, max_attempts: int, error: MailError | None
) -> str:
    with factory() as session, session.begin():
        mail = session.get(QueuedMail, mail_id)
        if mail is None:
            return "gone"
        mail.claimed_until = None
        mail.attempts += 1
        if error is None:
            mail.status, mail.sent_at, mail.last_error = "sent", utcnow(), None
        elif isinstance(error, PermanentMailError) or mail.attempts >= max_attempts:
            mail.status, mail.last_error = "failed", str(error)
        else:
            mail.last_error = str(error)
            mail.next_attempt_at = utcnow() + _backoff(mail.attempts)
        return mail.status


def send_queued_mail(
    factory: sessionmaker[Session],
    transport: SmtpTransport,
    *,
    ids: list[int] | None = None,
    limit: int = 200,
    max_attempts: int = 8,
) -> QueueRun:
    """Send due queued mails (or just these ids) over one connection; record each result."""
    with factory() as session:
        query = select(QueuedMail.id).where(QueuedMail.status == "pending")
        if ids is not None:
            query = query.where(QueuedMail.id.in_(ids))
        else:
            query = query.where(QueuedMail.next_attempt_at <= utcnow())
        due = list(session.scalars(query.order_by(QueuedMail.id).limit(limit)))
    run = QueueRun()
    if not due:
        return run
    conn: SmtpConnection | None = None
    try:
        for mail_id in due:
            mail = _claim(factory, mail_id)
            if mail is None:
                continue
            error: MailError | None = None
            try:
                if conn is None:
                    conn = transport.open()
                conn.send(_as_message(mail))
            except MailError as exc:
                error = exc
                logger.warning("mail %s to purpose %s not sent: %s", mail.id, mail.purpose, exc)
                if isinstance(exc, TemporaryMailError) and conn is not None:
                    conn.close()
                    conn = None
            status = _record(factory, mail.id, max_attempts, error)
            if status == "sent":
                run.sent += 1
            elif status == "failed":
                run.failed += 1
            else:
                run.retried += 1
    finally:
        if conn is not None:
            conn.close()
    return run


def _as_message(mail: QueuedMail) -> Any:
    return build_message(
        sender=mail.sender,
        to=mail.to_addr,
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        reply_to=mail.reply_to,
        message_id=mail.message_id,
        headers=mail.headers,
        date=mail.created_at,
    )


def raw_message(mail: QueuedMail) -> bytes:
    """Return the bytes the sender hands to the relay for this mail, at any attempt."""
    return message_bytes(_as_message(mail))


def purge_old_mail(session: Session, older_than: datetime) -> int:
    """Delete sent or failed mails older than a time; return how many."""
    old = list(
        session.scalars(
            select(QueuedMail).where(
                QueuedMail.status.in_(("sent", "failed")), QueuedMail.created_at < older_than
            )
        )
    )
    for mail in old:
        session.delete(mail)
    session.flush()
    return len(old)
