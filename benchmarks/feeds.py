"""Measure cold builds of the iCal and Atom feeds at 1,000, 10,000 and 100,000 items.

Usage:
    .venv/bin/python benchmarks/feeds.py [--sizes 1000,10000,100000] [--repeat 5]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Always measures SQLite (a fresh file in a temporary folder). With --database-url or
NEWSTICKER_TEST_DATABASE_URL it also measures PostgreSQL, in a database of its own
("<name>_bench", created and reset by this script). Items as benchmarks/items_search.py
seeds them (events over the past 30 days and the next year, a few weekly series).

A cold build is a full request through the app's test client with the workers' kept
builds emptied first: the version query, the window's query, and the calendar built.
Also printed: the CPU time of a cold build in this process (the database server's
excluded; on a shared, loaded machine closer to an idle one's wall clock), the answer
with the kept build (warm) and a repeat with the ETag (304).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text

from benchmarks.items_search import bench_postgres_url, fake_items
from newsticker import create_app
from newsticker.config import load_settings
from newsticker.items import views
from newsticker.items.models import Item
from newsticker.migrations import upgrade_database

FEEDS = (("iCal, all events", "/feeds/angebote.ics"), ("Atom", "/feeds/angebote.atom"))


def median_ms(repeat: int, work: Callable[[], object]) -> tuple[float, float]:
    """Return the median wall-clock and CPU milliseconds of `work` (CPU: this process)."""
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        work()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), statistics.median(cpu)


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
    engine = app.extensions["newsticker_db"].engine
    started = time.perf_counter()
    rows = fake_items(count, datetime.now(UTC))
    with engine.begin() as conn:
        for chunk in range(0, len(rows), 1000):
            conn.execute(insert(Item.__table__), rows[chunk : chunk + 1000])
        conn.execute(text("ANALYZE items" if engine.dialect.name == "postgresql" else "ANALYZE"))
    print(f"\n{label}: {count} items loaded in {time.perf_counter() - started:.1f} s")
    client = app.test_client()
    print(
        f"{'feed':18} {'cold':>9} {'cold CPU':>9} {'warm':>9} {'304':>9} {'entries':>8} {'size':>9}"
    )
    for name, path in FEEDS:

        def cold(path: str = path) -> None:
            views._FEED_CACHE.clear()
            assert client.get(path).status_code == 200

        cold()
        first = client.get(path)
        etag = first.headers["ETag"]
        entries = first.data.count(b"BEGIN:VEVENT") or first.data.count(b"<entry")
        cold_ms, cold_cpu = median_ms(repeat, cold)
        client.get(path)
        warm_ms, _ = median_ms(repeat, lambda path=path: client.get(path))
        not_modified, _ = median_ms(
            repeat, lambda path=path, etag=etag: client.get(path, headers={"If-None-Match": etag})
        )
        assert client.get(path, headers={"If-None-Match": etag}).status_code == 304
        size = f"{len(first.data) / 1024:.0f} KiB"
        print(
            f"{name:18} {cold_ms:7.1f}ms {cold_cpu:7.1f}ms {warm_ms:7.1f}ms {not_modified:7.1f}ms"
            f" {entries:8d} {size:>9}"
        )
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", default=os.environ.get("NEWSTICKER_TEST_DATABASE_URL"))
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            url = f"sqlite:///{Path(tmp) / f'bench-{size}.db'}"
            bench_database(url, "SQLite", size, args.repeat, Path(tmp) / "instance")
        if args.database_url:
            for size in sizes:
                pg = bench_postgres_url(args.database_url)
                bench_database(pg, "PostgreSQL", size, args.repeat, Path(tmp) / "instance-pg")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
