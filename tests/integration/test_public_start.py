"""The start page: next events (a series once), notices, latest issues, subscribing, feeds."""

from __future__ import annotations

import re
from datetime import timedelta

from newsticker.config import get_settings
from newsticker.core.site import site_links
from newsticker.issues import services as issue_services
from newsticker.items.recurrence import Recurrence
from tests.factories import local, make_issue, make_item, today


def _send(db, issue):
    now = issue_services.current_time()
    issue_services.schedule_issue(
        db,
        issue,
        send_at=now + timedelta(minutes=5),
        now=now,
        max_html_bytes=get_settings().delivery.max_html_bytes,
        links=site_links(),
        version=issue.version,
        user_id=None,
    )
    issue_services.start_sending(db, issue, now=now, links=site_links())
    issue_services.mark_sent(db, issue, now=now)
    db.flush()


def test_next_events_show_a_weekly_series_once(client, db):
    day = today() + timedelta(days=1)
    make_item(
        db,
        title="Sprachcafé",
        starts_at=local(day, 16),
        ends_at=local(day, 18),
        rule=Recurrence(freq="weekly", count=20),
    )
    for n in range(6):
        make_item(
            db,
            title=f"Einzeltermin {n}",
            starts_at=local(day + timedelta(days=2 + n), 10),
            ends_at=local(day + timedelta(days=2 + n), 12),
        )
    html = client.get("/").get_data(as_text=True)
    assert html.count("Sprachcafé") == 1
    # Five events in all: the series once and the next four single dates, in date order.
    assert [f"Einzeltermin {n}" in html for n in range(6)] == [True] * 4 + [False] * 2
    assert html.index("Sprachcafé") < html.index("Einzeltermin 0") < html.index("Einzeltermin 3")


def test_past_and_unapproved_events_stay_off(client, db):
    from newsticker.items.models import ItemStatus

    make_item(db, title="Noch nicht freigegeben", status=ItemStatus.SUBMITTED)
    yesterday = today() - timedelta(days=1)
    make_item(db, title="Schon vorbei", starts_at=local(yesterday, 9), ends_at=local(yesterday, 10))
    html = client.get("/").get_data(as_text=True)
    assert "Noch nicht freigegeben" not in html and "Schon vorbei" not in html
    assert "Zurzeit gibt es keine kommenden Termine." in html


def test_latest_issue_of_each_publication(client, db):
    first = make_issue(db, items=[make_item(db)], subject="Newsticker Nr. 1")
    _send(db, first)
    second = make_issue(db, items=[make_item(db)], number=2, subject="Newsticker Nr. 2")
    _send(db, second)
    make_issue(db, items=[make_item(db)], number=3, subject="Entwurf, noch geheim")
    html = client.get("/").get_data(as_text=True)
    assert "Newsticker Nr. 2" in html and 'href="/archiv/ticker/2"' in html
    assert "Newsticker Nr. 1" not in html and "Entwurf, noch geheim" not in html
    # The quarterly newsletter has sent nothing yet, and says so.
    assert "Integration in Flensburg" in html


def test_subscribe_form_on_the_start_page_signs_up(client, db, app):
    html = client.get("/").get_data(as_text=True)
    assert 'action="/abonnieren"' in html
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    started = re.search(r'name="started" type="hidden" value="([^"]+)"', html)
    assert csrf and started
    response = client.post(
        "/abonnieren",
        data={
            "csrf_token": csrf.group(1),
            "started": started.group(1),
            "email": "leserin@example.org",
            "publications": ["ticker"],
            "language": "de",
        },
    )
    assert response.status_code == 303


def test_feeds_announced_and_listed(client):
    html = client.get("/").get_data(as_text=True)
    head = html[: html.index("</head>")]
    assert 'rel="alternate" type="application/atom+xml"' in head
    assert 'href="http://localhost/feeds/angebote.atom"' in head
    assert 'href="http://localhost/feeds/angebote.ics"' in head
    assert 'href="http://localhost/feeds/archiv/ticker.atom"' in head
    assert 'href="http://localhost/feeds/archiv/newsletter.atom"' in head
    body = html[html.index("<body") :]
    assert 'href="http://localhost/feeds/archiv/newsletter.atom"' in body


def test_archived_issue_page_announces_its_feed(client, db):
    issue = make_issue(db, items=[make_item(db)], subject="Newsticker Nr. 1")
    _send(db, issue)
    html = client.get("/archiv/ticker/1").get_data(as_text=True)
    head = html[: html.index("</head>")]
    assert re.search(
        r'<link rel="alternate" type="application/atom\+xml" title="[^"]+" '
        r'href="http://localhost/feeds/archiv/ticker.atom">',
        head,
    )
    assert "newsletter.atom" not in head


def test_publication_descriptions_follow_the_readers_language(client):
    html = client.get("/archiv").get_data(as_text=True)
    assert "Jede Woche: Veranstaltungen, Angebote und Aufrufe zum Mitmachen." in html
    client.set_cookie("newsticker_lang", "en")
    for path in ("/", "/archiv", "/abonnieren"):
        html = client.get(path).get_data(as_text=True)
        assert "Every week: events, offers and calls to take part." in html, path
        assert "Jede Woche" not in html, path
