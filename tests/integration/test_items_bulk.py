"""Moderation in bulk, kept rejection reasons, likely duplicates, queue filters and the trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from newsticker.core.audit import AuditEvent
from newsticker.core.mailqueue import QueuedMail
from newsticker.items.models import Item, RejectionReason
from tests.factories import DEFAULT_PASSWORD, local, make_item, make_user, today

pytestmark = pytest.mark.usefixtures("no_csrf")

BULK = "/redaktion/einreichungen/sammelentscheidung"
REASONS = "/redaktion/einreichungen/ablehnungsgruende"


def statuses(db, *items: Item) -> list[str]:
    db.expire_all()
    return [db.get(Item, item.id).status for item in items]


def mails(db) -> list[QueuedMail]:
    return list(db.scalars(select(QueuedMail).order_by(QueuedMail.id)))


def events(db, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def login_admin(client, db) -> None:
    make_user(db, "admin@example.org", role="admin")
    response = client.post(
        "/redaktion/login", data={"email": "admin@example.org", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302


# ---------------------------------------------------------------- several at once


def test_approve_several_at_once_one_mail_each_in_their_language(client, db, editor):
    first = make_item(db, status="submitted", submitter_email="a@example.org")
    second = make_item(
        db,
        status="submitted",
        title="Language café",
        submitter_email="b@example.org",
        submitter_language="en",
    )
    other = make_item(db, status="submitted", title="Nicht gewählt")
    response = client.post(BULK, data={"item": [first.id, second.id], "decision": "approve"})
    assert response.status_code == 303
    assert statuses(db, first, second, other) == ["approved", "approved", "submitted"]
    sent = {mail.to_addr: mail.subject for mail in mails(db)}
    assert sent == {
        "a@example.org": f"Veröffentlicht: {first.title}",
        "b@example.org": "Published: Language café",
    }
    trail = events(db, "item.approved")
    assert sorted(int(e.subject_id) for e in trail) == sorted([first.id, second.id])
    assert {e.actor for e in trail} == {"redaktion@example.org"}
    assert all(e.ip for e in trail)


def test_reject_several_with_a_kept_reason_and_own_words(client, db, editor):
    reason = RejectionReason(label="Kommerziell", text="Wir veröffentlichen nur Gemeinnütziges.")
    db.add(reason)
    items = [make_item(db, status="submitted", submitter_email=f"{n}@example.org") for n in "ab"]
    response = client.post(
        BULK,
        data={
            "item": [i.id for i in items],
            "decision": "reject",
            "reason_choice": str(reason.id),
            "reason": "Gern beim nächsten Mal.",
        },
    )
    assert response.status_code == 303
    db.expire_all()
    for item in items:
        stored = db.get(Item, item.id)
        assert stored.status == "rejected"
        assert stored.rejection_reason == (
            "Wir veröffentlichen nur Gemeinnütziges.\n\nGern beim nächsten Mal."
        )
    assert sorted(m.to_addr for m in mails(db)) == ["a@example.org", "b@example.org"]
    assert len(events(db, "item.rejected")) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"decision": "approve"}, "Bitte wählen Sie mindestens eine Einreichung aus."),
        ({"decision": "reject", "reason": " "}, "Bitte geben Sie eine Begründung an"),
        ({"decision": "reject", "reason_choice": "999"}, "Diesen Grund gibt es nicht"),
        ({"decision": "reject", "reason_choice": "x"}, "Diesen Grund gibt es nicht"),
        ({"decision": "publish"}, "Entscheidung"),
        ({"decision": "approve", "extra_item": "999999"}, "Es gibt keinen Eintrag mit der Nummer"),
    ],
)
def test_bad_bulk_input_changes_nothing(client, db, editor, data, message):
    item = make_item(db, status="submitted")
    payload = dict(data)
    if "extra_item" in payload:
        payload["item"] = [item.id, payload.pop("extra_item")]
    elif "reason_choice" in payload or "reason" in payload or payload["decision"] == "publish":
        payload["item"] = [item.id]
    response = client.post(BULK, data=payload)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert statuses(db, item) == ["submitted"]
    assert mails(db) == [] and events(db, "item.approved") == []


def test_one_that_cannot_be_decided_keeps_the_whole_batch_undone(client, db, editor):
    fine = make_item(db, status="submitted", title="Geht")
    over = make_item(
        db,
        status="submitted",
        title="Schon vorbei",
        starts_at=local(today() - timedelta(days=3), 10),
        ends_at=local(today() - timedelta(days=3), 12),
    )
    response = client.post(BULK, data={"item": [fine.id, over.id], "decision": "approve"})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert f"#{over.id} „Schon vorbei“" in html and "schon vorbei" in html
    assert statuses(db, fine, over) == ["submitted", "submitted"]
    assert mails(db) == [] and events(db, "item.approved") == []


def test_the_queue_offers_checkboxes_with_labels(client, db, editor):
    item = make_item(db, status="submitted", title="Sprachcafé")
    html = client.get("/redaktion/einreichungen").get_data(as_text=True)
    assert f'<input type="checkbox" name="item" value="{item.id}" id="item-{item.id}">' in html
    assert f'for="item-{item.id}"' in html and "„Sprachcafé“ auswählen" in html
    assert 'data-label="Status"' in html


# ---------------------------------------------------------------- filters


def test_filter_by_type(client, db, editor):
    make_item(db, status="submitted", title="Ein Fest", kind="event")
    make_item(
        db,
        status="submitted",
        title="Eine Nachricht",
        kind="announcement",
        starts_at=None,
        ends_at=None,
        visible_until=today() + timedelta(days=20),
    )
    html = client.get("/redaktion/einreichungen?status=submitted&kind=announcement").get_data(
        as_text=True
    )
    assert "Eine Nachricht" in html and "Ein Fest" not in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=gibtsnicht", "„gibtsnicht“ ist keine der Auswahlmöglichkeiten."),
        ("kind=party", "„party“ ist keine der Auswahlmöglichkeiten."),
        ("field_of_action=nonsense", "„nonsense“ ist keine der Auswahlmöglichkeiten."),
        ("date_from=gestern", "„gestern“ ist kein Datum."),
    ],
)
def test_nonsense_filters_get_a_message_and_are_ignored(client, db, editor, query, message):
    make_item(db, status="submitted", title="Wartet")
    response = client.get(f"/redaktion/einreichungen?{query}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert "Wartet" in html


# ---------------------------------------------------------------- kept reasons


def test_reasons_are_kept_by_admins_only(client, db, editor):
    assert client.get(REASONS).status_code == 403
    assert client.post(REASONS, data={"label": "X", "text": "Y"}).status_code == 403
    assert db.scalars(select(RejectionReason)).all() == []


def test_admin_adds_changes_and_deletes_a_reason(client, db):
    login_admin(client, db)
    response = client.post(REASONS, data={"label": "Außerhalb", "text": "Nur aus unserer Stadt."})
    assert response.status_code == 303
    (reason,) = db.scalars(select(RejectionReason)).all()
    assert (reason.label, reason.text) == ("Außerhalb", "Nur aus unserer Stadt.")
    reason_id = reason.id
    html = client.get(REASONS).get_data(as_text=True)
    assert "Außerhalb" in html
    response = client.post(
        f"{REASONS}/{reason_id}", data={"label": "Außerhalb", "text": "Nur Angebote hier."}
    )
    assert response.status_code == 303
    db.expire_all()
    assert db.get(RejectionReason, reason_id).text == "Nur Angebote hier."
    assert client.post(f"{REASONS}/{reason_id}/loeschen").status_code == 303
    db.expire_all()
    assert db.get(RejectionReason, reason_id) is None
    events = db.scalars(select(AuditEvent).order_by(AuditEvent.id))
    assert [e.action for e in events if not e.action.startswith("auth.")] == [
        "reason.added",
        "reason.changed",
        "reason.deleted",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"label": "", "text": "Text"}, "Bitte geben Sie dem Grund einen Namen."),
        ({"label": "Name", "text": ""}, "Bitte schreiben Sie den Text"),
        ({"label": "doppelt", "text": "Text"}, "Es gibt schon einen Grund mit diesem Namen."),
    ],
)
def test_bad_reasons_are_refused(client, db, data, message):
    login_admin(client, db)
    db.add(RejectionReason(label="Doppelt", text="schon da"))
    db.flush()
    response = client.post(REASONS, data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert len(db.scalars(select(RejectionReason)).all()) == 1


def test_reject_one_with_a_kept_reason(client, db, editor):
    reason = RejectionReason(label="Kommerziell", text="Nur Gemeinnütziges.")
    db.add(reason)
    item = make_item(db, status="submitted")
    page = client.get(f"/redaktion/einreichungen/{item.id}").get_data(as_text=True)
    assert f'<option value="{reason.id}">Kommerziell</option>' in page
    response = client.post(
        f"/redaktion/einreichungen/{item.id}/ablehnen", data={"reason_choice": str(reason.id)}
    )
    assert response.status_code == 303
    db.expire_all()
    assert db.get(Item, item.id).rejection_reason == "Nur Gemeinnütziges."


def test_reject_one_with_an_unknown_reason_changes_nothing(client, db, editor):
    item = make_item(db, status="submitted")
    response = client.post(
        f"/redaktion/einreichungen/{item.id}/ablehnen", data={"reason_choice": "4711"}
    )
    assert response.status_code == 422
    assert "Diesen Grund gibt es nicht" in response.get_data(as_text=True)
    assert statuses(db, item) == ["submitted"] and mails(db) == []


# ---------------------------------------------------------------- likely duplicates


def test_likely_duplicates_are_suggested_with_one_click_merge(client, db, editor):
    day = today() + timedelta(days=12)
    kept = make_item(
        db, title="Interkulturelles Frühstück", starts_at=local(day, 9), ends_at=local(day, 11)
    )
    dupe = make_item(
        db,
        status="submitted",
        title="Interkulturelles Frühstück!",
        starts_at=local(day, 10),
        ends_at=local(day, 12),
        link="https://example.org/fruehstueck",
        submitter_email="zweite@example.org",
    )
    make_item(
        db,
        title="Interkulturelles Frühstück",
        starts_at=local(day + timedelta(days=7), 9),
        ends_at=local(day + timedelta(days=7), 11),
    )
    make_item(
        db,
        title="Interkulturelles Frühstück",
        starts_at=local(day, 9),
        ends_at=local(day, 11),
        place_name="Rathaus",
    )
    make_item(db, title="Ganz etwas anderes", starts_at=local(day, 9), ends_at=local(day, 11))
    html = client.get(f"/redaktion/einreichungen/{dupe.id}").get_data(as_text=True)
    section = html[html.index('id="likely-title"') : html.index("</section>")]
    assert section.count('name="target"') == 2
    assert f'<input type="hidden" name="target" value="{kept.id}">' in section
    assert f"#{dupe.id} in #{kept.id} zusammenführen" in section
    response = client.post(
        f"/redaktion/einreichungen/{dupe.id}/zusammenfuehren", data={"target": str(kept.id)}
    )
    assert response.status_code == 303
    db.expire_all()
    assert db.get(Item, dupe.id).duplicate_of_id == kept.id
    assert db.get(Item, kept.id).link == "https://example.org/fruehstueck"
    (event,) = events(db, "item.merged")
    assert event.details["into"] == kept.id and event.subject_id == str(dupe.id)


@pytest.mark.parametrize("target", ["self", "999999", "abc"])
def test_bad_merges_change_nothing(client, db, editor, target):
    item = make_item(db, status="submitted")
    value = str(item.id) if target == "self" else target
    response = client.post(
        f"/redaktion/einreichungen/{item.id}/zusammenfuehren", data={"target": value}
    )
    assert response.status_code in (409, 422)
    assert statuses(db, item) == ["submitted"]
    assert mails(db) == [] and events(db, "item.merged") == []
