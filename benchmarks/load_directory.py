"""Load benchmark of the public pages: the app under gunicorn against a minimal Flask page.

    .venv/bin/python benchmarks/load_directory.py --items 10000
    .venv/bin/python benchmarks/load_directory.py --items 10000 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
    .venv/bin/python benchmarks/load_directory.py --items 100000 --single-sizes 1000,100000

What it does:

1. creates a fresh database: a temporary SQLite file, or, with --database-url, a
   PostgreSQL database named "<name>_load" beside the one given (created, then EMPTIED
   on every run; the database named itself is never touched);
2. loads the demo content (publications and a sent ticker for the archive page) and
   seeds N approved items spread over the next year: German text with some Arabic and
   Ukrainian, 5 % weekly series, 8 % announcements and calls; then writes the events'
   dates (`newsticker refresh-occurrences`);
3. serves the app with `gunicorn -w 2` and, on another port, a minimal Flask +
   SQLAlchemy page (one small query on the same database) with the same settings;
4. drives both with Debian's `wrk` (16 connections, --duration seconds each)
   ALTERNATELY, minimal page then one of ours, for /angebote, page 5, a search for a
   rare word, the iCal and Atom feeds (and both again with If-None-Match: 304), an item
   page and an archived issue; prints requests/s, p50 and p99 of each, and its share of
   the requests/s the minimal page made just before it;
5. measures single requests (one client in this process, --repeat requests, median)
   of the list's first page, page 5 and two keyword searches (a word in one item of
   every thousand, and a word in 100 items at every size, whose page shows as many
   results at every size), and a cold build of the full iCal feed, for N and for each
   size in --single-sizes (each a fresh database).

The machine's load changes the figures: quote the shares and medians of one run, and
say what else was running.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from benchmarks.seeding import (  # noqa: E402
    ARABIC,
    FIELDS,
    GERMAN,
    LANGS,
    RARE,
    TZ,
    UKRAINIAN,
    item_row,
)
from newsticker import create_app  # noqa: E402
from newsticker.config import load_settings  # noqa: E402
from newsticker.core.db import make_engine  # noqa: E402
from newsticker.items.models import Item  # noqa: E402
from newsticker.items.recurrence import Recurrence  # noqa: E402
from newsticker.items.services import derive_fields  # noqa: E402
from newsticker.migrations import upgrade_database  # noqa: E402

# RARE is in one item of every thousand: more matches with more items.
# In 100 items at every size: a search whose page shows as many results at 1,000 items
# as at 100,000, so the sizes compare the search, not the number of cards rendered.
STEADY = "Tandemprojekt"
STEADY_MATCHES = 100
MINIMAL_APP = textwrap.dedent(
    """
    import os
    from flask import Flask
    from sqlalchemy import create_engine, text

    engine = create_engine(os.environ["LOAD_DATABASE_URL"])
    app = Flask(__name__)

    @app.get("/")
    def page():
        with engine.connect() as conn:
            row = conn.execute(text("SELECT id, title FROM items WHERE id = 1")).one()
        return f"<!doctype html><title>{row.title}</title><p>{row.id}</p>"
    """
)


def fake_items(count: int, now: datetime) -> list[dict[str, Any]]:
    """Return N approved items as INSERT rows, their derived fields computed."""
    rng = random.Random(17)
    rows = []
    for n in range(count):
        words = rng.sample(GERMAN, 6)
        if n % 10 == 0:
            words += rng.sample(ARABIC, 2)
        elif n % 10 == 1:
            words += rng.sample(UKRAINIAN, 2)
        if n % 1000 == 7:
            words.append(RARE)
        if n % max(count // STEADY_MATCHES, 1) == 3:
            words.append(STEADY)
        roll = rng.random()
        item = Item(
            kind="event",
            status="approved",
            title=" ".join(words[:3]) + f" {n}",
            summary=" ".join(words[2:]) + ". Alle sind herzlich willkommen.",
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
        if roll < 0.08:
            item.kind = rng.choice(("announcement", "call"))
            item.visible_until = (now + timedelta(days=rng.randint(1, 90))).date()
        else:
            day = (now + timedelta(days=rng.randint(0, 365))).astimezone(TZ).date()
            start = datetime.combine(day, dtime(rng.choice((10, 15, 18)), 0), TZ)
            if roll < 0.13:  # 5 %: weekly series that began up to four months ago
                start -= timedelta(weeks=rng.randint(0, 17))
                day = start.date()
                item.recurrence = Recurrence(
                    freq="weekly", until=(now + timedelta(days=365)).date()
                ).to_dict()
            item.starts_at, item.ends_at = start, start + timedelta(hours=2)
        derive_fields(item, TZ)
        rows.append(item_row(item))
    return rows


def fresh_database(base_url: str | None, tmp: Path, label: str) -> str:
    """Return the URL of an empty database (SQLite file, or "<name>_load" emptied)."""
    if not base_url:
        return f"sqlite:///{tmp / f'{label}.db'}"
    parsed = make_url(base_url)
    name = f"{parsed.database}_load"
    admin = make_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists.scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = parsed.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def write_config(tmp: Path, url: str) -> Path:
    """Write the config.toml both the seeding and gunicorn use."""
    path = tmp / "config.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [database]
            url = "{url}"
            [site]
            secret_key = "load-benchmark"
            base_url = "http://127.0.0.1"
            instance_path = "{tmp / "instance"}"
            """
        )
    )
    return path


