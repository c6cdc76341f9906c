"""Golden tests: the rendered HTML and text of two fixed issues, byte for byte.

A change to the mail templates shows up here as a diff to review. After an intended
change, rewrite the files with `UPDATE_GOLDEN=1 pytest tests/integration/test_issues_golden.py`
and read the diff before committing it.
"""

from __future__ import annotations

import difflib
import os
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from newsticker.issues.models import Issue, IssueEntry, KeyFigure
from newsticker.issues.rendering import render_issue
from newsticker.items.models import Item
from newsticker.items.recurrence import Recurrence

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
TZ = ZoneInfo("Europe/Berlin")
VALUES = {
    "greeting": "Hallo Amira,",
    "unsubscribe_url": "http://localhost/abmelden/TOKEN",
    "preferences_url": "http://localhost/einstellungen/TOKEN",
}


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def item(db, item_id: int, **values) -> Item:
    data = {
        "id": item_id,
        "kind": "event",
        "status": "approved",
        "title": "Interkulturelles Frühstück",
        "summary": "Gemeinsam frühstücken und Nachbarn kennenlernen.",
        "field_of_action": "encounter",
        "tags": [],
        "event_languages": ["de"],
        "content_language": "de",
        "organiser": "Nachbarschaftsverein Neustadt",
        "submitter_email": "verein@example.org",
    }
    data.update(values)
    row = Item(**data)
    db.add(row)
    db.flush()
    return row


def ticker(db) -> Issue:
    cafe_rule = Recurrence(freq="weekly", until=date(2030, 12, 31))
    items = [
        item(
            db,
            90001,
            title="Sprachcafé in der Stadtbibliothek",
            summary="Deutsch sprechen üben bei Kaffee und Tee – ohne Anmeldung.",
            starts_at=at(date(2030, 3, 6), 16),
            ends_at=at(date(2030, 3, 6), 18),
            recurrence=cafe_rule.to_dict(),
            place_name="Stadtbibliothek",
            place_address="Süderhofenden 40–42, 24937 Flensburg",
            accessibility_note="Aufzug vorhanden.",
            image_file="abcdefghijklmnopqrstuv.jpg",
            image_alt="Menschen an Tischen mit Kaffeetassen",
        ),
        item(
            db,
            90002,
            title="معلومات صحية: نظام الرعاية الصحية في ألمانيا",
            summary="جلسة معلومات باللغة العربية حول التأمين الصحي.",
            content_language="ar",
            event_languages=["ar"],
            starts_at=at(date(2030, 3, 19), 17),
            ends_at=at(date(2030, 3, 19), 19),
            place_name="Migrationsberatung",
            link="https://mimi.example.org/",
        ),
        item(
            db,
            90003,
            kind="announcement",
            title="Neue Sprechzeiten & mehr <Beratung>",
            summary="Donnerstags von 14 bis 18 Uhr – ohne Termin.",
            visible_until=date(2030, 5, 1),
        ),
        item(
            db,
            90004,
            kind="call",
            title="Lesepatinnen gesucht",
            summary="Eine Stunde pro Woche vorlesen.",
            visible_until=date(2030, 5, 1),
        ),
    ]
    issue = Issue(
        id=90001,
        publication="ticker",
        number=7,
        subject="Newsticker Nr. 7: Sprachcafé & MiMi",
        preheader="Was diese Woche in Flensburg los ist",
        editorial="Liebe Engagierte,\n\ndiese Woche mit **zwei Terminen** und [einem Aufruf](https://example.org/aufruf).",
        status="draft",
        window_start=at(date(2030, 3, 14), 10),
        created_at=at(date(2030, 3, 11), 8),
    )
    issue.entries = [
        IssueEntry(
            section="events", position=0, item=items[0], occurrence_start=at(date(2030, 3, 20), 16)
        ),
        IssueEntry(section="events", position=1, item=items[1]),
        IssueEntry(section="announcements", position=0, item=items[2]),
        IssueEntry(section="calls", position=0, item=items[3]),
    ]
    db.add(issue)
    db.flush()
    return issue


def newsletter(db) -> Issue:
    event = item(
        db,
        90011,
        title="Runder Tisch Integration",
        starts_at=at(date(2030, 4, 9), 18, 30),
        ends_at=at(date(2030, 4, 9), 20, 30),
        place_name="Rathaus, Ratssaal",
    )
    issue = Issue(
        id=90002,
        publication="newsletter",
        number=12,
        subject="Integration in Flensburg – 1. Quartal 2030",
        preheader="Zahlen, Daten, Fakten",
        editorial="Liebe Leserinnen und Leser,\n\nhier ist die Quartalsausgabe.",
        status="draft",
        window_start=at(date(2030, 3, 28), 10),
        created_at=at(date(2030, 3, 20), 8),
    )
    issue.entries = [
        IssueEntry(
            section="articles",
            position=0,
            title="Fünf Jahre Integrationskonzept",
            body="Wir ziehen Bilanz:\n\n- mehr Sprachangebote\n- eine offene Sprechstunde",
            link="https://example.org/konzept",
            language="de",
        ),
        IssueEntry(section="events", position=0, item=event),
    ]
    issue.figures = [
        KeyFigure(
            position=0,
            label="Teilnehmende an Integrationskursen",
            value="1234",
            unit="Personen",
            period="2029",
            source="BAMF",
        ),
        KeyFigure(
            position=1,
            label="Ehrenamtliche",
            value="412",
            unit="Personen",
            period="2029",
            source="Ehrenamtsakademie",
        ),
        KeyFigure(
            position=2,
            label="Anteil mit Abschluss B1",
            value="62.5",
            unit="%",
            period="2029",
            source="BAMF",
        ),
        KeyFigure(
            position=3,
            label="Veränderung zum Vorjahr",
            value="-3",
            unit="%",
            period="2029",
            source="",
        ),
    ]
    db.add(issue)
    db.flush()
    return issue


def check(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"{path} is missing: run with UPDATE_GOLDEN=1 to create it")
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                fromfile=f"golden/{name}",
                tofile="rendered",
                n=2,
            )
        )
        pytest.fail(
            f"{name} differs from the golden file (UPDATE_GOLDEN=1 rewrites it):\n{diff[:6000]}"
        )


@pytest.mark.parametrize("language", ["de", "en"])
def test_ticker_golden(db, language):
    html, text = render_issue(ticker(db), language).fill(VALUES)
    check(f"issue_ticker.{language}.html", html)
    check(f"issue_ticker.{language}.txt", text)


def test_newsletter_golden(db):
    prepared = render_issue(newsletter(db), "de")
    html, text = prepared.fill(VALUES)
    check("issue_newsletter.de.html", html)
    check("issue_newsletter.de.txt", text)
    check("issue_newsletter.de.web.html", prepared.web_html())
