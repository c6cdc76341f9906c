"""Reading items: the public list and item pages, the feeds, the editors' moderation queue.

The public list shows each event once: a single date, or a series (a recurring event)
at its next date with its further dates in the period, whose length the site's settings
give (`site.upcoming_days`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, Text, cast, func, or_, select
from sqlalchemy.orm import Session, selectinload

from newsticker.core.caching import Version
from newsticker.items.models import Item, ItemKind, ItemStatus
from newsticker.items.recurrence import SeriesDate, occurrences, series_dates
from newsticker.items.services.derived import FAR_FUTURE, item_recurrence
from newsticker.items.services.search import search_words

# How far ahead "upcoming" reaches unless the site's settings say otherwise.
DEFAULT_UPCOMING_DAYS = 90
# What the public may see of an item: approved, or approved once and now over.
PUBLIC_STATUSES = (ItemStatus.APPROVED, ItemStatus.EXPIRED)
NOTICE_KINDS = (ItemKind.ANNOUNCEMENT, ItemKind.CALL)
# Public lists and feeds show each item in the reader's language: its versions come
# with it in one more query, not one query per item.
WITH_VERSIONS = selectinload(Item.versions)


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
    cancelled: bool = False


def _public_query(filters: PublicFilters, now: datetime) -> Select[Any]:
    query = (
        select(Item)
        .where(Item.status == ItemStatus.APPROVED, Item.last_ends_at > now)
        .options(WITH_VERSIONS)
    )
    if filters.field_of_action:
        query = query.where(Item.field_of_action == filters.field_of_action)
    if filters.language:
        # Portable "JSON list contains": the stored list is JSON text on both backends.
        needle = f'"{filters.language}"'
        query = query.where(cast(Item.event_languages, Text).contains(needle, autoescape=True))
    for word in search_words(filters.query):
        query = query.where(Item.search_text.contains(word, autoescape=True))
    return query


@dataclass(frozen=True)
class Listing:
    """One event in a list: a single date, or a series with its dates in the period.

    `dates` are the dates overlapping the period in order, cancelled ones included and
    marked; `starts_at`/`ends_at` are the next date that takes place.
    """

    item: Item
    starts_at: datetime
    ends_at: datetime | None
    dates: tuple[SeriesDate, ...] = ()

    @property
    def is_series(self) -> bool:
        """Return whether the event repeats."""
        return self.item.recurrence is not None

    @property
    def later_dates(self) -> tuple[SeriesDate, ...]:
        """Return the series' dates after the next one (cancelled ones marked)."""
        return tuple(d for d in self.dates if d.starts_at > self.starts_at)


def _listing(
    item: Item, *, now: datetime, until: datetime, tz: ZoneInfo, first_only: bool = False
) -> Listing | None:
    if item.starts_at is None:
        return None
    rule = item_recurrence(item)
    if rule is None:
        if item.starts_at >= until:
            return None
        return Listing(item, item.starts_at, item.ends_at)
    dates = series_dates(
        item.starts_at,
        item.ends_at,
        rule,
        tz=tz,
        window_start=now,
        window_end=until,
        first_only=first_only,
    )
    upcoming = next((d for d in dates if not d.cancelled), None)
    if upcoming is None:
        return None
    return Listing(item, upcoming.starts_at, upcoming.ends_at, tuple(dates))


def upcoming_events(
    session: Session,
    filters: PublicFilters,
    *,
    now: datetime,
    tz: ZoneInfo,
    days: int = DEFAULT_UPCOMING_DAYS,
    offset: int = 0,
    limit: int = 20,
) -> tuple[list[Listing], int]:
    """Return one page of approved events taking place in the next `days`, and their number.

    A series is ONE listing, at its next date, carrying its dates in the period. The
    listings are in the order of their next date (an ongoing event counts from now).
    """
    until = now + timedelta(days=days)
    base = _public_query(filters, now).where(
        Item.kind == ItemKind.EVENT, Item.starts_at.is_not(None), Item.starts_at < until
    )
    # Single dates come sorted from the database, only as many as the page needs:
    # ongoing ones first (they count from now, by id), then by their start.
    need = offset + limit
    singles = base.where(Item.recurrence.is_(None))
    single_total = session.scalar(select(func.count()).select_from(singles.subquery())) or 0
    ongoing = session.scalars(
        singles.where(Item.starts_at < now).order_by(Item.id).limit(need)
    ).all()
    upcoming = session.scalars(
        singles.where(Item.starts_at >= now).order_by(Item.starts_at, Item.id).limit(need)
    ).all()
    found = [Listing(i, cast_aware(i.starts_at), i.ends_at) for i in (*ongoing, *upcoming)]
    # A series is placed by its next date, which only its rule knows.
    series = [
        listing
        for item in session.scalars(base.where(Item.recurrence.is_not(None)))
        if (listing := _listing(item, now=now, until=until, tz=tz, first_only=True)) is not None
    ]
    found.extend(series)
    found.sort(key=lambda listing: (max(listing.starts_at, now), listing.item.id))
    # Only the series on the page need all their dates of the period.
    page = [
        _listing(listing.item, now=now, until=until, tz=tz) or listing
        if listing.is_series
        else listing
        for listing in found[offset:need]
    ]
    return page, single_total + len(series)


