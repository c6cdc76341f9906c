"""The audit trail in the editor area: admins read, filter, page and export it; actions record."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from newsticker.core.audit import Actor, AuditEvent, record_event
from newsticker.core.db import utcnow
from newsticker.issues.models import IssueStatus
from newsticker.issues.services import cancel_issue, unschedule_issue
from subscribers.models import Subscriber
from tests.factories import DEFAULT_PASSWORD, make_issue, make_item, make_subscriber, make_user
from tests.factories.items import TZ

pytestmark = pytest.mark.usefixtures("no_csrf")

TRAIL = "/redaktion/protokoll"


def login_admin(client, db) -> None:
    make_user(db, "admin@example.org", role="admin")
    response = client.post(
        "/redaktion/login", data={"email": "admin@example.org", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302


def actions(db) -> list[str]:
    db.expire_all()
    return [e.action for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def seed(db) -> None:
    now = utcnow()
    record_event(
        db,
        "item.approved",
        actor=Actor("anna@example.org", user_id=5, ip="192.0.2.5"),
        now=now - timedelta(days=3),
        subject=("item", 1),
        summary="Sprachcafé",
    )
    record_event(
        db,
        "issue.scheduled",
        actor=Actor("ben@example.org", user_id=6, ip="192.0.2.6"),
        now=now - timedelta(days=1),
        subject=("issue", 2),
        summary='=HYPERLINK("http://evil")',
    )
    record_event(db, "delivery.started", actor=Actor.system("scheduler"), now=now)
    db.flush()


def test_the_trail_is_for_admins_only(client, db, editor):
    assert client.get(TRAIL).status_code == 403
    assert client.get(f"{TRAIL}.csv").status_code == 403


def test_admins_read_the_trail_newest_first(client, db):
    login_admin(client, db)
    seed(db)
    html = client.get(TRAIL).get_data(as_text=True)
    assert html.index("scheduler") < html.index("ben@example.org") < html.index("anna@example.org")
    assert "192.0.2.5" in html and "Einreichung freigegeben" in html
    assert "4 Einträge" in html  # the three above and the admin's own login


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ("actor=anna", ["anna@example.org"], ["ben@example.org"]),
        ("actor=6", ["ben@example.org"], ["anna@example.org"]),
        ("action=issue.scheduled", ["ben@example.org"], ["anna@example.org"]),
        ("action=item.", ["anna@example.org"], ["ben@example.org"]),
    ],
)
def test_filter_by_actor_and_action(client, db, query, shown, hidden):
    login_admin(client, db)
    seed(db)
    html = client.get(f"{TRAIL}?{query}").get_data(as_text=True)
    table = html[html.index('role="status"') :]
    assert all(name in table for name in shown)
    assert not any(name in table for name in hidden)


def test_filter_by_date_range(client, db):
    login_admin(client, db)
    seed(db)
    day = (utcnow() - timedelta(days=2)).astimezone(TZ).date().isoformat()
    html = client.get(f"{TRAIL}?date_from={day}").get_data(as_text=True)
    table = html[html.index('role="status"') :]
    assert "ben@example.org" in table and "anna@example.org" not in table
    html = client.get(f"{TRAIL}?date_to={day}").get_data(as_text=True)
    table = html[html.index('role="status"') :]
    assert "anna@example.org" in table and "ben@example.org" not in table


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("action=drop.table", "„drop.table“ ist keine der Auswahlmöglichkeiten."),
        ("date_from=morgen", "„morgen“ ist kein Datum."),
        ("date_from=2027-02-01&date_to=2027-01-01", "Das Ende des Zeitraums liegt vor seinem"),
        ("actor=" + "x" * 400, "Bitte verwenden Sie höchstens 320 Zeichen."),
    ],
)
def test_nonsense_filters_get_a_message(client, db, query, message):
    login_admin(client, db)
    seed(db)
    response = client.get(f"{TRAIL}?{query}")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    export = client.get(f"{TRAIL}.csv?{query}")
    assert export.status_code == 422 and export.mimetype == "text/html"
    assert "audit.exported" not in actions(db)


def test_the_trail_is_paged(client, db):
    login_admin(client, db)
    for n in range(55):
        record_event(db, "item.edited", actor=Actor.system(f"p{n:02d}"), now=utcnow())
    db.flush()
    first = client.get(TRAIL).get_data(as_text=True)
    assert 'rel="next"' in first and "p54" in first and "p04" not in first
    second = client.get(f"{TRAIL}?seite=2").get_data(as_text=True)
    assert "p04" in second and "p54" not in second and 'rel="prev"' in second


def test_csv_export_is_formula_safe_filtered_and_recorded(client, db):
    login_admin(client, db)
    seed(db)
    response = client.get(f"{TRAIL}.csv?action=issue.")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["Wann", "Aktion", "Wer"]
    assert len(rows) == 2
    assert rows[1][1:5] == ["issue.scheduled", "ben@example.org", "6", "192.0.2.6"]
    assert rows[1][7] == '\'=HYPERLINK("http://evil")'
    assert actions(db)[-1] == "audit.exported"


# ---------------------------------------------------------------- what records


def test_issue_state_changes_record(db):
    issue = make_issue(db, status=IssueStatus.SCHEDULED, scheduled_at=utcnow() + timedelta(1))
    ben = make_user(db, "ben@example.org")
    who = Actor("ben@example.org", user_id=ben.id, ip="192.0.2.6")
    unschedule_issue(db, issue, version=None, user_id=ben.id, now=utcnow(), actor=who)
    cancel_issue(db, issue, version=None, user_id=ben.id, now=utcnow(), actor=who)
    db.flush()
    events = db.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.action, e.actor, e.ip, e.subject_id) for e in events] == [
        ("issue.unscheduled", "ben@example.org", "192.0.2.6", str(issue.id)),
        ("issue.cancelled", "ben@example.org", "192.0.2.6", str(issue.id)),
    ]


def test_an_editors_edit_records(client, db, editor):
    from tests.factories import event_form
    from tests.factories import post_multipart as post_to

    item = make_item(db, status="submitted", title="Sprachcafe")
    data = event_form(title="Sprachcafé", version=str(item.version))
    response = post_to(client, f"/redaktion/einreichungen/{item.id}/bearbeiten", data)
    assert response.status_code == 303
    (event,) = db.scalars(select(AuditEvent).where(AuditEvent.action == "item.edited")).all()
    assert event.actor == "redaktion@example.org" and "title" in event.details["fields"]


def test_export_and_erase_of_subscribers_record(client, db):
    login_admin(client, db)
    person = make_subscriber(db, "leser@example.org")
    person_id = person.id
    response = client.get("/redaktion/abonnenten/export.csv?publication=ticker")
    assert response.status_code == 200
    response = client.post(f"/redaktion/abonnenten/{person_id}/loeschen", data={"sure": "y"})
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    db.expire_all()
    assert db.get(Subscriber, person_id) is None
    events = {
        e.action: e
        for e in db.scalars(select(AuditEvent).where(AuditEvent.action.startswith("subscriber.")))
    }
    assert events["subscriber.exported"].actor == "admin@example.org"
    assert events["subscriber.exported"].details["rows"] == 1
    erased = events["subscriber.erased"]
    assert erased.subject_id == str(person_id) and erased.actor == "admin@example.org"
    assert "leser@example.org" not in f"{erased.summary} {erased.details}"


def test_an_issue_edit_records_what_changed(db):
    from newsticker.issues.services import update_issue

    issue = make_issue(db, subject="Alt")
    who = Actor("ben@example.org", ip="192.0.2.6")
    update_issue(
        db,
        issue,
        subject="Neu",
        preheader="",
        editorial="",
        version=None,
        user_id=None,
        now=utcnow(),
        actor=who,
    )
    update_issue(
        db,
        issue,
        subject="Neu",
        preheader="",
        editorial="",
        version=None,
        user_id=None,
        now=utcnow(),
        actor=who,
    )
    db.flush()
    (event,) = db.scalars(select(AuditEvent).where(AuditEvent.action == "issue.edited")).all()
    assert event.details == {"fields": ["subject"]} and event.actor == "ben@example.org"
