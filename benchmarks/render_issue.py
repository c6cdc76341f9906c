"""Benchmark: render and inline an issue of 50 items once, then fill it per recipient.

    .venv/bin/python benchmarks/render_issue.py [--items 50] [--runs 7] [--recipients 20000]

Prints the median time of `render_issue` (Jinja + premailer, once per issue and language)
and the cost of `PreparedIssue.fill` per recipient in microseconds. Nothing is stored: the
issue and its items live in memory, so no database is needed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from newsticker import create_app
from newsticker.config import load_settings
from newsticker.issues.models import Issue, IssueEntry, KeyFigure
from newsticker.issues.rendering import render_issue
from newsticker.items.models import Item
from newsticker.items.recurrence import Recurrence

TZ = ZoneInfo("Europe/Berlin")
KINDS = ("event", "event", "event", "announcement", "call")
SECTIONS = {"event": "events", "announcement": "announcements", "call": "calls"}


def build_issue(count: int) -> Issue:
    """Return an issue with `count` entries of realistic length, some recurring, some Arabic."""
    start = datetime(2030, 3, 14, 10, tzinfo=TZ)
    issue = Issue(
        id=1,
        publication="ticker",
        number=42,
        subject="Newsticker Nr. 42",
        preheader="Was diese Woche in Flensburg los ist",
        editorial="Liebe Engagierte,\n\ndiese Woche mit **vielen Terminen** und [Aufrufen](https://example.org).",
        status="draft",
        window_start=start,
        created_at=start,
    )
    positions: dict[str, int] = {}
    for n in range(count):
        kind = KINDS[n % len(KINDS)]
        arabic = n % 7 == 3
        day = start + timedelta(days=n % 14, hours=6)
        item = Item(
            id=1000 + n,
            kind=kind,
            status="approved",
            title=f"فعالية رقم {n} في فلنسبورغ"
            if arabic
            else f"Veranstaltung Nummer {n} im Stadtteil",
            summary="Gemeinsam kochen, reden und Nachbarn kennenlernen – für alle, ohne Anmeldung. "
            * 2,
            field_of_action="encounter",
            event_languages=["de", "ar"] if arabic else ["de"],
            content_language="ar" if arabic else "de",
            starts_at=day if kind == "event" else None,
            ends_at=day + timedelta(hours=2) if kind == "event" else None,
            recurrence=Recurrence(freq="weekly", until=datetime(2030, 12, 31).date()).to_dict()
            if kind == "event" and n % 5 == 0
            else None,
            place_name="Stadtteilhaus Neustadt" if kind == "event" else "",
            place_address="Neustadt 16, 24939 Flensburg" if kind == "event" else "",
            organiser="Nachbarschaftsverein Neustadt e. V.",
            accessibility_note="Stufenloser Zugang." if n % 2 else "",
            link="https://example.org/termin" if n % 3 == 0 else "",
        )
        section = SECTIONS[kind]
        issue.entries.append(
            IssueEntry(section=section, position=positions.get(section, 0), item=item)
        )
        positions[section] = positions.get(section, 0) + 1
    for n in range(4):
        issue.figures.append(
            KeyFigure(position=n, label=f"Kennzahl {n}", value=str(100 * (n + 1)), unit="Personen")
        )
    return issue


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--recipients", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text("", encoding="utf-8")
        settings = load_settings(
            config,
            overrides={
                "site.secret_key": "benchmark",
                "site.instance_path": tmp,
                "database.url": f"sqlite:///{tmp}/unused.db",
            },
            environ={},
        )
        app = create_app(settings)
        with app.app_context():
            issue = build_issue(args.items)
            render_issue(issue, "de")  # warm up: template compilation, imports
            times = []
            for _ in range(args.runs):
                began = time.perf_counter()
                prepared = render_issue(issue, "de")
                times.append(time.perf_counter() - began)
            values = [
                {
                    "greeting": prepared.greeting_for(f"Person {n}"),
                    "unsubscribe_url": f"https://newsticker.example/abmelden/{n:08d}" + "x" * 120,
                    "preferences_url": f"https://newsticker.example/einstellungen/{n:08d}"
                    + "x" * 120,
                }
                for n in range(1000)
            ]
            began = time.perf_counter()
            for n in range(args.recipients):
                prepared.fill(values[n % 1000])
            fill_us = (time.perf_counter() - began) / args.recipients * 1e6
    print(f"issue: {args.items} items, HTML {prepared.html_bytes / 1024:.1f} KB per recipient")
    print(
        f"render + inline once: median {statistics.median(times) * 1000:.0f} ms "
        f"(min {min(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms, {args.runs} runs)"
    )
    print(f"fill per recipient:   {fill_us:.1f} µs (html + text, {args.recipients} recipients)")
    print(f"at that rate: {1e6 / fill_us:,.0f} recipients per second and core")


if __name__ == "__main__":
    main()
