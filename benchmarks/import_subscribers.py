"""Benchmark: import 100,000 subscribers from CSV, then stream them as recipients.

    .venv/bin/python benchmarks/import_subscribers.py                 # SQLite (temporary file)
    .venv/bin/python benchmarks/import_subscribers.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

With a PostgreSQL URL (or NEWSTICKER_TEST_DATABASE_URL) the benchmark works in a
database of its own beside the given one ("<name>_bench"), which it resets first.
Prints rows per second for checking, writing and the whole import, for a re-import
of the same file (everything "already subscribed"), for streaming the recipients and
for making personal links.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FIRST = ("Jürgen", "Anna", "Jörg", "Maren", "Hauke", "Ayşe", "Mehmet", "Olena", "Ahmad", "Fatemeh",
         "Ewa", "Tomasz", "Kirsten", "Malte", "Zainab", "Yusuf")  # fmt: skip
LAST = ("Müller", "Petersen", "Hansen", "Jensen", "Thomsen", "Öztürk", "Haddad", "Nowak",
        "Kowalenko", "Hosseini", "Schröder", "Lüthje")  # fmt: skip
DOMAINS = ("example.org", "example.com", "example.net", "mail.example.org")


def make_csv(rows: int, seed: int = 1) -> bytes:
    """Return a realistic Excel-style list: BOM, semicolons, names, some languages, 1% bad."""
    rng = random.Random(seed)
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["E-Mail", "Name", "Sprache"])
    for number in range(rows):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        address = f"person{number}.{rng.randrange(10**6)}@{rng.choice(DOMAINS)}"
        if number % 100 == 99:
            address = address.replace("@", " at ")  # an invalid row now and then
        writer.writerow([address, f"{first} {last}", rng.choice(("de", "de", "en", ""))])
    return out.getvalue().encode("utf-8-sig")


def bench_database(url: str | None, tmp: Path) -> str:
    """Return a freshly migrated database URL for the benchmark."""
    from newsticker.core.db import make_engine
    from newsticker.migrations import upgrade_database

    if not url:
        url = f"sqlite:///{tmp / 'bench.db'}"
    elif url.startswith("postgresql"):
        parsed = make_url(url)
        name = f"{parsed.database}_bench"
        admin = make_engine(url, isolation_level="AUTOCOMMIT")
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
    upgrade_database(url)
    return url


def rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:>10,.0f} rows/s  ({seconds:6.2f} s)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("NEWSTICKER_TEST_DATABASE_URL"))
    args = parser.parse_args()

    from newsticker import create_app
    from newsticker.config import load_settings
    from newsticker.core.db import db, utcnow
    from newsticker.core.site import site_keyring, site_links
    from subscribers import importing, services
    from subscribers.site import site_salts

    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        url = bench_database(args.database_url, tmp)
        empty = tmp / "config.toml"
        empty.write_text("", encoding="utf-8")  # never read the developer's config.toml
        settings = load_settings(
            empty,
            overrides={
                "database.url": url,
                "site.secret_key": "benchmark-secret",
                "site.instance_path": str(tmp / "instance"),
            },
            environ={},
        )
        app = create_app(settings)
        data = make_csv(args.rows)
        backend = make_url(url).get_backend_name()
        print(f"Import of {args.rows:,} rows ({len(data) / 1e6:.1f} MB) on {backend}")

        with app.test_request_context():
            session = db.session
            salts = site_salts()
            start = time.perf_counter()
            plan = importing.plan_import(session, data, publication="ticker", salts=salts)
            checked = time.perf_counter()
            result = importing.run_import(
                session, plan, publication="ticker", consent_note="benchmark", actor="bench",
                channel="cli", filename="bench.csv", now=utcnow(),
            )  # fmt: skip
            session.commit()
            done = time.perf_counter()
            print(f"  read and check    {rate(args.rows, checked - start)}")
            print(f"  write and commit  {rate(result.imported, done - checked)}")
            print(f"  whole import      {rate(args.rows, done - start)}   "
                  f"imported {result.imported:,}, not imported {result.rejected:,}")  # fmt: skip

            start = time.perf_counter()
            again = importing.import_subscribers(
                session, data, publication="ticker", consent_note="benchmark", actor="bench",
                salts=salts, now=utcnow(), filename="bench.csv",
            )  # fmt: skip
            session.commit()
            print(f"  re-import         {rate(args.rows, time.perf_counter() - start)}   "
                  f"imported {again.imported:,}, unchanged {again.unchanged:,}")  # fmt: skip

            start = time.perf_counter()
            count = sum(1 for _ in services.recipient_rows(session, ["newsletter", "ticker"]))
            print(f"  recipient_rows    {rate(count, time.perf_counter() - start)}")

            ring = site_keyring()
            prefixes = services.LinkPrefixes.from_links(site_links())
            start = time.perf_counter()
            for subscriber_id in range(count):
                services.personal_links(ring, prefixes, subscriber_id, "ticker")
            seconds = time.perf_counter() - start
            print(f"  personal_links    {rate(count, seconds)}   "
                  f"{seconds / max(count, 1) * 1e6:.1f} µs per recipient")  # fmt: skip
        app.extensions["newsticker_db"].engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
