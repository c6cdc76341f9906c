"""Measure the editors' workspace with 10,000 items and 100,000 audit entries.

Usage:
    .venv/bin/python benchmarks/editor_workspace.py [--items 10000] [--events 100000]
        [--repeat 20] [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Always measures SQLite (a fresh file in a temporary folder). With --database-url or
NEWSTICKER_TEST_DATABASE_URL it also measures PostgreSQL, in a database of its own
("<name>_bench", created and reset by this script). Prints the median and 95th
percentile of the dashboard's queries, the likely duplicates of a submission, and a
page and a CSV export of the audit trail with filters.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select, text

from benchmarks.items_search import bench_postgres_url, fake_items
from newsticker import create_app
from newsticker.config import load_settings
from newsticker.core import audit
from newsticker.core.db import db
from newsticker.editor.services import dashboard
from newsticker.items.models import Item, ItemStatus
from newsticker.items.services import likely_duplicates
from newsticker.migrations import upgrade_database

ACTIONS = ("item.approved", "item.rejected", "item.edited", "issue.scheduled", "delivery.started")


def fake_events(count: int, now: datetime) -> list[dict[str, Any]]:
    rng = random.Random(7)
    rows = []
    for n in range(count):
        user = rng.randint(1, 5)
        rows.append(
            {
                "at": now - timedelta(minutes=rng.randint(0, 60 * 24 * 700)),
                "action": rng.choice(ACTIONS),
                "actor_id": user,
                "actor": f"redaktion{user}@example.org",
                "ip": f"192.0.2.{user}",
                "subject_type": "item",
                "subject_id": str(n),
                "summary": f"Eintrag {n}",
                "details": {},
            }
        )
    return rows


def timed(repeat: int, work: Callable[[], object]) -> tuple[float, float]:
    for _ in range(2):
        work()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        work()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def bench_database(
    url: str, label: str, items: int, events: int, repeat: int, instance: Path
) -> None:
    upgrade_database(url)
    settings = load_settings(
        Path(__file__).resolve().parent.parent / "tests" / "data" / "empty.toml",
        overrides={
            "database.url": url,
            "site.secret_key": "bench",
            "site.instance_path": str(instance),
        },
        environ={},
    )
    app = create_app(settings)
    now = datetime.now(UTC)
    engine = app.extensions["newsticker_db"].engine
    started = time.perf_counter()
    with engine.begin() as conn:
        rows = fake_items(items, now)
        for chunk in range(0, len(rows), 1000):
            conn.execute(insert(Item.__table__), rows[chunk : chunk + 1000])
        trail = fake_events(events, now)
        for chunk in range(0, len(trail), 5000):
            conn.execute(insert(audit.AuditEvent.__table__), trail[chunk : chunk + 5000])
        conn.execute(text("ANALYZE"))
    print(f"\n{label}: {items} items, {events} audit entries loaded in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    tz = settings.tz
    with app.app_context():
        session = db.session
        pending = session.scalars(
            select(Item).where(Item.status == ItemStatus.SUBMITTED).limit(20)
        ).all()
        week = (now - timedelta(days=7)).astimezone(tz).date()
        cases: list[tuple[str, Callable[[], object]]] = [
            ("dashboard (all its queries)", lambda: dashboard(session, settings, now=now)),
            (
                "likely duplicates of 20 submissions",
                lambda: [likely_duplicates(session, item, tz=tz) for item in pending],
            ),
            (
                "audit trail, page 1, no filter",
                lambda: audit.search_events(session, audit.AuditFilters(), tz=tz),
            ),
            (
                "audit trail, page 1, one person",
                lambda: audit.search_events(session, audit.AuditFilters(actor="redaktion3"), tz=tz),
            ),
            (
                "audit trail, one action, last 7 days",
                lambda: audit.search_events(
                    session, audit.AuditFilters(action="item.rejected", date_from=week), tz=tz
                ),
            ),
            (
                "audit CSV rows, one action (~20,000)",
                lambda: sum(
                    1
                    for _ in audit.audit_rows(
                        session, audit.AuditFilters(action="item.edited"), tz=tz
                    )
                ),
            ),
        ]
        print(f"{'work':44} {'median':>9} {'p95':>9}")
        for name, work in cases:
            median, p95 = timed(repeat, work)
            print(f"{name:44} {median:7.1f}ms {p95:7.1f}ms")
        session.rollback()
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--database-url", default=os.environ.get("NEWSTICKER_TEST_DATABASE_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bench_database(
            f"sqlite:///{folder / 'bench.db'}", "SQLite", args.items, args.events, args.repeat,
            folder / "instance-sqlite",
        )  # fmt: skip
        if args.database_url:
            bench_database(
                bench_postgres_url(args.database_url), "PostgreSQL", args.items, args.events,
                args.repeat, folder / "instance-pg",
            )  # fmt: skip


if __name__ == "__main__":
    main()