def cast_aware(value: datetime | None) -> datetime:
    """Return a start the query guaranteed to be set."""
    if value is None:
        raise ValueError("a listed event has a start")
    return value


def count_notices(session: Session, filters: PublicFilters, *, now: datetime) -> int:
    """Return how many current announcements and calls match the filters."""
    kinds = [filters.kind] if filters.kind in NOTICE_KINDS else list(NOTICE_KINDS)
    query = _public_query(filters, now).where(Item.kind.in_(kinds))
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


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


def next_dates(
    item: Item, *, now: datetime, tz: ZoneInfo, limit: int = 12, with_cancelled: bool = False
) -> list[Occurrence]:
    """Return the item's next dates (ongoing ones included).

    With `with_cancelled`, a series' cancelled dates among them are kept and marked.
    """
    if item.starts_at is None:
        return []
    rule = item_recurrence(item)
    if rule is not None and with_cancelled:
        found = series_dates(
            item.starts_at,
            item.ends_at,
            rule,
            tz=tz,
            window_start=now,
            window_end=now + timedelta(days=3 * 366),
        )
        return [Occurrence(item, d.starts_at, d.ends_at, d.cancelled) for d in found[:limit]]
    dates = occurrences(
        item.starts_at,
        item.ends_at,
        rule,
        tz=tz,
        window_start=now,
        window_end=FAR_FUTURE if rule is None else now + timedelta(days=3 * 366),
    )
    return [Occurrence(item, start, end) for start, end in dates[:limit]]


# ---------------------------------------------------------------- feeds


def feed_events(
    session: Session, *, now: datetime, field_of_action: str = "", keep_days: int = 30
) -> list[Item]:
    """Return approved events for the iCal feed: current ones and those ended recently."""
    query = (
        select(Item)
        .options(WITH_VERSIONS)
        .where(
            Item.status.in_(PUBLIC_STATUSES),
            Item.approved_at.is_not(None),
            Item.kind == ItemKind.EVENT,
            Item.last_ends_at > now - timedelta(days=keep_days),
        )
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


def directory_version(session: Session, *, now: datetime, tz: ZoneInfo) -> Version:
    """Return the version of everything public pages show of items: list, feeds, search.

    It changes when an item is published, changed or withdrawn, when the next shown
    item ends (it leaves the list), and each day (the list's horizon moves).
    """
    count, latest = session.execute(
        select(func.count(), func.max(Item.updated_at)).where(Item.status.in_(PUBLIC_STATUSES))
    ).one()
    next_end = session.scalar(
        select(func.min(Item.last_ends_at)).where(
            Item.status == ItemStatus.APPROVED, Item.last_ends_at > now
        )
    )
    stamp = latest.timestamp() if latest else 0
    ends = next_end.timestamp() if next_end else 0
    day = now.astimezone(tz).date().isoformat()
    return Version(f"items-{count}-{stamp}-{ends}-{day}", latest)


def item_version(session: Session, item_id: int, *, now: datetime, tz: ZoneInfo) -> Version:
    """Return the version of one item's public page (its next dates move each day)."""
    updated = session.scalar(
        select(Item.updated_at).where(Item.id == item_id, Item.status.in_(PUBLIC_STATUSES))
    )
    day = now.astimezone(tz).date().isoformat()
    stamp = updated.timestamp() if updated else "missing"
    return Version(f"item-{item_id}-{stamp}-{day}", updated, exists=updated is not None)


def feed_entries(session: Session, *, now: datetime, limit: int = 50) -> list[Item]:
    """Return the newest approved, current items for the Atom feed."""
    query = (
        select(Item)
        .options(WITH_VERSIONS)
        .where(Item.status == ItemStatus.APPROVED, Item.last_ends_at > now)
        .order_by(Item.approved_at.desc(), Item.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def next_events(session: Session, *, now: datetime, tz: ZoneInfo, limit: int = 5) -> list[Listing]:
    """Return the next few events for the start page, a series once at its next date."""
    listings, _total = upcoming_events(session, PublicFilters(), now=now, tz=tz, limit=limit)
    return listings
