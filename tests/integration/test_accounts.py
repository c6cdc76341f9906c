"""Accounts a city's IT accepts: own password change, reset by mail, roles, TOTP.

Every bad input gives a clear message and changes nothing; every account event is in
the audit trail.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from newsticker.auth import services
from newsticker.auth.models import PasswordReset, RecoveryCode, Role, User
from newsticker.core.audit import AuditEvent
from newsticker.core.db import utcnow
from newsticker.core.mailqueue import QueuedMail
from tests.factories import DEFAULT_PASSWORD, make_user

pytestmark = pytest.mark.usefixtures("no_csrf")

NEW_PASSWORD = "seven unrelated words in a row"


def login(client, email, password=DEFAULT_PASSWORD, ip="10.0.0.1"):
    return client.post(
        "/redaktion/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def actions(db, user_id=None):
    db.expire_all()
    query = select(AuditEvent.action).order_by(AuditEvent.id)
    if user_id is not None:
        query = query.where(AuditEvent.subject_id == str(user_id))
    return list(db.scalars(query))


def english(client):
    client.set_cookie("newsticker_lang", "en")


# --- roles are an enum ------------------------------------------------------------------


def test_role_is_read_as_an_enum(db):
    user = make_user(db, role="admin")
    db.expire_all()
    assert db.get(User, user.id).role is Role.ADMIN
    with pytest.raises(services.UserError):
        make_user(db, "x@example.org", role="superuser")


# --- common passwords -------------------------------------------------------------------


@pytest.mark.parametrize(
    "password", ["password1234", "Passwort2024!", "qwertzuiop123", "123456789012", "aaaaaaaaaaaa"]
)
def test_common_passwords_are_refused(db, password):
    with pytest.raises(services.UserError, match="häufig benutzter"):
        services.check_password_strength(password)


def test_an_uncommon_long_password_is_accepted(db):
    services.check_password_strength(NEW_PASSWORD)


# --- own password change ----------------------------------------------------------------


def change(client, current, new, confirm=None):
    return client.post(
        "/redaktion/konto/passwort",
        data={
            "pw-current_password": current,
            "pw-new_password": new,
            "pw-confirm": new if confirm is None else confirm,
        },
    )


def test_user_changes_own_password_and_other_sessions_end(app, db):
    user = make_user(db)
    db.commit()
    here, elsewhere = app.test_client(), app.test_client()
    assert login(here, user.email).status_code == 302
    assert login(elsewhere, user.email).status_code == 302
    response = change(here, DEFAULT_PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    # This browser stays logged in, the other one is out.
    assert here.get("/redaktion/konto").status_code == 200
    assert elsewhere.get("/redaktion/konto").status_code == 302
    here.post("/redaktion/logout")
    assert login(here, user.email, DEFAULT_PASSWORD).status_code == 401
    assert login(here, user.email, NEW_PASSWORD).status_code == 302
    assert "auth.password_changed" in actions(db, user.id)


@pytest.mark.parametrize(
    ("current", "new", "confirm", "message"),
    [
        ("wrong current password", NEW_PASSWORD, None, "Das aktuelle Passwort ist nicht korrekt."),
        (DEFAULT_PASSWORD, "short", None, "mindestens 12 Zeichen"),
        (DEFAULT_PASSWORD, "password123456", None, "häufig benutzter Passwörter"),
        (DEFAULT_PASSWORD, NEW_PASSWORD, "something else entirely", "nicht gleich"),
    ],
)
def test_bad_password_change_changes_nothing(client, db, current, new, confirm, message):
    user = make_user(db)
    db.commit()
    login(client, user.email)
    before = db.get(User, user.id).password_hash
    response = change(client, current, new, confirm)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.expire_all()
    stored = db.get(User, user.id)
    assert stored.password_hash == before
    assert client.get("/redaktion/konto").status_code == 200  # still logged in
    assert "auth.password_changed" not in actions(db, user.id)


def test_wrong_current_password_in_english(client, db):
    user = make_user(db)
    db.commit()
    english(client)
    login(client, user.email)
    response = change(client, "wrong current password", NEW_PASSWORD)
    assert "The current password is not correct." in response.get_data(as_text=True)


# --- password reset by mail -------------------------------------------------------------


def reset_link(db, email):
    db.expire_all()
    mail = db.scalars(
        select(QueuedMail)
        .where(QueuedMail.purpose == "password_reset", QueuedMail.to_addr == email)
        .order_by(QueuedMail.id.desc())
    ).first()
    assert mail is not None
    return re.search(r"http://localhost(/redaktion/passwort-neu/\S+)", mail.text).group(1)


def forgot(client, email, ip="10.0.0.9"):
    return client.post(
        "/redaktion/passwort-vergessen", data={"email": email}, environ_base={"REMOTE_ADDR": ip}
    )


def test_reset_answers_the_same_for_known_and_unknown_addresses(client, db):
    user = make_user(db)
    db.commit()
    known = forgot(client, user.email)
    known_page = client.get("/redaktion/login").get_data(as_text=True)
    unknown = forgot(client, "nobody@example.org")
    unknown_page = client.get("/redaktion/login").get_data(as_text=True)
    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert "Falls es ein Konto" in known_page
    assert known_page == unknown_page
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(QueuedMail)) == 1
    assert actions(db, user.id) == ["auth.reset_requested"]


def test_reset_link_sets_a_password_once(client, db, app):
    user = make_user(db)
    db.commit()
    other = app.test_client()
    login(other, user.email)
    forgot(client, user.email)
    link = reset_link(db, user.email)
    assert client.get(link).status_code == 200
    bad = client.post(link, data={"new_password": "password123456", "confirm": "password123456"})
    assert bad.status_code == 422
    good = client.post(link, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert good.status_code == 302
    assert login(client, user.email, NEW_PASSWORD).status_code == 302
    # The old session is over and the link is used up.
    assert other.get("/redaktion/konto").status_code == 302
    again = client.post(
        link, data={"new_password": "yet another long phrase", "confirm": "yet another long phrase"}
    )
    assert again.status_code == 410
    assert "bereits benutzt" in again.get_data(as_text=True)
    client.post("/redaktion/logout")
    assert login(client, user.email, NEW_PASSWORD).status_code == 302
    assert actions(db, user.id) == [
        "auth.login",
        "auth.reset_requested",
        "auth.password_reset",
        "auth.login",
        "auth.logout",
        "auth.login",
    ]


def test_expired_reset_link_changes_nothing(client, db):
    user = make_user(db)
    db.commit()
    english(client)
    forgot(client, user.email)
    link = reset_link(db, user.email)
    reset = db.scalars(select(PasswordReset)).one()
    reset.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    before = db.get(User, user.id).password_hash
    response = client.post(link, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 410
    assert "This link has expired." in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(User, user.id).password_hash == before


def test_unknown_reset_link_and_older_link_are_refused(client, db):
    user = make_user(db)
    db.commit()
    assert client.get("/redaktion/passwort-neu/not-a-real-token").status_code == 410
    forgot(client, user.email)
    first = reset_link(db, user.email)
    forgot(client, user.email)
    second = reset_link(db, user.email)
    assert first != second
    assert client.get(first).status_code == 410  # only the newest link works
    assert client.get(second).status_code == 200


def test_reset_requests_are_rate_limited(client, db, app):
    limit = int(app.config["NEWSTICKER_SETTINGS"].rate_limits.password_reset_per_address.split()[0])
    for n in range(limit):
        assert forgot(client, "someone@example.org", ip=f"10.3.0.{n}").status_code == 302
    assert forgot(client, "someone@example.org", ip="10.3.1.1").status_code == 429


# --- admins: deactivate, reactivate, roles ----------------------------------------------


@pytest.fixture
def admin_client(client, db):
    admin = make_user(db, "admin@example.org", role="admin")
    db.commit()
    login(client, admin.email)
    return client, admin


def test_deactivation_ends_sessions_at_once_and_reactivation_allows_login(app, db, admin_client):
    client, _admin = admin_client
    editor = make_user(db)
    db.commit()
    theirs = app.test_client()
    login(theirs, editor.email)
    assert theirs.get("/redaktion/konto").status_code == 200
    client.post(f"/redaktion/benutzer/{editor.id}/aktiv")
    assert theirs.get("/redaktion/konto").status_code == 302
    assert login(theirs, editor.email).status_code == 401
    client.post(f"/redaktion/benutzer/{editor.id}/aktiv")
    assert login(theirs, editor.email).status_code == 302
    assert actions(db, editor.id) == [
        "auth.login",
        "auth.deactivated",
        "auth.login_failed",
        "auth.reactivated",
        "auth.login",
    ]


def test_admin_changes_a_role(db, admin_client):
    client, _admin = admin_client
    editor = make_user(db)
    db.commit()
    response = client.post(
        f"/redaktion/benutzer/{editor.id}/rolle", data={f"role-{editor.id}-role": "admin"}
    )
    assert response.status_code == 302
    db.expire_all()
    assert db.get(User, editor.id).role is Role.ADMIN
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "auth.role_changed")).one()
    assert event.details == {"from": "editor", "to": "admin"}
    assert event.actor == "admin@example.org"


def test_admin_cannot_demote_or_deactivate_themselves(db, admin_client):
    client, admin = admin_client
    client.post(f"/redaktion/benutzer/{admin.id}/rolle", data={f"role-{admin.id}-role": "editor"})
    client.post(f"/redaktion/benutzer/{admin.id}/aktiv")
    page = client.get("/redaktion/benutzer").get_data(as_text=True)
    assert "eigene" in page
    db.expire_all()
    stored = db.get(User, admin.id)
    assert stored.role is Role.ADMIN and stored.active


def test_last_admin_keeps_the_role(db):
    admin = make_user(db, "admin@example.org", role="admin")
    other = make_user(db, "other@example.org", role="admin")
    actor = services.actor_of(other)
    services.set_active(db, other, False, now=utcnow())
    with pytest.raises(services.UserError, match="letzte aktive"):
        services.change_role(db, admin, "editor", actor=actor, now=utcnow())
    with pytest.raises(services.UserError, match="letzte aktive"):
        services.set_active(db, admin, False, actor=actor, now=utcnow())
    assert admin.role is Role.ADMIN and admin.active


def test_unknown_role_changes_nothing(db, admin_client):
    client, _admin = admin_client
    editor = make_user(db)
    db.commit()
    client.post(f"/redaktion/benutzer/{editor.id}/rolle", data={f"role-{editor.id}-role": "root"})
    db.expire_all()
    assert db.get(User, editor.id).role is Role.EDITOR


def test_users_page_no_longer_asks_admins_to_tell_people_to_change_passwords(admin_client):
    client, _admin = admin_client
    english(client)
    page = client.get("/redaktion/benutzer").get_data(as_text=True)
    assert "Tell the person to change it" not in page
    assert "My account" in page


# --- two-factor login -------------------------------------------------------------------


def setup_totp(client, db, user):
    page = client.get("/redaktion/konto/2fa").get_data(as_text=True)
    assert "<svg" in page
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    response = client.post("/redaktion/konto/2fa", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    codes = re.findall(r"<code>([a-z2-7]{5}-[a-z2-7]{5})</code>", response.get_data(as_text=True))
    return secret, codes


def next_code(secret):
    # The set-up used this step's code; the next step's is within the accepted window.
    return pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))


def test_totp_setup_and_login_with_a_code(app, db):
    user = make_user(db)
    db.commit()
    client = app.test_client()
    login(client, user.email)
    secret, codes = setup_totp(client, db, user)
    assert len(codes) == 10 and len(set(codes)) == 10
    db.expire_all()
    assert db.get(User, user.id).totp_secret == secret
    stored = list(db.scalars(select(RecoveryCode.digest)))
    assert len(stored) == 10 and not set(codes) & set(stored)
    client.post("/redaktion/logout")
    response = login(client, user.email)
    assert response.headers["Location"].endswith("/redaktion/login/code")
    assert client.get("/redaktion/").status_code == 302  # not logged in before the code
    code = next_code(secret)
    assert client.post("/redaktion/login/code", data={"code": code}).status_code == 302
    assert client.get("/redaktion/").status_code == 200
    # The same code again, in another login, is a replay.
    client.post("/redaktion/logout")
    login(client, user.email)
    replay = client.post("/redaktion/login/code", data={"code": code})
    assert replay.status_code == 401
    assert "bereits benutzt" in replay.get_data(as_text=True)
    assert client.get("/redaktion/").status_code == 302
    assert actions(db, user.id).count("auth.login_failed") == 1
    assert "auth.2fa_enabled" in actions(db, user.id)


def test_wrong_totp_code_changes_nothing(client, db):
    user = make_user(db, totp_secret=pyotp.random_base32(32))
    db.commit()
    english(client)
    login(client, user.email)
    response = client.post(
        "/redaktion/login/code",
        data={"code": "000000" if pyotp.TOTP(user.totp_secret).now() != "000000" else "111111"},
    )
    assert response.status_code == 401
    assert "The code is not correct." in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(User, user.id).totp_last_step is None
    assert db.get(User, user.id).last_login_at is None


def test_wrong_code_at_setup_changes_nothing(client, db):
    user = make_user(db)
    db.commit()
    login(client, user.email)
    client.get("/redaktion/konto/2fa")
    response = client.post("/redaktion/konto/2fa", data={"code": "12345"})
    assert response.status_code == 422
    assert "Code passt nicht" in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(User, user.id).totp_secret is None
    assert db.scalar(select(func.count()).select_from(RecoveryCode)) == 0


def test_recovery_code_works_once(app, db):
    user = make_user(db)
    db.commit()
    client = app.test_client()
    login(client, user.email)
    _secret, codes = setup_totp(client, db, user)
    client.post("/redaktion/logout")
    login(client, user.email)
    assert client.post("/redaktion/login/code", data={"code": codes[0].upper()}).status_code == 302
    assert "auth.recovery_code_used" in actions(db, user.id)
    client.post("/redaktion/logout")
    login(client, user.email)
    assert client.post("/redaktion/login/code", data={"code": codes[0]}).status_code == 401


def test_code_page_without_a_password_goes_back_to_login(client):
    response = client.post("/redaktion/login/code", data={"code": "123456"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/redaktion/login")


def test_disable_totp_needs_the_password(client, db):
    user = make_user(db)
    db.commit()
    login(client, user.email)
    setup_totp(client, db, user)
    bad = client.post("/redaktion/konto/2fa/aus", data={"off-password": "not my password"})
    assert bad.status_code == 422
    db.expire_all()
    assert db.get(User, user.id).totp_secret is not None
    good = client.post("/redaktion/konto/2fa/aus", data={"off-password": DEFAULT_PASSWORD})
    assert good.status_code == 302
    db.expire_all()
    assert db.get(User, user.id).totp_secret is None
    assert "auth.2fa_disabled" in actions(db, user.id)


@pytest.mark.parametrize("settings_overrides", [{"auth.require_2fa_for_admins": True}])
def test_admin_without_2fa_is_sent_to_setup(client, db):
    admin = make_user(db, "admin@example.org", role="admin")
    editor = make_user(db)
    db.commit()
    response = login(client, admin.email)
    assert response.headers["Location"].endswith("/redaktion/konto/2fa")
    blocked = client.get("/redaktion/benutzer")
    assert blocked.status_code == 302
    assert blocked.headers["Location"].endswith("/redaktion/konto/2fa")
    setup_totp(client, db, admin)
    assert client.get("/redaktion/benutzer").status_code == 200
    # An admin who must use it cannot turn it off.
    response = client.post("/redaktion/konto/2fa/aus", data={"off-password": DEFAULT_PASSWORD})
    assert response.status_code == 422
    client.post("/redaktion/logout")
    # Editors are not asked.
    assert login(client, editor.email).headers["Location"].endswith("/redaktion/")


def test_login_and_failed_login_are_audited(client, db):
    user = make_user(db)
    db.commit()
    login(client, user.email, "wrong password here")
    login(client, user.email)
    client.post("/redaktion/logout")
    assert actions(db, user.id) == ["auth.login_failed", "auth.login", "auth.logout"]
    failed = db.scalars(select(AuditEvent).where(AuditEvent.action == "auth.login_failed")).one()
    assert failed.ip == "10.0.0.1"


def test_the_code_must_follow_the_password_soon(client, db):
    user = make_user(db, totp_secret=pyotp.random_base32(32))
    db.commit()
    login(client, user.email)
    with client.session_transaction() as session:
        session["auth_pending_at"] -= 601
    response = client.post(
        "/redaktion/login/code", data={"code": pyotp.TOTP(user.totp_secret).now()}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/redaktion/login")
    assert client.get("/redaktion/").status_code == 302


def test_wrong_codes_are_rate_limited_per_account(client, db, app):
    user = make_user(db, totp_secret=pyotp.random_base32(32))
    db.commit()
    limit = int(app.config["NEWSTICKER_SETTINGS"].rate_limits.second_factor_per_account.split()[0])
    login(client, user.email)
    good = pyotp.TOTP(user.totp_secret).now()
    wrong = "000000" if good != "000000" else "111111"
    for _ in range(limit):
        assert client.post("/redaktion/login/code", data={"code": wrong}).status_code == 401
    assert client.post("/redaktion/login/code", data={"code": good}).status_code == 429


def test_reset_mail_is_in_the_users_language(client, db):
    user = make_user(db, language="en")
    db.commit()
    forgot(client, user.email)
    db.expire_all()
    mail = db.scalars(select(QueuedMail).where(QueuedMail.purpose == "password_reset")).one()
    assert mail.subject.startswith("Set a new password for")
    assert "works once and for 60 minutes" in mail.text


def test_reset_of_a_deactivated_account_sends_nothing(client, db):
    make_user(db, active=False)
    db.commit()
    assert forgot(client, "editor@example.org").status_code == 302
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(QueuedMail)) == 0


def test_admin_turns_off_two_factor_login_of_someone_who_lost_their_phone(app, db, admin_client):
    client, admin = admin_client
    editor = make_user(db, totp_secret=pyotp.random_base32(32), totp_last_step=1)
    db.commit()
    theirs = app.test_client()
    login(theirs, editor.email)
    theirs.post("/redaktion/login/code", data={"code": pyotp.TOTP(editor.totp_secret).now()})
    assert theirs.get("/redaktion/konto").status_code == 200
    assert client.post(f"/redaktion/benutzer/{editor.id}/2fa-aus").status_code == 302
    db.expire_all()
    assert db.get(User, editor.id).totp_secret is None
    assert theirs.get("/redaktion/konto").status_code == 302  # logged out
    event = db.scalars(select(AuditEvent).where(AuditEvent.action == "auth.2fa_disabled")).one()
    assert event.actor == admin.email and event.details == {"by_admin": True}
    # Not one's own: that is done under "My account", with the password.
    own = make_user(db, "self@example.org", role="admin", totp_secret=pyotp.random_base32(32))
    db.commit()
    with pytest.raises(services.UserError):
        services.reset_totp(db, own, actor=services.actor_of(own), now=utcnow())


def test_guessing_the_current_password_is_rate_limited(client, db, app):
    user = make_user(db)
    db.commit()
    login(client, user.email)
    limit = int(app.config["NEWSTICKER_SETTINGS"].rate_limits.login_per_account.split()[0])
    for _ in range(limit):
        assert change(client, "a wrong guess here", NEW_PASSWORD).status_code == 422
    assert change(client, DEFAULT_PASSWORD, NEW_PASSWORD).status_code == 429
    db.expire_all()
    assert "auth.password_changed" not in actions(db, user.id)
