"""What is derived from an item's own fields: its rule, its last end, its keys for search.

`derive_fields` runs after every change of content, so the duplicate key, the search
text and `last_ends_at` (what expiry and the public lists filter on) never go stale.
The search text holds the approved language versions too (`derive_search_text`, also
run when a version is approved or withdrawn), so a search in any language finds the item.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from newsticker.core.markup import markdown_to_text
from newsticker.items.models import Item, VersionStatus
from newsticker.items.recurrence import Recurrence, occurrences
from newsticker.items.services.search import fold, search_text_of

# The end of every open window: recurring rules are bounded well before it.
FAR_FUTURE = datetime(2200, 1, 1, tzinfo=UTC)


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
    item.search_text = derive_search_text(item)
    item.last_ends_at = last_end(item, tz)


def derive_search_text(item: Item) -> str:
    """Return the folded words of the item's texts and of its approved language versions."""
    texts = [
        item.title,
        item.summary,
        markdown_to_text(item.description),
        " ".join(item.tags or []),
        item.organiser,
        item.place_name,
    ]
    for version in item.versions:
        if version.status == VersionStatus.APPROVED:
            texts += [version.title, version.summary, version.description_text]
    return search_text_of(" ".join(texts))
