"""Issues and delivery through the API: drafting, editing, scheduling, test sends, progress."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from newsticker.core.audit import AuditEvent
from newsticker.core.mailqueue import QueuedMail
from newsticker.issues.models import Issue, IssueStatus
from tests.factories import bearer, create_editor, make_issue, make_item, make_token, today

PROBLEM = "application/problem+json"


def problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.data[:800]
    assert response.mimetype == PROBLEM
    return response.get_json(force=True)


def publisher(db, scopes: list[str] | None = None) -> dict[str, str]:
    user = create_editor(db)
    return bearer(make_token(db, user, scopes or ["read", "publish"]), "en")


def test_draft_edit_schedule_and_unschedule(client, db) -> None:
    headers = publisher(db)
    make_item(db, title="Stadtteilfest")
    response = client.post("/api/v1/issues", json={"publication": "ticker"}, headers=headers)
    assert response.status_code == 201, response.data
    issue = response.get_json()
    assert issue["status"] == "draft"
    assert any(e["item_id"] for e in issue["entries"])
    again = client.post("/api/v1/issues", json={"publication": "ticker"}, headers=headers)
    assert again.status_code == 200
    assert again.get_json()["id"] == issue["id"]

    url = f"/api/v1/issues/{issue['id']}"
    edited = client.patch(
        url,
        json={"subject": "Woche 50", "editorial": "Hallo", "version": issue["version"]},
        headers=headers,
    )
    assert edited.status_code == 200, edited.data
    assert edited.get_json()["subject"] == "Woche 50"
    stale = problem(
        client.patch(url, json={"subject": "Alt", "version": issue["version"]}, headers=headers),
        409,
    )
    assert "Someone else changed this issue" in stale["detail"]

    day = (today() + timedelta(days=3)).isoformat()
    scheduled = client.post(
        f"{url}/schedule", json={"send_date": day, "send_time": "10:00:00"}, headers=headers
    )
    assert scheduled.status_code == 200, scheduled.data
    assert scheduled.get_json()["status"] == "scheduled"
    problem(client.patch(url, json={"subject": "Zu spät"}, headers=headers), 409)
    back = client.post(f"{url}/unschedule", json={}, headers=headers)
    assert back.get_json()["status"] == "draft"
    db.expire_all()
    actions = set(
        db.scalars(select(AuditEvent.action).where(AuditEvent.action.like("api.issue.%")))
    )
    assert actions == {
        "api.issue.drafted",
        "api.issue.edited",
        "api.issue.scheduled",
        "api.issue.unscheduled",
    }


def test_schedule_refusals_carry_the_composers_messages(client, db) -> None:
    headers = publisher(db)
    issue = make_issue(db, items=[make_item(db)])
    url = f"/api/v1/issues/{issue.id}/schedule"
    past = (today() - timedelta(days=1)).isoformat()
    body = problem(
        client.post(url, json={"send_date": past, "send_time": "10:00"}, headers=headers), 422
    )
    assert body["errors"]["send_date"] == [
        "This time is in the past. Please choose a time in the future."
    ]
    body = problem(
        client.post(url, json={"send_date": "morgen", "send_time": "10:00"}, headers=headers), 422
    )
    assert "send_date" in body["errors"]
    body = problem(client.post(url, json={}, headers=headers), 422)
    assert {"send_date", "send_time"} <= set(body["errors"])
    empty = make_issue(db, number=2, publication="newsletter")
    day = (today() + timedelta(days=2)).isoformat()
    body = problem(
        client.post(
            f"/api/v1/issues/{empty.id}/schedule",
            json={"send_date": day, "send_time": "10:00"},
            headers=headers,
        ),
        409,
    )
    assert "no items yet" in body["detail"]
    db.expire_all()
    assert db.get(Issue, issue.id).status == IssueStatus.DRAFT


def test_unknown_publication_and_issue(client, db) -> None:
    headers = publisher(db)
    body = problem(
        client.post("/api/v1/issues", json={"publication": "nope"}, headers=headers), 422
    )
    assert "nope" in body["errors"]["publication"][0]
    problem(client.get("/api/v1/issues/999999", headers=headers), 404)
    problem(client.post("/api/v1/issues/999999/unschedule", json={}, headers=headers), 404)


def test_test_send_queues_marked_mails(client, db) -> None:
    headers = publisher(db)
    issue = make_issue(db, items=[make_item(db)])
    url = f"/api/v1/issues/{issue.id}/test"
    response = client.post(url, json={"addresses": "a@example.org, b@example.org"}, headers=headers)
    assert response.status_code == 202, response.data
    mails = db.scalars(select(QueuedMail).where(QueuedMail.purpose == "issue_test")).all()
    assert sorted(m.to_addr for m in mails) == ["a@example.org", "b@example.org"]
    assert all(m.subject.startswith("[TEST]") for m in mails)
    body = problem(client.post(url, json={"addresses": "kaputt"}, headers=headers), 422)
    assert "addresses" in body["errors"]
    problem(client.post(url, json={"addresses": ""}, headers=headers), 422)
    problem(
        client.post(url, json={"addresses": "a@example.org", "language": "fr"}, headers=headers),
        422,
    )


def test_publishing_needs_the_publish_scope(client, db) -> None:
    headers = publisher(db, ["read", "moderate"])
    issue = make_issue(db, items=[make_item(db)])
    assert client.get(f"/api/v1/issues/{issue.id}", headers=headers).status_code == 200
    problem(client.post("/api/v1/issues", json={"publication": "ticker"}, headers=headers), 403)
    problem(client.patch(f"/api/v1/issues/{issue.id}", json={"subject": "x"}, headers=headers), 403)


def test_delivery_progress_and_reports(client, db) -> None:
    headers = publisher(db, ["read"])
    issue = make_issue(db, items=[make_item(db)])
    body = client.get(f"/api/v1/delivery/issues/{issue.id}", headers=headers).get_json()
    assert body["issue_id"] == issue.id
    assert body["total"] == 0
    assert client.get("/api/v1/delivery/reports", headers=headers).get_json() == []
    problem(client.get("/api/v1/delivery/issues/999999", headers=headers), 404)
    problem(client.get("/api/v1/delivery/reports"), 401)
