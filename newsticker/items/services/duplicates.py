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
    """Return how alike two folded titles are (0..1); cheap upper bounds rule most out first."""
    if a == b:
        return 1.0
    matcher = SequenceMatcher(None, a, b)
    if matcher.real_quick_ratio() < SIMILAR_TITLE or matcher.quick_ratio() < SIMILAR_TITLE:
        return 0.0
    return matcher.ratio()


def _same_place(mine: str, theirs: str) -> bool:
    """Return whether both name the same place (or one names none, which cannot tell)."""
    mine, theirs = fold(mine), fold(theirs)
    return not mine or not theirs or mine == theirs


def likely_duplicates(
    session: Session, item: Item, *, tz: ZoneInfo, limit: int = 5
) -> list[tuple[Item, float]]:
    """Return live items that are likely the same as this one, most alike first.

    Events: starting on the same local day at the same place with a similar title.
    Announcements and calls: the same kind, no dates, and a similar title.
    """
    # Only what the comparison needs; the few likely ones are loaded whole afterwards.
    query = select(Item.id, Item.title_key, Item.title, Item.place_name).where(
        Item.status.in_(LIVE_STATUSES), Item.id != item.id
    )
    if item.starts_at is not None:
        day = item.starts_at.astimezone(tz).date()
        start = datetime.combine(day, time(), tz)
        query = query.where(Item.starts_at >= start, Item.starts_at < start + timedelta(days=1))
    else:
        query = query.where(Item.starts_at.is_(None), Item.kind == item.kind)
    title = item.title_key or fold(item.title)
    scores: list[tuple[float, int]] = []
    rows = session.execute(query.order_by(Item.id.desc()).limit(MAX_CANDIDATES))
    for other_id, title_key, other_title, place_name in rows:
        score = _similar(title, title_key or fold(other_title))
        if score >= SIMILAR_TITLE and _same_place(item.place_name, place_name):
            scores.append((round(score, 2), other_id))
    scores.sort(key=lambda pair: (-pair[0], pair[1]))
    found = []
    for score, other_id in scores[:limit]:
        other = session.get(Item, other_id)
        if other is not None:
            found.append((other, score))
    return found
