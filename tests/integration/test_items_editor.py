"""The moderation queue: counts, filters, approve, edit, reject with a reason, merge."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from newsticker.core.mailqueue import QueuedMail
from newsticker.items.models import Item, ItemAudit
from tests.factories import (
    TZ,
    event_form,
    make_item,
    today,
)
from tests.factories import post_multipart as post_to

pytestmark = pytest.mark.usefixtures("no_csrf")


def test_queue_needs_a_login(client, db):
    item = make_item(db, status="submitted")
    for path in ("/redaktion/einreichungen", f"/redaktion/einreichungen/{item.id}"):
        response = client.get(path)
        assert response.status_code == 302 and "/redaktion/login" in response.headers["Location"]
    assert client.post(f"/redaktion/einreichungen/{item.id}/freigeben").status_code == 302
    db.refresh(item)
    assert item.status == "submitted"


def test_queue_newest_first_with_counts(client, db, editor):
    old = make_item(db, title="Älter", status="submitted")
    new = make_item(db, title="Neuer", status="submitted")
    make_item(db, title="Schon da", status="approved")
    old.created_at = new.created_at - timedelta(hours=2)
    db.flush()
    html = client.get("/redaktion/einreichungen").get_data(as_text=True)
    assert html.index("Neuer") < html.index("Älter")
    assert "Schon da" not in html
    assert 'Eingereicht <span class="count">2</span>' in html
    assert 'Freigegeben <span class="count">1</span>' in html


def test_queue_filters(client, db, editor):
    make_item(db, title="Gesundheitstag", status="submitted", field_of_action="health")
    make_item(db, title="Jobmesse", status="submitted", field_of_action="work")
    far = today() + timedelta(days=200)
    from tests.factories import local

    make_item(db, title="Sommerfest", status="submitted", starts_at=local(far, 15), ends_at=None)
    html = client.get("/redaktion/einreichungen?status=submitted&field_of_action=health").get_data(
        as_text=True
    )
    assert "Gesundheitstag" in html and "Jobmesse" not in html
    later = (today() + timedelta(days=100)).isoformat()
    html = client.get(f"/redaktion/einreichungen?status=submitted&date_from={later}").get_data(
        as_text=True
    )
    assert "Sommerfest" in html and "Jobmesse" not in html
    html = client.get("/redaktion/einreichungen?status=").get_data(as_text=True)
    assert "Sommerfest" in html and "Jobmesse" in html
    response = client.get("/redaktion/einreichungen?date_from=gestern")
    assert response.status_code == 422


def test_approve_publishes_and_tells_the_submitter(client, db, editor, caught):
    item = make_item(db, status="submitted", submitter_language="en")
    response = client.post(f"/redaktion/einreichungen/{item.id}/freigeben")
    assert response.status_code == 303
    db.refresh(item)
    assert item.status == "approved" and item.approved_by_id == editor.id
    assert item.approved_at is not None
    mail = caught()[0]
    assert mail.subject == f"Published: {item.title}"
    assert f"http://localhost/angebote/{item.id}" in mail.body("plain")
    audit = db.scalars(select(ItemAudit).where(ItemAudit.action == "approved")).one()
    assert audit.user_id == editor.id
    assert item.title in client.get("/angebote").get_data(as_text=True)


def test_reject_needs_a_reason(client, db, editor):
    item = make_item(db, status="submitted")
    response = client.post(f"/redaktion/einreichungen/{item.id}/ablehnen", data={"reason": "  "})
    assert response.status_code == 422
    assert "Bitte geben Sie eine Begründung an" in response.get_data(as_text=True)
    db.refresh(item)
    assert item.status == "submitted"
    assert db.scalars(select(QueuedMail)).all() == []


def test_reject_with_a_reason_tells_the_submitter(client, db, editor, caught):
    item = make_item(db, status="submitted")
    reason = "Das Angebot ist kommerziell; wir veröffentlichen nur gemeinnützige Angebote."
    response = client.post(f"/redaktion/einreichungen/{item.id}/ablehnen", data={"reason": reason})
    assert response.status_code == 303
    db.refresh(item)
    assert item.status == "rejected" and item.rejection_reason == reason
    mail = caught()[0]
    assert mail.subject == f"Nicht veröffentlicht: {item.title}"
    assert reason in mail.body("plain")


def test_edit_then_approve(client, db, editor):
    item = make_item(db, status="submitted", title="Sprachcafe")
    form = client.get(f"/redaktion/einreichungen/{item.id}/bearbeiten").get_data(as_text=True)
    assert 'value="Sprachcafe"' in form
    data = event_form(title="Sprachcafé", version=str(item.version), approve="1")
    response = post_to(client, f"/redaktion/einreichungen/{item.id}/bearbeiten", data)
    assert response.status_code == 303
    db.refresh(item)
    assert item.title == "Sprachcafé" and item.status == "approved"
    actions = [a.action for a in item.audit]
    assert actions[-2:] == ["edited", "approved"]
    assert item.audit[-2].changes["title"] == ["Sprachcafe", "Sprachcafé"]


def test_edit_conflict_is_refused(client, db, editor):
    item = make_item(db, status="submitted")
    data = event_form(title="Meins", version=str(item.version - 1 if item.version > 1 else 99))
    response = post_to(client, f"/redaktion/einreichungen/{item.id}/bearbeiten", data)
    assert response.status_code == 409
    db.refresh(item)
    assert item.title != "Meins"


def test_duplicate_is_flagged_and_merged(client, db, editor, caught):
    kept = make_item(db, status="approved", link="", contact_phone="")
    dupe = make_item(
        db,
        status="submitted",
        title=kept.title.upper(),
        starts_at=kept.starts_at,
        link="https://example.org/fruehstueck",
        tags=["Frühstück", "Nachbarschaft"],
        submitter_email="zweite@example.org",
    )
    from newsticker.items.services import find_duplicate

    assert find_duplicate(db, dupe).id == kept.id
    dupe.duplicate_of_id = kept.id
    db.flush()
    queue = client.get("/redaktion/einreichungen").get_data(as_text=True)
    assert f"Mögliche Dublette von #{kept.id}" in queue
    page = client.get(f"/redaktion/einreichungen/{dupe.id}").get_data(as_text=True)
    assert f'value="{kept.id}"' in page
    response = client.post(
        f"/redaktion/einreichungen/{dupe.id}/zusammenfuehren", data={"target": str(kept.id)}
    )
    assert response.status_code == 303
    db.refresh(kept)
    db.refresh(dupe)
    assert dupe.status == "rejected" and dupe.duplicate_of_id == kept.id
    assert kept.link == "https://example.org/fruehstueck"
    assert kept.tags == ["Frühstück", "Nachbarschaft"]
    assert kept.audit[-1].action == "merged"
    mail = caught()[0]
    assert mail.to == "zweite@example.org"
    assert "Schon eingetragen" in mail.subject


def test_merge_into_itself_or_nothing(client, db, editor):
    item = make_item(db, status="submitted")
    response = client.post(
        f"/redaktion/einreichungen/{item.id}/zusammenfuehren", data={"target": str(item.id)}
    )
    assert response.status_code == 409
    response = client.post(
        f"/redaktion/einreichungen/{item.id}/zusammenfuehren", data={"target": "99999"}
    )
    assert response.status_code == 422
    assert "keinen Eintrag mit dieser Nummer" in response.get_data(as_text=True)
    db.refresh(item)
    assert item.status == "submitted"


def test_item_page_shows_audit_trail(client, db, editor):
    item = make_item(db, status="submitted")
    client.post(f"/redaktion/einreichungen/{item.id}/freigeben")
    html = client.get(f"/redaktion/einreichungen/{item.id}").get_data(as_text=True)
    history = html[html.index('class="data audit"') :]
    assert item.submitter_email in html
    # The editor by name, the actions in the reader's language, never the stored words.
    assert f"<td>{editor.display_name}</td>" in history
    assert "<td>freigegeben" in history and "<td>angelegt" in history
    assert "approved" not in history and f"(#{editor.id})" not in history
    client.set_cookie("newsticker_lang", "en")
    html = client.get(f"/redaktion/einreichungen/{item.id}").get_data(as_text=True)
    history = html[html.index('class="data audit"') :]
    assert "<td>approved" in history and "<td>created" in history
    assert "<td>test</td>" not in history and "<td>a test</td>" in history


def test_history_names_changed_fields_and_dates_in_the_readers_language(client, db, editor):
    item = make_item(db, status="submitted", title="Sprachcafe")
    data = event_form(title="Sprachcafé", version=str(item.version))
    post_to(client, f"/redaktion/einreichungen/{item.id}/bearbeiten", data)
    client.set_cookie("newsticker_lang", "en")
    html = client.get(f"/redaktion/einreichungen/{item.id}").get_data(as_text=True)
    history = html[html.index('class="data audit"') :]
    assert "<td>edited" in history
    assert 'Title: <del dir="auto">Sprachcafe</del> → <ins dir="auto">Sprachcafé</ins>' in history
    # Dates in English order and local time, not ISO text.
    start = item.starts_at.astimezone(TZ)
    assert "Start: <del" in history
    assert f"{start.month}/{start.day}/{start.strftime('%y')}" in history
    assert "T09:00:00" not in history and "T07:00:00" not in history


def test_approving_an_ended_item_is_refused(client, db, editor):
    from newsticker.core.db import utcnow

    past = utcnow() - timedelta(days=3)
    item = make_item(db, status="submitted", starts_at=past, ends_at=past + timedelta(hours=1))
    response = client.post(f"/redaktion/einreichungen/{item.id}/freigeben")
    assert response.status_code == 409
    db.refresh(item)
    assert item.status == "submitted"


def test_unknown_item_is_404(client, db, editor):
    assert client.get("/redaktion/einreichungen/424242").status_code == 404


def test_editor_post_needs_csrf(app, client, db, editor):
    app.config["WTF_CSRF_ENABLED"] = True
    item = make_item(db, status="submitted")
    assert client.post(f"/redaktion/einreichungen/{item.id}/freigeben").status_code == 400
    db.refresh(item)
    assert item.status == "submitted"
    assert db.scalars(select(Item.status)).all() == ["submitted"]
