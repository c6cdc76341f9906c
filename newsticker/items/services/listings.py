"""Reading items: the public list and item pages, the feeds, the editors' moderation queue.

The public list shows each event once: a single date, or a series (a recurring event)
at its next date with its further dates in the period, whose length the site's settings
give (`site.upcoming_days`). It reads the stored dates (`occurrences`): a page, its
count and its filters are indexed queries whose cost follows the page, not the number
of items; only the items on the page are loaded, with their series' dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, Subquery, Text, case, cast, exists, func, literal, or_, select
from sqlalchemy.orm import Session, load_only, selectinload

from newsticker.core.caching import Version
from newsticker.items.models import Item, ItemKind, ItemOccurrence, ItemStatus
from newsticker.items.recurrence import SeriesDate, occurrences, series_dates
from newsticker.items.services.derived import FAR_FUTURE, item_recurrence
from newsticker.items.services.search import search_matches

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
    matches = search_matches(filters.query)
    if matches is not None:
        query = query.join(matches, matches.c.item_id == Item.id)
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


def _notices_query(filters: PublicFilters, now: datetime) -> tuple[Select[Any], Subquery | None]:
    """Return the current notices the filters ask for, and the search's matches (if any)."""
    kinds = [filters.kind] if filters.kind in NOTICE_KINDS else list(NOTICE_KINDS)
    query = (
        select(Item)
        .options(WITH_VERSIONS)
        .where(Item.kind.in_(kinds), Item.status == ItemStatus.APPROVED, Item.last_ends_at > now)
    )
    if filters.field_of_action:
        query = query.where(Item.field_of_action == filters.field_of_action)
    matches = search_matches(filters.query)
    if matches is not None:
        query = query.join(matches, matches.c.item_id == Item.id)
    return query.where(*_item_conditions(filters)), matches


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


def upcoming_events(
    session: Session,
    filters: PublicFilters,
    *,
    now: datetime,
    tz: ZoneInfo,
    days: int = DEFAULT_UPCOMING_DAYS,
    offset: int = 0,
    limit: int = 20,
    count_at_most: int | None = None,
) -> tuple[list[Listing], int]:
    """Return one page of approved events taking place in the next `days`, and their number
    (counted up to count_at_most + 1, see `_count`).

    A series is ONE listing, at its next date, carrying its dates in the period. The
    listings are in the order of their next date (an ongoing event counts from now).
    """
    return (
        upcoming_page(session, filters, now=now, days=days, offset=offset, limit=limit),
        count_upcoming(session, filters, now=now, days=days, at_most=count_at_most),
    )


def _date_conditions(filters: PublicFilters, now: datetime, until: datetime) -> list[Any]:
    """Return what a stored date must meet to be its item's next date on the list."""
    conditions: list[Any] = [
        ItemOccurrence.status == ItemStatus.APPROVED,
        ItemOccurrence.starts_at < until,
        ItemOccurrence.over_at > now,
        # Its item's previous date (if any) is over: this is the item's next date.
        or_(ItemOccurrence.previous_over_at.is_(None), ItemOccurrence.previous_over_at <= now),
        ItemOccurrence.cancelled.is_(False),
    ]
    if filters.field_of_action:
        conditions.append(ItemOccurrence.field_of_action == filters.field_of_action)
    item_conditions = _item_conditions(filters)
    if item_conditions:
        # Correlated, so a walk along the dates looks up each item by its key.
        conditions.append(exists().where(Item.id == ItemOccurrence.item_id, *item_conditions))
    return conditions


def _next_dates(filters: PublicFilters, now: datetime, until: datetime) -> Select[int, datetime]:
    """Return the query of each listed item's next date: (item_id, starts_at)."""
    return select(ItemOccurrence.item_id, ItemOccurrence.starts_at).where(
        *_date_conditions(filters, now, until)
    )


def _item_conditions(filters: PublicFilters) -> list[Any]:
    if not filters.language:
        return []
    # Portable "JSON list contains": the stored list is JSON text on both backends.
    needle = f'"{filters.language}"'
    return [cast(Item.event_languages, Text).contains(needle, autoescape=True)]


def count_upcoming(
    session: Session,
    filters: PublicFilters,
    *,
    now: datetime,
    days: int = DEFAULT_UPCOMING_DAYS,
    at_most: int | None = None,
) -> int:
    """Return how many events (a series once) the list shows for these filters.

    With `at_most`, counting stops after at_most + 1 (see `_count`).
    """
    query = _next_dates(filters, now, now + timedelta(days=days))
    matches = search_matches(filters.query)
    if matches is not None:
        query = query.join(matches, matches.c.item_id == ItemOccurrence.item_id)
    return _count(session, query, at_most)


