"""The events' dates table: kept right by every change, paged by the list, extended nightly."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, func, select

from newsticker.core.db import make_engine, utcnow
from newsticker.core.site import site_links
from newsticker.items import services
from newsticker.items.models import ItemOccurrence, ItemStatus
from newsticker.items.recurrence import Recurrence
from newsticker.items.services import occurrences
from newsticker.scheduling import registered_jobs
from tests.factories import TZ, local, make_item, today


def stored(db: Any, item: Any) -> list[tuple[Any, ...]]:
    """Return the item's stored dates: (local start, cancelled, status)."""
    rows = db.execute(
        select(ItemOccurrence.starts_at, ItemOccurrence.cancelled, ItemOccurrence.status)
        .where(ItemOccurrence.item_id == item.id)
        .order_by(ItemOccurrence.starts_at)
    )
    return [(start.astimezone(TZ), cancelled, status) for start, cancelled, status in rows]


def listed(db: Any, **filters: str) -> list[str]:
    """Return the titles the public list shows, in order, on one long page."""
    found, total = services.upcoming_events(
        db, services.PublicFilters(**filters), now=utcnow(), tz=TZ, limit=500
    )
    assert total == len(found)
    return [listing.item.title for listing in found]


def data_of(item: Any, **changes: Any) -> services.ItemData:
    """Return the item's content as an edit form gives it, with changes."""
    values = {
        "kind": str(item.kind),
        "title": item.title,
        "summary": item.summary,
        "organiser": item.organiser,
        "field_of_action": item.field_of_action,
        "starts_at": item.starts_at,
        "ends_at": item.ends_at,
        "recurrence": services.item_recurrence(item),
    }
    return services.ItemData(**(values | changes))


def weekly(count: int = 6, exceptions: tuple[Any, ...] = ()) -> Recurrence:
    return Recurrence(freq="weekly", count=count, exceptions=exceptions)


def test_approving_editing_and_rejecting_keep_the_dates_right(app, db):
    start = today() + timedelta(days=3)
    item = make_item(
        db,
        status=ItemStatus.SUBMITTED,
        title="Sprachcafé",
        starts_at=local(start, 17),
        ends_at=local(start, 19),
        rule=weekly(4),
    )
    assert [s for _d, _c, s in stored(db, item)] == [ItemStatus.SUBMITTED] * 4
    assert listed(db) == []

    services.approve_item(db, item, user_id=None, now=utcnow(), links=site_links(app))
    assert [s for _d, _c, s in stored(db, item)] == [ItemStatus.APPROVED] * 4
    assert listed(db) == ["Sprachcafé"]

    later = start + timedelta(days=1)
    services.update_item(
        db,
        item,
        data_of(item, starts_at=local(later, 10), ends_at=local(later, 12), recurrence=weekly(2)),
        version=item.version,
        actor="editor",
        tz=TZ,
        now=utcnow(),
    )
    assert [d for d, _c, _s in stored(db, item)] == [
        local(later, 10),
        local(later + timedelta(days=7), 10),
    ]
    assert listed(db, field_of_action="encounter") == ["Sprachcafé"]
    services.update_item(
        db,
        item,
        data_of(item, field_of_action="health"),
        version=item.version,
        actor="editor",
        tz=TZ,
        now=utcnow(),
    )
    assert listed(db, field_of_action="encounter") == []
    assert listed(db, field_of_action="health") == ["Sprachcafé"]

    services.reject_item(
        db, item, reason="Doppelt", user_id=None, now=utcnow(), links=site_links(app)
    )
    assert {s for _d, _c, s in stored(db, item)} == {ItemStatus.REJECTED}
    assert listed(db) == []


