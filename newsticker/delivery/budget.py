"""The relay's rate limits, shared by every sender worker through the database.

Why the database and not the `limits` library: the limits must hold across all workers on
all hosts, and the database is the one thing they always share (Redis is optional and the
default `memory://` storage is per process). A worker reserves a run of sending slots in
one short transaction, so the cost is one row update per run, not per message.

- Per second: one row keeps the next free slot. A reservation of n messages takes the n
  slots from max(next free slot, now) on, 1/rate apart, and moves the mark on. However many
  workers reserve, the slots they get never overlap, so no second holds more than rate + 1.
- Per hour: granted messages are counted per minute; a reservation only gets what is left
  of the limit over the last 61 minutes (a window that covers any hour, so it never
  overshoots).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from newsticker.delivery.models import SendBudget, SendMinute

BUDGET_NAME = "smtp"
# A worker reserves about this many seconds' worth of slots at a time.
RESERVE_SECONDS = 0.25


@dataclass(frozen=True)
class Grant:
    """Slots for `count` messages: the first at `start`, then one every `interval` seconds."""

    start: float
    count: int
    interval: float

    def slot(self, index: int) -> float:
        """Return the earliest moment the index-th message of the grant may go out."""
        return self.start + index * self.interval


@dataclass(frozen=True)
class Exhausted:
    """The per-hour limit is used up until `until` (seconds since the epoch)."""

    until: float


def _insert_ignore(session: Session, name: str) -> None:
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    session.execute(
        module.insert(SendBudget).values(name=name, next_slot=0.0).on_conflict_do_nothing()
    )


def reserve(
    session: Session,
    wanted: int,
    *,
    per_second: float,
    per_hour: int,
    now: float,
    name: str = BUDGET_NAME,
) -> Grant | Exhausted:
    """Reserve up to `wanted` sending slots; call it as the first statement of a transaction."""
    # The insert is a write: on SQLite it takes the database's write lock at once, so the
    # read below cannot be overtaken. PostgreSQL locks the row.
    _insert_ignore(session, name)
    query = select(SendBudget.next_slot).where(SendBudget.name == name)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    next_slot = float(session.scalar(query) or 0.0)
    minute = int(now // 60)
    window_start = minute - 60
    used = session.scalar(
        select(func.coalesce(func.sum(SendMinute.count), 0)).where(
            SendMinute.minute >= window_start
        )
    )
    room = per_hour - int(used or 0)
    if room <= 0:
        oldest = session.scalar(
            select(func.min(SendMinute.minute)).where(
                SendMinute.minute >= window_start, SendMinute.count > 0
            )
        )
        return Exhausted(until=float(((oldest if oldest is not None else minute) + 61) * 60))
    count = max(1, min(wanted, room))
    interval = 1.0 / per_second
    start = max(next_slot, now)
    session.execute(
        update(SendBudget).where(SendBudget.name == name).values(next_slot=start + count * interval)
    )
    # Count the run in the minute its last slot falls in: later, so never too early.
    counted = int((start + (count - 1) * interval) // 60)
    _add_minute(session, counted, count)
    if minute % 10 == 0:
        session.execute(delete(SendMinute).where(SendMinute.minute < window_start - 60))
    return Grant(start=start, count=count, interval=interval)


def _add_minute(session: Session, minute: int, count: int) -> None:
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    stmt = module.insert(SendMinute).values(minute=minute, count=count)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[SendMinute.minute], set_={"count": SendMinute.count + count}
        )
    )


class Pacer:
    """One worker's view of the shared budget: hands out slots, reserving runs as needed."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        per_second: float,
        per_hour: int,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.factory = factory
        self.per_second = per_second
        self.per_hour = per_hour
        self.clock = clock
        self.sleep = sleep
        self._grant: Grant | None = None
        self._used = 0
        # When acquire() said no: the moment a slot is free again (time.time()).
        self.exhausted_until = 0.0
        self.run_size = max(1, math.ceil(per_second * RESERVE_SECONDS))

    def acquire(self, *, wanted: int, deadline: float) -> bool:
        """Wait for the next slot; False when the hourly limit leaves none before deadline.

        `wanted` is how many more messages the caller expects to send (at most one run is
        reserved at a time); `deadline` is a time.time() value.
        """
        if self._grant is None or self._used >= self._grant.count:
            outcome = self._reserve(max(1, min(wanted, self.run_size)))
            if isinstance(outcome, Exhausted):
                self.exhausted_until = outcome.until
                return False
            self._grant, self._used = outcome, 0
        slot = self._grant.slot(self._used)
        now = self.clock()
        if slot > deadline:
            self._grant = None  # the rest of the run lapses: a few slots, not messages
            self.exhausted_until = slot
            return False
        if slot > now:
            self.sleep(slot - now)
        self._used += 1
        return True

    def _reserve(self, wanted: int) -> Grant | Exhausted:
        with self.factory() as session, session.begin():
            return reserve(
                session,
                wanted,
                per_second=self.per_second,
                per_hour=self.per_hour,
                now=self.clock(),
            )