def _count(session: Session, query: Select[*tuple[Any, ...]], at_most: int | None) -> int:
    """Return the number of rows of the query, or at_most + 1 when there are more.

    A count reads every row it counts: bounded, it costs the same however many items
    there are, and a result above at_most says "more than at_most".
    """
    if at_most is not None:
        query = query.limit(at_most + 1)
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def upcoming_page(
    session: Session,
    filters: PublicFilters,
    *,
    now: datetime,
    days: int = DEFAULT_UPCOMING_DAYS,
    offset: int = 0,
    limit: int = 20,
) -> list[Listing]:
    """Return one page of the list: each event once, at its next date, in that order.

    Each item has exactly one stored date that is its next (see `_date_conditions`), so
    the database walks the dates from now along an index and stops after the page: the
    cost grows with the page's depth, not with the number of items. Ongoing dates
    (started, not over) come first, by item, as they count from now; they are few.
    """
    until = now + timedelta(days=days)
    next_dates = _next_dates(filters, now, until)
    matches = search_matches(filters.query)
    if matches is not None:
        # Best match first; among equals, the next date (an ongoing one counts from now).
        counted_from = case(
            (ItemOccurrence.starts_at < now, literal(now, ItemOccurrence.starts_at.type)),
            else_=ItemOccurrence.starts_at,
        )
        ranked = (
            next_dates.join(matches, matches.c.item_id == ItemOccurrence.item_id)
            .order_by(matches.c.rank.desc(), counted_from, ItemOccurrence.item_id)
            .offset(offset)
            .limit(limit)
        )
        item_ids = [row[0] for row in session.execute(ranked)]
        return _listings(session, item_ids, now=now, until=until)
    # Bounded by now alone: given two upper bounds on starts_at, SQLite walks the index
    # up to the first (the end of the period) and so through every date in it.
    ongoing = session.execute(_next_dates(filters, now, now)).all()
    need = offset + limit
    coming = session.execute(
        next_dates.where(ItemOccurrence.starts_at >= now)
        .order_by(ItemOccurrence.starts_at, ItemOccurrence.item_id)
        .limit(need)
    ).all()
    found = sorted((*ongoing, *coming), key=lambda row: (max(row[1], now), row[0]))
    return _listings(session, [row[0] for row in found[offset:need]], now=now, until=until)


def _listings(
    session: Session, item_ids: list[int], *, now: datetime, until: datetime
) -> list[Listing]:
    """Return the listings of these items in this order, a series with its dates."""
    if not item_ids:
        return []
    loaded = session.scalars(select(Item).options(WITH_VERSIONS).where(Item.id.in_(item_ids)))
    items = {item.id: item for item in loaded}
    series_ids = [i for i in item_ids if items[i].recurrence is not None]
    dates: dict[int, list[SeriesDate]] = {i: [] for i in series_ids}
    if series_ids:
        rows = session.execute(
            select(
                ItemOccurrence.item_id,
                ItemOccurrence.starts_at,
                ItemOccurrence.ends_at,
                ItemOccurrence.cancelled,
            )
            .where(
                ItemOccurrence.item_id.in_(series_ids),
                ItemOccurrence.over_at > now,
                ItemOccurrence.starts_at < until,
            )
            .order_by(ItemOccurrence.item_id, ItemOccurrence.starts_at)
        )
        for item_id, starts_at, ends_at, cancelled in rows:
            dates[item_id].append(SeriesDate(starts_at, ends_at, cancelled))
    listings: list[Listing] = []
    for item_id in item_ids:
        item = items[item_id]
        if item_id not in dates:
            listings.append(Listing(item, cast_aware(item.starts_at), item.ends_at))
            continue
        upcoming = next(d for d in dates[item_id] if not d.cancelled)
        listings.append(Listing(item, upcoming.starts_at, upcoming.ends_at, tuple(dates[item_id])))
    return listings


def cast_aware(value: datetime | None) -> datetime:
    """Return a start the query guaranteed to be set."""
    if value is None:
        raise ValueError("a listed event has a start")
    return value


def count_notices(
    session: Session, filters: PublicFilters, *, now: datetime, at_most: int | None = None
) -> int:
    """Return how many current announcements and calls match the filters (see `_count`)."""
    query, _matches = _notices_query(filters, now)
    return _count(session, query, at_most)


def current_notices(
    session: Session,
    filters: PublicFilters,
    *,
    now: datetime,
    offset: int = 0,
    limit: int = 30,
) -> tuple[list[Item], bool]:
    """Return current announcements and calls for volunteers, newest first (best match
    first for a search)."""
    query, matches = _notices_query(filters, now)
    if matches is not None:
        query = query.order_by(matches.c.rank.desc())
    query = query.order_by(Item.approved_at.desc(), Item.id.desc())
    items = list(session.scalars(query.offset(offset).limit(limit + 1)))
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


@dataclass(frozen=True)
class FeedWindow:
    """What a feed covers: events ended at most `past_days` ago, starting within
    `future_days`, at most `max_entries` of them (the site's `feeds` settings)."""

    past_days: int = 30
    future_days: int = 365
    max_entries: int = 1000


