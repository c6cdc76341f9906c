"""Reading items: the public list and item pages, the feeds, the editors' moderation queue.

The public list interleaves single events (sorted by the database) with recurring ones
(expanded in Python), and expands the recurring ones only as far as the page needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, Text, cast, func, or_, select
from sqlalchemy.orm import Session

from newsticker.items.models import Item, ItemKind, ItemStatus
from newsticker.items.recurrence import occurrences
from newsticker.items.services.derived import FAR_FUTURE, item_recurrence
from newsticker.items.services.search import search_words

# The public list shows dates up to this far ahead.
LIST_HORIZON_DAYS = 366
# What the public may see of an item: approved, or approved once and now over.
PUBLIC_STATUSES = (ItemStatus.APPROVED, ItemStatus.EXPIRED)
NOTICE_KINDS = (ItemKind.ANNOUNCEMENT, ItemKind.CALL)


# ---------------------------------------------------------------- the moderation queue


@dataclass
class EditorFilters:
    """What the moderation queue shows."""

    status: ItemStatus | None = ItemStatus.SUBMITTED  # None: every status
    kind: ItemKind | None = None  # None: every kind
    field_of_action: str = ""
    date_from: date | None = None
    date_to: date | None = None
    query: str = ""


def _editor_query(filters: EditorFilters, tz: ZoneInfo) -> Select[Any]:
    query = select(Item)
    if filters.status is not None:
        query = query.where(Item.status == filters.status)
    if filters.kind is not None:
        query = query.where(Item.kind == filters.kind)
    if filters.field_of_action:
        query = query.where(Item.field_of_action == filters.field_of_action)
    if filters.date_from is not None:
        start = datetime.combine(filters.date_from, time(), tz)
        query = query.where(or_(Item.last_ends_at.is_(None), Item.last_ends_at >= start))
    if filters.date_to is not None:
        end = datetime.combine(filters.date_to + timedelta(days=1), time(), tz)
        query = query.where(func.coalesce(Item.starts_at, Item.created_at) < end)
    for word in search_words(filters.query):
        query = query.where(Item.search_text.contains(word, autoescape=True))
    return query


def editor_items(
    session: Session, filters: EditorFilters, *, tz: ZoneInfo, page: int = 1, per_page: int = 50
) -> tuple[list[Item], int]:
    """Return one page of items for the moderation queue, newest first, and the total."""
    query = _editor_query(filters, tz)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(
        query.order_by(Item.created_at.desc(), Item.id.desc())
        .offset((max(page, 1) - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(items), total


def status_counts(session: Session) -> dict[ItemStatus, int]:
    """Return the number of items per status (every status, zero included)."""
    counts = dict.fromkeys(ItemStatus, 0)
    for status, count in session.execute(select(Item.status, func.count()).group_by(Item.status)):
        counts[status] = count
    return counts


def marked_duplicates(session: Session, item: Item) -> list[Item]:
    """Return the items marked as duplicates of this one, oldest first."""
    return list(
        session.scalars(select(Item).where(Item.duplicate_of_id == item.id).order_by(Item.id))
    )


# ---------------------------------------------------------------- the public list


@dataclass
class PublicFilters:
    """What a visitor filters the public list by.

    `kind` is an ItemKind, or "" for every kind. A kind's plain value (what issues'
    sections name) is turned into its member.
    """

    query: str = ""
    field_of_action: str = ""
    language: str = ""
    kind: str = ""

    def __post_init__(self) -> None:
        if self.kind:
            self.kind = ItemKind(self.kind)


@dataclass(frozen=True)
class Occurrence:
    """One date of an event."""

    item: Item
    starts_at: datetime
    ends_at: datetime | None


def _public_query(filters: PublicFilters, now: datetime) -> Select[Any]:
    query = select(Item).where(Item.status == ItemStatus.APPROVED, Item.last_ends_at > now)
    if filters.field_of_action:
        query = query.where(Item.field_of_action == filters.field_of_action)
    if filters.language:
        # Portable "JSON list contains": the stored list is JSON text on both backends.
        needle = f'"{filters.language}"'
        query = query.where(cast(Item.event_languages, Text).contains(needle, autoescape=True))
    for word in search_words(filters.query):
        query = query.where(Item.search_text.contains(word, autoescape=True))
    return query


def upcoming_occurrences(
    session: Session,
    filters: PublicFilters,
    *,
    now: datetime,
    tz: ZoneInfo,
    offset: int = 0,
    limit: int = 30,
) -> tuple[list[Occurrence], bool]:
    """Return the next dates of approved events from now, recurring ones expanded.

    Single events come from the database in date order; recurring ones are expanded in
    Python only up to the date where the page is certainly full.
    """
    need = offset + limit + 1
    base = _public_query(filters, now).where(Item.kind == ItemKind.EVENT)
    singles = list(
        session.scalars(
            base.where(Item.recurrence.is_(None)).order_by(Item.starts_at, Item.id).limit(need)
        )
    )
    found = [Occurrence(i, i.starts_at, i.ends_at) for i in singles if i.starts_at is not None]
    horizon = now + timedelta(days=LIST_HORIZON_DAYS)
    if len(singles) == need and singles[-1].starts_at is not None:
        horizon = min(horizon, singles[-1].starts_at + timedelta(seconds=1))
    for item in session.scalars(base.where(Item.recurrence.is_not(None), Item.starts_at < horizon)):
        rule = item_recurrence(item)
        if item.starts_at is None:
            continue
        dates = occurrences(
            item.starts_at, item.ends_at, rule, tz=tz, window_start=now, window_end=horizon
        )
        found.extend(Occurrence(item, start, end) for start, end in dates[:need])
    found.sort(key=lambda o: (o.starts_at, o.item.id))
    return found[offset : offset + limit], len(found) > offset + limit


def current_notices(
    session: Session,
    filters: PublicFilters,
    *,
    now: datetime,
    offset: int = 0,
    limit: int = 30,
) -> tuple[list[Item], bool]:
    """Return current announcements and calls for volunteers, newest first."""
    kinds = [filters.kind] if filters.kind in NOTICE_KINDS else list(NOTICE_KINDS)
    query = _public_query(filters, now).where(Item.kind.in_(kinds))
    items = list(
        session.scalars(
            query.order_by(Item.approved_at.desc(), Item.id.desc()).offset(offset).limit(limit + 1)
        )
    )
    return items[:limit], len(items) > limit


def public_item(session: Session, item_id: int) -> Item | None:
    """Return an item the public may see (approved, or approved once and now over)."""
    item = session.get(Item, item_id)
    if item is None or item.status not in PUBLIC_STATUSES:
        return None
    if item.status == ItemStatus.EXPIRED and item.approved_at is None:
        return None
    return item


def next_dates(item: Item, *, now: datetime, tz: ZoneInfo, limit: int = 12) -> list[Occurrence]:
    """Return the item's next dates (ongoing ones included)."""
    if item.starts_at is None:
        return []
    dates = occurrences(
        item.starts_at,
        item.ends_at,
        item_recurrence(item),
        tz=tz,
        window_start=now,
        window_end=FAR_FUTURE if item.recurrence is None else now + timedelta(days=3 * 366),
    )
    return [Occurrence(item, start, end) for start, end in dates[:limit]]


