"""A change based on an older version of an item is refused, for submitters and editors alike."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale
from sqlalchemy import select, text

from newsticker.core.db import utcnow
from newsticker.core.mailqueue import QueuedMail
from newsticker.items import services
from newsticker.items.models import Item, ItemAudit
from tests.factories import (
    TZ,
    create_editor,
    event_form,
    login,
    make_item,
)
from tests.factories import post_multipart as post_to

STALE_DE = "Jemand anderes hat diesen Eintrag geändert, während Sie daran gearbeitet haben."


@pytest.fixture(autouse=True)
def _no_csrf(app):
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def editor_client(app, db):
    """Return a client with the editor logged in (beside the submitter's client)."""
    create_editor(db)
    editor = app.test_client()
    login(editor)
    return editor


@pytest.fixture
def submitted(client, db):
    """Submit through the public form; return (item, private path)."""
    from tests.integration.test_items_submit import post

    assert post(client, event_form()).status_code == 303
    item = db.scalars(select(Item)).one()
    mail = db.scalars(select(QueuedMail)).one()
    token = re.search(r"/einreichung/([A-Za-z0-9_-]+)", mail.text).group(1)
    return item, f"/einreichung/{token}"


def _version_in(html: str) -> str:
    return re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1)


def test_submitter_cannot_overwrite_an_editors_change(client, editor_client, db, submitted):
    item, path = submitted
    stale = _version_in(client.get(f"{path}/bearbeiten").get_data(as_text=True))
    editor_path = f"/redaktion/einreichungen/{item.id}/bearbeiten"
    editor_version = _version_in(editor_client.get(editor_path).get_data(as_text=True))
    assert editor_version == stale
    saved = post_to(
        editor_client, editor_path, event_form(title="Sprachcafé (Redaktion)", version=stale)
    )
    assert saved.status_code == 303

    response = post_to(
        client, f"{path}/bearbeiten", event_form(title="Sprachcafé (Einreicherin)", version=stale)
    )

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert STALE_DE in html and "Das Formular zeigt jetzt den aktuellen Stand" in html
    # The form shows what is stored now, based on the current version.
    assert 'value="Sprachcafé (Redaktion)"' in html
    assert "Sprachcafé (Einreicherin)" not in html
    db.expire_all()
    assert _version_in(html) == str(db.get(Item, item.id).version) != stale
    assert db.get(Item, item.id).title == "Sprachcafé (Redaktion)"
    edits = db.scalars(select(ItemAudit).where(ItemAudit.action == "edited")).all()
    assert [e.actor for e in edits] == ["editor"]
    # Based on the current version, the submitter's change goes through.
    again = post_to(
        client,
        f"{path}/bearbeiten",
        event_form(title="Sprachcafé (Einreicherin)", version=_version_in(html)),
    )
    assert again.status_code == 303
    db.expire_all()
    assert db.get(Item, item.id).title == "Sprachcafé (Einreicherin)"


def test_editor_cannot_overwrite_the_submitters_change(client, editor_client, db, submitted):
    item, path = submitted
    editor_path = f"/redaktion/einreichungen/{item.id}/bearbeiten"
    stale = _version_in(editor_client.get(editor_path).get_data(as_text=True))
    changed = post_to(client, f"{path}/bearbeiten", event_form(title="Neuer Titel", version=stale))
    assert changed.status_code == 303

    response = post_to(
        editor_client, editor_path, event_form(title="Titel der Redaktion", version=stale)
    )

    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert STALE_DE in html
    assert 'value="Neuer Titel"' in html
    db.expire_all()
    assert db.get(Item, item.id).title == "Neuer Titel"


def test_editor_stale_form_with_approve_publishes_nothing(client, editor_client, db, submitted):
    item, path = submitted
    editor_path = f"/redaktion/einreichungen/{item.id}/bearbeiten"
    stale = _version_in(editor_client.get(editor_path).get_data(as_text=True))
    changed = post_to(client, f"{path}/bearbeiten", event_form(title="Neu", version=stale))
    assert changed.status_code == 303
    response = post_to(editor_client, editor_path, event_form(version=stale, approve="1"))
    assert response.status_code == 409
    db.expire_all()
    assert db.get(Item, item.id).status == "submitted"


@pytest.mark.parametrize("version", [None, "", "abc", "-1"])
def test_a_form_without_a_readable_version_is_refused(client, db, submitted, version):
    item, path = submitted
    response = post_to(client, f"{path}/bearbeiten", event_form(title="Ohne", version=version))
    assert response.status_code == 409
    db.expire_all()
    assert db.get(Item, item.id).title != "Ohne"


def test_the_message_in_both_languages(app):
    with force_locale("de"):
        assert str(services.StaleItem()).startswith(STALE_DE)
    with force_locale("en"):
        english = str(services.StaleItem())
    assert english.startswith("Someone else changed this item while you were working on it")
    assert "The form now shows the current state" in english


def test_update_item_refuses_a_stale_version_and_changes_nothing(app, db):
    item = make_item(db, status="submitted", title="Vorher")
    data = services.ItemData(
        kind="event",
        title="Nachher",
        summary=item.summary,
        organiser=item.organiser,
        starts_at=item.starts_at,
        ends_at=item.ends_at,
    )
    with pytest.raises(services.StaleItem):
        services.update_item(
            db, item, data, version=item.version + 1, actor="editor", tz=TZ, now=utcnow()
        )
    assert item.title == "Vorher"
    assert [a.action for a in item.audit] == ["created"]


def test_a_change_committed_in_between_is_refused_at_the_flush(app, db):
    """Another transaction changed the row after this one read it: the flush refuses."""
    item = make_item(db, status="submitted", title="Vorher")
    version = item.version
    # What a concurrent transaction did, behind the session's back.
    db.connection().execute(
        text("UPDATE items SET version = version + 1 WHERE id = :id"), {"id": item.id}
    )
    data = services.ItemData(
        kind="event",
        title="Nachher",
        summary=item.summary,
        organiser=item.organiser,
        starts_at=item.starts_at,
        ends_at=item.ends_at,
    )
    with pytest.raises(services.StaleItem):
        services.update_item(db, item, data, version=version, actor="editor", tz=TZ, now=utcnow())
