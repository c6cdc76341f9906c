"""Personal links: one-click unsubscribe (RFC 8058), preferences, data copy, erasure."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from newsticker.core.db import utcnow
from newsticker.core.mailqueue import QueuedMail
from newsticker.core.site import site_links
from newsticker.core.tokens import KeyRing, TokenExpired
from subscribers import importing, services
from subscribers.models import ConsentEvent, Subscriber, Subscription, Suppression
from subscribers.site import site_salts
from tests.factories import (
    confirm_token_from,
    counts,
    keyring,
    last_mail,
    make_subscriber,
    subscribe_form,
)

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def reader(db):
    subscriber = make_subscriber(db, "leser@example.org", publications=("ticker", "newsletter"))
    db.commit()
    return subscriber


def links(app, subscriber, publication="ticker"):
    prefixes = services.LinkPrefixes.from_links(site_links(app))
    return services.personal_links(keyring(app), prefixes, subscriber.id, publication)


def path(url: str) -> str:
    return url.removeprefix("http://localhost")


def statuses(db, subscriber_id) -> dict[str, str]:
    db.expire_all()
    return {
        s.publication: s.status
        for s in db.scalars(select(Subscription).where(Subscription.subscriber_id == subscriber_id))
    }


# ---------------------------------------------------------------- unsubscribe


def test_links_and_headers(app, reader):
    result = links(app, reader)
    assert result["unsubscribe"].startswith("http://localhost/abmelden/")
    assert result["preferences"].startswith("http://localhost/einstellungen/")
    assert result["list_unsubscribe"] == f"<{result['unsubscribe']}>"
    assert services.list_unsubscribe_headers(result) == {
        "List-Unsubscribe": f"<{result['unsubscribe']}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def test_get_shows_one_button_and_changes_nothing(app, client, db, reader):
    url = path(links(app, reader)["unsubscribe"])
    for _ in range(3):
        response = client.get(url)
        assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Jetzt abmelden" in html and "Newsticker Engagement" in html
    assert response.headers["Cache-Control"] == "no-store"
    assert statuses(db, reader.id) == {"ticker": "confirmed", "newsletter": "confirmed"}


def test_one_click_post_unsubscribes_without_cookie_csrf_or_redirect(app, db, reader):
    # A mailbox provider's server: no cookie, no CSRF token, CSRF protection on.
    assert app.config.get("WTF_CSRF_ENABLED", True)
    client = app.test_client(use_cookies=False)
    url = path(links(app, reader)["unsubscribe"])
    response = client.post(url, data=ONE_CLICK, environ_base={"REMOTE_ADDR": "66.249.1.1"})
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert "Set-Cookie" not in response.headers
    assert statuses(db, reader.id) == {"ticker": "unsubscribed", "newsletter": "confirmed"}
    event = db.scalars(select(ConsentEvent).where(ConsentEvent.action == "withdrawn")).one()
    assert (event.publication, event.channel) == ("ticker", "one-click")


def test_one_click_as_multipart_body(app, db, reader):
    client = app.test_client(use_cookies=False)
    url = path(links(app, reader, "newsletter")["unsubscribe"])
    response = client.post(url, data=ONE_CLICK, content_type="multipart/form-data")
    assert response.status_code == 200
    assert statuses(db, reader.id)["newsletter"] == "unsubscribed"


def test_unsubscribe_page_button_is_logged_as_such(app, client, db, reader):
    url = path(links(app, reader)["unsubscribe"])
    html = client.get(url).get_data(as_text=True)
    assert 'name="List-Unsubscribe" value="One-Click"' in html
    response = client.post(url, data={**ONE_CLICK, "via": "page"})
    assert response.status_code == 200
    assert "Sie wurden abgemeldet" in response.get_data(as_text=True)
    db.expire_all()
    assert db.scalars(
        select(ConsentEvent.channel).where(ConsentEvent.action == "withdrawn")
    ).one() == ("unsubscribe-page")


def test_unsubscribing_twice_is_harmless(app, db, reader):
    client = app.test_client(use_cookies=False)
    url = path(links(app, reader)["unsubscribe"])
    client.post(url, data=ONE_CLICK)
    before = counts(db)
    response = client.post(url, data=ONE_CLICK)
    assert response.status_code == 200
    db.expire_all()
    assert counts(db) == before


def test_post_without_the_one_click_body_is_refused(app, db, reader):
    client = app.test_client(use_cookies=False)
    response = client.post(path(links(app, reader)["unsubscribe"]), data={})
    assert response.status_code == 400
    assert statuses(db, reader.id)["ticker"] == "confirmed"


def _swap_payload(token: str, new_token: str) -> str:
    """Return the payload of new_token with the signature of token."""
    return new_token.split(".")[0] + "." + token.split(".")[1]


@pytest.mark.parametrize(
    "mangle",
    ["forged", "truncated", "other-publication", "other-purpose", "foreign-key", "garbage"],
)
def test_bad_unsubscribe_tokens_are_404_and_change_nothing(app, db, reader, mangle):
    ring = keyring(app)
    good = services.unsubscribe_token(ring, reader.id, "ticker")
    bad = {
        "forged": good[:-3] + ("xyz" if not good.endswith("xyz") else "abc"),
        "truncated": good[: len(good) // 2],
        # A genuine ticker token whose payload is edited to name the newsletter.
        "other-publication": _swap_payload(
            good, services.unsubscribe_token(ring, reader.id, "newsletter")
        ),
        "other-purpose": services.preferences_token(ring, reader.id),
        "foreign-key": services.unsubscribe_token(KeyRing(["another site"]), reader.id, "ticker"),
        "garbage": "%00<script>",
    }[mangle]
    client = app.test_client(use_cookies=False)
    assert client.get(f"/abmelden/{bad}").status_code == 404
    assert client.post(f"/abmelden/{bad}", data=ONE_CLICK).status_code == 404
    assert statuses(db, reader.id) == {"ticker": "confirmed", "newsletter": "confirmed"}
    assert counts(db)["events"] == 2


def test_token_for_another_publication_leaves_this_one_alone(app, db, reader):
    client = app.test_client(use_cookies=False)
    client.post(path(links(app, reader, "newsletter")["unsubscribe"]), data=ONE_CLICK)
    assert statuses(db, reader.id) == {"ticker": "confirmed", "newsletter": "unsubscribed"}


def test_erased_subscriber_gets_a_calm_answer(app, db, reader):
    url = path(links(app, reader)["unsubscribe"])
    with app.test_request_context():
        services.erase_subscriber(db, db.get(Subscriber, reader.id), salts=site_salts())
    db.commit()
    response = app.test_client(use_cookies=False).post(url, data=ONE_CLICK)
    assert response.status_code == 200


class TestKeyRotation:
    OLD = "the-old-secret-key-of-last-year"

    @pytest.fixture
    def settings_overrides(self):
        return {"site.secret_key": "a-brand-new-secret-key", "site.old_secret_keys": [self.OLD]}

    def test_links_signed_with_the_old_key_keep_working(self, app, db, reader):
        old = KeyRing([self.OLD])
        token = services.unsubscribe_token(old, reader.id, "ticker")
        response = app.test_client(use_cookies=False).post(f"/abmelden/{token}", data=ONE_CLICK)
        assert response.status_code == 200
        assert statuses(db, reader.id)["ticker"] == "unsubscribed"
        prefs = services.preferences_token(old, reader.id)
        assert app.test_client().get(f"/einstellungen/{prefs}").status_code == 200

    def test_new_links_use_the_new_key(self, app, reader):
        url = links(app, reader)["unsubscribe"]
        token = url.rsplit("/", 1)[1]
        assert services.read_unsubscribe_token(KeyRing(["a-brand-new-secret-key"]), token) == (
            reader.id,
            "ticker",
        )


# ---------------------------------------------------------------- preferences


def test_preferences_page_shows_the_current_state(app, client, db, reader):
    response = client.get(path(links(app, reader)["preferences"]))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "leser@example.org" in html
    assert html.count("checked") >= 3  # both publications and the language
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_preferences_change_publications_language_and_name(app, client, db, no_csrf):
    subscriber = make_subscriber(db, "p@example.org", publications=("ticker",), status="confirmed")
    db.commit()
    url = path(links(app, subscriber)["preferences"])
    response = client.post(
        url,
        data={"publications": ["newsletter"], "language": "en", "name": "Pia  Petersen"},
        environ_base={"REMOTE_ADDR": "10.5.0.5"},
    )
    assert response.status_code == 303
    assert statuses(db, subscriber.id) == {"ticker": "unsubscribed", "newsletter": "confirmed"}
    stored = db.get(Subscriber, subscriber.id)
    assert (stored.name, stored.language) == ("Pia Petersen", "en")
    actions = {
        (e.publication, e.action, e.channel, e.ip)
        for e in db.scalars(select(ConsentEvent).where(ConsentEvent.action != "added"))
    }
    assert actions == {
        ("ticker", "withdrawn", "preferences", None),
        ("newsletter", "subscribed", "preferences", "10.5.0.5"),
    }
    assert "gespeichert" in client.get(url).get_data(as_text=True)


def test_preferences_refuse_a_name_with_line_breaks(app, client, db, reader, no_csrf):
    response = client.post(
        path(links(app, reader)["preferences"]),
        data={"publications": ["ticker"], "language": "de", "name": "A\r\nBcc: x@example.org"},
    )
    assert response.status_code == 422
    assert db.get(Subscriber, reader.id).name == ""


def test_preferences_post_needs_csrf(app, client, db, reader):
    response = client.post(
        path(links(app, reader)["preferences"]), data={"publications": [], "language": "de"}
    )
    assert response.status_code == 400
    assert statuses(db, reader.id) == {"ticker": "confirmed", "newsletter": "confirmed"}


@pytest.mark.parametrize("token", ["x", "abc.def", "a" * 5000])
def test_bad_preferences_tokens_are_404(client, token):
    assert client.get(f"/einstellungen/{token}").status_code == 404


def test_data_copy_is_mailed_as_an_expiring_link_once_a_day(
    app, client, db, reader, caught, no_csrf
):
    url = path(links(app, reader)["preferences"]) + "/daten"
    response = client.post(url)
    assert response.status_code == 303
    (mail,) = caught()
    assert mail.to == "leser@example.org"
    text = mail.body("plain")
    # A link, not the data: no JSON and no consent log in the mail body.
    assert "{" not in text and "consent_log" not in text
    (link,) = re.findall(r"http://localhost/meine-daten/\S+", text)
    assert link in mail.body("html")
    assert "7 Tage" in text
    client.post(url)
    assert len(caught()) == 1
    db.expire_all()
    assert db.scalars(
        select(ConsentEvent.action).where(ConsentEvent.action == "data_requested")
    ).all() == ["data_requested"]

    page = client.get(path(link))
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "leser@example.org" in html and "Von der Redaktion hinzugefügt" in html
    assert "Newsticker Engagement &amp; Zusammenleben" in html
    download = client.get(path(link) + ".json")
    assert download.mimetype == "application/json"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    data = json.loads(download.data)
    assert data["email"] == "leser@example.org"
    assert {s["publication"] for s in data["subscriptions"]} == {"ticker", "newsletter"}
    assert data["consent_log"][0]["action"] == "added"


def test_the_data_link_expires_and_a_forged_one_is_refused(app, client, db, reader):
    from newsticker.core.site import site_keyring

    keyring = site_keyring()
    token = services.data_copy_url(site_links(), keyring, reader.id).rsplit("/", 1)[1]
    later = KeyRing([app.config["SECRET_KEY"]], clock=lambda: utcnow().timestamp() + 8 * 24 * 3600)
    with pytest.raises(TokenExpired):
        services.read_data_copy_token(later, token)
    assert services.read_data_copy_token(keyring, token) == reader.id
    # A preferences token is not a data-copy token, and a changed one is not genuine.
    prefs_token = path(links(app, reader)["preferences"]).rsplit("/", 1)[1]
    assert client.get(f"/meine-daten/{prefs_token}").status_code == 404
    assert client.get(f"/meine-daten/{token[:-2]}xx").status_code == 404
    assert client.get(f"/meine-daten/{token[:-2]}xx.json").status_code == 404


def test_an_expired_data_link_says_how_to_get_a_new_one(app, client, db, reader, monkeypatch):
    from newsticker.core.site import site_keyring

    token = services.data_copy_url(site_links(), site_keyring(), reader.id).rsplit("/", 1)[1]
    real_clock = site_keyring()._clock
    monkeypatch.setattr(site_keyring(), "_clock", lambda: real_clock() + 8 * 24 * 3600)
    response = client.get(f"/meine-daten/{token}")
    assert response.status_code == 410
    assert "abgelaufen" in response.get_data(as_text=True)
    assert client.get(f"/meine-daten/{token}.json").status_code == 410


def test_the_preferences_page_offers_the_data_to_read_and_download(app, client, db, reader):
    prefs = path(links(app, reader)["preferences"])
    html = client.get(prefs).get_data(as_text=True)
    assert f'href="{prefs}/daten"' in html and f'href="{prefs}/daten.json"' in html
    client.set_cookie("newsticker_lang", "en")
    page = client.get(prefs + "/daten").get_data(as_text=True)
    assert "Your data at" in page and "Added by the editors" in page
    assert "Subscriptions" in page and "Confirmed" in page
    data = json.loads(client.get(prefs + "/daten.json").data)
    assert data["email"] == "leser@example.org"
    assert client.get("/einstellungen/falsch/daten").status_code == 404
    assert client.get("/einstellungen/falsch/daten.json").status_code == 404


def test_erasure_needs_the_tick(app, client, db, reader, no_csrf):
    url = path(links(app, reader)["preferences"]) + "/loeschen"
    assert client.get(url).status_code == 200
    response = client.post(url, data={})
    assert response.status_code == 422
    assert db.get(Subscriber, reader.id) is not None


def test_erasure_deletes_everything_and_keeps_only_a_hash(app, client, db, reader, no_csrf):
    prefs = path(links(app, reader)["preferences"])
    client.post(prefs + "/daten")  # a mail in the queue to this address
    response = client.post(prefs + "/loeschen", data={"sure": "y"})
    assert response.status_code == 200
    assert "gelöscht" in response.get_data(as_text=True)
    db.expire_all()
    assert counts(db) == {"subscribers": 0, "subscriptions": 0, "events": 0, "mails": 0}
    (suppression,) = db.scalars(select(Suppression)).all()
    assert "leser" not in suppression.digest
    assert client.get(prefs).status_code == 404

    # A later import cannot bring the person back.
    with app.test_request_context():
        plan = importing.plan_import(
            db, b"email\nLESER@example.org\n", publication="ticker", salts=site_salts()
        )
    assert plan.accepted == []
    assert [line.kind for line in plan.report] == ["suppressed"]


def test_erased_person_may_subscribe_again_themselves(app, client, db, reader, no_csrf):
    with app.test_request_context():
        services.erase_subscriber(db, db.get(Subscriber, reader.id), salts=site_salts())
    db.commit()
    client.post("/abonnieren", data=subscribe_form(email="leser@example.org"))
    db.expire_all()
    token = confirm_token_from(last_mail(db).text)
    client.post(f"/bestaetigen/{token}")
    db.expire_all()
    assert db.scalars(select(Subscription.status)).all() == ["confirmed"]
    assert db.scalars(select(Suppression)).all() == []


def test_sent_mails_of_other_features_survive_erasure(app, db, reader):
    db.add(
        QueuedMail(
            purpose="item_receipt", to_addr=reader.email, sender="s@example.org", subject="x",
            text="x", headers={}, message_id="<a@b>", created_at=utcnow() - timedelta(days=1),
        )
    )  # fmt: skip
    db.flush()
    with app.test_request_context():
        services.erase_subscriber(db, db.get(Subscriber, reader.id), salts=site_salts())
    assert db.scalars(select(QueuedMail.purpose)).all() == ["item_receipt"]