def test_a_series_exception_is_stored_cancelled_and_skipped_as_next_date(app, db):
    start = today() + timedelta(days=2)
    item = make_item(
        db, title="Kochen", starts_at=local(start, 17), ends_at=local(start, 19), rule=weekly(3)
    )
    services.update_item(
        db,
        item,
        data_of(item, recurrence=weekly(3, exceptions=(start,))),
        version=item.version,
        actor="editor",
        tz=TZ,
        now=utcnow(),
    )
    assert [c for _d, c, _s in stored(db, item)] == [True, False, False]
    (listing,) = services.upcoming_events(db, services.PublicFilters(), now=utcnow(), tz=TZ)[0]
    assert listing.starts_at == local(start + timedelta(days=7), 17)
    assert [d.cancelled for d in listing.dates] == [True, False, False]


def test_withdrawal_expiry_and_merge_take_items_off_the_list(app, db, tmp_path: Path):
    withdrawn = make_item(db, status=ItemStatus.SUBMITTED, title="Zurückgezogen")
    services.withdraw_item(db, withdrawn, now=utcnow())
    assert {s for _d, _c, s in stored(db, withdrawn)} == {ItemStatus.WITHDRAWN}

    soon = today() + timedelta(days=1)
    ending = make_item(db, title="Bald vorbei", starts_at=local(soon, 9), ends_at=local(soon, 10))
    kept = make_item(db, title="Fest")
    duplicate = make_item(db, title="Fest (doppelt)")
    assert listed(db) == ["Bald vorbei", "Fest", "Fest (doppelt)"]

    services.merge_item(
        db, duplicate, kept, user_id=None, now=utcnow(), tz=TZ, links=site_links(app)
    )
    assert {s for _d, _c, s in stored(db, duplicate)} == {ItemStatus.REJECTED}
    assert listed(db) == ["Bald vorbei", "Fest"]

    run = services.expire_items(db, now=local(soon, 11), retention_days=180, upload_dir=tmp_path)
    assert run.expired == 1
    assert {s for _d, _c, s in stored(db, ending)} == {ItemStatus.EXPIRED}
    assert listed(db) == ["Fest"]


def test_thirty_events_with_three_series_page_in_order_each_once(app, db):
    start = today() + timedelta(days=1)
    titles = {}
    for n in range(27):
        day = start + timedelta(days=n)
        item = make_item(db, title=f"Termin {n:02d}", starts_at=local(day, 12), ends_at=None)
        titles[item.id] = (local(day, 12), item.title)
    # The third series' dates fall on days 40, 47, … 89: none on day 90, where the
    # 90-day horizon (from now, at this time of day) would make the count depend on the
    # hour the test runs (with 40 it saw 7 dates before 08:00 Berlin time, 8 after).
    for n, offset in enumerate((0, 5, 39)):
        day = start + timedelta(days=offset)
        item = make_item(
            db, title=f"Reihe {n}", starts_at=local(day, 8), ends_at=None, rule=weekly(10)
        )
        titles[item.id] = (local(day, 8), item.title)
    expected = [title for _start, title in sorted(titles.values())]
    pages = []
    for page in range(4):
        found, total = services.upcoming_events(
            db, services.PublicFilters(), now=utcnow(), tz=TZ, offset=page * 8, limit=8
        )
        assert total == 30
        pages.append([listing.item.title for listing in found])
    assert [len(p) for p in pages] == [8, 8, 8, 6]
    assert [title for page in pages for title in page] == expected
    series = [
        listing
        for listing in services.upcoming_events(
            db, services.PublicFilters(), now=utcnow(), tz=TZ, limit=30
        )[0]
        if listing.is_series
    ]
    assert [len(listing.dates) for listing in series] == [10, 10, 8]


def test_an_ongoing_date_comes_first_and_a_series_counts_from_its_running_date(app, db):
    now = utcnow().replace(second=0, microsecond=0)
    running = make_item(
        db,
        title="Läuft",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=1),
        rule=Recurrence(freq="weekly", count=3),
    )
    make_item(db, title="Später")
    (first, second), total = services.upcoming_events(db, services.PublicFilters(), now=now, tz=TZ)
    assert total == 2 and [first.item.id, second.item.title] == [running.id, "Später"]
    assert first.starts_at == now - timedelta(hours=1) and len(first.dates) == 3


