"""The dates of events as rows: what the public list, its filters and its pages query.

Before this table the list loaded every recurring item and expanded every series with
dateutil on each request, so a page cost time in proportion to all upcoming items. Now
each event's dates are stored once, when the item changes (`refresh`), with a copy of
what the list filters on (status, field of action); the list walks an index from now.

- A single date is one row, whenever it is.
- A series is expanded over `[now - 1 day, now + HORIZON_DAYS)`: the longest period a
  page may show (`site.upcoming_days` is at most 366) plus a margin, so a missed night
  changes nothing. Left-out dates are kept, marked `cancelled`, as the pages show them.
- The nightly job (`extend_horizon`) expands the live series again, so the horizon
  moves with the days, and deletes dates that are over.
- `newsticker refresh-occurrences` (`rebuild_all`) writes every event's dates anew:
  after the upgrade that created the table, or if the table was changed by hand.

Callers: every service that changes an item's dates or content calls `refresh` once;
one that changes only its status calls `copy_status`. Both only flush.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from newsticker.items.models import Item, ItemKind, ItemOccurrence, ItemStatus
from newsticker.items.recurrence import SeriesDate, series_dates
from newsticker.items.services.derived import item_recurrence

# How far ahead a series is expanded (longer than any period a page shows, 366 days).
HORIZON_DAYS = 400
# A series' dates start this long before now: one that is still running is listed.
LOOK_BACK = timedelta(days=1)
# Statuses whose series the nightly job keeps expanded (the others are never listed).
KEPT_STATUSES = (ItemStatus.SUBMITTED, ItemStatus.APPROVED)
# Items expanded per batch by `rebuild_all`.
BATCH = 500


@dataclass
class OccurrenceRun:
    """What a nightly run or a rebuild did."""

    items: int = 0
    dates: int = 0
    deleted: int = 0


def item_dates(item: Item, *, tz: ZoneInfo, now: datetime) -> list[SeriesDate]:
    """Return the dates to store for an item: none, its single date, or its series'."""
    if item.kind != ItemKind.EVENT or item.starts_at is None:
        return []
    rule = item_recurrence(item)
    if rule is None:
        return [SeriesDate(item.starts_at, item.ends_at)]
    return series_dates(
        item.starts_at,
        item.ends_at,
        rule,
        tz=tz,
        window_start=now - LOOK_BACK,
        window_end=now + timedelta(days=HORIZON_DAYS),
    )


def _rows(item: Item, dates: list[SeriesDate]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    previous: datetime | None = None
    for date in dates:
        over = date.starts_at
        if date.ends_at is not None and date.ends_at > date.starts_at:
            over = date.ends_at
        rows.append(
            {
                "item_id": item.id,
                "starts_at": date.starts_at,
                "ends_at": date.ends_at,
                "over_at": over,
                "previous_over_at": previous,
                "cancelled": date.cancelled,
                "status": item.status,
                "field_of_action": item.field_of_action,
            }
        )
        if not date.cancelled:
            previous = over
    return rows


def _write(session: Session, items: list[Item], *, tz: ZoneInfo, now: datetime) -> OccurrenceRun:
    run = OccurrenceRun(items=len(items))
    if not items:
        return run
    session.flush()
    ids = [item.id for item in items]
    session.execute(
        delete(ItemOccurrence)
        .where(ItemOccurrence.item_id.in_(ids))
        .execution_options(synchronize_session=False)
    )
    rows = [row for item in items for row in _rows(item, item_dates(item, tz=tz, now=now))]
    if rows:
        session.execute(insert(ItemOccurrence), rows)
    run.dates = len(rows)
    return run


def refresh(session: Session, item: Item, *, tz: ZoneInfo, now: datetime) -> None:
    """Write the item's dates anew from its fields (after any change of its content)."""
    _write(session, [item], tz=tz, now=now)


def copy_status(session: Session, *items: Item) -> None:
    """Copy the items' status to their dates (after a decision that changes only that)."""
    session.flush()
    for status in {item.status for item in items}:
        ids = [item.id for item in items if item.status == status]
        session.execute(
            update(ItemOccurrence)
            .where(ItemOccurrence.item_id.in_(ids))
            .values(status=status)
            .execution_options(synchronize_session=False)
        )


def extend_horizon(session: Session, *, tz: ZoneInfo, now: datetime) -> OccurrenceRun:
    """Expand the live series up to the horizon from now and delete the dates that are over."""
    series = list(
        session.scalars(
            select(Item).where(
                Item.kind == ItemKind.EVENT,
                Item.status.in_(KEPT_STATUSES),
                Item.recurrence.is_not(None),
                Item.last_ends_at > now,
            )
        )
    )
    run = OccurrenceRun()
    for start in range(0, len(series), BATCH):
        done = _write(session, series[start : start + BATCH], tz=tz, now=now)
        run.items += done.items
        run.dates += done.dates
    result = session.execute(
        delete(ItemOccurrence)
        .where(ItemOccurrence.over_at < now - LOOK_BACK)
        .execution_options(synchronize_session=False)
    )
    run.deleted = result.rowcount or 0  # type: ignore[attr-defined]
    session.flush()
    return run


def fill_if_empty(session: Session, *, tz: ZoneInfo, now: datetime) -> OccurrenceRun | None:
    """Write every event's dates when none are stored (the upgrade that adds the table)."""
    if session.scalar(select(ItemOccurrence.id).limit(1)) is not None:
        return None
    return rebuild_all(session, tz=tz, now=now)


def rebuild_all(session: Session, *, tz: ZoneInfo, now: datetime) -> OccurrenceRun:
    """Delete every stored date and write each event's dates anew."""
    run = OccurrenceRun()
    run.deleted = session.execute(delete(ItemOccurrence)).rowcount or 0  # type: ignore[attr-defined]
    last_id = 0
    while True:
        items = list(
            session.scalars(
                select(Item)
                .where(Item.kind == ItemKind.EVENT, Item.starts_at.is_not(None), Item.id > last_id)
                .order_by(Item.id)
                .limit(BATCH)
            )
        )
        if not items:
            break
        done = _write(session, items, tz=tz, now=now)
        run.items += done.items
        run.dates += done.dates
        last_id = items[-1].id
        session.expunge_all()
    session.flush()
    return run
