"""The editors' subscriber pages: access, search, counts, growth, add, block, import, consent, erase."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from newsticker.core.db import utcnow
from subscribers import services
from subscribers.csvio import demo_import_rows
from subscribers.models import (
    ConsentEvent,
    Subscriber,
    SubscriberImport,
    Subscription,
    Suppression,
)
from subscribers.site import site_salts
from tests.factories import (
    DEFAULT_PASSWORD,
    counts,
    make_subscriber,
    make_user,
    subscribe_form,
)


def log_in(client, db, role: str) -> None:
    email = f"{role}@example.org"
    make_user(db, email, role=role)
    db.commit()
    app = client.application
    enabled = app.config.get("WTF_CSRF_ENABLED", True)
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/redaktion/login", data={"email": email, "password": DEFAULT_PASSWORD})
    app.config["WTF_CSRF_ENABLED"] = enabled
    assert response.status_code == 302, response.get_data(as_text=True)


@pytest.fixture
def editor(client, db):
    log_in(client, db, "editor")


@pytest.fixture
def admin(client, db):
    log_in(client, db, "admin")


def test_pages_need_a_login(client, db):
    subscriber = make_subscriber(db)
    db.commit()
    for url in (
        "/redaktion/abonnenten",
        f"/redaktion/abonnenten/{subscriber.id}",
        "/redaktion/abonnenten/import",
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert "/redaktion/login" in response.headers["Location"]


def test_admin_pages_are_refused_to_editors(client, db, editor):
    subscriber = make_subscriber(db)
    db.commit()
    for url in (
        f"/redaktion/abonnenten/{subscriber.id}/einwilligung",
        f"/redaktion/abonnenten/{subscriber.id}/loeschen",
        "/redaktion/abonnenten/export.csv?publication=ticker",
    ):
        assert client.get(url).status_code == 403
    app = client.application
    app.config["WTF_CSRF_ENABLED"] = False
    assert (
        client.post(
            f"/redaktion/abonnenten/{subscriber.id}/loeschen", data={"sure": "y"}
        ).status_code
        == 403
    )
    assert db.get(Subscriber, subscriber.id) is not None


def test_index_counts_chart_and_search(client, db, editor):
    make_subscriber(
        db, "anna@example.org", name="Anna Petersen", publications=("ticker", "newsletter")
    )
    make_subscriber(db, "ben@example.org", publications=("ticker",), status="pending")
    make_subscriber(db, "carla@example.org", publications=("newsletter",), status="unsubscribed")
    make_subscriber(db, "dora_x@example.org", blocked=True)
    db.commit()
    response = client.get("/redaktion/abonnenten")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Abonnements nach Publikation" in html
    assert re.search(r'aria-label="Newsticker Engagement &amp; Zusammenleben, Bestätigt: 2"', html)
    assert "<svg" in html and 'role="img"' in html and "<title" in html
    assert "4 Personen" in html
    assert response.headers["Cache-Control"] == "no-store"

    def found(**args):
        html = client.get("/redaktion/abonnenten", query_string=args).get_data(as_text=True)
        return sorted(set(re.findall(r">([a-z_]+@example\.org)</a>", html)))

    assert found(q="PETERSEN") == ["anna@example.org"]
    assert found(q="_x") == ["dora_x@example.org"]  # LIKE wildcards are taken literally
    assert found(status="pending") == ["ben@example.org"]
    assert found(publication="newsletter", status="unsubscribed") == ["carla@example.org"]
    assert found(status="blocked") == ["dora_x@example.org"]


def test_growth_counts_subscriptions_and_withdrawals_per_week(app, db):
    make_subscriber(db, "a@example.org")
    make_subscriber(db, "b@example.org", publications=("ticker", "newsletter"))
    services.unsubscribe(
        db, db.scalars(select(Subscriber.id)).first(), "ticker", channel="editor", now=utcnow()
    )
    weeks = services.growth_by_week(
        db, weeks=4, now=utcnow(), tz=app.config["NEWSTICKER_SETTINGS"].tz
    )
    assert len(weeks) == 4
    assert (weeks[-1].subscribed, weeks[-1].withdrawn) == (3, 1)
    assert sum(w.subscribed for w in weeks[:-1]) == 0


def test_add_by_hand_needs_a_consent_note(client, db, editor, no_csrf):
    data = {
        "email": "neu@example.org",
        "publications": ["ticker"],
        "language": "de",
        "consent_note": "",
    }
    response = client.post("/redaktion/abonnenten/neu", data=data)
    assert response.status_code == 422
    assert "wie und wann" in response.get_data(as_text=True)
    assert counts(db)["subscribers"] == 0

    data["consent_note"] = "Hat sich am Infostand in die Liste eingetragen, 12.06.2027"
    response = client.post("/redaktion/abonnenten/neu", data=data)
    assert response.status_code == 303
    db.expire_all()
    subscriber = db.scalars(select(Subscriber)).one()
    assert [s.status for s in subscriber.subscriptions] == ["confirmed"]
    event = db.scalars(select(ConsentEvent)).one()
    assert (event.action, event.actor, event.note) == (
        "added",
        "editor@example.org",
        data["consent_note"],
    )

    response = client.post("/redaktion/abonnenten/neu", data=data)
    assert response.status_code == 422
    assert "bereits angemeldet" in response.get_data(as_text=True)


def test_add_by_hand_with_confirmation_by_mail(client, db, editor, no_csrf):
    data = {
        "email": "bitte@example.org",
        "publications": ["newsletter"],
        "language": "en",
        "consent_note": "Asked at the round table to be added",
        "ask_confirmation": "y",
    }
    assert client.post("/redaktion/abonnenten/neu", data=data).status_code == 303
    db.expire_all()
    assert db.scalars(select(Subscription.status)).one() == "pending"
    event = db.scalars(select(ConsentEvent)).one()
    assert (event.action, event.channel, event.actor) == (
        "requested",
        "editor",
        "editor@example.org",
    )
    assert counts(db)["mails"] == 1


def test_add_by_hand_refuses_erased_and_unsubscribed_addresses(app, client, db, editor, no_csrf):
    weg = make_subscriber(db, "weg@example.org", status="unsubscribed")
    geloescht = make_subscriber(db, "geloescht@example.org")
    with app.test_request_context():
        services.erase_subscriber(db, geloescht, salts=site_salts())
    db.commit()
    note = "Telefonisch um Aufnahme gebeten"
    for email, fragment in (
        ("Geloescht@example.org", "gelöscht"),
        ("weg@example.org", "abgemeldet"),
    ):
        data = {"email": email, "publications": ["ticker"], "language": "de", "consent_note": note}
        response = client.post("/redaktion/abonnenten/neu", data=data)
        assert response.status_code == 422
        assert fragment in response.get_data(as_text=True)
    db.expire_all()
    assert [s.status for s in db.get(Subscriber, weg.id).subscriptions] == ["unsubscribed"]


def test_block_and_unblock(client, db, editor, no_csrf):
    subscriber = make_subscriber(db, "laestig@example.org")
    db.commit()
    url = f"/redaktion/abonnenten/{subscriber.id}"
    assert client.post(url + "/sperren", data={"note": "Spam-Falle"}).status_code == 303
    db.expire_all()
    assert list(services.recipient_rows(db, ["ticker"])) == []
    assert "Gesperrt seit" in client.get(url).get_data(as_text=True)
    # A blocked address cannot subscribe again through the form.
    client.post(
        "/abonnieren", data=subscribe_form(email="laestig@example.org", publications=["newsletter"])
    )
    db.expire_all()
    assert counts(db)["mails"] == 0
    assert client.post(url + "/entsperren").status_code == 303
    db.expire_all()
    assert len(list(services.recipient_rows(db, ["ticker"]))) == 1
    actions = db.scalars(select(ConsentEvent.action).order_by(ConsentEvent.id)).all()
    assert actions == ["added", "blocked", "unblocked"]


def test_block_refuses_a_reason_with_line_breaks(client, db, editor, no_csrf):
    subscriber = make_subscriber(db)
    db.commit()
    response = client.post(
        f"/redaktion/abonnenten/{subscriber.id}/sperren", data={"note": "a\r\nb"}
    )
    assert response.status_code == 422
    db.expire_all()
    assert db.get(Subscriber, subscriber.id).blocked_at is None


def test_state_changing_posts_need_csrf(client, db, editor):
    subscriber = make_subscriber(db)
    db.commit()
    url = f"/redaktion/abonnenten/{subscriber.id}"
    assert client.post(url + "/sperren", data={"note": ""}).status_code == 400
    assert client.post(url + "/abmelden/ticker").status_code == 400
    data = {
        "email": "x@example.org",
        "publications": ["ticker"],
        "language": "de",
        "consent_note": "x" * 20,
    }
    assert client.post("/redaktion/abonnenten/neu", data=data).status_code == 400
    db.expire_all()
    assert db.get(Subscriber, subscriber.id).blocked_at is None
    assert counts(db)["subscribers"] == 1


def test_editor_ends_a_subscription_on_request(client, db, editor, no_csrf):
    subscriber = make_subscriber(db, publications=("ticker", "newsletter"))
    db.commit()
    response = client.post(f"/redaktion/abonnenten/{subscriber.id}/abmelden/newsletter")
    assert response.status_code == 303
    db.expire_all()
    event = db.scalars(select(ConsentEvent).where(ConsentEvent.action == "withdrawn")).one()
    assert (event.publication, event.channel, event.actor) == (
        "newsletter",
        "editor",
        "editor@example.org",
    )


def test_consent_log_is_printable_proof(client, db, admin, no_csrf):
    client.post(
        "/abonnieren",
        data=subscribe_form(email="beweis@example.org"),
        environ_base={"REMOTE_ADDR": "192.0.2.44"},
    )
    db.expire_all()
    from tests.factories import confirm_token_from, last_mail

    mail = last_mail(db)
    client.post(
        f"/bestaetigen/{confirm_token_from(mail.text)}", environ_base={"REMOTE_ADDR": "192.0.2.45"}
    )
    db.expire_all()
    subscriber = db.scalars(select(Subscriber)).one()
    response = client.get(f"/redaktion/abonnenten/{subscriber.id}/einwilligung")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for expected in (
        "Einwilligungsnachweis",
        "beweis@example.org",
        "Abonnement angefordert",
        "Abonnement bestätigt",
        "192.0.2.44",
        "192.0.2.45",
        "http://localhost/abonnieren",
        "Fassung 2026-01",
        mail.message_id.replace("<", "&lt;").replace(">", "&gt;"),
        "Ich möchte die angekreuzten Publikationen",
        "subs-print-page",
        "Gedruckt am",
    ):
        assert expected in html, expected


def test_admin_erases_a_person(client, db, admin, no_csrf):
    subscriber_id = make_subscriber(db, "loeschen@example.org").id
    db.commit()
    url = f"/redaktion/abonnenten/{subscriber_id}/loeschen"
    assert client.post(url, data={}).status_code == 422
    assert client.post(url, data={"sure": "y"}).status_code == 303
    db.expire_all()
    assert counts(db) == {"subscribers": 0, "subscriptions": 0, "events": 0, "mails": 0}
    assert db.scalar(select(func.count()).select_from(Suppression)) == 1
    assert client.get(f"/redaktion/abonnenten/{subscriber_id}").status_code == 404


def test_admin_exports_csv(client, db, admin):
    make_subscriber(db, "a@example.org", name="=cmd|' /C calc'!A0")
    db.commit()
    response = client.get("/redaktion/abonnenten/export.csv?publication=ticker")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "a@example.org,'=cmd|' /C calc'!A0,de,confirmed" in response.get_data(as_text=True)
    assert client.get("/redaktion/abonnenten/export.csv?publication=nope").status_code == 404


def upload(client, data: bytes, name: str = "verteiler.csv", **fields):
    form = {
        "file": (io.BytesIO(data), name),
        "publication": "ticker",
        "consent_note": "Verteiler der Stabsstelle 2020-2025",
        **fields,
    }
    return client.post(
        "/redaktion/abonnenten/import", data=form, content_type="multipart/form-data"
    )


def test_web_import_previews_then_imports(client, db, editor, no_csrf):
    data, _good, _bad = demo_import_rows()
    response = upload(client, data)
    assert response.status_code == 303
    preview = client.get(response.headers["Location"])
    html = preview.get_data(as_text=True)
    assert "470 Adressen importieren" in html
    will, wont = html.split("Nicht importierte Zeilen")
    # The rows that will be imported come first (the first 200 of 470), then the 30 others.
    assert "Zu importierende Zeilen" in will
    assert will.count("<tr><td>") == 200 and "die ersten 200 Zeilen" in will
    assert wont.count("<tr><td>") == 30
    assert counts(db)["subscribers"] == 0  # nothing imported yet

    response = client.post(response.headers["Location"])
    assert response.status_code == 303
    db.expire_all()
    assert counts(db)["subscribers"] == 470
    record = db.scalars(select(SubscriberImport)).one()
    assert (record.status, record.imported, record.rejected, record.data) == ("done", 470, 30, None)
    assert record.actor == "editor@example.org"
    report = client.get(f"/redaktion/abonnenten/import/{record.id}/bericht.csv")
    assert report.status_code == 200
    assert len(list(csv.reader(io.StringIO(report.get_data(as_text=True))))) == 31
    # Confirming again imports nothing twice.
    client.post(f"/redaktion/abonnenten/import/{record.id}")
    db.expire_all()
    assert counts(db)["subscribers"] == 470


def test_web_import_preview_lists_each_row_that_will_be_imported(client, db, editor, no_csrf):
    data = (
        "E-Mail;Name;Sprache\r\n"
        "anna@example.org;Anna;de\r\n"
        "kaputt;Bernd;de\r\n"
        "cem@example.org;Cem Yılmaz;en\r\n"
    ).encode()
    response = upload(client, data)
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    will, wont = html.split("Nicht importierte Zeilen")
    assert will.count("<tr><td>") == 2
    assert '<tr><td>2</td><td class="subs-value">anna@example.org</td>' in will
    assert "Cem Yılmaz" in will and "English" in will
    assert "kaputt" not in will and "kaputt" in wont
    assert counts(db)["subscribers"] == 0


def test_web_import_discard(client, db, editor, no_csrf):
    response = upload(client, b"email\na@example.org\n")
    url = response.headers["Location"]
    assert client.post(url + "/verwerfen").status_code == 303
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(SubscriberImport)) == 0
    assert counts(db)["subscribers"] == 0


@pytest.mark.parametrize(
    ("data", "fields", "fragment"),
    [
        (b"", {}, "Die Datei ist leer."),
        (b"Name\nAnna\n", {}, "„E-Mail“"),
        (b"email\na@example.org\n", {"consent_note": ""}, "eingewilligt"),
        (b"email\na@example.org\n", {"publication": "geheim"}, "Publikation"),
    ],
)
def test_web_import_bad_input(client, db, editor, no_csrf, data, fields, fragment):
    response = upload(client, data, **fields)
    assert response.status_code == 422
    assert fragment in response.get_data(as_text=True)
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(SubscriberImport)) == 0


def test_web_import_of_a_huge_file_gets_413(client, db, editor, no_csrf):
    # The body is built by hand: the test client would spool it to a file it never closes.
    boundary = "grenze"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="gross.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + b"email\r\n"
        + b"a@example.org\r\n" * (13 * 1024 * 1024 // 15)
        + (f"\r\n--{boundary}--\r\n").encode()
    )
    response = client.post(
        "/redaktion/abonnenten/import",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 413
    assert db.scalar(select(func.count()).select_from(SubscriberImport)) == 0


def test_web_import_needs_csrf(client, db, editor):
    assert upload(client, b"email\na@example.org\n").status_code == 400
    assert db.scalar(select(func.count()).select_from(SubscriberImport)) == 0