# What a VEVENT shows (items/feeds.py): a thousand rows without their search text,
# Markdown and JSON lists load in a fraction of the time. Anything else raises.
_ICAL_COLUMNS = (
    Item.kind,
    Item.title,
    Item.summary,
    # item_text hands out the description with the plain text (pages render it).
    Item.description,
    Item.description_text,
    Item.content_language,
    Item.field_of_action,
    Item.starts_at,
    Item.ends_at,
    Item.all_day,
    Item.recurrence,
    Item.place_name,
    Item.place_address,
    Item.organiser,
    Item.created_at,
    Item.updated_at,
    Item.version,
)


def feed_events(
    session: Session, *, now: datetime, window: FeedWindow, field_of_action: str = ""
) -> list[Item]:
    """Return published events for the iCal feed: those in the window, earliest first.

    A series is one item (its rule says the dates); it is in the window when its
    dates are.
    """
    query = (
        select(Item)
        .options(WITH_VERSIONS)
        .options(load_only(*_ICAL_COLUMNS, raiseload=True))
        .where(
            Item.status.in_(PUBLIC_STATUSES),
            Item.approved_at.is_not(None),
            Item.kind == ItemKind.EVENT,
            Item.last_ends_at > now - timedelta(days=window.past_days),
            Item.starts_at < now + timedelta(days=window.future_days),
        )
    )
    if field_of_action:
        query = query.where(Item.field_of_action == field_of_action)
    query = query.order_by(Item.starts_at, Item.id).limit(window.max_entries)
    return list(session.scalars(query))


def feed_version(
    session: Session, *, now: datetime, tz: ZoneInfo, until_next_end: bool = False
) -> Version:
    """Return the version of the feeds' content: it changes when any item changes.

    Approving, editing, withdrawing and expiring each move an item's `updated_at`
    (indexed by migration 0019: one lookup however many items exist). The day is in it
    because a feed's window moves each day; with `until_next_end`, also the next end of
    a published item (a feed of current items loses it then).
    """
    latest = session.scalar(select(func.max(Item.updated_at)))
    token = f"items-{latest.timestamp() if latest else 0}-{now.astimezone(tz).date()}"
    if until_next_end:
        next_end = session.scalar(
            select(func.min(Item.last_ends_at)).where(
                Item.status == ItemStatus.APPROVED, Item.last_ends_at > now
            )
        )
        token += f"-{next_end.timestamp() if next_end else 0}"
    return Version(token, latest)


def directory_version(session: Session, *, now: datetime, tz: ZoneInfo) -> Version:
    """Return the version of everything public pages show of items: list, feeds, search.

    It changes when an item is published, changed or withdrawn, when the next shown
    item ends (it leaves the list), when the next date is over (a series moves on to its
    following date), and each day (the list's horizon moves).
    """
    # Any change of any item moves updated_at (a decision too, which may take an item off
    # the list): the newest one, read from its index, stands for all of them.
    latest = session.scalar(select(func.max(Item.updated_at)))
    next_end = session.scalar(
        select(func.min(Item.last_ends_at)).where(
            Item.status == ItemStatus.APPROVED, Item.last_ends_at > now
        )
    )
    next_over = session.scalar(
        select(func.min(ItemOccurrence.over_at)).where(
            ItemOccurrence.status == ItemStatus.APPROVED, ItemOccurrence.over_at > now
        )
    )
    stamp = latest.timestamp() if latest else 0
    ends = "-".join(str(at.timestamp() if at else 0) for at in (next_end, next_over))
    day = now.astimezone(tz).date().isoformat()
    return Version(f"items-{stamp}-{ends}-{day}", latest)


def item_version(session: Session, item_id: int, *, now: datetime, tz: ZoneInfo) -> Version:
    """Return the version of one item's public page (its next dates move each day)."""
    updated = session.scalar(
        select(Item.updated_at).where(Item.id == item_id, Item.status.in_(PUBLIC_STATUSES))
    )
    day = now.astimezone(tz).date().isoformat()
    stamp = updated.timestamp() if updated else "missing"
    return Version(f"item-{item_id}-{stamp}-{day}", updated, exists=updated is not None)


def feed_entries(
    session: Session, *, now: datetime, window: FeedWindow, limit: int = 50
) -> list[Item]:
    """Return the newest published items for the Atom feed: current, starting in the window."""
    query = (
        select(Item)
        .options(WITH_VERSIONS)
        .where(
            Item.status == ItemStatus.APPROVED,
            Item.last_ends_at > now,
            or_(
                Item.starts_at.is_(None),
                Item.starts_at < now + timedelta(days=window.future_days),
            ),
        )
        .order_by(Item.approved_at.desc(), Item.id.desc())
        .limit(min(limit, window.max_entries))
    )
    return list(session.scalars(query))


def next_events(session: Session, *, now: datetime, tz: ZoneInfo, limit: int = 5) -> list[Listing]:
    """Return the next few events for the start page, a series once at its next date."""
    return upcoming_page(session, PublicFilters(), now=now, limit=limit)
