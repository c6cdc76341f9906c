"""The dashboard: what waits, the next issues, the last send, returns and growth, each linked."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from newsticker.core.db import utcnow
from newsticker.delivery.models import DeliveryReport, SendState
from newsticker.editor.services import growth_chart
from newsticker.issues.models import IssueStatus
from subscribers.models import BounceEvent, BounceKind, ConsentAction, ConsentEvent
from subscribers.services import WeekGrowth
from tests.factories import make_issue, make_item, make_subscriber, today

pytestmark = pytest.mark.usefixtures("no_csrf")


def test_the_dashboard_needs_a_login(client, db):
    response = client.get("/redaktion/")
    assert response.status_code == 302 and "/redaktion/login" in response.headers["Location"]


def test_an_empty_site_says_nothing_waits(client, db, editor):
    html = client.get("/redaktion/").get_data(as_text=True)
    assert "Keine Einreichung wartet." in html
    assert "Bisher wurde noch keine Ausgabe versendet." in html
    assert "Keine offene Ausgabe: Entwurf anlegen" in html


def test_waiting_submissions_with_the_oldest_age(client, db, editor):
    oldest = make_item(db, title="Alt", status="submitted")
    make_item(db, title="Neu", status="submitted")
    make_item(db, title="Schon da", status="approved")
    oldest.created_at = utcnow() - timedelta(days=3, hours=5, minutes=10)
    db.flush()
    html = client.get("/redaktion/").get_data(as_text=True)
    assert "2 Einreichungen warten auf eine Entscheidung" in html
    assert "seit 3 Tagen und 5 Stunden" in html
    assert 'href="/redaktion/einreichungen"' in html


def test_next_issue_per_publication_with_its_audience(client, db, editor):
    for n in range(3):
        make_subscriber(db, f"leser{n}@example.org")
    make_subscriber(db, "weg@example.org", status="unsubscribed")
    when = utcnow() + timedelta(days=2)
    later = make_issue(db, number=8, status=IssueStatus.DRAFT)
    issue = make_issue(db, number=7, status=IssueStatus.SCHEDULED, scheduled_at=when)
    html = client.get("/redaktion/").get_data(as_text=True)
    row = re.search(r"<tr>\s*<th scope=\"row\">Newsticker Engagement.*?</tr>", html, re.S)
    assert row is not None, html
    assert f'href="/redaktion/ausgaben/{issue.id}"' in row.group(0)
    assert f'/redaktion/ausgaben/{later.id}"' not in row.group(0)
    assert "Geplant" in row.group(0)
    assert '<td class="num">3</td>' in row.group(0)


def test_the_last_send_with_what_came_back_since(client, db, editor):
    reader = make_subscriber(db, "leser@example.org")
    issue = make_issue(db, number=3, status=IssueStatus.SENT)
    started = utcnow() - timedelta(days=1)
    db.add(
        DeliveryReport(
            issue_id=issue.id,
            state=SendState.FINISHED,
            started_at=started,
            recipients=10,
            sent=9,
            failed=1,
        )
    )
    db.add(BounceEvent(subscriber_id=reader.id, kind=BounceKind.HARD, occurred_at=utcnow()))
    db.add(
        BounceEvent(
            subscriber_id=reader.id,
            kind=BounceKind.HARD,
            occurred_at=started - timedelta(days=2),
        )
    )
    db.add(BounceEvent(subscriber_id=reader.id, kind=BounceKind.COMPLAINT, occurred_at=utcnow()))
    db.add(
        ConsentEvent(
            subscriber_id=reader.id,
            publication="ticker",
            action=ConsentAction.WITHDRAWN,
            occurred_at=utcnow(),
        )
    )
    db.flush()
    html = client.get("/redaktion/").get_data(as_text=True)
    report = html[html.index('class="dash-report"') :]
    figures = re.findall(r"<dt>(.*?)</dt><dd>(\d+)</dd>", report)
    assert figures[:4] == [
        ("Versendet", "9"),
        ("Fehlgeschlagen", "1"),
        ("Unzustellbar seither", "1"),
        ("Abgemeldet seither", "1"),
    ]
    assert f'href="/redaktion/versand/{issue.id}"' in html
    # The last 30 days: both hard bounces, one complaint.
    assert "2 harte Unzustellbarkeiten" in html and "1 Beschwerde" in html


def test_the_growth_chart_has_labelled_axes_and_a_table(client, db, editor):
    make_subscriber(db, "neu@example.org")
    html = client.get("/redaktion/").get_data(as_text=True)
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert 'role="img"' in svg and "<title" in svg
    assert 'class="chart-axis"' in svg
    assert ">+1</text>" in svg and ">0</text>" in svg and ">−1</text>" in svg
    label = today().strftime("%d.%m.%y")
    monday = today() - timedelta(days=today().weekday())
    assert monday.strftime("%d.%m.%y") in svg or label in svg
    assert "Zahlen als Tabelle zeigen" in html


def test_the_chart_labels_every_other_week_and_the_latest():
    start = today() - timedelta(days=today().weekday())
    weeks = [WeekGrowth(start - timedelta(weeks=5 - i), i, 0) for i in range(6)]
    chart = growth_chart(weeks)
    assert [bar.labelled for bar in chart.bars] == [False, True, False, True, False, True]
    assert chart.peak == 5
    assert chart.bars[-1].up == chart.half and chart.bars[0].up == 0
    assert all(bar.x + chart.bar <= chart.width for bar in chart.bars)


def test_english_dashboard(client, db, editor):
    make_item(db, status="submitted")
    client.set_cookie("newsticker_lang", "en")
    html = client.get("/redaktion/").get_data(as_text=True)
    assert "1 submission waits for a decision" in html