def test_the_nightly_job_extends_the_horizon_and_drops_past_dates(app, db):
    jobs = registered_jobs(app.config["NEWSTICKER_SETTINGS"])
    assert "extend_occurrences" in {job["func"] for job in jobs}
    start = today() + timedelta(days=1)
    item = make_item(
        db,
        title="Jede Woche",
        starts_at=local(start, 18),
        ends_at=local(start, 19),
        rule=Recurrence(freq="weekly", until=start + timedelta(days=700)),
    )
    horizon = utcnow() + timedelta(days=occurrences.HORIZON_DAYS)
    dates = [d for d, _c, _s in stored(db, item)]
    assert dates[0] == local(start, 18) and horizon - timedelta(days=7) < dates[-1] < horizon

    later = utcnow() + timedelta(days=60)
    run = occurrences.extend_horizon(db, tz=TZ, now=later)
    assert run.items == 1 and run.dates > 0
    dates = [d for d, _c, _s in stored(db, item)]
    assert dates[0] > later - timedelta(days=8)
    assert dates[-1] > horizon + timedelta(days=50)
    # A second run changes nothing.
    occurrences.extend_horizon(db, tz=TZ, now=later)
    assert [d for d, _c, _s in stored(db, item)] == dates


def test_the_list_page_runs_as_many_statements_for_many_items_as_for_few(client, db):
    def statements() -> int:
        seen: list[str] = []
        engine = db.get_bind()

        def count(*_args: Any) -> None:
            seen.append("x")

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get("/angebote?seite=1").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    start = today() + timedelta(days=1)
    for n in range(3):
        make_item(
            db, title=f"Wenig {n}", starts_at=local(start + timedelta(days=n), 10), ends_at=None
        )
    make_item(db, title="Reihe", starts_at=local(start, 8), ends_at=None, rule=weekly(8))
    few = statements()
    for n in range(60):
        make_item(
            db, title=f"Viel {n}", starts_at=local(start + timedelta(days=n % 50), 11), ends_at=None
        )
    for n in range(10):
        make_item(db, title=f"Reihe {n}", starts_at=local(start, 9), ends_at=None, rule=weekly(20))
    db.expire_all()
    assert statements() == few


def test_refresh_occurrences_rebuilds_every_events_dates(runner):
    assert runner.invoke("demo").exit_code == 0
    engine = make_engine(runner.database_url)
    with engine.begin() as conn:
        before = conn.scalar(select(func.count()).select_from(ItemOccurrence))
        conn.execute(delete(ItemOccurrence))
    result = runner.invoke("refresh-occurrences")
    assert result.exit_code == 0, result.output
    assert f"Wrote {before} dates of" in result.output
    with engine.begin() as conn:
        assert conn.scalar(select(func.count()).select_from(ItemOccurrence)) == before > 0
        conn.execute(delete(ItemOccurrence))
    # The upgrade that adds the table leaves it empty: init-db fills it once.
    result = runner.invoke("init-db")
    assert result.exit_code == 0 and f"Wrote {before} dates of" in result.output
    assert "Wrote" not in runner.invoke("init-db").output
    engine.dispose()


def test_a_search_lists_the_best_match_first_then_by_next_date(app, db):
    start = today() + timedelta(days=2)
    make_item(
        db,
        title="Tanzabend mit Musik",
        summary="Ein Abend für alle, die gerne tanzen, mit Musik aus vielen Ländern; "
        "nebenbei wird auch gekocht, wer mag, hilft beim Kochen mit.",
        tags=[],
        starts_at=local(start, 18),
        ends_at=None,
    )
    for n, offset in enumerate((9, 5)):
        day = start + timedelta(days=offset)
        make_item(
            db,
            title=f"Kochen {n}",
            summary="Kochen lernen: wir kochen gemeinsam.",
            tags=["Kochen"],
            starts_at=local(day, 12),
            ends_at=None,
            rule=weekly(3) if n else None,
        )
    assert listed(db, query="kochen") == ["Kochen 1", "Kochen 0", "Tanzabend mit Musik"]
    assert listed(db, query="kochen", field_of_action="health") == []