def seed(url: str, config: Path, count: int) -> Any:
    """Create the schema, load the demo and N items with their dates; return the app."""
    from newsticker.core.unit_of_work import app_unit_of_work
    from newsticker.demo import load_demo
    from newsticker.items.services import occurrences

    upgrade_database(url)
    app = create_app(load_settings(config, environ={}))
    settings = app.config["NEWSTICKER_SETTINGS"]
    started = time.perf_counter()
    with app_unit_of_work(app) as session:
        load_demo(session, settings)
    now = datetime.now(UTC)
    rows = fake_items(count, now)
    engine = app.extensions["newsticker_db"].engine
    with engine.begin() as conn:
        for chunk in range(0, len(rows), 2000):
            conn.execute(insert(Item.__table__), rows[chunk : chunk + 2000])
    with app_unit_of_work(app) as session:
        run = occurrences.rebuild_all(session, tz=settings.tz, now=now)
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    print(
        f"  seeded {count} items ({run.dates} dates of {run.items} events) "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return app


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(app_spec: str, env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start gunicorn -w 2 for an app; return the process and its base URL once it answers."""
    port = free_port()
    gunicorn = Path(sys.executable).parent / "gunicorn"
    process = subprocess.Popen(
        [str(gunicorn), "-w", "2", "-b", f"127.0.0.1:{port}", "--timeout", "120", app_spec],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            probe = base + "/healthz" if "newsticker" in app_spec else base
            urllib.request.urlopen(probe, timeout=5)
            return process, base
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"{app_spec} did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a gunicorn we started (its process group)."""
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def wrk(url: str, *, duration: int, connections: int, headers: dict[str, str]) -> dict[str, Any]:
    """Run wrk once; return requests/s, p50 and p99 (ms) and the count of non-2xx/3xx."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url]
    for name, value in headers.items():
        command[1:1] = ["-H", f"{name}: {value}"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": rps,
        "p50": _latency(out, "50%"),
        "p99": _latency(out, "99%"),
        "bad": int(bad.group(1)) if bad else 0,
    }


def _latency(out: str, label: str) -> float:
    match = re.search(rf"^\s+{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", out, re.MULTILINE)
    if match is None:
        return float("nan")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str]]:
    """Return the status and headers of one request."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            response.read()
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


def load_table(app: Any, url: str, tmp: Path, config: Path, args: argparse.Namespace) -> None:
    """Serve the app and the minimal page; drive them alternately with wrk; print the table."""
    with app.app_context():
        from newsticker.core.db import db
        from newsticker.issues.models import Issue

        item_id = db.session.scalar(
            select(Item.id).where(Item.kind == "event", Item.status == "approved").limit(1)
        )
        issue = db.session.execute(
            select(Issue.publication, Issue.number).where(Issue.status == "sent").limit(1)
        ).first()
    (tmp / "minimal_app.py").write_text(MINIMAL_APP)
    env = {**os.environ, "NEWSTICKER_CONFIG": str(config), "LOAD_DATABASE_URL": url}
    ours, ours_url = serve("newsticker:create_app()", env, ROOT)
    minimal, minimal_url = serve("minimal_app:app", env, tmp)
    try:
        # (label, path, with the validator for a 304, Accept-Encoding as browsers and
        # calendar apps send it)
        pages: list[tuple[str, str, bool, bool]] = [
            ("/angebote", "/angebote", False, False),
            ("/angebote (gzip)", "/angebote", False, True),
            ("/angebote?seite=5", "/angebote?seite=5", False, False),
            (f"/angebote?q={RARE}", f"/angebote?q={urllib.parse.quote(RARE)}", False, False),
            ("/feeds/angebote.ics", "/feeds/angebote.ics", False, False),
            ("/feeds/angebote.ics (gzip)", "/feeds/angebote.ics", False, True),
            ("/feeds/angebote.ics (304)", "/feeds/angebote.ics", True, False),
            ("/feeds/angebote.atom", "/feeds/angebote.atom", False, False),
            ("/feeds/angebote.atom (gzip)", "/feeds/angebote.atom", False, True),
            ("/feeds/angebote.atom (304)", "/feeds/angebote.atom", True, False),
            ("/angebote/<id>", f"/angebote/{item_id}", False, False),
        ]
        if issue is not None:
            pages.append(
                ("/archiv/<publication>/<n>", f"/archiv/{issue[0]}/{issue[1]}", False, False)
            )
        for _ in range(3):
            get(minimal_url + "/")
        print(
            f"\n  {'page':34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'minimal':>8} {'share':>7}"
        )
        for label, path, conditional, packed in pages:
            headers: dict[str, str] = {"Accept-Encoding": "gzip"} if packed else {}
            for _ in range(4):  # both workers warm (caches filled)
                status, answer = get(ours_url + path, dict(headers))
            if packed and answer.get("Content-Encoding") != "gzip":
                print(f"  {label:34} not compressed: skipped")
                continue
            if conditional:
                etag = answer.get("ETag")
                if not etag:
                    print(f"  {label:34} no ETag: skipped")
                    continue
                headers["If-None-Match"] = etag
                status, _answer = get(ours_url + path, headers)
            base = wrk(
                minimal_url + "/",
                duration=args.duration,
                connections=args.connections,
                headers={},
            )
            found = wrk(
                ours_url + path,
                duration=args.duration,
                connections=args.connections,
                headers=headers,
            )
            share = found["rps"] / base["rps"] * 100
            note = f"  ({found['bad']} errors)" if found["bad"] else ""
            print(
                f"  {label:34} {found['rps']:8.0f} {found['p50']:8.1f} {found['p99']:8.1f} "
                f"{base['rps']:8.0f} {share:6.1f}%  [{status}]{note}"
            )
    finally:
        stop(ours)
        stop(minimal)


def single_requests(app: Any, repeat: int) -> None:
    """Print medians of single requests in this process, and a cold iCal build.

    Each request renders its page: the worker's store of rendered pages is emptied
    before it (the store's own figure is the last column).
    """
    client = app.test_client()
    store = app.extensions["newsticker_rendered_pages"]
    cases = [
        ("list, first page", "/angebote"),
        ("list, page 5", "/angebote?seite=5"),
        (f"keyword search ({RARE})", f"/angebote?q={RARE}"),
        (f"keyword search ({STEADY}, {STEADY_MATCHES} items)", f"/angebote?q={STEADY}"),
    ]
    for name, path in cases:
        for _ in range(3):
            assert client.get(path).status_code == 200
        rendered, stored = [], []
        for _ in range(repeat):
            store.clear()
            started = time.perf_counter()
            assert client.get(path).status_code == 200
            rendered.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            assert client.get(path).status_code == 200
            stored.append((time.perf_counter() - started) * 1000)
        print(
            f"  single request, {name:44} median {statistics.median(rendered):6.1f} ms"
            f"  (from the store {statistics.median(stored):5.1f} ms)"
        )
    from newsticker.items import views

    for name in ("_CALENDAR_CACHE", "_FEED_CACHE"):
        getattr(views, name, {}).clear()
    store.clear()
    started = time.perf_counter()
    response = client.get("/feeds/angebote.ics")
    elapsed = time.perf_counter() - started
    print(
        f"  cold full iCal feed: {elapsed * 1000:.0f} ms, {len(response.data) / 1e6:.1f} MB "
        f"[{response.status_code}]"
    )


def main() -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=30, help="single requests per page")
    parser.add_argument(
        "--single-sizes", default="1000", help="more sizes for single requests, e.g. 1000,100000"
    )
    parser.add_argument("--no-wrk", action="store_true", help="single requests only")
    args = parser.parse_args()
    if not args.no_wrk and shutil.which("wrk") is None:
        parser.error("wrk is not installed (Debian: apt install wrk)")
    database = "PostgreSQL" if args.database_url else "SQLite"
    load = os.getloadavg()
    print(f"{database}, load average {load[0]:.1f} {load[1]:.1f}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        sizes = [args.items] + [int(s) for s in args.single_sizes.split(",") if s]
        for size in dict.fromkeys(sizes):
            print(f"\n{database}, {size} items:")
            url = fresh_database(args.database_url, tmp, f"load{size}")
            config = write_config(tmp, url)
            app = seed(url, config, size)
            if size == args.items and not args.no_wrk:
                load_table(app, url, tmp, config, args)
            single_requests(app, args.repeat)
            app.extensions["newsticker_db"].engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
