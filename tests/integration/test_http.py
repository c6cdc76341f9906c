"""What every page shares: headers, languages, error pages, health check."""

import re

import pytest
from flask import abort

from newsticker.core.http import safe_next_url

PAGES = ["/", "/datenschutz", "/redaktion/login", "/does-not-exist", "/healthz"]


@pytest.mark.parametrize("path", PAGES)
def test_security_headers_on_every_response(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_pages_have_no_inline_script_or_style(client):
    html = client.get("/").get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert " style=" not in html
    assert "<style" not in html


def test_html_lang_and_landmarks(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="de"' in html
    assert 'class="skip-link" href="#main"' in html
    for landmark in ("<header", "<main", "<footer", "<nav"):
        assert landmark in html


def test_language_switch_is_remembered(client, no_csrf):
    response = client.post("/sprache", data={"lang": "en", "next": "/datenschutz"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/datenschutz"
    assert "HttpOnly" in response.headers["Set-Cookie"]
    html = client.get("/datenschutz").get_data(as_text=True)
    assert '<html lang="en"' in html
    assert "Privacy notice" in html
    client.post("/sprache", data={"lang": "de", "next": "/"})
    assert "Datenschutzhinweise" in client.get("/datenschutz").get_data(as_text=True)


def test_language_switch_ignores_unknown_language_and_foreign_next(client, no_csrf):
    response = client.post("/sprache", data={"lang": "xx", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"
    assert (
        "Set-Cookie" not in response.headers
        or "newsticker_lang" not in response.headers["Set-Cookie"]
    )


def test_language_switch_works_without_a_session(client):
    """No CSRF token, so public pages start no session; it only sets the language cookie."""
    response = client.post("/sprache", data={"lang": "en", "next": "/angebote"})
    assert response.status_code == 303 and response.headers["Location"] == "/angebote"
    cookies = response.headers.getlist("Set-Cookie")
    assert len(cookies) == 1 and cookies[0].startswith("newsticker_lang=en;")


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/redaktion/", "/redaktion/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
    ],
)
def test_safe_next_url(target, expected):
    assert safe_next_url(target, "/") == expected


def test_404_page_in_both_languages(client, no_csrf):
    response = client.get("/gibt-es-nicht")
    assert response.status_code == 404
    assert "Seite nicht gefunden" in response.get_data(as_text=True)
    client.post("/sprache", data={"lang": "en", "next": "/"})
    assert "Page not found" in client.get("/gibt-es-nicht").get_data(as_text=True)


def test_405_page_keeps_allow_header(client):
    response = client.delete("/")
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert "Nicht erlaubt" in response.get_data(as_text=True)


def test_error_pages_400_403_429(app, client):
    @app.route("/_boom/<int:code>")
    def boom(code):
        abort(code)

    for code, title in (
        (400, "Fehlerhafte Anfrage"),
        (403, "Zugriff verweigert"),
        (429, "Zu viele Anfragen"),
    ):
        response = client.get(f"/_boom/{code}")
        assert response.status_code == code
        assert title in response.get_data(as_text=True)


def test_500_page_shows_no_trace_or_secret(app, client, caplog):
    @app.route("/_crash")
    def crash():
        raise RuntimeError("secret detail " + app.config["SECRET_KEY"])

    response = client.get("/_crash")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Etwas ist schiefgegangen" in body
    assert "Traceback" not in body
    assert "secret detail" not in body
    assert app.config["SECRET_KEY"] not in body


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_503_when_database_unreachable(tmp_path, caplog):
    from newsticker import create_app
    from tests.conftest import make_settings

    broken = make_settings("postgresql+psycopg://nobody@127.0.0.1:1/none", tmp_path)
    app = create_app(broken)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


def test_request_body_too_large_gets_413(client):
    response = client.post("/redaktion/login", data={"email": "x" * (13 * 1024 * 1024)})
    assert response.status_code == 413
    assert "Zu groß" in response.get_data(as_text=True)


def test_overlong_field_is_a_form_error(client, no_csrf):
    response = client.post("/redaktion/login", data={"email": "x" * 100_000, "password": "x"})
    assert response.status_code == 422


@pytest.mark.parametrize("settings_overrides", [{"site.proxy_count": 1}])
def test_behind_a_proxy_the_visitor_address_is_the_forwarded_one(app, client):
    from flask import request

    @app.route("/_ip")
    def ip():
        return request.remote_addr or ""

    response = client.get("/_ip", headers={"X-Forwarded-For": "203.0.113.7"})
    assert response.get_data(as_text=True) == "203.0.113.7"


def test_without_a_proxy_forwarded_headers_are_ignored(app, client):
    from flask import request

    @app.route("/_ip")
    def ip():
        return request.remote_addr or ""

    response = client.get("/_ip", headers={"X-Forwarded-For": "203.0.113.7"})
    assert response.get_data(as_text=True) == "127.0.0.1"


@pytest.mark.parametrize(
    "path", ["/angebote/99999999999", "/archiv/ticker/99999999999", "/angebote/2147483648.ics"]
)
def test_ids_beyond_the_integer_columns_are_no_such_page(client, path):
    # PostgreSQL would refuse the number in the query (a 500): it never gets that far.
    assert client.get(path).status_code == 404


def test_ids_within_the_integer_columns_still_reach_the_view(client):
    assert client.get("/angebote/2147483647").status_code == 404  # looked up, not found
