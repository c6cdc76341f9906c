"""Moderation by the editors: approving, rejecting and merging items; each tells the submitter.

Every decision is recorded in the item's audit trail and queues a mail to the
submitter in their language; the mail goes out after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from newsticker.core.audit import Actor, actor_or, record_event
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.core.links import Links
from newsticker.core.webhooks import emit_event
from newsticker.items.mails import queue_decision
from newsticker.items.models import Item, ItemStatus
from newsticker.items.services.derived import derive_fields
from newsticker.items.services.editing import LIVE_STATUSES, ItemError, record_audit
from newsticker.items.services.versions import approve_pending_versions

# At most this many submissions are decided in one go (one page of the queue).
MAX_BULK = 50


def _actor(actor: Actor | None, user_id: int | None) -> Actor:
    """Return who acts for the audit trail (an editor named by id when not told more)."""
    return actor_or(actor, user_id, "editor")


# Fields a merge copies into the kept item when it has none of its own.
MERGE_FILL_FIELDS = (
    "description",
    "place_name",
    "place_address",
    "accessibility_note",
    "contact_name",
    "contact_email",
    "contact_phone",
    "link",
)


def approve_item(
    session: Session,
    item: Item,
    *,
    user_id: int | None,
    now: datetime,
    links: Links,
    actor: Actor | None = None,
) -> None:
    """Publish an item and tell its submitter."""
    if item.status not in (ItemStatus.SUBMITTED, ItemStatus.REJECTED):
        raise ItemError(_l("Only submitted or rejected items can be approved."))
    if item.last_ends_at is not None and item.last_ends_at < now:
        raise ItemError(_l("This item is already over, so it cannot be published any more."))
    item.status = ItemStatus.APPROVED
    item.approved_at = now
    item.approved_by_id = user_id
    item.rejection_reason = ""
    item.updated_at = now
    record_audit(item, "approved", actor="editor", user_id=user_id)
    # The versions sent with the submission were reviewed with it.
    approve_pending_versions(session, item, user_id=user_id, now=now)
    record_event(
        session,
        "item.approved",
        actor=_actor(actor, user_id),
        now=now,
        subject=("item", item.id),
        summary=item.title,
    )
    session.flush()
    queue_decision(session, item, "item_approved", links=links)
    emit_event(session, "item.published", _item_event(item, links), now=now)


def _item_event(item: Item, links: Links) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": str(item.kind),
        "title": item.title,
        "summary": item.summary,
        "field_of_action": item.field_of_action,
        "language": item.content_language,
        "starts_at": item.starts_at.isoformat() if item.starts_at else None,
        "ends_at": item.ends_at.isoformat() if item.ends_at else None,
        "url": links.url("items.detail", item_id=item.id),
    }


def reject_item(
    session: Session,
    item: Item,
    *,
    reason: str,
    user_id: int | None,
    now: datetime,
    links: Links,
    actor: Actor | None = None,
) -> None:
    """Reject an item with a reason and tell its submitter."""
    if item.status not in LIVE_STATUSES:
        raise ItemError(_l("Only submitted or approved items can be rejected."))
    if not reason.strip():
        raise ItemError(_l("Please give a reason; the submitter will read it."))
    item.status = ItemStatus.REJECTED
    item.rejection_reason = reason.strip()
    item.updated_at = now
    record_audit(item, "rejected", actor="editor", user_id=user_id, note=item.rejection_reason)
    record_event(
        session,
        "item.rejected",
        actor=_actor(actor, user_id),
        now=now,
        subject=("item", item.id),
        summary=item.title,
        details={"reason": item.rejection_reason[:500]},
    )
    session.flush()
    queue_decision(session, item, "item_rejected", links=links)


def merge_item(
    session: Session,
    duplicate: Item,
    target: Item,
    *,
    user_id: int | None,
    now: datetime,
    tz: ZoneInfo,
    links: Links,
    actor: Actor | None = None,
) -> dict[str, list[Any]]:
    """Fold a duplicate into the item it repeats: fill gaps, close it, tell its submitter."""
    if duplicate.id == target.id:
        raise ItemError(_l("An item cannot be merged into itself."))
    if duplicate.status not in LIVE_STATUSES or target.status not in LIVE_STATUSES:
        raise ItemError(_l("Only submitted or approved items can be merged."))
    filled: dict[str, list[Any]] = {}
    for name in MERGE_FILL_FIELDS:
        if not getattr(target, name) and getattr(duplicate, name):
            filled[name] = ["", getattr(duplicate, name)]
            setattr(target, name, getattr(duplicate, name))
    for name in ("tags", "event_languages"):
        merged = list(dict.fromkeys([*getattr(target, name), *getattr(duplicate, name)]))
        if merged != getattr(target, name):
            filled[name] = [getattr(target, name), merged]
            setattr(target, name, merged)
    if not target.image_file and duplicate.image_file:
        # The file moves over with its description; nothing is deleted.
        filled["image_file"] = [None, duplicate.image_file]
        target.image_file, target.image_alt = duplicate.image_file, duplicate.image_alt
        duplicate.image_file = None
    derive_fields(target, tz)
    target.updated_at = now
    record_audit(
        target,
        "merged",
        actor="editor",
        user_id=user_id,
        changes=filled,
        note=f"#{duplicate.id}",
    )
    duplicate.status = ItemStatus.REJECTED
    duplicate.duplicate_of_id = target.id
    duplicate.updated_at = now
    record_audit(duplicate, "merged_into", actor="editor", user_id=user_id, note=f"#{target.id}")
    record_event(
        session,
        "item.merged",
        actor=_actor(actor, user_id),
        now=now,
        subject=("item", duplicate.id),
        summary=f"#{duplicate.id} → #{target.id} {target.title}",
        details={"into": target.id, "filled": sorted(filled)},
    )
    session.flush()
    queue_decision(session, duplicate, "item_merged", links=links, target=target)
    return filled


def decide_many(
    session: Session,
    items: Sequence[Item],
    *,
    approve: bool,
    reason: str,
    actor: Actor,
    now: datetime,
    links: Links,
) -> None:
    """Approve or reject several submissions at once, each with its own decision mail.

    All or nothing: the first that cannot be decided raises ItemError naming it, and
    the caller rolls back what the others changed.
    """
    if not items:
        raise ItemError(_l("Please select at least one submission."))
    if len(items) > MAX_BULK:
        raise ItemError(_l("Please select at most %(num)d submissions at once.", num=MAX_BULK))
    if not approve and not reason.strip():
        raise ItemError(_l("Please give a reason; the submitter will read it."))
    for item in items:
        try:
            if approve:
                approve_item(
                    session, item, user_id=actor.user_id, now=now, links=links, actor=actor
                )
            else:
                reject_item(
                    session,
                    item,
                    reason=reason,
                    user_id=actor.user_id,
                    now=now,
                    links=links,
                    actor=actor,
                )
        except ItemError as exc:
            raise ItemError(
                _l(
                    "#%(id)d “%(title)s”: %(problem)s",
                    id=item.id,
                    title=item.title,
                    problem=exc.message,
                )
            ) from exc
