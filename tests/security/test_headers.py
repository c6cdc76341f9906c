"""Security headers and cookies on every page type; error pages without secrets; clean logs."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from flask import Flask, abort

from newsticker.core.site import site_keyring
from tests.security.conftest import AUDIT, csrf_token, log_in, post_form
from tests.security.test_access_control import fetch, routes, url_of
from tests.security.world import ADMIN_EMAIL, PASSWORD, World

# Pages behind a personal link: the token must not leak through Referer, caches or search.
TOKEN_PAGES = {
    "items.private",
    "items.private_edit",
    "subscribers.confirm",
    "subscribers.unsubscribe_page",
    "subscribers.preferences",
    "subscribers.erase",
}
# Documents shown in a sandboxed frame (a mail, the archive of a sent mail).
SANDBOXED = {"issues.issue", "editor.outbox_mail_html", "issues_editor.preview_html"}
LEAKS = re.compile(
    r"Traceback|File \"/|site-packages|werkzeug\.debug|sqlalchemy\.exc|psycopg|"
    r"SELECT |INSERT |UPDATE \w+ SET|/work/|/home/|/root/"
)


def check_headers(endpoint: str, response: Any, https: bool) -> list[str]:
    """Return what is missing or wrong in a response's security headers."""
    h = response.headers
    problems = []
    where = f"{endpoint} {response.status_code}"
    if h.get("X-Content-Type-Options") != "nosniff":
        problems.append(f"{where}: X-Content-Type-Options")
    csp = h.get("Content-Security-Policy", "")
    if response.mimetype == "text/html":
        if endpoint in SANDBOXED and response.status_code == 200:
            if "sandbox" not in csp or "script-src" in csp or "default-src 'none'" not in csp:
                problems.append(f"{where}: sandboxed document needs default-src 'none'; sandbox")
            if h.get("X-Frame-Options") != "SAMEORIGIN" or "frame-ancestors 'self'" not in csp:
                problems.append(f"{where}: sandboxed document may be framed by the site only")
        else:
            for directive in (
                "default-src 'self'",
                "script-src 'self'",
                "object-src 'none'",
                "frame-ancestors 'none'",
                "base-uri 'self'",
                "form-action 'self'",
            ):
                if directive not in csp:
                    problems.append(f"{where}: CSP lacks {directive}")
            if "unsafe-inline" in csp or "unsafe-eval" in csp:
                problems.append(f"{where}: CSP allows inline code")
            if h.get("X-Frame-Options") != "DENY":
                problems.append(f"{where}: X-Frame-Options")
    elif response.mimetype.startswith("image/") and csp != "default-src 'none'":
        problems.append(f"{where}: an image needs default-src 'none'")
    if (endpoint not in SANDBOXED or response.status_code != 200) and h.get(
        "Referrer-Policy"
    ) not in (
        "strict-origin-when-cross-origin",
        "no-referrer",
    ):
        problems.append(f"{where}: Referrer-Policy")
    if endpoint in TOKEN_PAGES:
        if h.get("Referrer-Policy") != "no-referrer":
            problems.append(f"{where}: a token page must send no Referer")
        if "noindex" not in h.get("X-Robots-Tag", ""):
            problems.append(f"{where}: a token page must not be indexed")
        if h.get("Cache-Control") != "no-store":
            problems.append(f"{where}: a token page must not be cached")
    if https and "max-age=" not in h.get("Strict-Transport-Security", ""):
        problems.append(f"{where}: HSTS")
    if not https and "Strict-Transport-Security" in h:
        problems.append(f"{where}: HSTS over plain http")
    for cookie in h.getlist("Set-Cookie"):
        flags = cookie.lower()
        if "httponly" not in flags or "samesite=lax" not in flags:
            problems.append(f"{where}: cookie without HttpOnly and SameSite: {cookie[:40]}")
        if https and "secure" not in flags:
            problems.append(f"{where}: cookie without Secure over https: {cookie[:40]}")
    return problems


def walk_headers(app: Flask, world: World, client: Any, https: bool) -> tuple[list[str], int]:
    problems = []
    count = 0
    for rule, method in routes(app):
        if method != "GET":
            continue
        response = fetch(client, url_of(app, world, rule))
        problems += check_headers(rule.endpoint, response, https)
        count += 1
    return problems, count


@pytest.mark.parametrize("role", ["anonymous", "admin"])
def test_security_headers_on_every_get_route(app, world, clients, role):
    problems, count = walk_headers(app, world, clients[role], https=False)
    AUDIT[f"GET routes checked for security headers ({role})"] += count
    assert problems == []


@pytest.mark.parametrize("settings_overrides", [{"site.base_url": "https://newsticker.example"}])
def test_over_https_cookies_are_secure_and_hsts_is_sent(app, world, settings_overrides):
    client = app.test_client()
    # Over https, Flask-WTF also wants a Referer from this site (no CSRF through http).
    base = {
        "base_url": "https://newsticker.example",
        "headers": {"Referer": "https://newsticker.example/redaktion/login"},
    }
    token = csrf_token(client, "https://newsticker.example/redaktion/login")
    refused = client.post(
        "/redaktion/login",
        data={"email": ADMIN_EMAIL, "password": PASSWORD, "csrf_token": token},
        base_url="https://newsticker.example",
    )
    assert refused.status_code == 400
    response = client.post(
        "/redaktion/login",
        data={"email": ADMIN_EMAIL, "password": PASSWORD, "csrf_token": token},
        **base,
    )
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    problems = []
    for rule, method in routes(app):
        if method == "GET" and not rule.rule.startswith("/static"):
            response = fetch(client, url_of(app, world, rule), **base)
            problems += check_headers(rule.endpoint, response, https=True)
    assert problems == []
    language = client.post("/sprache", data={"lang": "en", "csrf_token": token}, **base)
    assert "Secure" in language.headers["Set-Cookie"]


