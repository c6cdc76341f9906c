"""The private link: see, change or withdraw a submission until it is reviewed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from newsticker.core.db import utcnow
from newsticker.core.mailqueue import QueuedMail
from newsticker.core.tokens import token_digest
from newsticker.items.models import Item, ItemAudit
from tests.factories import event_form, make_item
from tests.factories import post_multipart as post_to
from tests.integration.test_items_submit import post

pytestmark = pytest.mark.usefixtures("no_csrf")


@pytest.fixture
def submitted(client, db):
    """Submit through the form; return (item, private path)."""
    assert post(client, event_form()).status_code == 303
    mail = db.scalars(select(QueuedMail)).one()
    token = re.search(r"/einreichung/([A-Za-z0-9_-]+)", mail.text).group(1)
    return db.scalars(select(Item)).one(), f"/einreichung/{token}"


def test_private_page_shows_the_submission(client, submitted):
    item, path = submitted
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert item.title in html and "Wartet auf Prüfung" in html
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert 'name="robots" content="noindex' in html


def test_edit_through_the_private_link(client, db, submitted):
    item, path = submitted
    form = client.get(f"{path}/bearbeiten").get_data(as_text=True)
    assert 'value="Sprachcafé am Hafen"' in form
    data = event_form(title="Sprachcafé im Hafenhaus", version=str(item.version))
    response = post_to(client, f"{path}/bearbeiten", data)
    assert response.status_code == 303
    db.refresh(item)
    assert item.title == "Sprachcafé im Hafenhaus"
    edit = db.scalars(select(ItemAudit).where(ItemAudit.action == "edited")).one()
    assert edit.actor == "submitter"
    assert edit.changes["title"] == ["Sprachcafé am Hafen", "Sprachcafé im Hafenhaus"]
    assert "Ihre Änderungen sind gespeichert" in client.get(path).get_data(as_text=True)


def test_edit_with_bad_input_changes_nothing(client, db, submitted):
    item, path = submitted
    response = post_to(client, f"{path}/bearbeiten", event_form(title="X" * 300))
    assert response.status_code == 422
    db.refresh(item)
    assert item.title == "Sprachcafé am Hafen"
    assert db.scalars(select(ItemAudit.action)).all() == ["submitted"]


def test_withdraw(client, db, submitted):
    item, path = submitted
    response = client.post(f"{path}/zurueckziehen")
    assert response.status_code == 303
    db.refresh(item)
    assert item.status == "withdrawn"
    html = client.get(path).get_data(as_text=True)
    assert "Zurückgezogen" in html
    assert "bearbeiten" not in html


def test_no_editing_once_published(client, db, submitted):
    item, path = submitted
    item.status = "approved"
    db.flush()
    html = client.get(path).get_data(as_text=True)
    assert "Veröffentlicht" in html and f'href="/angebote/{item.id}"' in html
    assert "/bearbeiten" not in html
    response = post_to(client, f"{path}/bearbeiten", event_form(title="Gekapert"))
    assert response.status_code == 303
    db.refresh(item)
    assert item.title == "Sprachcafé am Hafen"
    assert client.post(f"{path}/zurueckziehen").status_code == 303
    db.refresh(item)
    assert item.status == "approved"


@pytest.mark.parametrize(
    "token",
    [
        "x" * 43,
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "short",
        "%00%0d%0a" + "a" * 30,
        "ä" * 30,
    ],
)
def test_forged_link(client, db, token):
    make_item(db, status="submitted", edit_token_digest=token_digest("the-real-one-" * 3))
    response = client.get(f"/einreichung/{token}")
    assert response.status_code == 404
    assert "Dieser Link ist nicht gültig" in response.get_data(as_text=True)
    assert client.post(f"/einreichung/{token}/zurueckziehen").status_code == 404


def test_expired_link(client, db):
    token = "expired-token-for-a-long-gone-event-abcdef"
    past = utcnow() - timedelta(days=200)
    make_item(
        db,
        status="submitted",
        edit_token_digest=token_digest(token),
        created_at=past,
        starts_at=past + timedelta(days=5),
        ends_at=past + timedelta(days=5, hours=2),
    )
    response = client.get(f"/einreichung/{token}")
    assert response.status_code == 410
    assert "Dieser Link ist abgelaufen" in response.get_data(as_text=True)
    assert client.post(f"/einreichung/{token}/zurueckziehen").status_code == 410
    assert db.scalars(select(Item.status)).one() == "submitted"
