"""Consent proof: the confirmation mail as sent, kept for years, printable and downloadable.

The proof is taken when the mail is queued; these tests send the mail through a real SMTP
catcher and compare, purge the transactional mail queue and print the proof afterwards,
and follow the proof through retention, unconfirmed sign-ups and erasure.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select

from newsticker import jobs
from newsticker.core.db import utcnow
from newsticker.core.mailqueue import QueuedMail, purge_old_mail
from newsticker.scheduling import in_unit_of_work
from subscribers import services
from subscribers.addresses import suppression_hash
from subscribers.models import ConsentEvent, ConsentProof, Subscriber, Suppression
from subscribers.site import site_salts
from tests.factories import (
    confirm_token_from,
    last_mail,
    subscribe_form,
)
from tests.integration.test_subscribers_editor import log_in


@pytest.fixture
def no_csrf(app):
    app.config["WTF_CSRF_ENABLED"] = False


def sign_up_and_confirm(client, db, *, language: str = "de", confirm: bool = True) -> Subscriber:
    client.set_cookie("newsticker_lang", language)
    response = client.post(
        "/abonnieren",
        data=subscribe_form(email="beweis@example.org", language=language),
        environ_base={"REMOTE_ADDR": "10.7.0.1"},
    )
    assert response.status_code == 303
    db.expire_all()
    token = confirm_token_from(last_mail(db).text)
    if confirm:
        response = client.post(f"/bestaetigen/{token}", environ_base={"REMOTE_ADDR": "10.7.0.2"})
        assert response.status_code == 303
    db.expire_all()
    return db.scalars(select(Subscriber)).one()


def test_the_proof_is_the_mail_as_the_relay_received_it(client, db, caught, no_csrf):
    subscriber = sign_up_and_confirm(client, db)
    proof = db.scalars(select(ConsentProof)).one()
    (mail,) = caught()
    received = mail.message.as_bytes()
    # The catcher adds two envelope lines and stores LF line ends.
    sent = b"\n".join(received.split(b"\n")[2:])
    assert bytes(proof.raw_message).replace(b"\r\n", b"\n") == sent
    assert (proof.address, proof.publications) == ("beweis@example.org", ["ticker"])
    assert (proof.requested_ip, proof.confirmed_ip) == ("10.7.0.1", "10.7.0.2")
    assert proof.confirmed_at is not None and proof.subscriber_id == subscriber.id
    assert (proof.consent_language, proof.consent_text_version) == ("de", "2026-01")
    logged = db.scalars(select(ConsentEvent).where(ConsentEvent.action == "requested")).one()
    assert (logged.consent_language, logged.message_id) == ("de", proof.message_id)


def test_a_retried_mail_is_still_the_same_bytes(app, db):
    from newsticker.core.mailqueue import raw_message

    mail = QueuedMail(
        purpose="subscription_confirm",
        to_addr="a@example.org",
        sender="Newsticker <newsticker@example.org>",
        subject="Bitte bestätigen",
        text="Text",
        html="<p>HTML</p>",
        headers={},
        message_id="<fixed@example.org>",
        created_at=utcnow() - timedelta(hours=3),
    )
    first = raw_message(mail)
    assert raw_message(mail) == first  # the Date is the queueing time, the boundary fixed
    assert b"Date: " in first and b"=_" in first


def test_proof_survives_the_mail_queue_purge_and_prints_completely(client, db, caught, no_csrf):
    subscriber = sign_up_and_confirm(client, db, language="en")
    assert purge_old_mail(db, utcnow() + timedelta(days=1)) == 1
    db.commit()
    assert db.scalars(select(QueuedMail)).all() == []
    proof = db.scalars(select(ConsentProof)).one()

    log_in(client, db, "admin")
    client.set_cookie("newsticker_lang", "de")
    page = client.get(f"/redaktion/abonnenten/{subscriber.id}/einwilligung/{proof.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # The consent text in the language the person saw: English, on a German page.
    assert "I would like to receive the publications I ticked by e-mail." in html
    assert "angezeigt auf Englisch" in html
    for expected in (
        "beweis@example.org",
        "10.7.0.1",
        "10.7.0.2",
        proof.message_id.replace("<", "&lt;").replace(">", "&gt;"),
        hashlib.sha256(bytes(proof.raw_message)).hexdigest(),
        "/bestaetigen/",  # the mail's text, with its (used) link
    ):
        assert expected in html, expected

    download = client.get(f"/redaktion/abonnenten/{subscriber.id}/einwilligung/{proof.id}.zip")
    assert download.status_code == 200
    assert download.mimetype == "application/zip"
    assert "attachment" in download.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(download.data))
    assert sorted(archive.namelist()) == ["confirmation.eml", "proof.html"]
    assert archive.read("confirmation.eml") == bytes(proof.raw_message)
    summary = archive.read("proof.html").decode()
    assert "I would like to receive" in summary and "10.7.0.2" in summary

    consent = client.get(f"/redaktion/abonnenten/{subscriber.id}/einwilligung").get_data(
        as_text=True
    )
    assert f"/einwilligung/{proof.id}.zip" in consent


def test_proof_pages_are_for_admins_and_the_right_subscriber(app, client, db, no_csrf):
    subscriber = sign_up_and_confirm(client, db)
    proof = db.scalars(select(ConsentProof)).one()
    page = f"/redaktion/abonnenten/{subscriber.id}/einwilligung/{proof.id}"
    log_in(client, db, "editor")
    assert client.get(page).status_code == 403
    assert client.get(f"{page}.zip").status_code == 403
    admin = app.test_client()
    log_in(admin, db, "admin")
    other = f"/redaktion/abonnenten/{subscriber.id + 1}/einwilligung/{proof.id}"
    assert admin.get(other).status_code == 404
    assert admin.get(f"{page[: page.rindex('/')]}/{proof.id + 1}").status_code == 404


def test_proof_is_kept_while_subscribed_and_years_after(app, client, db, no_csrf):
    subscriber = sign_up_and_confirm(client, db)
    now = utcnow()
    years = app.config["NEWSTICKER_SETTINGS"].retention.consent_proof_years
    later = now + timedelta(days=365 * years + 30)
    assert services.purge_consent_proofs(db, now=later, years=years) == 0  # still subscribed
    ended = now + timedelta(days=60)
    services.unsubscribe(db, subscriber.id, "ticker", channel="test", now=ended)
    assert services.purge_consent_proofs(db, now=later, years=years) == 0  # ended < 3 years ago
    much_later = ended + timedelta(days=366 * years)
    assert services.purge_consent_proofs(db, now=much_later, years=years) == 1
    assert db.scalars(select(ConsentProof)).all() == []


def test_the_nightly_job_keeps_the_proof_of_a_current_subscription(app, client, db, no_csrf):
    sign_up_and_confirm(client, db)
    db.commit()
    assert in_unit_of_work(app, jobs.purge_consent_proofs)() == 0
    assert len(db.scalars(select(ConsentProof)).all()) == 1


def test_unconfirmed_proof_goes_with_the_unconfirmed_sign_up(client, db, no_csrf):
    sign_up_and_confirm(client, db, confirm=False)
    assert db.scalars(select(ConsentProof.confirmed_at)).one() is None
    run = services.purge_pending_signups(db, now=utcnow() + timedelta(days=8), days=7)
    assert run.subscribers == 1
    assert db.scalars(select(ConsentProof)).all() == []


def test_erasure_deletes_the_proof_and_keeps_the_suppression_hash(app, client, db, no_csrf):
    subscriber = sign_up_and_confirm(client, db)
    salts = site_salts(app)
    services.erase_subscriber(db, subscriber, salts=salts)
    db.expire_all()
    assert db.scalars(select(ConsentProof)).all() == []
    assert db.scalars(select(Suppression.digest)).all() == [
        suppression_hash("beweis@example.org", salts[0])
    ]


def test_data_copy_names_the_proof_but_not_its_bytes(client, db, no_csrf):
    subscriber = sign_up_and_confirm(client, db)
    data = services.subscriber_data(db, subscriber)
    (entry,) = data["consent_proofs"]
    assert entry["confirmed_ip"] == "10.7.0.2" and entry["consent_language"] == "de"
    assert "raw_message" not in entry