# ---------------------------------------------------------------- feeds


def feed_events(
    session: Session, *, now: datetime, field_of_action: str = "", keep_days: int = 30
) -> list[Item]:
    """Return approved events for the iCal feed: current ones and those ended recently."""
    query = select(Item).where(
        Item.status.in_(PUBLIC_STATUSES),
        Item.approved_at.is_not(None),
        Item.kind == ItemKind.EVENT,
        Item.last_ends_at > now - timedelta(days=keep_days),
    )
    if field_of_action:
        query = query.where(Item.field_of_action == field_of_action)
    return list(session.scalars(query.order_by(Item.starts_at, Item.id)))


def feed_fingerprint(session: Session, *, field_of_action: str = "") -> str:
    """Return a short string that changes whenever the iCal feed's content may change."""
    query = select(func.count(), func.max(Item.updated_at)).where(
        Item.kind == ItemKind.EVENT,
        Item.status.in_(PUBLIC_STATUSES),
    )
    if field_of_action:
        query = query.where(Item.field_of_action == field_of_action)
    count, latest = session.execute(query).one()
    return f"{count}-{latest.timestamp() if latest else 0}"


def feed_entries(session: Session, *, now: datetime, limit: int = 50) -> list[Item]:
    """Return the newest approved, current items for the Atom feed."""
    query = (
        select(Item)
        .where(Item.status == ItemStatus.APPROVED, Item.last_ends_at > now)
        .order_by(Item.approved_at.desc(), Item.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
