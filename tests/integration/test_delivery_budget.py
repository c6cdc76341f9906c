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
    start = time.time()
    moments: list[float] = []
    lock = threading.Lock()

    def work():
        # Three workers reserve through the database at the same time. Each message's
        # moment is the slot the pacer lets it go at: its clock stands still and its sleep
        # only notes how long it would wait, so a busy machine's scheduler cannot blur the
        # result (wall-clock rates are the benchmarks' business).
        def sleep(seconds: float) -> None:
            moment[0] = start + seconds

        moment = [start]
        pacer = Pacer(factory, per_second=200, per_hour=1_000_000, clock=lambda: start, sleep=sleep)
        for _ in range(100):
            moment[0] = start
            assert pacer.acquire(wanted=100, deadline=start + 60)
            with lock:
                moments.append(moment[0])

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    moments.sort()
    assert len(moments) == 300
    assert len(set(moments)) == 300, "two messages got the same slot"
    worst = max(
        bisect.bisect_left(moments, first + 1.0) - index for index, first in enumerate(moments)
    )
    # No second holds more than the rate (+ 1 for rounding at the window's edge).
    assert worst <= 200 + 1
    assert moments[-1] - moments[0] >= 299 / 200 - 1e-6


def test_an_exhausted_budget_tells_when_to_come_back(tmp_path):
    app = committed_app(tmp_path)
    with app.app_context():
        factory = database.session_factory
    clock = [NOW]
    pacer = Pacer(factory, per_second=10, per_hour=3, clock=lambda: clock[0], sleep=lambda s: None)
    assert all(pacer.acquire(wanted=3, deadline=NOW + 100) for _ in range(3))
    assert not pacer.acquire(wanted=1, deadline=NOW + 100)
    assert pacer.exhausted_until == NOW + 61 * 60
