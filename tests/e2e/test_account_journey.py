"""Accounts in the browser: two-factor login and a password change; single sign-on
through a real OpenID provider; axe on the new pages at 375 and 1280 px."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect

from newsticker.core.db import utcnow
from tests.e2e.conftest import axe_violations, login
from tests.e2e.test_accessibility import DUPLICATE_IDS
from tests.oidc_provider import Provider, running_provider

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "tulip lantern orbit seventeen"


def code_at(secret: str, seconds: int) -> str:
    return pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=seconds))


def test_two_factor_login_and_password_change(page, live_server, editor):
    email, password = editor
    login(page, live_server, email, password)
    page.get_by_role("navigation", name="Redaktion").get_by_role("link", name="Mein Konto").click()
    page.get_by_role("link", name="Anmeldung mit zwei Faktoren einrichten").click()
    expect(page.locator("svg.qr-code")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Anmeldung mit zwei Faktoren einschalten").click()
    expect(page.get_by_role("heading", name="Ihre Wiederherstellungscodes")).to_be_visible()
    codes = page.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("button", name="Abmelden").click()

    # Password, then a code from the app (the next step's: set-up used this one).
    login(page, live_server, email, password)
    expect(page.get_by_role("heading", name="Anmeldung mit zwei Faktoren")).to_be_visible()
    page.get_by_label("Code").fill("000000" if code_at(secret, 30) != "000000" else "111111")
    page.get_by_role("button", name="Anmelden").click()
    expect(page.locator("#error-summary")).to_contain_text("Der Code ist nicht korrekt.")
    page.get_by_label("Code").fill(code_at(secret, 30))
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(f"{live_server.url}/redaktion/")

    # Change the password: a wrong current password first, then right.
    page.get_by_role("navigation", name="Redaktion").get_by_role("link", name="Mein Konto").click()
    page.get_by_label("Aktuelles Passwort").fill("not my password at all")
    page.get_by_label("Neues Passwort", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Neues Passwort wiederholen").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Passwort ändern").click()
    expect(page.locator("#error-summary")).to_contain_text(
        "Das aktuelle Passwort ist nicht korrekt."
    )
    page.get_by_label("Aktuelles Passwort").fill(password)
    page.get_by_label("Neues Passwort", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Neues Passwort wiederholen").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Passwort ändern").click()
    expect(page.get_by_text("Ihr Passwort wurde geändert.")).to_be_visible()
    page.get_by_role("button", name="Abmelden").click()

    # The old password no longer works; the new one with a recovery code does.
    login(page, live_server, email, password)
    expect(page.locator("#error-summary")).to_contain_text("nicht korrekt")
    login(page, live_server, email, NEW_PASSWORD)
    page.get_by_label("Code").fill(codes[0])
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(f"{live_server.url}/redaktion/")
    expect(page.get_by_text("Wiederherstellungscode benutzt")).to_be_visible()


@pytest.fixture
def provider(live_port: int) -> Iterator[Provider]:
    base = f"http://127.0.0.1:{live_port}"
    with running_provider(f"{base}/redaktion/login/oidc/callback", f"{base}/redaktion/login") as p:
        yield p


@pytest.fixture
def live_settings_overrides(request: Any) -> dict[str, Any]:
    if "provider" in request.fixturenames:
        return {"auth.oidc": request.getfixturevalue("provider").settings()}
    return {}


def test_single_sign_on_through_the_real_provider(page, live_server, provider):
    page.goto(f"{live_server.url}/redaktion/login")
    page.get_by_role("button", name="Mit Single Sign-on anmelden").click()
    expect(page).to_have_url(re.compile(re.escape(provider.issuer) + "/interaction/"))
    page.get_by_label("User name").fill("alice")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/redaktion/")
    expect(
        page.get_by_role("navigation", name="Redaktion").get_by_role("link", name="Mein Konto")
    ).to_be_visible()
    # Log out here and at the provider, and come back to the login form.
    page.get_by_role("button", name="Abmelden").click()
    expect(page).to_have_url(re.compile(re.escape(provider.issuer) + "/session/end"))
    page.get_by_role("button", name=re.compile("Yes", re.I)).click()
    expect(page).to_have_url(re.compile(re.escape(live_server.url) + "/redaktion/login"))
    page.goto(f"{live_server.url}/redaktion/")
    expect(page).to_have_url(re.compile("/redaktion/login"))


def test_refused_single_sign_on_shows_why(page, live_server, provider):
    page.goto(f"{live_server.url}/redaktion/login")
    page.get_by_role("button", name="Mit Single Sign-on anmelden").click()
    page.get_by_role("button", name="Refuse").click()
    expect(page.locator("#error-summary")).to_contain_text("abgelehnt oder abgebrochen")


@pytest.mark.parametrize("width", [375, 1280])
def test_new_account_pages_are_axe_clean(browser, live_server, editor, width):
    from newsticker.auth.services import request_password_reset
    from newsticker.core.site import site_links

    email, password = editor
    token = live_server.run_in_request(
        lambda s: request_password_reset(
            s, email, links=site_links(live_server.app), ip="", now=utcnow()
        )
    )

    def second_user(session: Any) -> None:
        from newsticker.auth.services import create_user

        other = create_user(session, "zweite@example.org", "another long passphrase here")
        other.totp_secret = pyotp.random_base32(32)

    live_server.run(second_user)
    problems: dict[str, Any] = {}
    for language in ("de", "en"):
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.add_cookies(
            [{"name": "newsticker_lang", "value": language, "url": live_server.url}]
        )
        page = context.new_page()

        def check(name: str, page: Any = page, language: str = language) -> None:
            found: list[Any] = axe_violations(page)
            duplicates = page.evaluate(DUPLICATE_IDS)
            if duplicates:
                found.append(("duplicate ids", duplicates))
            if found:
                problems[f"{language} {width} {name}"] = found

        for path in (
            "/redaktion/login",
            "/redaktion/passwort-vergessen",
            f"/redaktion/passwort-neu/{token}",
            "/redaktion/passwort-neu/unknown",
        ):
            page.goto(live_server.url + path)
            check(path)
        page.goto(live_server.url + "/redaktion/passwort-vergessen")
        page.locator("main form button[type=submit]").click()
        check("forgot, empty")
        page.goto(live_server.url + "/redaktion/login")
        page.locator("#email").fill(email)
        page.locator("#password").fill(password)
        page.locator("main form button[type=submit]").last.click()
        for path in ("/redaktion/konto", "/redaktion/konto/2fa", "/redaktion/benutzer"):
            page.goto(live_server.url + path)
            check(path)
        page.goto(live_server.url + "/redaktion/konto")
        page.locator("#pw-current_password").fill("wrong")
        page.locator("form[action$='/konto/passwort'] button[type=submit]").click()
        check("account, wrong password")
        context.close()
    assert problems == {}


def test_password_reset_by_mail(page, live_server, editor):
    email, password = editor
    page.goto(f"{live_server.url}/redaktion/login")
    page.get_by_role("link", name="Passwort vergessen?").click()
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_role("button", name="Link schicken").click()
    expect(page.get_by_text("Falls es ein Konto mit dieser Adresse gibt")).to_be_visible()
    mails = [m for m in live_server.mails() if m.to == email]
    assert len(mails) == 1
    link = re.search(r"http://\S+/redaktion/passwort-neu/\S+", mails[0].body("plain") or "").group(
        0
    )
    page.goto(link)
    page.get_by_label("Neues Passwort", exact=True).fill("password12345")
    page.get_by_label("Neues Passwort wiederholen").fill("password12345")
    page.get_by_role("button", name="Neues Passwort speichern").click()
    expect(page.locator("#error-summary")).to_contain_text("häufig benutzter Passwörter")
    page.get_by_label("Neues Passwort", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Neues Passwort wiederholen").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Neues Passwort speichern").click()
    expect(page.get_by_text("Ihr neues Passwort ist gesetzt.")).to_be_visible()
    login(page, live_server, email, password)
    expect(page.locator("#error-summary")).to_contain_text("nicht korrekt")
    login(page, live_server, email, NEW_PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/redaktion/")
    # The link is used up.
    page.goto(link)
    expect(page.get_by_role("alert")).to_contain_text("bereits benutzt")
    expect(page.get_by_role("link", name="Neuen Link anfordern")).to_be_visible()
