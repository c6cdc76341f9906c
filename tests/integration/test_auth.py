"""Editor login: passwords, no account hints, rate limits, CSRF, cookies, logout."""

import re

import pytest
from sqlalchemy import select

from newsticker.auth.models import User
from tests.factories import DEFAULT_PASSWORD, make_user


@pytest.fixture
def editor(db):
    user = make_user(db)
    db.commit()
    return user


def login(client, email, password, ip="10.0.0.1"):
    return client.post(
        "/redaktion/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_password_is_hashed_with_scrypt(db, editor):
    stored = db.scalars(select(User)).one()
    assert stored.password_hash.startswith("scrypt:")
    assert DEFAULT_PASSWORD not in stored.password_hash


def test_login_and_logout(client, editor, no_csrf):
    response = login(client, editor.email, DEFAULT_PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/redaktion/")
    assert client.get("/redaktion/").status_code == 200
    assert client.get("/redaktion/logout").status_code == 405  # logging out changes state
    assert client.post("/redaktion/logout").status_code == 302
    assert client.get("/redaktion/").status_code == 302


def test_wrong_password_and_unknown_account_look_the_same(client, editor, no_csrf):
    wrong = login(client, editor.email, "not the password at all")
    unknown = login(client, "nobody@example.org", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    message = "E-Mail-Adresse oder Passwort ist nicht korrekt."
    assert message in wrong.get_data(as_text=True)
    assert message in unknown.get_data(as_text=True)
    strip = lambda r: re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(wrong).replace(editor.email, "") == strip(unknown).replace(
        "nobody@example.org", ""
    )


def test_login_follows_only_local_next(client, editor, no_csrf):
    response = client.post(
        "/redaktion/login?next=https://evil.example/",
        data={"email": editor.email, "password": DEFAULT_PASSWORD},
    )
    assert response.headers["Location"].endswith("/redaktion/")


def test_empty_login_form_names_the_fields(client, no_csrf):
    response = client.post("/redaktion/login", data={})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Bitte geben Sie Ihre E-Mail-Adresse ein." in text
    assert 'href="#email"' in text


def test_repeated_failed_logins_per_ip_get_429(client, editor, no_csrf, app):
    limit = int(app.config["NEWSTICKER_SETTINGS"].rate_limits.login_per_ip.split()[0])
    for n in range(limit):
        assert login(client, f"user{n}@example.org", "wrong password!").status_code == 401
    response = login(client, editor.email, DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert "Zu viele Anfragen" in response.get_data(as_text=True)
    assert "Retry-After" in response.headers


def test_repeated_failed_logins_per_account_from_many_ips_get_429(client, editor, no_csrf, app):
    limit = int(app.config["NEWSTICKER_SETTINGS"].rate_limits.login_per_account.split()[0])
    for n in range(limit):
        assert login(client, editor.email, "wrong password!", ip=f"10.1.0.{n}").status_code == 401
    # The right password from a fresh address is refused too: the account is locked a while.
    assert login(client, editor.email, DEFAULT_PASSWORD, ip="10.2.0.1").status_code == 429
    # Other accounts are not affected.
    other = make_user(app.extensions["newsticker_db"].factory(), "other@example.org")
    assert other.id


def test_successful_logins_do_not_count(client, editor, no_csrf, app):
    limit = int(app.config["NEWSTICKER_SETTINGS"].rate_limits.login_per_account.split()[0])
    for _ in range(limit + 2):
        assert login(client, editor.email, DEFAULT_PASSWORD).status_code == 302
        client.post("/redaktion/logout")


def test_post_without_csrf_token_is_refused_and_changes_nothing(client, editor, db):
    response = login(client, editor.email, DEFAULT_PASSWORD)
    assert response.status_code == 400
    assert "Das Formular ist abgelaufen" in response.get_data(as_text=True)
    assert db.scalars(select(User.last_login_at)).one() is None
    assert client.get("/redaktion/").status_code == 302


def test_login_with_csrf_token_from_the_form(client, editor):
    page = client.get("/redaktion/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(
        "/redaktion/login",
        data={"email": editor.email, "password": DEFAULT_PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302


def test_session_cookie_flags(client, editor, no_csrf):
    response = login(client, editor.email, DEFAULT_PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


@pytest.mark.parametrize("settings_overrides", [{"site.base_url": "https://news.example"}])
def test_session_cookie_is_secure_with_https(client, editor, no_csrf):
    response = login(client, editor.email, DEFAULT_PASSWORD)
    assert "Secure" in response.headers["Set-Cookie"]
    assert "Strict-Transport-Security" in response.headers


def test_password_change_ends_other_sessions(client, editor, no_csrf, db):
    from newsticker.auth.services import set_password

    login(client, editor.email, DEFAULT_PASSWORD)
    assert client.get("/redaktion/").status_code == 200
    set_password(db, db.get(User, editor.id), "another long password")
    db.commit()
    assert client.get("/redaktion/").status_code == 302


def test_deactivated_user_cannot_log_in(client, db, no_csrf):
    make_user(db, active=False)
    db.commit()
    assert login(client, "editor@example.org", DEFAULT_PASSWORD).status_code == 401


def test_editor_area_needs_login(client):
    for path in ("/redaktion/", "/redaktion/postausgang"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/redaktion/login" in response.headers["Location"]


def test_users_page_is_for_admins_only(client, db, no_csrf):
    make_user(db, "admin@example.org", role="admin")
    make_user(db, "editor@example.org")
    db.commit()
    login(client, "editor@example.org", DEFAULT_PASSWORD)
    assert client.get("/redaktion/benutzer").status_code == 403
    assert client.post("/redaktion/benutzer", data={}).status_code == 403
    client.post("/redaktion/logout")
    login(client, "admin@example.org", DEFAULT_PASSWORD)
    assert client.get("/redaktion/benutzer").status_code == 200


def test_admin_creates_and_deactivates_an_account(client, db, no_csrf):
    make_user(db, "admin@example.org", role="admin")
    db.commit()
    login(client, "admin@example.org", DEFAULT_PASSWORD)
    bad = client.post(
        "/redaktion/benutzer",
        data={"email": "neu@example.org", "role": "editor", "password": "short"},
    )
    assert bad.status_code == 422
    assert "mindestens 12 Zeichen" in bad.get_data(as_text=True)
    good = client.post(
        "/redaktion/benutzer",
        data={"email": "neu@example.org", "role": "editor", "password": "long enough password"},
    )
    assert good.status_code == 302
    db.expire_all()
    new = db.scalars(select(User).where(User.email == "neu@example.org")).one()
    client.post(f"/redaktion/benutzer/{new.id}/aktiv")
    db.expire_all()
    assert db.get(User, new.id).active is False
