"""Measure the public events list and the keyword search with 10,000 items.

Usage:
    .venv/bin/python benchmarks/items_search.py [--items 10000] [--repeat 30]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Always measures SQLite (a fresh file in a temporary folder). With --database-url or
NEWSTICKER_TEST_DATABASE_URL it also measures PostgreSQL, in a database of its own
("<name>_bench", created and reset by this script) so no test data is touched.
Prints the median and 95th percentile of full HTTP requests (query, recurrence
expansion, template rendering) through the app's test client.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from benchmarks.seeding import FIELDS, GERMAN, LANGS, RARE, TZ, item_row
from newsticker import create_app
from newsticker.config import load_settings
from newsticker.core.db import make_engine
from newsticker.items.models import Item
from newsticker.items.recurrence import Recurrence
from newsticker.items.services import derive_fields
from newsticker.migrations import upgrade_database


def fake_items(count: int, now: datetime) -> list[dict]:
    rng = random.Random(42)
    rows = []
    for n in range(count):
        words = rng.sample(GERMAN, 6)
        if n % 100 == 0:
            words.append(RARE)
        roll = rng.random()
        start_day = (now + timedelta(days=rng.randint(-30, 365))).astimezone(TZ).date()
        item = Item(
            kind="event",
            status="approved" if rng.random() < 0.95 else "submitted",
            title=" ".join(words[:3]) + f" {n}",
            summary=" ".join(words[2:]) + ". Alle sind willkommen.",
            description=f"**{words[0]}** und {words[1]}.\n\n- {words[2]}\n- {words[3]}",
            field_of_action=rng.choice(FIELDS),
            tags=words[4:6],
            event_languages=rng.sample(LANGS, rng.randint(1, 3)),
            content_language="de",
            organiser=f"Verein {words[5]}",
            place_name=f"Stadtteilhaus {rng.randint(1, 40)}",
            submitter_email="bench@example.org",
            approved_at=now,
            created_at=now,
            updated_at=now,
            all_day=False,
            version=1,
        )
        if roll < 0.07:  # announcements and calls
            item.kind = rng.choice(("announcement", "call"))
            item.visible_until = (now + timedelta(days=rng.randint(-5, 90))).date()
        else:
            start = datetime.combine(start_day, dtime(rng.choice((10, 15, 18)), 0), TZ)
            item.starts_at, item.ends_at = start, start + timedelta(hours=2)
            if roll < 0.10:  # recurring
                first = start - timedelta(days=rng.randint(0, 120))
                item.starts_at, item.ends_at = first, first + timedelta(hours=2)
                item.recurrence = Recurrence(
                    freq="weekly", until=(now + timedelta(days=365)).date()
                ).to_dict()
        derive_fields(item, TZ)
        rows.append(item_row(item))
    return rows


def bench_database(url: str, label: str, count: int, repeat: int, instance: Path) -> None:
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
    rows = fake_items(count, now)
    with engine.begin() as conn:
        for chunk in range(0, len(rows), 1000):
            conn.execute(insert(Item.__table__), rows[chunk : chunk + 1000])
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE items"))
        else:
            conn.execute(text("ANALYZE"))
    print(f"\n{label}: {count} items loaded in {time.perf_counter() - started:.1f} s")
    client = app.test_client()
    cases = [
        ("public list, page 1", "/angebote"),
        ("public list, page 5", "/angebote?seite=5"),
        (f"keyword search, rare word ({RARE})", f"/angebote?q={RARE}"),
        ("keyword search, common word (Familie)", "/angebote?q=Familie"),
        ("keyword search, two words", "/angebote?q=Sprachcafe+Kinder"),
        ("filter field + language", "/angebote?bereich=health&sprache=ar"),
        ("iCal feed, one field of action", "/feeds/angebote/health.ics"),
    ]
    print(f"{'request':48} {'median':>9} {'p95':>9}")
    for name, path in cases:
        for _ in range(3):
            assert client.get(path).status_code == 200
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        print(f"{name:48} {statistics.median(times):7.1f}ms {p95:7.1f}ms")
    engine.dispose()


def bench_postgres_url(base: str) -> str:
    parsed = make_url(base)
    name = f"{parsed.database}_bench"
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = parsed.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--database-url", default=os.environ.get("NEWSTICKER_TEST_DATABASE_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        bench_database(url, "SQLite", args.items, args.repeat, Path(tmp) / "instance")
        if args.database_url:
            pg = bench_postgres_url(args.database_url)
            bench_database(pg, "PostgreSQL", args.items, args.repeat, Path(tmp) / "instance-pg")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
