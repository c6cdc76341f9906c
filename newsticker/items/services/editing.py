"""Changing an item's content: what may change, how a change is applied and audited.

Submitters (through their private link) and editors change an item through the one
`update_item`. It refuses a change based on an older version of the item (`StaleItem`),
so neither side can overwrite what the other saved in the meantime.

An image file that a change replaces or removes is deleted only once the transaction
commits (`after_commit`): a refused or rolled-back change keeps the row and its file.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from newsticker.core.audit import Actor, actor_or, record_event
from newsticker.core.db import utcnow
from newsticker.core.errors import UserError
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.items.images import ProcessedImage, delete_image_after_commit, store_image
from newsticker.items.models import Item, ItemAudit, ItemStatus
from newsticker.items.services import occurrences
from newsticker.items.services.derived import derive_fields
from newsticker.items.services.validation import ItemData, item_values

# Fields a submitter or an editor may change, in the order the audit shows them.
EDITABLE_FIELDS = (
    "kind",
    "title",
    "summary",
    "description",
    "field_of_action",
    "tags",
    "event_languages",
    "content_language",
    "starts_at",
    "ends_at",
    "all_day",
    "recurrence",
    "visible_until",
    "place_name",
    "place_address",
    "accessibility_note",
    "organiser",
    "contact_name",
    "contact_email",
    "contact_phone",
    "link",
    "image_alt",
)
# Statuses of items still in play: neither closed nor over.
LIVE_STATUSES = (ItemStatus.SUBMITTED, ItemStatus.APPROVED)


class ItemError(UserError):
    """A change to an item that is not allowed now, with a message for the user."""


class StaleItem(ItemError):
    """Someone else changed the item since the form was filled in."""

    def __init__(self) -> None:
        super().__init__(
            _l(
                "Someone else changed this item while you were working on it, so your change "
                "was not saved. The form now shows the current state: please repeat your change."
            )
        )


def current_time() -> datetime:
    """Return now as an aware UTC datetime (one place for tests to freeze the clock)."""
    return utcnow()


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def apply_values(item: Item, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Set the values on the item; return {field: [old, new]} for what changed."""
    changes: dict[str, list[Any]] = {}
    for name in EDITABLE_FIELDS:
        if name not in values:
            continue
        old, new = getattr(item, name), values[name]
        if old != new:
            changes[name] = [_jsonable(old), _jsonable(new)]
            setattr(item, name, new)
    return changes


def record_audit(
    item: Item,
    action: str,
    *,
    actor: str,
    user_id: int | None = None,
    changes: dict[str, Any] | None = None,
    note: str = "",
) -> None:
    """Add an entry to the item's audit trail: who did what, and what changed."""
    item.audit.append(
        ItemAudit(action=action, actor=actor, user_id=user_id, changes=changes or {}, note=note)
    )


def find_duplicate(session: Session, item: Item) -> Item | None:
    """Return an earlier live item with the same title and start, preferring approved ones."""
    query = select(Item).where(
        Item.title_key == item.title_key,
        Item.status.in_(LIVE_STATUSES),
    )
    if item.id is not None:
        query = query.where(Item.id != item.id)
    if item.starts_at is None:
        query = query.where(Item.starts_at.is_(None))
    else:
        query = query.where(Item.starts_at == item.starts_at)
    candidates = list(session.scalars(query.order_by(Item.id)))
    candidates.sort(key=lambda c: (c.status != ItemStatus.APPROVED, c.id))
    return candidates[0] if candidates else None


def submitter_may_edit(item: Item) -> bool:
    """Return whether the submitter may still edit or withdraw (not yet moderated)."""
    return item.status == ItemStatus.SUBMITTED


def check_version(item: Item, version: int | None) -> None:
    """Refuse a change based on another version of the item than the stored one."""
    if version != item.version:
        raise StaleItem()


@contextmanager
def refusing_stale_rows() -> Iterator[None]:
    """Turn a flush that finds the item changed by another transaction into StaleItem.

    `check_version` compares with the version this transaction read; a change committed
    after that read shows only when the UPDATE matches no row (the mapper's
    `version_id_col`), at any flush, the automatic ones before a query included.
    """
    try:
        yield
    except StaleDataError as exc:
        raise StaleItem() from exc


def update_item(
    session: Session,
    item: Item,
    data: ItemData,
    *,
    version: int | None,
    actor: str,
    tz: ZoneInfo,
    now: datetime,
    user_id: int | None = None,
    image: ProcessedImage | None = None,
    remove_image: bool = False,
    upload_dir: Path | None = None,
    who: Actor | None = None,
) -> dict[str, list[Any]]:
    """Change an item's content as of `version`; record what changed; return the changes.

    `version` is the item's version the form was filled from (None when the form had
    none): any other version than the stored one is refused with StaleItem, and nothing
    changes.
    """
    if actor == "submitter" and not submitter_may_edit(item):
        raise ItemError(
            _l("This submission has already been reviewed, so it can no longer be changed here.")
        )
    check_version(item, version)
    with refusing_stale_rows():
        changes = apply_values(item, item_values(data, tz, now))
        if (image is not None or remove_image) and item.image_file and upload_dir is not None:
            changes["image_file"] = [item.image_file, None]
            delete_image_after_commit(session, upload_dir, item.image_file)
            item.image_file = None
        if image is not None and upload_dir is not None:
            item.image_file = store_image(upload_dir, image)
            changes["image_file"] = [changes.get("image_file", [None])[0], item.image_file]
        if not item.image_file:
            item.image_alt = ""
        if changes:
            derive_fields(item, tz)
            duplicate = find_duplicate(session, item)
            item.duplicate_of_id = duplicate.id if duplicate is not None else None
            item.updated_at = now
            record_audit(item, "edited", actor=actor, user_id=user_id, changes=changes)
            occurrences.refresh(session, item, tz=tz, now=now)
            record_event(
                session,
                "item.edited",
                actor=actor_or(who, user_id, actor),
                now=now,
                subject=("item", item.id),
                summary=item.title,
                details={"fields": sorted(changes)},
            )
        session.flush()
    return changes
