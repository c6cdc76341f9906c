"""iCal and Atom feeds: RRULE kept, EXDATE for exceptions, time zone, per field of action."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta

from dateutil.rrule import rrulestr
from icalendar import Calendar

from newsticker.items.recurrence import Recurrence
from tests.factories import TZ, local, make_item, today

ATOM = "{http://www.w3.org/2005/Atom}"


def parse(response) -> Calendar:
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    return Calendar.from_ical(response.data)


def test_ical_feed_keeps_the_round_table_rule(client, db):
    rule = Recurrence(
        freq="monthly",
        nth=2,
        weekday=1,
        months=(2, 4, 6, 9, 11, 12),
        until=date(2027, 12, 31),
        exceptions=(date(2027, 6, 8),),
    )
    item = make_item(
        db,
        title="Runder Tisch Integration",
        starts_at=datetime(2027, 2, 9, 18, 30, tzinfo=TZ),
        ends_at=datetime(2027, 2, 9, 20, 30, tzinfo=TZ),
        rule=rule,
        place_name="Rathaus",
        place_address="Rathausplatz 1",
    )
    raw = client.get("/feeds/angebote.ics")
    cal = parse(raw)
    text = raw.get_data(as_text=True)
    assert "BEGIN:VTIMEZONE" in text and "TZID:Europe/Berlin" in text
    assert "DTSTART;TZID=Europe/Berlin:20270209T183000" in text
    assert "RRULE:FREQ=MONTHLY;UNTIL=20271231T225959Z;BYDAY=2TU;BYMONTH=2,4,6,9,11,12" in text
    assert "EXDATE;TZID=Europe/Berlin:20270608T183000" in text
    (event,) = [c for c in cal.walk("VEVENT") if str(c["UID"]).startswith(f"item-{item.id}@")]
    assert str(event["SUMMARY"]) == "Runder Tisch Integration"
    assert str(event["LOCATION"]) == "Rathaus, Rathausplatz 1"
    assert str(event["URL"]) == f"http://localhost/angebote/{item.id}"
    # What a calendar app computes from DTSTART + RRULE - EXDATE.
    start = event.decoded("DTSTART")
    dates = [
        d
        for d in rrulestr(event["RRULE"].to_ical().decode(), dtstart=start)
        if d not in [x.dt for x in event["EXDATE"].dts]
    ]
    assert [(d.month, d.day, d.hour, d.minute) for d in dates] == [
        (2, 9, 18, 30),
        (4, 13, 18, 30),
        (9, 14, 18, 30),
        (11, 9, 18, 30),
        (12, 14, 18, 30),
    ]


def test_item_ics_download(client, db):
    item = make_item(db, title="Fest")
    response = client.get(f"/angebote/{item.id}.ics")
    cal = parse(response)
    assert "attachment" in response.headers["Content-Disposition"]
    (event,) = cal.walk("VEVENT")
    assert event.decoded("DTSTART") == item.starts_at.astimezone(TZ)
    assert event.decoded("DTEND") == item.ends_at.astimezone(TZ)


def test_all_day_event_in_ical(client, db):
    day = today() + timedelta(days=5)
    item = make_item(db, all_day=True, starts_at=local(day), ends_at=local(day + timedelta(days=2)))
    cal = parse(client.get(f"/angebote/{item.id}.ics"))
    (event,) = cal.walk("VEVENT")
    assert event.decoded("DTSTART") == day
    assert event.decoded("DTEND") == day + timedelta(days=2)


def test_ical_feed_per_field_of_action(client, db):
    make_item(db, title="Gesundheitstag", field_of_action="health")
    make_item(db, title="Jobmesse", field_of_action="work")
    make_item(db, title="Noch nicht geprüft", field_of_action="health", status="submitted")
    text = client.get("/feeds/angebote/health.ics").get_data(as_text=True)
    assert "Gesundheitstag" in text
    assert "Jobmesse" not in text and "Noch nicht geprüft" not in text
    assert client.get("/feeds/angebote/nonsense.ics").status_code == 404
    missing = client.get("/feeds/angebote/nonsense.ics", headers={"If-None-Match": "*"})
    assert missing.status_code == 404


def test_atom_feed(client, db):
    make_item(db, title="Fest der Kulturen", description="Mit **Musik**.")
    make_item(db, title="Geheim", status="submitted")
    response = client.get("/feeds/angebote.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)  # noqa: S314 - our own feed, in a test
    titles = [e.findtext(f"{ATOM}title") for e in root.findall(f"{ATOM}entry")]
    assert titles == ["Fest der Kulturen"]
    entry = root.find(f"{ATOM}entry")
    # The stored plain text of the description, never Markdown.
    assert entry.findtext(f"{ATOM}content").endswith("<p>Mit Musik.</p>")
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links["self"] == "http://localhost/feeds/angebote.atom"


def test_atom_entries_carry_the_language_of_their_content(client, db):
    make_item(db, title="أمسية ثقافية", content_language="ar")
    make_item(db, title="Fest", content_language="de")
    root = ET.fromstring(client.get("/feeds/angebote.atom").data)  # noqa: S314 - our own feed
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    found = {e.findtext(f"{ATOM}title"): e.get(lang) for e in root.findall(f"{ATOM}entry")}
    assert found == {"أمسية ثقافية": "ar", "Fest": "de"}
    arabic = next(e for e in root.findall(f"{ATOM}entry") if e.get(lang) == "ar")
    assert {c.get(lang) for c in arabic.findall(f"{ATOM}category")} == {"de"}


def test_ical_feed_is_cached_until_an_event_changes(client, db):
    item = make_item(db, title="Erste Fassung")
    first = client.get("/feeds/angebote.ics")
    assert "Erste Fassung" in first.get_data(as_text=True)
    again = client.get("/feeds/angebote.ics", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    item.title = "Zweite Fassung"
    db.flush()
    changed = client.get("/feeds/angebote.ics")
    assert changed.status_code == 200
    assert "Zweite Fassung" in changed.get_data(as_text=True)
