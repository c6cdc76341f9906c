"""Subscribers through the API: list, add with a consent note, export and erase."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from newsticker.core.audit import AuditEvent
from subscribers.models import ConsentEvent, Subscriber
from tests.factories import bearer, make_subscriber, make_token, make_user

PROBLEM = "application/problem+json"


def problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.data[:800]
    assert response.mimetype == PROBLEM
    return response.get_json(force=True)


def headers_for(db, role: str = "editor", scopes: list[str] | None = None) -> dict[str, str]:
    user = make_user(db, f"{role}@example.org", role=role)
    return bearer(make_token(db, user, scopes or ["subscribers"]), "en")


def test_list_and_search(client, db) -> None:
    headers = headers_for(db)
    make_subscriber(db, "anna@example.org", name="Anna")
    make_subscriber(db, "ben@example.org", publications=("newsletter",))
    body = client.get("/api/v1/subscribers", headers=headers).get_json()
    assert body["total"] == 2
    body = client.get("/api/v1/subscribers?q=anna", headers=headers).get_json()
    assert [s["email"] for s in body["subscribers"]] == ["anna@example.org"]
    assert body["subscribers"][0]["subscriptions"][0]["status"] == "confirmed"
    problem(client.get("/api/v1/subscribers?status=happy", headers=headers), 422)
    problem(client.get("/api/v1/subscribers", headers=headers_for(db, "admin", ["read"])), 403)


def test_add_with_a_consent_note_is_logged(client, db) -> None:
    headers = headers_for(db)
    response = client.post(
        "/api/v1/subscribers",
        json={
            "email": "neu@example.org",
            "publications": ["ticker"],
            "consent_note": "Liste am Infostand, Fest der Kulturen, 12.06.2027",
        },
        headers=headers,
    )
    assert response.status_code == 201, response.data
    db.expire_all()
    subscriber = db.scalars(select(Subscriber).where(Subscriber.email == "neu@example.org")).one()
    notes = db.scalars(
        select(ConsentEvent).where(ConsentEvent.subscriber_id == subscriber.id)
    ).all()
    assert any("Infostand" in n.note and "api token" in n.actor for n in notes)
    assert db.scalars(select(AuditEvent).where(AuditEvent.action == "api.subscriber.added")).one()


def test_add_refuses_what_the_editors_form_refuses(client, db) -> None:
    headers = headers_for(db)
    body = problem(
        client.post(
            "/api/v1/subscribers",
            json={"email": "x@example.org", "publications": ["ticker"]},
            headers=headers,
        ),
        422,
    )
    assert body["errors"]["consent_note"] == ["Please say how and when the person consented."]
    body = problem(
        client.post(
            "/api/v1/subscribers",
            json={"email": "kaputt", "publications": [], "consent_note": "ganz sicher zugestimmt"},
            headers=headers,
        ),
        422,
    )
    assert {"email", "publications"} <= set(body["errors"])
    make_subscriber(db, "da@example.org")
    body = problem(
        client.post(
            "/api/v1/subscribers",
            json={
                "email": "da@example.org",
                "publications": ["ticker"],
                "consent_note": "ganz sicher zugestimmt",
            },
            headers=headers,
        ),
        422,
    )
    assert "email" in body["errors"]


def test_export_and_erase_need_an_administrator(client, db) -> None:
    person_id = make_subscriber(db, "weg@example.org").id
    editor = headers_for(db)
    problem(client.get("/api/v1/subscribers/export?publication=ticker", headers=editor), 403)
    problem(client.delete(f"/api/v1/subscribers/{person_id}", headers=editor), 403)
    admin = headers_for(db, "admin")
    response = client.get("/api/v1/subscribers/export?publication=ticker", headers=admin)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "weg@example.org" in response.get_data(as_text=True)
    problem(client.get("/api/v1/subscribers/export?publication=nope", headers=admin), 404)
    problem(client.get("/api/v1/subscribers/export", headers=admin), 422)
    assert client.delete(f"/api/v1/subscribers/{person_id}", headers=admin).status_code == 204
    db.expire_all()
    assert db.get(Subscriber, person_id) is None
    problem(client.delete(f"/api/v1/subscribers/{person_id}", headers=admin), 404)
    actions = set(
        db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("api.subscriber%")))
    )
    assert actions == {"api.subscribers.exported", "api.subscriber.erased"}


def test_import_checks_then_imports_a_list(client, db) -> None:
    headers = headers_for(db)
    data = {
        "publication": "ticker",
        "consent_note": "Unterschriftenliste Fest der Kulturen 2027",
        "csv": "email;name\neins@example.org;Eins\nkaputt;Zwei\nzwei@example.org;\n",
    }
    dry = client.post("/api/v1/subscribers/import", json={**data, "dry_run": True}, headers=headers)
    assert dry.status_code == 200, dry.data
    assert dry.get_json()["imported"] == 2
    assert dry.get_json()["rejected"] == 1
    db.expire_all()
    assert db.scalars(select(Subscriber)).all() == []
    done = client.post("/api/v1/subscribers/import", json=data, headers=headers).get_json()
    assert done["imported"] == 2
    assert done["problems"][0]["row"] == 3
    db.expire_all()
    assert sorted(s.email for s in db.scalars(select(Subscriber))) == [
        "eins@example.org",
        "zwei@example.org",
    ]
    assert db.scalars(
        select(AuditEvent).where(AuditEvent.action == "api.subscribers.imported")
    ).one()


def test_import_refuses_what_the_import_form_refuses(client, db) -> None:
    headers = headers_for(db)
    body = problem(
        client.post("/api/v1/subscribers/import", json={"csv": "a@example.org"}, headers=headers),
        422,
    )
    assert body["errors"]["consent_note"] == ["Please say how the people on this list consented."]
    assert "publication" in body["errors"]
    body = problem(
        client.post(
            "/api/v1/subscribers/import",
            json={"publication": "ticker", "consent_note": "Liste vom Infostand 2027", "csv": ""},
            headers=headers,
        ),
        422,
    )
    assert "csv" in body["errors"]
    problem(client.post("/api/v1/subscribers/import", json={"csv": 5}, headers=headers), 422)
    db.expire_all()
    assert db.scalars(select(Subscriber)).all() == []
