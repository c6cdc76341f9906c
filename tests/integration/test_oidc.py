"""Single sign-on against a real OpenID provider (node-oidc-provider) on loopback.

The test client is the app's side; a requests session plays the browser at the provider.
The app's own calls to the provider (discovery, token, keys) are real HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from sqlalchemy import select

from newsticker.auth.models import Role, User
from newsticker.core.audit import AuditEvent
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.oidc_provider import Provider, running_provider

pytestmark = pytest.mark.usefixtures("no_csrf")

APP = "http://localhost"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider(
        f"{APP}/redaktion/login/oidc/callback", f"{APP}/redaktion/login"
    ) as running:
        yield running


@pytest.fixture
def oidc_overrides() -> dict[str, Any]:
    return {}


@pytest.fixture
def settings_overrides(provider, oidc_overrides) -> dict[str, Any]:
    return {"auth.oidc": provider.settings(**oidc_overrides)}


def start(client):
    response = client.post("/redaktion/login/oidc")
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    location = response.headers["Location"]
    query = parse_qs(urlsplit(location).query)
    # Authorization Code flow with PKCE, state and nonce.
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"] and query["nonce"] and query["code_challenge"]
    return location


def at_provider(provider, location, login="alice", refuse=False):
    """Sign in (or refuse) at the provider; return the app's callback path with its query."""
    browser = requests.Session()
    page = browser.get(location, timeout=10)
    assert page.status_code == 200, page.text[:300]
    uid = re.search(r'/interaction/([^/"]+)/login', page.text).group(1)
    action = "abort" if refuse else "login"
    response = browser.post(
        f"{provider.issuer}/interaction/{uid}/{action}",
        data={"login": login},
        allow_redirects=False,
        timeout=10,
    )
    location = response.headers["Location"]
    while not location.startswith(APP):
        response = browser.get(
            urljoin(provider.issuer, location), allow_redirects=False, timeout=10
        )
        location = response.headers["Location"]
    return location.removeprefix(APP)


def sign_in(client, provider, login="alice", refuse=False):
    return client.get(at_provider(provider, start(client), login=login, refuse=refuse))


def audit(db, action):
    db.expire_all()
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def test_login_page_offers_single_sign_on(client):
    page = client.get("/redaktion/login").get_data(as_text=True)
    assert "Mit Single Sign-on anmelden" in page
    assert "/redaktion/login/oidc" in page


def test_good_login_creates_an_editor_account(client, db, provider):
    response = sign_in(client, provider, "alice")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/redaktion/")
    assert client.get("/redaktion/").status_code == 200
    db.expire_all()
    user = db.scalars(select(User).where(User.email == "alice@example.org")).one()
    assert user.role is Role.EDITOR
    assert user.oidc_subject == "alice"
    assert [e.actor for e in audit(db, "auth.oidc_login")] == ["alice@example.org"]


def test_admin_group_maps_to_admin_and_binds_an_existing_account(client, db, provider):
    existing = make_user(db, "root@example.org", role="editor")
    db.commit()
    assert sign_in(client, provider, "root").status_code == 302
    db.expire_all()
    user = db.get(User, existing.id)
    assert user.role is Role.ADMIN and user.oidc_subject == "root"
    assert client.get("/redaktion/benutzer").status_code == 200
    assert audit(db, "auth.role_changed")[0].details["to"] == "admin"


def test_user_without_a_mapped_role_is_refused(client, db, provider):
    response = sign_in(client, provider, "bob")
    assert response.status_code == 403
    assert "keine Rolle" in response.get_data(as_text=True)
    assert client.get("/redaktion/").status_code == 302
    db.expire_all()
    assert db.scalars(select(User)).all() == []
    assert audit(db, "auth.oidc_refused")[0].actor == "bob@example.org"


def test_refused_login_at_the_provider(client, db, provider):
    client.set_cookie("newsticker_lang", "en")
    response = sign_in(client, provider, refuse=True)
    assert response.status_code == 403
    assert "The sign-on was refused or cancelled" in response.get_data(as_text=True)
    assert client.get("/redaktion/").status_code == 302
    db.expire_all()
    assert db.scalars(select(User)).all() == []
    assert audit(db, "auth.oidc_refused")[0].details["reason"].startswith("refused")


@pytest.mark.parametrize("oidc_overrides", [{"client_secret": "not-the-registered-secret"}])
def test_provider_error_changes_nothing(client, db, provider):
    response = sign_in(client, provider, "alice")
    assert response.status_code == 502
    assert "Fehler gemeldet" in response.get_data(as_text=True)
    assert client.get("/redaktion/").status_code == 302
    db.expire_all()
    assert db.scalars(select(User)).all() == []


def test_unknown_state_is_refused(client, db, provider):
    location = start(client)
    callback = at_provider(provider, location)
    query = parse_qs(urlsplit(callback).query)
    forged = f"/redaktion/login/oidc/callback?code={query['code'][0]}&state=not-our-state"
    response = client.get(forged)
    assert response.status_code == 400
    assert "unbekannt oder abgelaufen" in response.get_data(as_text=True)
    # A callback that was never started is refused too.
    assert client.get("/redaktion/login/oidc/callback?code=x&state=y").status_code == 400
    db.expire_all()
    assert db.scalars(select(User)).all() == []


def test_wrong_nonce_is_refused(client, db, provider):
    location = start(client)
    with client.session_transaction() as session:
        keys = [k for k in session if k.startswith("_state_")]
        assert len(keys) == 1
        state = session[keys[0]]
        state["data"]["nonce"] = "not-the-nonce-we-sent"
        session[keys[0]] = state
    response = client.get(at_provider(provider, location))
    assert response.status_code == 400
    assert "nicht geprüft werden" in response.get_data(as_text=True)
    db.expire_all()
    assert db.scalars(select(User)).all() == []


def test_logout_ends_the_session_here_and_at_the_provider(client, db, provider):
    sign_in(client, provider, "alice")
    response = client.post("/redaktion/logout")
    assert response.status_code == 302
    end = response.headers["Location"]
    assert end.startswith(f"{provider.issuer}/session/end?")
    query = parse_qs(urlsplit(end).query)
    assert query["post_logout_redirect_uri"] == [f"{APP}/redaktion/login"]
    assert query["id_token_hint"]
    assert client.get("/redaktion/").status_code == 302
    # The provider accepts the hint and the registered return address.
    page = requests.get(end, timeout=10)
    assert page.status_code == 200
    assert "xsrf" in page.text
    assert [e.action for e in audit(db, "auth.logout")] == ["auth.logout"]


@pytest.fixture
def no_local(provider) -> dict[str, Any]:
    return {"auth.oidc": provider.settings(), "auth.local_login": False}


def test_password_login_is_off_when_local_login_is_false(database_url, tmp_path, no_local, db):
    from newsticker import create_app
    from tests.conftest import make_settings

    make_user(db)
    db.commit()
    application = create_app(make_settings(database_url, tmp_path / "i", **no_local))
    application.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    other = application.test_client()
    page = other.get("/redaktion/login").get_data(as_text=True)
    assert 'name="password"' not in page
    response = other.post(
        "/redaktion/login", data={"email": "editor@example.org", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 403
    assert other.get("/redaktion/passwort-vergessen").status_code == 404


def test_forms_may_lead_to_the_provider_and_nowhere_else(client, provider):
    # The login button and the logout form are answered with a redirect to the provider.
    csp = client.get("/redaktion/login").headers["Content-Security-Policy"]
    assert f"form-action 'self' {provider.issuer};" in csp