def test_error_pages_carry_the_headers_and_leak_nothing(app, world):
    secret = app.config["SECRET_KEY"]

    @app.route("/_audit/<int:code>")
    def boom(code: int) -> Any:
        if code == 500:
            raise RuntimeError(f"database password {secret} in /work/main/x.py")
        abort(code)

    client = app.test_client()
    problems = []
    for code in (400, 401, 403, 404, 405, 410, 413, 422, 429, 500, 503):
        response = fetch(client, f"/_audit/{code}")
        body = response.get_data(as_text=True)
        problems += check_headers(f"error {code}", response, https=False)
        if secret in body or LEAKS.search(body):
            problems.append(f"error {code} leaks: {LEAKS.search(body) or 'the secret key'}")
    for url in (
        "/angebote/99999",
        "/einreichung/" + "x" * 40,
        "/bestaetigen/zu-kurz",
        "/abmelden/a.b",
        "/einstellungen/" + "A" * 5000,
        "/archiv/nichts/1",
    ):
        response = fetch(client, url)
        assert response.status_code in (404, 410), url
        assert not LEAKS.search(response.get_data(as_text=True)), url
    assert problems == []


def test_a_crash_on_a_real_route_shows_the_plain_500_page(app, world, clients, monkeypatch, caplog):
    from newsticker.items import services

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("connection to server at 10.0.0.5 failed: password authentication")

    monkeypatch.setattr(services, "upcoming_events", broken)
    with caplog.at_level(logging.ERROR):
        response = fetch(clients["anonymous"], "/angebote")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "password" not in body and "10.0.0.5" not in body and not LEAKS.search(body)
    assert "RuntimeError" in caplog.text  # logged for the admins, not shown to the visitor


def test_logs_hold_no_passwords_tokens_or_secrets(app, world, db, caplog, catcher, caught):
    """Capture every log record of a whole journey and look for anything secret in it."""
    from subscribers import services as subs

    secrets_seen = {
        "password": PASSWORD,
        "secret key": app.config["SECRET_KEY"],
        **{f"{k} token": v for k, v in world.tokens.items()},
    }
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    # A failed and a successful login, as an admin.
    post_form(client, "/redaktion/login", {"email": ADMIN_EMAIL, "password": "wrong " + PASSWORD})
    secrets_seen["wrong password"] = "wrong " + PASSWORD
    log_in(client, ADMIN_EMAIL)
    new_password = "noch ein sehr geheimes Passwort"
    secrets_seen["new account password"] = new_password
    post_form(
        client,
        "/redaktion/benutzer",
        {"email": "neu@example.org", "name": "Neu", "role": "editor", "password": new_password},
    )
    # A submission, its private link, a sign-up and its confirmation, the personal links.
    visitor = app.test_client()
    from tests.factories import event_form

    post_form(visitor, "/einreichen", event_form(submitter_email="log@example.org"))
    post_form(
        visitor,
        "/abonnieren",
        {"email": "log.leser@example.org", "publications": "ticker", "language": "de"},
    )
    for mail in caught():
        for match in re.findall(
            r"/(?:einreichung|bestaetigen)/([A-Za-z0-9_-]{20,})", mail.body("plain") or ""
        ):
            secrets_seen[f"token mailed to {mail.to}"] = match
    for name, value in secrets_seen.items():
        if name.startswith("token mailed"):
            visitor.get(f"/einreichung/{value}")
            confirm = visitor.get(f"/bestaetigen/{value}")
            if confirm.status_code == 200:
                post_form(visitor, f"/bestaetigen/{value}", {})
    t = world.tokens
    visitor.get(f"/einstellungen/{t['preferences']}")
    token = csrf_token(visitor, f"/einstellungen/{t['preferences']}")
    visitor.post(f"/einstellungen/{t['preferences']}/daten", data={"csrf_token": token})
    visitor.post(f"/abmelden/{t['unsubscribe']}", data={"List-Unsubscribe": "One-Click"})
    visitor.post(f"/einreichung/{t['private']}/zurueckziehen", data={"csrf_token": token})
    with app.test_request_context():
        secrets_seen["verp token"] = subs.verp_token(site_keyring(), world.ids["subscriber"])
    # The test's loopback catcher (aiosmtpd, logger "mail.log") stands in for the relay;
    # what it logs at DEBUG is the mail itself, links included.
    records = [r for r in caplog.records if not r.name.startswith("mail.log")]
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in records)
    assert len(records) > 3, "the journey should have logged something"
    leaked = [name for name, value in secrets_seen.items() if value and value in logged]
    AUDIT["log records searched for secrets"] += len(records)
    assert leaked == []
