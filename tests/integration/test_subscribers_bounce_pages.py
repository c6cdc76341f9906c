"""The editors' bounce pages: a subscriber's history, the runs, one run, putting an address back."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from newsticker.core.audit import AuditEvent
from newsticker.core.db import utcnow
from subscribers import services
from subscribers.models import BounceEvent, Subscription
from subscribers.site import site_salts
from tests.factories import keyring, make_subscriber
from tests.integration.test_subscribers_bounces import SAMPLES, complaint_for
from tests.integration.test_subscribers_editor import log_in


@pytest.fixture
def no_csrf(app):
    app.config["WTF_CSRF_ENABLED"] = False


def run_with(app, db, *messages: bytes):
    run = services.start_run(db, source="/srv/bounces", trigger="scheduler", now=utcnow())
    for index, raw in enumerate(messages):
        services.handle_message(
            db,
            run,
            raw,
            name=f"{index}.host",
            keyring=keyring(app),
            salts=site_salts(app),
            settings=services.ReturnSettings(),
            now=utcnow(),
        )
    services.finish_run(db, run, now=utcnow())
    db.commit()
    return run


def test_history_runs_and_run_report_in_plain_words(app, client, db, no_csrf):
    gone = make_subscriber(db, "inge.thomsen@example.net")
    full = make_subscriber(db, "soeren.luethje@example.org")
    make_subscriber(db, "spam@example.org", publications=("ticker", "newsletter"))
    run = run_with(
        app,
        db,
        (SAMPLES / "postfix_hard_5_1_1.eml").read_bytes(),
        (SAMPLES / "postfix_mailbox_full_4_2_2.eml").read_bytes(),
        complaint_for("spam@example.org"),
        b"",
    )
    log_in(client, db, "editor")
    client.set_cookie("newsticker_lang", "en")

    html = client.get(f"/redaktion/abonnenten/{gone.id}").get_data(as_text=True)
    assert "The mailbox does not exist." in html and "Taken off the list" in html
    assert "User unknown in virtual mailbox table" in html  # the server's own words
    assert f"/redaktion/abonnenten/rueckmeldungen/{run.id}" in html
    assert "Put back on the list" not in html  # editors cannot, admins can
    html = client.get(f"/redaktion/abonnenten/{full.id}").get_data(as_text=True)
    assert "The mailbox is full." in html and "Counted" in html

    listing = client.get("/redaktion/abonnenten/rueckmeldungen").get_data(as_text=True)
    assert "/srv/bounces" in listing

    report = client.get(f"/redaktion/abonnenten/rueckmeldungen/{run.id}")
    assert report.status_code == 200
    html = report.get_data(as_text=True)
    for expected in (
        "inge.thomsen@example.net",
        "spam@example.org",
        "The person marked our mail as spam.",
        "spam complaint",
        "3.host",
        "empty message",
        "the scheduler",
    ):
        assert expected in html, expected
    assert "soeren.luethje@example.org" not in html  # counted, not taken off
    client.set_cookie("newsticker_lang", "de")
    german = client.get(f"/redaktion/abonnenten/rueckmeldungen/{run.id}").get_data(as_text=True)
    assert "Das Postfach existiert nicht." in german and "Quarantäne" in german
    assert client.get("/redaktion/abonnenten/rueckmeldungen/99999").status_code == 404


def test_an_admin_puts_an_address_back_with_a_reason(app, client, db, no_csrf):
    subscriber = make_subscriber(db, "inge.thomsen@example.net")
    run_with(app, db, (SAMPLES / "postfix_hard_5_1_1.eml").read_bytes())
    url = f"/redaktion/abonnenten/{subscriber.id}/wieder-aufnehmen"

    log_in(client, db, "editor")
    assert client.post(url, data={"reason": "Sie hat angerufen"}).status_code == 403

    admin = app.test_client()
    log_in(admin, db, "admin")
    page = admin.get(f"/redaktion/abonnenten/{subscriber.id}").get_data(as_text=True)
    assert "Wieder in die Liste aufnehmen" in page
    for note, message in [
        ("", "Bitte geben Sie an, warum"),
        ("Zeile\nZwei", "ohne Zeilenumbrüche"),
        ("x" * 501, "höchstens 500 Zeichen"),
    ]:
        response = admin.post(url, data={"reason": note})
        assert response.status_code == 422
        assert message in response.get_data(as_text=True), message
    db.expire_all()
    assert db.scalars(select(Subscription.status)).one() == "bounced"
    assert db.scalars(select(AuditEvent)).all() == [] or all(
        e.action != "subscriber.reinstated" for e in db.scalars(select(AuditEvent))
    )

    response = admin.post(url, data={"reason": "Sie hat angerufen, das Postfach gibt es."})
    assert response.status_code == 303
    db.expire_all()
    assert db.scalars(select(Subscription.status)).one() == "confirmed"
    assert db.scalars(select(BounceEvent.cleared_at)).one() is not None
    audit = db.scalars(select(AuditEvent).where(AuditEvent.action == "subscriber.reinstated")).one()
    assert audit.actor == "admin@example.org"
    assert audit.details["note"] == "Sie hat angerufen, das Postfach gibt es."
    # Nothing left to put back: the form is gone, and a replayed post is refused.
    again = admin.post(url, data={"reason": "nochmal"})
    assert again.status_code == 422
    assert "Kein Abonnement dieser Adresse wurde wegen Unzustellbarkeit beendet." in again.get_data(
        as_text=True
    )
