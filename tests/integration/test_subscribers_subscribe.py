"""The subscription form and the double opt-in: the good path and every bad input."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from newsticker.core.db import utcnow
from newsticker.core.mailqueue import QueuedMail
from subscribers.models import (
    Confirmation,
    ConsentEvent,
    Subscriber,
    Subscription,
)
from tests.factories import (
    confirm_token_from,
    counts,
    last_mail,
    make_subscriber,
    subscribe_form,
)

NOTHING = {"subscribers": 0, "subscriptions": 0, "events": 0, "mails": 0}


def post(client, ip: str = "10.1.0.1", **overrides):
    return client.post(
        "/abonnieren", data=subscribe_form(**overrides), environ_base={"REMOTE_ADDR": ip}
    )


def test_form_is_labelled_german_and_ticks_nothing(client):
    html = client.get("/abonnieren").get_data(as_text=True)
    assert '<html lang="de"' in html and "novalidate" in html
    for name in ("email", "name", "publications-0", "publications-1", "language-0"):
        assert f'for="{name}"' in html, f"{name} has no label"
    assert "Newsticker Engagement &amp; Zusammenleben" in html
    assert "Integration in Flensburg" in html
    assert "checked" not in html.split('id="publications"')[1].split("</ul>")[0]
    assert 'class="subs-hp" aria-hidden="true"' in html
    assert "Datenschutz" in html
    assert "style=" not in html


def test_sign_up_is_stored_logged_and_mailed(client, db, caught, no_csrf):
    response = post(client, email="  Neu@Example.ORG ", publications=["ticker", "newsletter"])
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/abonnieren/danke")

    db.expire_all()
    subscriber = db.scalars(select(Subscriber)).one()
    assert (subscriber.email, subscriber.email_key) == ("Neu@example.org", "neu@example.org")
    statuses = {s.publication: s.status for s in subscriber.subscriptions}
    assert statuses == {"ticker": "pending", "newsletter": "pending"}
    mail = db.scalars(select(QueuedMail)).one()
    assert mail.purpose == "subscription_confirm" and mail.to_addr == "Neu@example.org"
    events = db.scalars(select(ConsentEvent).order_by(ConsentEvent.publication)).all()
    assert [e.publication for e in events] == ["newsletter", "ticker"]
    for event in events:
        assert event.action == "requested"
        assert event.ip == "10.1.0.1"
        assert event.form_url == "http://localhost/abonnieren"
        assert event.consent_text_version == "2026-01"
        assert event.message_id == mail.message_id
        assert event.mail_queued_at is not None

    (sent,) = caught()
    assert sent.subject == "Bitte bestätigen Sie Ihr Abonnement"
    text = sent.body("plain")
    assert "Newsticker Engagement & Zusammenleben" in text
    # The name from the form is never echoed to an unconfirmed address.
    assert "Neue Leserin" not in text and "Neue Leserin" not in sent.body("html")
    token = confirm_token_from(text)
    assert token not in {c.token_digest for c in db.scalars(select(Confirmation))}

    thanks = client.get("/abonnieren/danke").get_data(as_text=True)
    assert "Neu@example.org" in thanks


def test_confirmation_mail_in_english(client, caught, no_csrf):
    post(client, language="en")
    assert caught()[0].subject == "Please confirm your subscription"


def test_same_answer_whatever_the_address_is(client, db, no_csrf):
    make_subscriber(db, "dabei@example.org", publications=("ticker",))
    make_subscriber(db, "gesperrt@example.org", blocked=True)
    make_subscriber(db, "wartet@example.org", status="pending")
    db.commit()
    answers = set()
    for email in ("frisch@example.org", "dabei@example.org", "gesperrt@example.org",
                  "wartet@example.org"):  # fmt: skip
        response = post(client, email=email)
        answers.add((response.status_code, response.headers["Location"]))
    assert answers == {(303, "/abonnieren/danke")}


def test_confirmed_subscriber_gets_a_notice_not_a_confirmation(client, db, caught, no_csrf):
    make_subscriber(db, "dabei@example.org", publications=("ticker",))
    db.commit()
    post(client, email="DABEI@example.org", publications=["ticker"])
    (mail,) = caught()
    assert mail.subject == "Sie haben dieses Abonnement bereits"
    assert "/einstellungen/" in mail.body("plain")


def test_blocked_address_gets_nothing(client, db, no_csrf):
    make_subscriber(db, "gesperrt@example.org", blocked=True)
    db.commit()
    before = counts(db)
    post(client, email="gesperrt@example.org", publications=["newsletter"])
    db.expire_all()
    assert counts(db) == before


def test_burst_against_one_address_sends_one_mail_a_day(client, db, no_csrf):
    spellings = ["ziel@example.org", "ZIEL@example.org", "Ziel@Example.org", " ziel@example.org"]
    for number in range(12):
        response = post(client, ip=f"10.2.0.{number}", email=spellings[number % 4])
        assert response.status_code == 303
    db.expire_all()
    assert counts(db)["mails"] == 1
    assert counts(db)["subscribers"] == 1


def test_a_day_later_a_new_mail_may_go(client, db, no_csrf):
    post(client, email="ziel@example.org")
    db.expire_all()
    mail = last_mail(db)
    mail.created_at = utcnow() - timedelta(hours=25)
    db.commit()
    post(client, email="ziel@example.org")
    db.expire_all()
    assert counts(db)["mails"] == 2


@pytest.mark.parametrize(
    ("email", "fragment"),
    [
        ("kein-at.example.org", "genau ein @"),
        ("zwei@@example.org", "genau ein @"),
        ("mit leer@example.org", "Leerzeichen"),
        ("punkt@example.org.", "Punkt enden"),
        ("ohne@punkt", "Domain mit Punkt"),
        ("a" * 290 + "@example.org", "zu lang"),
        ("", "E-Mail-Adresse ein"),
    ],
)
def test_invalid_addresses_are_refused_with_a_reason(client, db, no_csrf, email, fragment):
    response = post(client, email=email)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert fragment in html, html[html.find("error-summary") :][:600]
    assert 'id="error-summary"' in html
    assert counts(db) == NOTHING


@pytest.mark.parametrize("name", ["Eva\r\nBcc: alle@example.net", "Eva\nMüller", "Eva\u202eMüller"])
def test_line_breaks_in_the_name_are_refused(client, db, no_csrf, name):
    response = post(client, name=name)
    assert response.status_code == 422
    assert "ohne Zeilenumbrüche" in response.get_data(as_text=True)
    assert counts(db) == NOTHING


def test_overlong_name_is_refused(client, db, no_csrf):
    response = post(client, name="N" * 201)
    assert response.status_code == 422
    assert counts(db) == NOTHING


def test_a_publication_must_be_chosen(client, db, no_csrf):
    response = post(client, publications=[])
    assert response.status_code == 422
    assert "mindestens eine" in response.get_data(as_text=True)
    assert counts(db) == NOTHING


def test_unknown_publication_is_refused(client, db, no_csrf):
    response = post(client, publications=["ticker", "geheim"])
    assert response.status_code == 422
    assert counts(db) == NOTHING


def test_honeypot_is_refused(client, db, no_csrf):
    response = post(client, website="http://spam.example")
    assert response.status_code == 422
    assert counts(db) == NOTHING


def test_form_without_csrf_token_is_refused(client, db):
    response = post(client)
    assert response.status_code == 400
    assert counts(db) == NOTHING


def test_form_with_csrf_token_from_the_page(client, db):
    html = client.get("/abonnieren").get_data(as_text=True)
    token = html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = post(client, csrf_token=token)
    assert response.status_code == 303


class TestMinimumFillTime:
    @pytest.fixture
    def settings_overrides(self):
        return {"rate_limits.min_fill_seconds": 3}

    def stamp(self, client) -> str:
        html = client.get("/abonnieren").get_data(as_text=True)
        return html.split('name="started" type="hidden" value="')[1].split('"')[0]

    def test_too_fast_is_refused(self, client, db, no_csrf):
        response = post(client, started=self.stamp(client))
        assert response.status_code == 422
        assert "sehr schnell" in response.get_data(as_text=True)
        assert counts(db) == NOTHING

    def test_missing_or_forged_stamp_is_refused(self, client, db, no_csrf):
        for stamp in ("", "abc.def", self.stamp(client)[:-2]):
            assert post(client, started=stamp).status_code == 422
        assert counts(db) == NOTHING

    def test_after_a_few_seconds_it_is_accepted(self, client, db, no_csrf, monkeypatch):
        stamp = self.stamp(client)
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + 5)
        assert post(client, started=stamp).status_code == 303


class TestRateLimitPerIp:
    @pytest.fixture
    def settings_overrides(self):
        return {"rate_limits.subscribe_per_ip": "2 per hour"}

    def test_third_sign_up_from_one_ip_gets_429(self, client, no_csrf):
        assert post(client, email="a@example.org").status_code == 303
        assert post(client, email="b@example.org").status_code == 303
        response = post(client, email="c@example.org")
        assert response.status_code == 429
        assert "eine Stunde" in response.get_data(as_text=True)
        assert post(client, ip="10.9.9.9", email="c@example.org").status_code == 303


# ---------------------------------------------------------------- confirming


def sign_up(client, db, **overrides) -> str:
    assert post(client, **overrides).status_code == 303
    db.expire_all()
    return confirm_token_from(last_mail(db).text)


def test_get_shows_a_button_and_changes_nothing(client, db, no_csrf):
    token = sign_up(client, db)
    before = counts(db)
    for _ in range(3):  # a link scanner, a preview, the person
        response = client.get(f"/bestaetigen/{token}")
        assert response.status_code == 200
        assert "Abonnement bestätigen" in response.get_data(as_text=True)
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]
    db.expire_all()
    assert counts(db) == before
    assert db.scalars(select(Subscription.status)).all() == ["pending"]


def test_post_confirms_and_logs_time_and_ip(client, db, no_csrf):
    token = sign_up(
        client, db, name="Eva Müller", language="en", publications=["ticker", "newsletter"]
    )
    response = client.post(f"/bestaetigen/{token}", environ_base={"REMOTE_ADDR": "10.3.0.7"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "/einstellungen/" in page.get_data(as_text=True)

    db.expire_all()
    subscriber = db.scalars(select(Subscriber)).one()
    assert (subscriber.name, subscriber.language) == ("Eva Müller", "en")
    assert {s.status for s in subscriber.subscriptions} == {"confirmed"}
    confirmed = db.scalars(select(ConsentEvent).where(ConsentEvent.action == "confirmed")).all()
    assert sorted(e.publication for e in confirmed) == ["newsletter", "ticker"]
    assert {e.ip for e in confirmed} == {"10.3.0.7"}
    assert {e.channel for e in confirmed} == {"link"}


def test_confirming_twice_is_harmless(client, db, no_csrf):
    token = sign_up(client, db)
    client.post(f"/bestaetigen/{token}")
    db.expire_all()
    before = counts(db)
    response = client.post(f"/bestaetigen/{token}")
    assert response.status_code == 303
    assert "ist bestätigt" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.expire_all()
    assert counts(db) == before


def test_reused_token_does_not_resubscribe_after_unsubscribing(client, db, no_csrf):
    token = sign_up(client, db)
    client.post(f"/bestaetigen/{token}")
    db.expire_all()
    subscription = db.scalars(select(Subscription)).one()
    subscription.status = "unsubscribed"
    db.commit()
    client.post(f"/bestaetigen/{token}")
    db.expire_all()
    assert db.scalars(select(Subscription.status)).one() == "unsubscribed"


@pytest.mark.parametrize("mangle", ["forged", "truncated", "empty-ish", "long", "unicode"])
def test_forged_or_truncated_token_is_404(client, db, no_csrf, mangle):
    token = sign_up(client, db)
    bad = {
        "forged": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "truncated": token[:20],
        "empty-ish": "x",
        "long": token * 5,
        "unicode": token[:-1] + "ä",
    }[mangle]
    before = counts(db)
    assert client.get(f"/bestaetigen/{bad}").status_code == 404
    response = client.post(f"/bestaetigen/{bad}")
    assert response.status_code == 404
    assert "nicht gültig" in response.get_data(as_text=True)
    db.expire_all()
    assert counts(db) == before
    assert db.scalars(select(Subscription.status)).all() == ["pending"]


def test_confirm_post_needs_csrf(client, db):
    html = client.get("/abonnieren").get_data(as_text=True)
    csrf = html.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    assert post(client, csrf_token=csrf).status_code == 303
    db.expire_all()
    token = confirm_token_from(last_mail(db).text)
    assert client.post(f"/bestaetigen/{token}").status_code == 400
    db.expire_all()
    assert db.scalars(select(Subscription.status)).all() == ["pending"]


def test_expired_link_offers_a_new_one(client, db, caught, no_csrf):
    token = sign_up(client, db)
    db.expire_all()
    confirmation = db.scalars(select(Confirmation)).one()
    confirmation.expires_at = utcnow() - timedelta(minutes=1)
    last_mail(db).created_at = utcnow() - timedelta(hours=49)
    db.commit()

    response = client.get(f"/bestaetigen/{token}")
    assert response.status_code == 410
    assert "neuen Link" in response.get_data(as_text=True)
    assert client.post(f"/bestaetigen/{token}").status_code == 410
    db.expire_all()
    assert db.scalars(select(Subscription.status)).all() == ["pending"]

    response = client.post(f"/bestaetigen/{token}/neu", environ_base={"REMOTE_ADDR": "10.4.0.1"})
    assert response.status_code == 200
    assert "neuen Link" in response.get_data(as_text=True)
    mails = caught()
    assert len(mails) == 2
    new_token = confirm_token_from(mails[0].body("plain"))
    assert new_token != token
    db.expire_all()
    resent = db.scalars(select(ConsentEvent).where(ConsentEvent.action == "resent")).one()
    assert resent.ip == "10.4.0.1" and resent.message_id
    # The old link stays expired; the new one confirms.
    assert client.post(f"/bestaetigen/{token}").status_code == 410
    assert client.post(f"/bestaetigen/{new_token}").status_code == 303
    db.expire_all()
    assert db.scalars(select(Subscription.status)).all() == ["confirmed"]


def test_resend_respects_the_daily_limit(client, db, no_csrf):
    token = sign_up(client, db)
    db.expire_all()
    db.scalars(select(Confirmation)).one().expires_at = utcnow() - timedelta(minutes=1)
    db.commit()
    response = client.post(f"/bestaetigen/{token}/neu")
    assert response.status_code == 200
    assert "höchstens eine" in response.get_data(as_text=True)
    db.expire_all()
    assert counts(db)["mails"] == 1


def test_unicode_normalisation_variants_are_one_subscriber(client, db, no_csrf):
    composed, decomposed = "jürgen@example.org", "ju\u0308rgen@example.org"
    assert post(client, email=composed).status_code == 303
    db.expire_all()
    last_mail(db).created_at = utcnow() - timedelta(hours=25)
    db.commit()
    assert post(client, email=decomposed, publications=["newsletter"]).status_code == 303
    db.expire_all()
    assert counts(db)["subscribers"] == 1
    assert sorted(db.scalars(select(Subscription.publication))) == ["newsletter", "ticker"]
