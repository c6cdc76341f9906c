"""Submissions from the public: storing one, its receipt, its private link, withdrawing it.

The submitter has no account: a random token, mailed in the receipt, is their private
link. Only its digest is stored, so the database alone opens no submission.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsticker.core.db import utcnow
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.core.links import Links
from newsticker.core.mailqueue import count_recent
from newsticker.core.tokens import random_token, token_digest
from newsticker.items.images import ProcessedImage, store_image
from newsticker.items.mails import queue_receipt
from newsticker.items.models import Item, ItemStatus
from newsticker.items.services.derived import derive_fields
from newsticker.items.services.editing import (
    ItemError,
    apply_values,
    find_duplicate,
    record_audit,
    submitter_may_edit,
)
from newsticker.items.services.validation import ItemData, item_values
from newsticker.items.services.versions import VersionInput, propose_version

# The private link works at least this long, and until the item's last date.
TOKEN_MIN_DAYS = 90
# Receipts per address within the configured window (rate_limits.*_hours).
RECEIPTS_PER_ADDRESS = 10


class TooManyReceipts(ItemError):
    """The address has had as many receipts as the window allows."""


def receipts_left(session: Session, address: str, *, hours: int, now: datetime) -> int:
    """Return how many more receipts this address may get in the current window."""
    sent = count_recent(
        session, to=address, purpose="item_receipt", since=now - timedelta(hours=hours)
    )
    return max(RECEIPTS_PER_ADDRESS - sent, 0)


def submit_item(
    session: Session,
    data: ItemData,
    *,
    submitter_email: str,
    submitter_language: str,
    image: ProcessedImage | None,
    upload_dir: Path,
    tz: ZoneInfo,
    now: datetime,
    links: Links,
    receipt_window_hours: int = 24,
    versions: Sequence[VersionInput] = (),
) -> tuple[Item, str]:
    """Store a new submission and queue its receipt; return the item and its private token.

    Its texts in other languages (`versions`) wait for the editors with it.
    """
    if receipts_left(session, submitter_email, hours=receipt_window_hours, now=now) <= 0:
        raise TooManyReceipts(
            _l(
                "We have sent many confirmation mails to this address recently. Please try "
                "again tomorrow, or write to the editors directly."
            )
        )
    token = random_token()
    item = Item(
        status=ItemStatus.SUBMITTED,
        submitter_email=submitter_email,
        submitter_language=submitter_language,
        consent_at=now,
        edit_token_digest=token_digest(token),
        created_at=now,
        updated_at=now,
        tags=[],
        event_languages=[],
    )
    apply_values(item, item_values(data, tz, now))
    if image is not None:
        item.image_file = store_image(upload_dir, image)
    derive_fields(item, tz)
    session.add(item)
    session.flush()
    duplicate = find_duplicate(session, item)
    if duplicate is not None:
        item.duplicate_of_id = duplicate.id
    record_audit(item, "submitted", actor="submitter")
    for version in versions:
        propose_version(session, item, version, source="submitter", now=now)
    session.flush()
    queue_receipt(session, item, token, links=links)
    return item, token


def find_by_token(session: Session, token: str) -> Item | None:
    """Return the item a private link belongs to, or None for an unknown link."""
    if not token or len(token) > 200:
        return None
    return session.scalars(
        select(Item).where(Item.edit_token_digest == token_digest(token))
    ).first()


def token_expires_at(item: Item) -> datetime:
    """Return when the item's private link stops working."""
    created = item.created_at or utcnow()
    floor = created + timedelta(days=TOKEN_MIN_DAYS)
    return max(floor, item.last_ends_at) if item.last_ends_at is not None else floor


def withdraw_item(session: Session, item: Item, *, now: datetime) -> None:
    """Withdraw a submission at the submitter's request."""
    if not submitter_may_edit(item):
        raise ItemError(
            _l("This submission has already been reviewed, so it can no longer be withdrawn here.")
        )
    item.status = ItemStatus.WITHDRAWN
    item.updated_at = now
    record_audit(item, "withdrawn", actor="submitter")
    session.flush()
