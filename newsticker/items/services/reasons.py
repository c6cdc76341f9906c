"""Rejection reasons the admins keep, so editors choose one instead of writing it again.

A reason has a short label (what editors pick) and the text the submitter reads. Each
change is recorded in the audit trail.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsticker.core.audit import Actor, record_event
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.items.models import RejectionReason
from newsticker.items.services.editing import ItemError

MAX_LABEL = 100
MAX_TEXT = 2000


def rejection_reasons(session: Session) -> list[RejectionReason]:
    """Return the kept reasons in their order."""
    return list(
        session.scalars(
            select(RejectionReason).order_by(RejectionReason.position, RejectionReason.label)
        )
    )


def get_reason(session: Session, reason_id: int) -> RejectionReason | None:
    """Return a kept reason by id."""
    return session.get(RejectionReason, reason_id)


def _check(session: Session, label: str, text: str, reason_id: int | None) -> tuple[str, str]:
    label, text = label.strip(), text.strip()
    if not label or not text:
        raise ItemError(_l("Please give the reason a name and the text the submitter reads."))
    if len(label) > MAX_LABEL or len(text) > MAX_TEXT:
        raise ItemError(
            _l(
                "The name may have at most %(label)d characters, the text %(text)d.",
                label=MAX_LABEL,
                text=MAX_TEXT,
            )
        )
    clash = session.scalar(
        select(RejectionReason.id).where(
            func.lower(RejectionReason.label) == label.lower(),
            RejectionReason.id != (reason_id or 0),
        )
    )
    if clash is not None:
        raise ItemError(_l("There is already a reason with this name."))
    return label, text


def save_reason(
    session: Session,
    reason: RejectionReason | None,
    *,
    label: str,
    text: str,
    actor: Actor,
    now: datetime,
) -> RejectionReason:
    """Add a reason (reason None) or change one; return it."""
    label, text = _check(session, label, text, reason.id if reason is not None else None)
    action = "reason.changed"
    if reason is None:
        last = session.scalar(select(func.max(RejectionReason.position))) or 0
        reason = RejectionReason(position=last + 1, created_at=now)
        session.add(reason)
        action = "reason.added"
    reason.label, reason.text, reason.updated_at = label, text, now
    session.flush()
    record_event(
        session,
        action,
        actor=actor,
        now=now,
        subject=("rejection_reason", reason.id),
        summary=label,
    )
    return reason


def delete_reason(
    session: Session, reason: RejectionReason, *, actor: Actor, now: datetime
) -> None:
    """Delete a kept reason (rejections that used it keep their text)."""
    record_event(
        session,
        "reason.deleted",
        actor=actor,
        now=now,
        subject=("rejection_reason", reason.id),
        summary=reason.label,
    )
    session.delete(reason)
    session.flush()
