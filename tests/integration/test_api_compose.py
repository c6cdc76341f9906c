"""The API's gaps closed: composing an issue, turning a running send, blocking subscribers,
and the rate limits the API shares with the forms. Each call: the editor area's service,
its messages, the audit trail; bad input changes nothing."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import func, select

from newsticker.config import get_settings
from newsticker.core.audit import AuditEvent
from newsticker.core.db import utcnow
from newsticker.core.site import site_links
from newsticker.delivery import services as delivery
from newsticker.delivery.models import Delivery, DeliveryStatus, SendState
from newsticker.issues.models import Issue, IssueEntry, KeyFigure
from newsticker.items.models import Item
from subscribers.models import ConsentEvent
from tests.factories import (
    bearer,
    event_form,
    make_issue,
    make_item,
    make_subscriber,
    make_token,
    make_user,
    post_multipart,
    scheduled_issue,
    seed_subscribers,
    subscribe_form,
)
from tests.integration.test_api import api_event

PROBLEM = "application/problem+json"
ACCOUNTS = itertools.count()


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.data[:800]
    assert response.mimetype == PROBLEM
    return response.get_json(force=True)


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.data[:800]
    return response.get_json()


def token_headers(db, scopes: list[str], language: str = "en") -> dict[str, str]:
    """Return the headers of a call with a new token of a new editor account."""
    user = make_user(db, f"api{next(ACCOUNTS)}@example.org")
    return bearer(make_token(db, user, scopes), language)


def audit_actions(db, prefix: str) -> list[str]:
    db.expire_all()
    return list(
        db.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.like(f"{prefix}%"))
            .order_by(AuditEvent.id)
        )
    )


def snapshot(db, issue: Issue) -> tuple[Any, ...]:
    """Return what a refused change must leave as it was."""
    db.expire_all()
    entries = db.execute(
        select(IssueEntry.id, IssueEntry.section, IssueEntry.position, IssueEntry.title)
        .where(IssueEntry.issue_id == issue.id)
        .order_by(IssueEntry.id)
    ).all()
    figures = db.execute(
        select(KeyFigure.id, KeyFigure.position, KeyFigure.label, KeyFigure.value)
        .where(KeyFigure.issue_id == issue.id)
        .order_by(KeyFigure.id)
    ).all()
    version = db.scalar(select(Issue.version).where(Issue.id == issue.id))
    return tuple(entries), tuple(figures), version


# ---------------------------------------------------------------- entries and articles


def test_entries_and_articles_added_edited_reordered_removed(client, db) -> None:
    headers = token_headers(db, ["read", "publish"])
    first, second = make_item(db, title="Sprachcafé"), make_item(db, title="Nähtreff")
    issue = make_issue(db, items=[first])
    url = f"/api/v1/issues/{issue.id}"

    body = ok(client.post(f"{url}/entries", json={"item_id": second.id}, headers=headers))
    events = [e for e in body["entries"] if e["section"] == "events"]
    assert [e["item_id"] for e in sorted(events, key=lambda e: e["position"])] == [
        first.id,
        second.id,
    ]

    body = ok(
        client.post(
            f"{url}/articles",
            json={
                "title": "Neues Beratungsbüro",
                "body": "Ab **Montag** in der Rathausstraße.",
                "link": "https://example.org/buero",
                "language": "de",
                "version": body["version"],
            },
            headers=headers,
        )
    )
    article = next(e for e in body["entries"] if e["section"] == "articles")
    assert article["title"] == "Neues Beratungsbüro"

    body = ok(
        client.put(
            f"{url}/articles/{article['id']}",
            json={"title": "Beratungsbüro eröffnet", "body": "Jetzt offen.", "link": ""},
            headers=headers,
        )
    )
    edited = next(e for e in body["entries"] if e["id"] == article["id"])
    assert (edited["title"], edited["body"], edited["link"]) == (
        "Beratungsbüro eröffnet",
        "Jetzt offen.",
        "",
    )

    order = [e["id"] for e in sorted(events, key=lambda e: e["position"])][::-1]
    body = ok(
        client.put(f"{url}/order", json={"section": "events", "entry_ids": order}, headers=headers)
    )
    now_order = sorted(
        (e for e in body["entries"] if e["section"] == "events"), key=lambda e: e["position"]
    )
    assert [e["id"] for e in now_order] == order

    response = client.delete(f"{url}/entries/{order[0]}?version={body['version']}", headers=headers)
    body = ok(response)
    assert order[0] not in {e["id"] for e in body["entries"]}
    assert [e["position"] for e in body["entries"] if e["section"] == "events"] == [0]
    # The item itself stays, available for the next draft.
    assert db.get(Item, second.id) is not None

    assert audit_actions(db, "api.issue.") == [
        "api.issue.entry_added",
        "api.issue.article_added",
        "api.issue.article_edited",
        "api.issue.reordered",
        "api.issue.entry_removed",
    ]
    assert db.scalars(select(AuditEvent.actor).where(AuditEvent.action.like("api.issue.%"))).all()


@pytest.mark.parametrize(
    ("path", "method", "body", "status", "words"),
    [
        ("/entries", "post", {"item_id": 99999}, 422, "There is no item with this number."),
        ("/entries", "post", {"item_id": "x"}, 422, None),
        ("/entries", "post", {}, 422, None),
        ("/articles", "post", {"title": ""}, 422, "Please fill in this field."),
        ("/articles", "post", {"title": "Zwei\nZeilen"}, 422, "on one line"),
        ("/articles", "post", {"title": "T", "link": "javascript:alert(1)"}, 422, None),
        ("/articles", "post", {"title": "T", "body": "<script>x</script>"}, 422, None),
        ("/articles", "post", {"title": "T", "language": "xx"}, 422, None),
        ("/articles", "post", {"title": "T", "unknown": 1}, 422, None),
        ("/order", "put", {"section": "events", "entry_ids": [1, 2, 3]}, 409, None),
        ("/order", "put", {"section": "nirgends", "entry_ids": []}, 422, None),
        ("/figures", "post", {"label": "Kurse", "value": "viele"}, 422, "as a number"),
        ("/figures", "post", {"label": "", "value": "3"}, 422, "Please fill in this field."),
        ("/figures/order", "put", {"figure_ids": [424242]}, 409, None),
    ],
)
def test_bad_composer_input_is_refused_and_changes_nothing(
    client, db, path: str, method: str, body: dict[str, Any], status: int, words: str | None
) -> None:
    headers = token_headers(db, ["publish"])
    issue = make_issue(db, items=[make_item(db)], figures=[("Kurse", "12", "")])
    before = snapshot(db, issue)
    response = getattr(client, method)(
        f"/api/v1/issues/{issue.id}{path}", json=body, headers=headers
    )
    answer = problem(response, status)
    if words:
        assert words in str(answer)
    assert snapshot(db, issue) == before
    assert audit_actions(db, "api.issue.") == []


def test_an_item_entry_is_no_article_and_gone_entries_are_conflicts(client, db) -> None:
    headers = token_headers(db, ["publish"])
    issue = make_issue(db, items=[make_item(db)])
    entry_id = issue.entries[0].id
    url = f"/api/v1/issues/{issue.id}"
    answer = problem(
        client.put(f"{url}/articles/{entry_id}", json={"title": "Neu"}, headers=headers), 409
    )
    assert answer["detail"] == "Only articles written for the issue can be edited here."
    answer = problem(client.delete(f"{url}/entries/99999", headers=headers), 409)
    assert answer["detail"] == "This entry is no longer part of the issue."
    answer = problem(client.delete(f"{url}/figures/99999", headers=headers), 409)
    assert answer["detail"] == "This key figure is no longer part of the issue."
    problem(client.post("/api/v1/issues/99999/entries", json={"item_id": 1}, headers=headers), 404)
    problem(client.delete(f"{url}/entries/{entry_id}?version=abc", headers=headers), 422)


def test_a_stale_version_or_a_scheduled_issue_is_a_conflict(client, db) -> None:
    headers = token_headers(db, ["publish"])
    issue = make_issue(db, items=[make_item(db)])
    url = f"/api/v1/issues/{issue.id}"
    stale = issue.version - 1 if issue.version else 99
    before = snapshot(db, issue)
    answer = problem(
        client.post(f"{url}/articles", json={"title": "T", "version": stale}, headers=headers), 409
    )
    assert "Someone else changed this issue" in answer["detail"]
    assert snapshot(db, issue) == before


def test_composing_needs_the_publish_scope(client, db) -> None:
    headers = token_headers(db, ["read"])
    issue = make_issue(db, items=[make_item(db)])
    problem(
        client.post(f"/api/v1/issues/{issue.id}/articles", json={"title": "T"}, headers=headers),
        403,
    )
    problem(client.post(f"/api/v1/issues/{issue.id}/articles", json={"title": "T"}), 401)


# ---------------------------------------------------------------- key figures


def test_key_figures_added_edited_reordered_removed(client, db) -> None:
    headers = token_headers(db, ["publish"], language="de")
    issue = make_issue(db, figures=[("Kurse", "12", "")])
    url = f"/api/v1/issues/{issue.id}/figures"
    body = ok(
        client.post(
            url,
            json={"label": "Teilnehmende", "value": "1.234,5", "unit": "Personen"},
            headers=headers,
        )
    )
    db.expire_all()
    figures = sorted(db.get(Issue, issue.id).figures, key=lambda f: f.position)
    assert [(f.label, f.value) for f in figures] == [("Kurse", "12"), ("Teilnehmende", "1234.5")]
    new_id = figures[1].id

    ok(
        client.put(
            f"{url}/{new_id}",
            json={"label": "Teilnehmende 2026", "value": "1300", "version": body["version"] + 0},
            headers=headers,
        )
    )
    ok(client.put(f"{url}/order", json={"figure_ids": [new_id, figures[0].id]}, headers=headers))
    db.expire_all()
    figures = sorted(db.get(Issue, issue.id).figures, key=lambda f: f.position)
    assert [(f.label, f.value, f.unit) for f in figures] == [
        ("Teilnehmende 2026", "1300", ""),
        ("Kurse", "12", ""),
    ]
    ok(client.delete(f"{url}/{figures[1].id}", headers=headers))
    db.expire_all()
    assert [f.label for f in db.get(Issue, issue.id).figures] == ["Teilnehmende 2026"]
    assert audit_actions(db, "api.issue.") == [
        "api.issue.figure_added",
        "api.issue.figure_edited",
        "api.issue.figures_reordered",
        "api.issue.figure_removed",
    ]


def test_a_refused_figure_edit_keeps_every_field_and_speaks_german(client, db) -> None:
    headers = token_headers(db, ["publish"], language="de")
    issue = make_issue(db, figures=[("Kurse", "12", "")])
    figure_id = issue.figures[0].id
    before = snapshot(db, issue)
    answer = problem(
        client.put(
            f"/api/v1/issues/{issue.id}/figures/{figure_id}",
            json={"label": "Neu", "value": "zwölf"},
            headers=headers,
        ),
        422,
    )
    assert "value" in answer["errors"]
    assert "Zahl" in answer["errors"]["value"][0]
    assert snapshot(db, issue) == before


# ---------------------------------------------------------------- a running send


@pytest.fixture
def sending(db) -> Issue:
    seed_subscribers(db, 6)
    issue = scheduled_issue(db)
    delivery.start_issue(db, issue.id, now=utcnow(), settings=get_settings(), links=site_links())
    return issue


def test_pause_resume_and_cancel_a_send(client, db, sending) -> None:
    headers = token_headers(db, ["read", "publish"])
    url = f"/api/v1/delivery/issues/{sending.id}"
    body = ok(client.post(f"{url}/pause", headers=headers))
    assert body["state"] == SendState.PAUSED.value
    report = delivery.get_report(db, sending.id)
    db.refresh(report)
    assert report.pause_reason.startswith("paused by ")
    answer = problem(client.post(f"{url}/pause", headers=headers), 409)
    assert answer["detail"] == "This issue is not being sent, so it cannot be paused."

    assert ok(client.post(f"{url}/resume", headers=headers))["state"] == SendState.SENDING.value
    answer = problem(client.post(f"{url}/resume", headers=headers), 409)
    assert answer["detail"] == "This issue is not paused."

    body = ok(client.post(f"{url}/cancel", headers=headers))
    assert body["state"] == SendState.CANCELLED.value
    assert body["cancelled"] == 6 and body["pending"] == 0
    db.expire_all()
    assert set(db.scalars(select(Delivery.status).where(Delivery.issue_id == sending.id))) == {
        DeliveryStatus.CANCELLED
    }
    answer = problem(client.post(f"{url}/cancel", headers=headers), 409)
    assert answer["detail"] == "This send cannot be cancelled any more."

    events = db.execute(
        select(AuditEvent.action, AuditEvent.actor)
        .where(AuditEvent.action.like("delivery.%"), AuditEvent.action != "delivery.started")
        .order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == [
        "delivery.paused",
        "delivery.resumed",
        "delivery.cancelled",
    ]
    assert all("api token" in e.actor for e in events)


def test_send_controls_refuse_what_the_pages_refuse(client, db, sending) -> None:
    reader = token_headers(db, ["read"])
    url = f"/api/v1/delivery/issues/{sending.id}"
    problem(client.post(f"{url}/pause", headers=reader), 403)
    problem(client.post(f"{url}/pause"), 401)
    publisher = token_headers(db, ["publish"], language="de")
    answer = problem(client.post("/api/v1/delivery/issues/99999/cancel", headers=publisher), 404)
    assert answer["status"] == 404
    draft = make_issue(db, number=7)
    answer = problem(
        client.post(f"/api/v1/delivery/issues/{draft.id}/resume", headers=publisher), 409
    )
    assert answer["detail"] == "Diese Ausgabe ist nicht angehalten."
    assert delivery.get_report(db, sending.id).state == SendState.SENDING


# ---------------------------------------------------------------- subscribers


def test_block_and_unblock_a_subscriber(client, db) -> None:
    headers = token_headers(db, ["subscribers"])
    subscriber = make_subscriber(db)
    url = f"/api/v1/subscribers/{subscriber.id}"
    body = ok(client.post(f"{url}/block", json={"note": "bat darum"}, headers=headers))
    assert body["blocked"] is True
    db.expire_all()
    assert subscriber.blocked_note == "bat darum"
    # Blocking twice changes nothing more.
    assert ok(client.post(f"{url}/block", json={}, headers=headers))["blocked"] is True
    assert ok(client.post(f"{url}/unblock", headers=headers))["blocked"] is False
    db.expire_all()
    assert subscriber.blocked_at is None
    consent = list(
        db.scalars(
            select(ConsentEvent.action)
            .where(ConsentEvent.subscriber_id == subscriber.id)
            .order_by(ConsentEvent.id)
        )
    )
    assert consent[-2:] == ["blocked", "unblocked"]
    assert audit_actions(db, "api.subscriber.") == [
        "api.subscriber.blocked",
        "api.subscriber.blocked",
        "api.subscriber.unblocked",
    ]


def test_blocking_refuses_bad_input(client, db) -> None:
    headers = token_headers(db, ["subscribers"])
    subscriber = make_subscriber(db)
    url = f"/api/v1/subscribers/{subscriber.id}"
    answer = problem(
        client.post(f"{url}/block", json={"note": "zwei\nZeilen"}, headers=headers), 422
    )
    assert "note" in answer["errors"]
    answer = problem(client.post(f"{url}/block", json={"note": "x" * 501}, headers=headers), 422)
    assert "note" in answer["errors"]
    problem(client.post(f"{url}/block", json={"reason": "x"}, headers=headers), 422)
    problem(client.post("/api/v1/subscribers/99999/block", json={}, headers=headers), 404)
    problem(client.post(f"{url}/block", json={}, headers=token_headers(db, ["read"])), 403)
    db.expire_all()
    assert subscriber.blocked_at is None
    assert audit_actions(db, "api.subscriber.") == []


# ---------------------------------------------------------------- shared rate limits


class TestLimitsSharedWithTheForms:
    @pytest.fixture
    def settings_overrides(self) -> dict[str, Any]:
        return {
            "rate_limits.submit_per_ip": "5 per hour",
            "rate_limits.subscribe_per_ip": "5 per hour",
        }

    def test_three_forms_and_three_api_submissions_meet_a_limit_of_five(
        self, client, db, no_csrf
    ) -> None:
        for n in range(3):
            response = post_multipart(
                client, "/einreichen", event_form(submitter_email=f"form{n}@example.org")
            )
            assert response.status_code == 303, response.data[:500]
        for n in range(2):
            response = client.post(
                "/api/v1/submissions", json=api_event(submitter_email=f"api{n}@example.org")
            )
            assert response.status_code == 201, response.data[:500]
        items = db.scalar(select(func.count()).select_from(Item))
        response = client.post(
            "/api/v1/submissions", json=api_event(submitter_email="api9@example.org")
        )
        problem(response, 429)
        assert "Retry-After" in response.headers
        assert db.scalar(select(func.count()).select_from(Item)) == items == 5
        # The form, too, now refuses this client.
        refused = post_multipart(client, "/einreichen", event_form(submitter_email="x@example.org"))
        assert refused.status_code == 429

    def test_three_forms_and_three_api_sign_ups_meet_a_limit_of_five(
        self, client, db, no_csrf
    ) -> None:
        for n in range(3):
            response = client.post("/abonnieren", data=subscribe_form(email=f"f{n}@example.org"))
            assert response.status_code == 303, response.data[:500]
        for n in range(2):
            response = client.post(
                "/api/v1/subscriptions",
                json={"email": f"a{n}@example.org", "publications": ["ticker"]},
            )
            assert response.status_code == 202, response.data[:500]
        response = client.post(
            "/api/v1/subscriptions", json={"email": "a9@example.org", "publications": ["ticker"]}
        )
        problem(response, 429)
        assert (
            client.post("/abonnieren", data=subscribe_form(email="z@example.org")).status_code
            == 429
        )
