"""The relay's rate limits, shared through the database by every worker."""

import bisect
import threading
import time

from newsticker.core.db import db as database
from newsticker.delivery.budget import Exhausted, Grant, Pacer, reserve
from tests.factories import committed_app

NOW = 1_800_000_000.0  # a fixed clock, at the start of a minute


def test_runs_of_slots_follow_each_other_without_overlap(db):
    first = reserve(db, 10, per_second=5, per_hour=1000, now=NOW)
    second = reserve(db, 10, per_second=5, per_hour=1000, now=NOW)
    assert isinstance(first, Grant) and isinstance(second, Grant)
    assert (first.start, first.count, first.interval) == (NOW, 10, 0.2)
    assert second.start == NOW + 2.0  # where the first run ends
    # A worker coming back later does not get slots in the past.
    late = reserve(db, 1, per_second=5, per_hour=1000, now=NOW + 60)
    assert late.start == NOW + 60


def test_the_hourly_limit_holds_over_any_hour(db):
    assert reserve(db, 60, per_second=1000, per_hour=100, now=NOW).count == 60
    assert reserve(db, 60, per_second=1000, per_hour=100, now=NOW + 600).count == 40
    spent = reserve(db, 1, per_second=1000, per_hour=100, now=NOW + 1200)
    assert isinstance(spent, Exhausted)
    # The first 60 leave the window 61 minutes after the minute they were granted in.
    assert spent.until == NOW + 61 * 60
    assert isinstance(reserve(db, 1, per_second=1000, per_hour=100, now=NOW + 3600), Exhausted)
    again = reserve(db, 100, per_second=1000, per_hour=100, now=NOW + 61 * 60)
    assert isinstance(again, Grant) and again.count == 60


def test_workers_in_threads_never_exceed_the_rate_together(tmp_path):
    app = committed_app(tmp_path)
    with app.app_context():
        factory = database.session_factory
    times: list[float] = []
    lock = threading.Lock()

    def work():
        pacer = Pacer(factory, per_second=200, per_hour=1_000_000)
        for _ in range(100):
            assert pacer.acquire(wanted=100, deadline=time.time() + 60)
            with lock:
                times.append(time.time())

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times.sort()
    assert len(times) == 300
    worst = max(bisect.bisect_left(times, start + 1.0) - index for index, start in enumerate(times))
    # The slots never exceed the rate (see the first test); the moments the threads
    # actually wake may bunch a little by scheduling jitter on a busy machine.
    assert worst <= 200 * 1.15
    assert times[-1] - times[0] >= 299 / 200 - 0.05


def test_an_exhausted_budget_tells_when_to_come_back(tmp_path):
    app = committed_app(tmp_path)
    with app.app_context():
        factory = database.session_factory
    clock = [NOW]
    pacer = Pacer(factory, per_second=10, per_hour=3, clock=lambda: clock[0], sleep=lambda s: None)
    assert all(pacer.acquire(wanted=3, deadline=NOW + 100) for _ in range(3))
    assert not pacer.acquire(wanted=1, deadline=NOW + 100)
    assert pacer.exhausted_until == NOW + 61 * 60
