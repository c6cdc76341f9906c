"""Retiring items: ended ones expire, old unpublished ones go, old submitters are forgotten.

The scheduler runs `expire_items` daily (newsticker.jobs); a second run finds nothing
more to do. The image of a deleted item goes once the run commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from newsticker.items.images import delete_image_after_commit
from newsticker.items.models import Item, ItemStatus
from newsticker.items.services import occurrences
from newsticker.items.services.editing import LIVE_STATUSES, record_audit

# Closed without being published: deleted after the retention period.
UNPUBLISHED_STATUSES = (ItemStatus.REJECTED, ItemStatus.WITHDRAWN)


@dataclass
class ExpiryRun:
    """What one expiry run did."""

    expired: int = 0
    purged: int = 0
    anonymised: int = 0


def expire_items(
    session: Session,
    *,
    now: datetime,
    retention_days: int,
    upload_dir: Path,
) -> ExpiryRun:
    """Mark ended items expired; delete old unpublished ones; forget old submitters."""
    run = ExpiryRun()
    ended = list(
        session.scalars(select(Item).where(Item.status.in_(LIVE_STATUSES), Item.last_ends_at < now))
    )
    for item in ended:
        item.status = ItemStatus.EXPIRED
        item.updated_at = now
        record_audit(item, "expired", actor="system")
        run.expired += 1
    occurrences.copy_status(session, *ended)
    cutoff = now - timedelta(days=retention_days)
    old_unpublished = session.scalars(
        select(Item).where(Item.status.in_(UNPUBLISHED_STATUSES), Item.updated_at < cutoff)
    )
    for item in old_unpublished:
        delete_image_after_commit(session, upload_dir, item.image_file)
        session.delete(item)
        run.purged += 1
    # Published items stay (issues and links refer to them), but not who sent them in.
    old_expired = session.scalars(
        select(Item).where(
            Item.status == ItemStatus.EXPIRED,
            Item.updated_at < cutoff,
            or_(Item.submitter_email != "", Item.edit_token_digest.is_not(None)),
        )
    )
    for item in old_expired:
        item.submitter_email = ""
        item.edit_token_digest = None
        run.anonymised += 1
    session.flush()
    return run
