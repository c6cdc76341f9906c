"""Likely duplicates of a submission: a similar title, on the same day, at the same place.

Submitters often send the same event twice, or two organisers announce one event.
The editor sees the suggestions on a submission's page and merges with one click.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from difflib import SequenceMatcher
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsticker.items.models import Item
from newsticker.items.services.editing import LIVE_STATUSES
from newsticker.items.services.search import fold

# Titles at least this alike (0..1, difflib's ratio of the folded titles) count as similar.
SIMILAR_TITLE = 0.8
MAX_CANDIDATES = 500


def _similar(a: str, b: str) -> float:
    return 1.0 if a == b else SequenceMatcher(None, a, b).ratio()


def _same_place(item: Item, other: Item) -> bool:
    """Return whether both name the same place (or one names none, which cannot tell)."""
    mine, theirs = fold(item.place_name), fold(other.place_name)
    return not mine or not theirs or mine == theirs


def likely_duplicates(
    session: Session, item: Item, *, tz: ZoneInfo, limit: int = 5
) -> list[tuple[Item, float]]:
    """Return live items that are likely the same as this one, most alike first.

    Events: starting on the same local day at the same place with a similar title.
    Announcements and calls: the same kind, no dates, and a similar title.
    """
    query = select(Item).where(Item.status.in_(LIVE_STATUSES), Item.id != item.id)
    if item.starts_at is not None:
        day = item.starts_at.astimezone(tz).date()
        start = datetime.combine(day, time(), tz)
        query = query.where(Item.starts_at >= start, Item.starts_at < start + timedelta(days=1))
    else:
        query = query.where(Item.starts_at.is_(None), Item.kind == item.kind)
    title = item.title_key or fold(item.title)
    found = []
    for other in session.scalars(query.order_by(Item.id.desc()).limit(MAX_CANDIDATES)):
        score = _similar(title, other.title_key or fold(other.title))
        if score >= SIMILAR_TITLE and _same_place(item, other):
            found.append((other, round(score, 2)))
    found.sort(key=lambda pair: (-pair[1], pair[0].id))
    return found[:limit]
