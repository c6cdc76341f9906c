"""Services for items: derived fields, moderation, search."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from newsticker.items.models import Item
from newsticker.items.recurrence import Recurrence, occurrences

FAR_FUTURE = datetime(2200, 1, 1, tzinfo=UTC)


def fold(text: str) -> str:
    """Return text case-folded, NFKC-normalised and with runs of space collapsed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()


def item_recurrence(item: Item) -> Recurrence | None:
    """Return the item's recurrence rule, or None."""
    return Recurrence.from_dict(item.recurrence) if item.recurrence else None


def last_end(item: Item, tz: ZoneInfo) -> datetime | None:
    """Return when the item's last occurrence ends (announcements: end of visible_until)."""
    if item.starts_at is None:
        if item.visible_until is None:
            return None
        return datetime.combine(item.visible_until + timedelta(days=1), time(), tz).astimezone(UTC)
    rule = item_recurrence(item)
    found = occurrences(
        item.starts_at,
        item.ends_at,
        rule,
        tz=tz,
        window_start=item.starts_at,
        window_end=FAR_FUTURE,
    )
    if not found:
        return item.ends_at or item.starts_at
    start, end = found[-1]
    return end or start


def derive_fields(item: Item, tz: ZoneInfo) -> None:
    """Recompute what is derived from the item's own fields (keys, search text, end)."""
    item.title_key = fold(item.title)[:200]
    item.search_text = fold(
        " ".join([item.title, item.summary, item.description, " ".join(item.tags or [])])
    )
    item.last_ends_at = last_end(item, tz)
