"""Moderation by the editors: approving, rejecting and merging items; each tells the submitter.

Every decision is recorded in the item's audit trail and queues a mail to the
submitter in their language; the mail goes out after the commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from newsticker.core.i18n import lazy_gettext as _l
from newsticker.core.links import Links
from newsticker.core.webhooks import emit_event
from newsticker.items.mails import queue_decision
from newsticker.items.models import Item, ItemStatus
from newsticker.items.services.derived import derive_fields
from newsticker.items.services.editing import LIVE_STATUSES, ItemError, record_audit

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
    session: Session, item: Item, *, user_id: int | None, now: datetime, links: Links
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
    session.flush()
    queue_decision(session, duplicate, "item_merged", links=links, target=target)
    return filled
