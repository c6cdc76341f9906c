"""The REST API: its document, problem+json errors, tokens and scopes, every endpoint's
good path and its bad input, and that the public endpoints behave like the forms."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from newsticker.api.models import ApiToken
from newsticker.core.audit import AuditEvent
from newsticker.core.db import utcnow
from newsticker.core.mailqueue import QueuedMail
from newsticker.core.tokens import token_digest
from newsticker.items.models import (
    Item,
    ItemStatus,
    ItemVersion,
    VersionSource,
    VersionStatus,
)
from tests.factories import (
    bearer,
    create_editor,
    event_form,
    login,
    make_item,
    make_notice,
    make_token,
    today,
)

PROBLEM = "application/problem+json"


def api_event(**overrides: Any) -> dict[str, Any]:
    """Return a valid submission as the API takes it (JSON types, no honeypot)."""
    form = event_form(**overrides)
    form.pop("website", None)
    form["consent"] = form.get("consent") == "y"
    form["repeat_interval"] = int(form["repeat_interval"])
    form["tags"] = form["tags"]
    return {k: v for k, v in form.items() if v != ""}


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def assert_problem(response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.data[:800]
    assert response.mimetype == PROBLEM
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["title"]
    return body


# ---------------------------------------------------------------- the document


def test_openapi_document_is_3_1_with_every_endpoint(client) -> None:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.1")
    for path in (
        "/api/v1/items",
        "/api/v1/items/{item_id}",
        "/api/v1/publications",
        "/api/v1/archive",
        "/api/v1/submissions",
        "/api/v1/subscriptions",
        "/api/v1/moderation/items",
        "/api/v1/moderation/items/{item_id}/approve",
        "/api/v1/moderation/items/{item_id}/reject",
    ):
        assert path in spec["paths"], path
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    error = spec["components"]["responses"]["DEFAULT_ERROR"]["content"]
    assert list(error) == [PROBLEM]


def test_reference_page_lists_the_endpoints_without_outside_assets(client) -> None:
    response = client.get("/api/v1/referenz")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "POST /api/v1/submissions" in page
    assert "/api/v1/openapi.json" in page
    assert "cdn" not in page.lower()
    assert "https://" not in page.split("<main", 1)[0]


# ---------------------------------------------------------------- errors


def test_unknown_path_and_method_are_problems(client) -> None:
    assert_problem(client.get("/api/v1/nothing-here"), 404)
    response = client.delete("/api/v1/submissions")
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


def test_site_pages_keep_their_html_error_pages(client) -> None:
    response = client.get("/gibt-es-nicht")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_problems_speak_the_language_of_accept_language(client) -> None:
    de = assert_problem(client.get("/api/v1/items/999999", headers={"Accept-Language": "de"}), 404)
    en = assert_problem(client.get("/api/v1/items/999999", headers={"Accept-Language": "en"}), 404)
    assert en["title"] == "Not found"
    assert de["title"] == "Nicht gefunden"


def test_malformed_json_is_a_problem(client) -> None:
    response = client.post("/api/v1/submissions", data="{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert response.mimetype == PROBLEM


# ---------------------------------------------------------------- public reading


def test_directory_lists_upcoming_items_and_filters_them(client, db) -> None:
    item = make_item(db, title="Nähcafé")
    make_item(db, title="Fußballturnier", field_of_action="sport")
    body = client.get("/api/v1/items").get_json()
    titles = [d["item"]["title"] for d in body["dates"]]
    assert "Nähcafé" in titles
    assert body["page"] == 1
    assert body["has_more"] is False
    filtered = client.get("/api/v1/items?field_of_action=encounter").get_json()
    assert [d["item"]["id"] for d in filtered["dates"]] == [item.id]
    searched = client.get("/api/v1/items?q=Fußball").get_json()
    assert [d["item"]["title"] for d in searched["dates"]] == ["Fußballturnier"]
    assert body["dates"][0]["item"]["url"].startswith("http://localhost/angebote/")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("kind=concert", "kind"),
        ("field_of_action=zzz", "field_of_action"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("language=xx-none", "language"),
    ],
)
def test_directory_refuses_bad_filters(client, query: str, field: str) -> None:
    body = assert_problem(client.get(f"/api/v1/items?{query}"), 422)
    assert field in body["errors"]


def test_one_item_and_a_hidden_one(client, db) -> None:
    public = make_item(db)
    hidden = make_item(db, status=ItemStatus.SUBMITTED)
    body = client.get(f"/api/v1/items/{public.id}").get_json()
    assert body["title"] == public.title
    assert body["versions"]["de"]["title"] == public.title
    assert body["next_dates"]
    assert_problem(client.get(f"/api/v1/items/{hidden.id}"), 404)


def test_one_item_has_its_approved_language_versions_only(client, db) -> None:
    item = make_item(db)
    notice = make_notice(db, title="Aushang")
    for language, status in (("ar", VersionStatus.APPROVED), ("uk", VersionStatus.SUBMITTED)):
        db.add(
            ItemVersion(
                item=item,
                language=language,
                title=f"title {language}",
                summary=f"summary {language}",
                description="",
                description_text="",
                status=status,
                source=VersionSource.TRANSLATOR,
            )
        )
    db.flush()
    versions = client.get(f"/api/v1/items/{item.id}").get_json()["versions"]
    assert set(versions) == {"de", "ar"}
    assert versions["ar"] == {"title": "title ar", "summary": "summary ar", "description": ""}
    assert versions["de"]["title"] == item.title
    # The list carries the same versions, and an item without any has its original alone.
    listed = client.get("/api/v1/items").get_json()
    (date,) = [d for d in listed["dates"] if d["item"]["id"] == item.id]
    assert date["item"]["versions"] == versions
    (shown,) = [n for n in listed["notices"] if n["id"] == notice.id]
    assert shown["versions"] == {
        "de": {"title": "Aushang", "summary": notice.summary, "description": notice.description}
    }


def test_publications_and_archive(client) -> None:
    slugs = [p["slug"] for p in client.get("/api/v1/publications").get_json()]
    assert slugs == ["ticker", "newsletter"]
    assert client.get("/api/v1/archive?publication=ticker").get_json() == []
    body = assert_problem(client.get("/api/v1/archive?publication=nope"), 404)
    assert "nope" in body["detail"]
    assert_problem(client.get("/api/v1/archive?limit=0"), 422)


# ---------------------------------------------------------------- submitting


def test_submission_enters_moderation_with_a_receipt(client, db) -> None:
    response = client.post("/api/v1/submissions", json=api_event())
    assert response.status_code == 201, response.data
    body = response.get_json()
    db.expire_all()
    item = db.get(Item, body["id"])
    assert item.status == ItemStatus.SUBMITTED
    assert item.title == "Sprachcafé am Hafen"
    assert body["status"] == "submitted"
    receipt = db.scalars(select(QueuedMail).where(QueuedMail.purpose == "item_receipt")).one()
    assert receipt.to_addr == "helferin@example.org"
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "api.item.submitted")).one()
    assert event.subject_id == str(item.id)
    assert event.actor == "api (public)"


def test_submission_is_refused_with_the_forms_messages_in_both_languages(client, db) -> None:
    data = api_event(title="", consent=None, submitter_email="not-an-address")
    before = count(db, Item)
    de = assert_problem(
        client.post("/api/v1/submissions", json=data, headers={"Accept-Language": "de"}), 422
    )
    en = assert_problem(
        client.post("/api/v1/submissions", json=data, headers={"Accept-Language": "en"}), 422
    )
    assert en["errors"]["title"] == ["Please enter a title."]
    assert de["errors"]["title"] == ["Bitte geben Sie einen Titel ein."]
    assert "consent" in en["errors"]
    assert "submitter_email" in en["errors"]
    db.expire_all()
    assert count(db, Item) == before
    assert count(db, QueuedMail) == 0


def test_submission_with_dates_the_form_refuses(client) -> None:
    past = (today() - timedelta(days=3)).isoformat()
    body = assert_problem(client.post("/api/v1/submissions", json=api_event(start_date=past)), 422)
    assert "start_date" in body["errors"]


def test_submission_with_wrong_types_and_unknown_fields(client) -> None:
    body = assert_problem(
        client.post("/api/v1/submissions", json={**api_event(), "start_date": "tomorrow"}), 422
    )
    assert "start_date" in body["errors"]
    body = assert_problem(client.post("/api/v1/submissions", json={**api_event(), "x": 1}), 422)
    assert "x" in body["errors"]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"rate_limits.submit_per_ip": "2 per hour", "rate_limits.subscribe_per_ip": "2 per hour"}


def test_submissions_share_the_forms_rate_limit(client) -> None:
    for _ in range(2):
        assert client.post("/api/v1/submissions", json=api_event()).status_code == 201
    response = client.post("/api/v1/submissions", json=api_event())
    assert_problem(response, 429)
    assert "Retry-After" in response.headers


def test_refused_submissions_do_not_use_up_the_rate_limit(client) -> None:
    for _ in range(3):
        assert client.post("/api/v1/submissions", json={"title": ""}).status_code == 422
    assert client.post("/api/v1/submissions", json=api_event()).status_code == 201


# ---------------------------------------------------------------- subscribing


def test_subscription_sends_the_double_opt_in_mail(client, db) -> None:
    response = client.post(
        "/api/v1/subscriptions",
        json={"email": "neu@example.org", "publications": ["ticker"], "language": "de"},
    )
    assert response.status_code == 202, response.data
    mail = db.scalars(select(QueuedMail).where(QueuedMail.to_addr == "neu@example.org")).one()
    assert mail.purpose == "subscription_confirm"
    event = db.scalars(
        select(AuditEvent).where(AuditEvent.action == "api.subscription.requested")
    ).one()
    assert event.details["publications"] == ["ticker"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "kaputt", "publications": ["ticker"]}, "email"),
        ({"email": "a@example.org", "publications": []}, "publications"),
        ({"email": "a@example.org", "publications": ["gibt-es-nicht"]}, "publications"),
        ({"email": "a@example.org", "publications": ["ticker"], "language": "fr"}, "language"),
        ({"email": 5, "publications": ["ticker"]}, "email"),
    ],
)
def test_subscription_refuses_bad_input(client, db, data: dict[str, Any], field: str) -> None:
    body = assert_problem(client.post("/api/v1/subscriptions", json=data), 422)
    assert field in body["errors"]
    assert count(db, QueuedMail) == 0


# ---------------------------------------------------------------- tokens


def test_calls_without_or_with_a_bad_token_are_refused(client, db) -> None:
    response = client.get("/api/v1/moderation/items")
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert_problem(client.get("/api/v1/moderation/items", headers=bearer("nt_wrong")), 401)
    assert_problem(
        client.get("/api/v1/moderation/items", headers={"Authorization": "Basic eDp5"}), 401
    )


def test_a_logged_in_cookie_never_authenticates_an_api_call(app, client, db) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    create_editor(db)
    login(client)
    assert client.get("/redaktion/api-schluessel").status_code == 200
    assert_problem(client.get("/api/v1/moderation/items"), 401)


def test_token_reads_the_queue_and_notes_its_use(client, db) -> None:
    user = create_editor(db)
    secret = make_token(db, user, ["read"])
    waiting = make_item(db, status=ItemStatus.SUBMITTED, title="Wartet")
    body = client.get("/api/v1/moderation/items", headers=bearer(secret)).get_json()
    assert [i["id"] for i in body["items"]] == [waiting.id]
    assert body["total"] == 1
    db.expire_all()
    token = db.scalars(select(ApiToken)).one()
    assert token.last_used_at is not None
    assert token.digest == token_digest(secret)
    assert secret not in (token.prefix + token.digest)


def test_a_token_without_the_scope_is_forbidden(client, db) -> None:
    user = create_editor(db)
    secret = make_token(db, user, ["read"])
    item = make_item(db, status=ItemStatus.SUBMITTED)
    assert_problem(
        client.post(f"/api/v1/moderation/items/{item.id}/approve", headers=bearer(secret)), 403
    )
    db.expire_all()
    assert db.get(Item, item.id).status == ItemStatus.SUBMITTED


def test_expired_revoked_and_deactivated_tokens_stop_working(client, db) -> None:
    user = create_editor(db)
    secret = make_token(db, user)
    token = db.scalars(select(ApiToken)).one()
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.flush()
    assert_problem(client.get("/api/v1/moderation/items", headers=bearer(secret)), 401)
    token.expires_at = utcnow() + timedelta(days=1)
    token.revoked_at = utcnow()
    db.flush()
    assert_problem(client.get("/api/v1/moderation/items", headers=bearer(secret)), 401)
    token.revoked_at = None
    user.active = False
    db.flush()
    assert_problem(client.get("/api/v1/moderation/items", headers=bearer(secret)), 401)
    user.active = True
    db.flush()
    assert client.get("/api/v1/moderation/items", headers=bearer(secret)).status_code == 200


# ---------------------------------------------------------------- moderation


def test_approve_through_the_api_is_audited_and_mails_the_submitter(client, db) -> None:
    user = create_editor(db)
    secret = make_token(db, user, ["moderate"])
    item = make_item(db, status=ItemStatus.SUBMITTED)
    response = client.post(f"/api/v1/moderation/items/{item.id}/approve", headers=bearer(secret))
    assert response.status_code == 200, response.data
    db.expire_all()
    assert db.get(Item, item.id).status == ItemStatus.APPROVED
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "api.item.approved")).one()
    assert event.actor_id == user.id
    assert "Test-CMS" in event.actor
    assert db.scalars(select(QueuedMail).where(QueuedMail.purpose == "item_approved")).one()
    again = assert_problem(
        client.post(f"/api/v1/moderation/items/{item.id}/approve", headers=bearer(secret)), 409
    )
    assert again["detail"]


def test_reject_needs_the_forms_reason(client, db) -> None:
    user = create_editor(db)
    secret = make_token(db, user, ["moderate"])
    item = make_item(db, status=ItemStatus.SUBMITTED)
    url = f"/api/v1/moderation/items/{item.id}/reject"
    body = assert_problem(
        client.post(url, json={"reason": "  "}, headers=bearer(secret, "en")), 422
    )
    assert body["errors"]["reason"] == ["Please give a reason; the submitter will read it."]
    assert_problem(client.post(url, json={"reason": 3}, headers=bearer(secret)), 422)
    response = client.post(url, json={"reason": "Kein Bezug zu Flensburg"}, headers=bearer(secret))
    assert response.status_code == 200
    assert response.get_json()["status"] == "rejected"
    assert_problem(
        client.post(
            "/api/v1/moderation/items/999999/reject", json={"reason": "x"}, headers=bearer(secret)
        ),
        404,
    )


def test_token_calls_need_no_csrf_token(app, client, db) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    user = create_editor(db)
    secret = make_token(db, user, ["moderate"])
    item = make_item(db, status=ItemStatus.SUBMITTED)
    response = client.post(f"/api/v1/moderation/items/{item.id}/approve", headers=bearer(secret))
    assert response.status_code == 200


# ---------------------------------------------------------------- the editor page


def test_editor_makes_a_token_sees_it_once_and_revokes_it(app, client, db) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    create_editor(db)
    login(client)
    response = client.post(
        "/redaktion/api-schluessel",
        data={"name": "Stadt-CMS", "scopes": ["read", "moderate"], "days": "90"},
    )
    assert response.status_code == 201, response.data[:2000]
    page = response.get_data(as_text=True)
    db.expire_all()
    token = db.scalars(select(ApiToken)).one()
    assert token.scopes == ["moderate", "read"]
    secret = page.split('class="token-secret">', 1)[1].split("<", 1)[0]
    assert token_digest(secret) == token.digest
    assert secret not in client.get("/redaktion/api-schluessel").get_data(as_text=True)
    assert client.get("/api/v1/moderation/items", headers=bearer(secret)).status_code == 200
    created = db.scalars(select(AuditEvent).where(AuditEvent.action == "api.token_created")).one()
    assert created.summary == "Stadt-CMS"
    response = client.post(f"/redaktion/api-schluessel/{token.id}/widerrufen")
    assert response.status_code == 303
    assert_problem(client.get("/api/v1/moderation/items", headers=bearer(secret)), 401)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "scopes": ["read"], "days": "30"}, "Please give the token a name."),
        ({"name": "CMS", "days": "30"}, "Please choose at least one permission."),
        ({"name": "CMS", "scopes": ["root"], "days": "30"}, "Please choose only from the list."),
        (
            {"name": "CMS", "scopes": ["read"], "days": "0"},
            "A token may be valid for 1 to 730 days.",
        ),
    ],
)
def test_editor_token_form_refuses_bad_input(app, client, db, data, message: str) -> None:
    app.config["WTF_CSRF_ENABLED"] = False
    create_editor(db)
    login(client)
    client.set_cookie("newsticker_lang", "en")
    response = client.post("/redaktion/api-schluessel", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.expire_all()
    assert count(db, ApiToken) == 0


def test_an_editor_cannot_revoke_another_accounts_token(app, client, db) -> None:
    from tests.factories import make_user

    other = make_user(db, "other@example.org")
    make_token(db, other)
    token = db.scalars(select(ApiToken)).one()
    app.config["WTF_CSRF_ENABLED"] = False
    create_editor(db)
    login(client)
    assert client.post(f"/redaktion/api-schluessel/{token.id}/widerrufen").status_code == 404
    db.expire_all()
    assert db.get(ApiToken, token.id).revoked_at is None


def test_a_nul_character_is_refused_as_a_problem(client) -> None:
    body = assert_problem(
        client.get("/api/v1/items?q=a%00b", headers={"Accept-Language": "en"}), 400
    )
    assert "NUL" in body["detail"]
    page = client.get("/angebote?q=a%00b")
    assert page.status_code == 400
    assert page.mimetype == "text/html"
    assert "NUL" in page.get_data(as_text=True)
