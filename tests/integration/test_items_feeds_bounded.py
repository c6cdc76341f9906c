"""Bounded, cheap feeds: a window and a maximum, stored plain text, one build per version."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from typing import Any

import pytest
from icalendar import Calendar

from newsticker.core import markup
from newsticker.items.recurrence import Recurrence
from tests.factories import local, make_item, today

ATOM = "{http://www.w3.org/2005/Atom}"
FEEDS = ("/feeds/angebote.ics", "/feeds/angebote/encounter.ics", "/feeds/angebote.atom")


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"feeds.past_days": 10, "feeds.future_days": 60, "feeds.max_entries": 4}


def summaries(response: Any) -> list[str]:
    assert response.status_code == 200
    return [str(e["SUMMARY"]) for e in Calendar.from_ical(response.data).walk("VEVENT")]


def test_the_ical_feed_keeps_to_its_window(client, db):
    day = today()
    make_item(db, title="Lange vorbei", starts_at=local(day - timedelta(days=12), 9), ends_at=None)
    make_item(db, title="Kürzlich", starts_at=local(day - timedelta(days=8), 9), ends_at=None)
    make_item(db, title="Bald", starts_at=local(day + timedelta(days=5), 9), ends_at=None)
    make_item(db, title="Zu fern", starts_at=local(day + timedelta(days=61), 9), ends_at=None)
    # A series that began long ago and goes on: one VEVENT, its rule as RRULE.
    make_item(
        db,
        title="Jeden Montag",
        starts_at=local(day - timedelta(days=200), 18),
        ends_at=local(day - timedelta(days=200), 20),
        rule=Recurrence(freq="weekly", count=60),
    )
    response = client.get("/feeds/angebote.ics")
    assert summaries(response) == ["Jeden Montag", "Kürzlich", "Bald"]
    assert response.get_data(as_text=True).count("RRULE:FREQ=WEEKLY;COUNT=60") == 1


def test_the_feeds_carry_at_most_max_entries_the_earliest_first(client, db):
    for n in range(6):
        day = today() + timedelta(days=n + 1)
        make_item(db, title=f"Termin {n}", starts_at=local(day, 9), ends_at=None)
    assert summaries(client.get("/feeds/angebote.ics")) == [f"Termin {n}" for n in range(4)]
    root = ET.fromstring(client.get("/feeds/angebote.atom").data)  # noqa: S314 - our own feed
    assert len(root.findall(f"{ATOM}entry")) == 4


class Exploding:
    """A Markdown parser that must not be asked."""

    def parse(self, *_: Any, **__: Any) -> Any:
        raise AssertionError("Markdown parsed while serving a feed")

    render = parse


def test_feeds_use_the_stored_plain_text(client, db, monkeypatch):
    make_item(db, title="Fest", description="Mit **Musik** und [Tanz](https://example.org).")
    monkeypatch.setattr(markup, "_md", Exploding())
    ical = client.get("/feeds/angebote.ics").get_data(as_text=True)
    assert "Mit Musik und Tanz (https://example.org)." in ical.replace("\r\n ", "")
    atom = client.get("/feeds/angebote.atom")
    assert atom.status_code == 200
    entry = ET.fromstring(atom.data).find(f"{ATOM}entry")  # noqa: S314 - our own feed
    assert "<p>Mit Musik und Tanz (https://example.org).</p>" in entry.findtext(f"{ATOM}content")


@pytest.mark.parametrize("path", FEEDS)
def test_a_repeat_with_validators_gets_304(client, db, path):
    make_item(db, title="Fest")
    first = client.get(path)
    assert first.status_code == 200 and "Set-Cookie" not in first.headers
    assert first.headers["ETag"].startswith('W/"') and first.headers["Last-Modified"]
    assert first.headers["Cache-Control"].startswith("public, max-age=")
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    since = client.get(path, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304
    assert client.get(path).get_data() == first.get_data()  # the kept build


@pytest.mark.parametrize("path", FEEDS)
@pytest.mark.usefixtures("no_csrf")
def test_approving_an_item_changes_the_feed(app, client, db, editor, path):
    make_item(db, title="Schon da")
    waiting = make_item(db, title="Neu freigegeben", status="submitted")
    public = app.test_client()
    first = public.get(path)
    assert "Neu freigegeben" not in first.get_data(as_text=True)
    approved = client.post(f"/redaktion/einreichungen/{waiting.id}/freigeben")
    assert approved.status_code == 303
    changed = public.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.headers["ETag"] != first.headers["ETag"]
    assert "Neu freigegeben" in changed.get_data(as_text=True)
