"""The city's look by configuration: main colour, logo and name on the site and in mails."""

from __future__ import annotations

import pytest

from newsticker.core.mailrender import render_mail
from newsticker.issues.rendering import render_issue
from tests.factories import make_issue, make_item

LOGO = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
FILL = {"greeting": "Hallo", "unsubscribe_url": "u", "preferences_url": "p", "footer": ""}


@pytest.fixture
def settings_overrides(tmp_path):
    logo = tmp_path / "stadtlogo.png"
    logo.write_bytes(LOGO)
    return {"site.name": "Stadt Musterhausen", "site.colour": "#7a1f2b", "site.logo": str(logo)}


def test_site_carries_name_logo_colour_and_favicon(client):
    html = client.get("/").get_data(as_text=True)
    assert "Stadt Musterhausen" in html
    assert '<img class="site-logo" src="/logo" alt="">' in html
    assert '<link rel="stylesheet" href="/gestaltung.css">' in html
    assert '<link rel="icon" href="/favicon" type="image/svg+xml">' in html
    css = client.get("/gestaltung.css")
    assert css.mimetype == "text/css"
    assert "--brand: #7a1f2b;" in css.get_data(as_text=True)
    logo = client.get("/logo")
    assert logo.status_code == 200 and logo.mimetype == "image/png" and logo.data == LOGO
    icon = client.get("/favicon")
    assert icon.mimetype == "image/svg+xml"
    assert b'fill="#7a1f2b"' in icon.data and b">S</text>" in icon.data
    redirected = client.get("/favicon.ico")
    assert redirected.status_code == 301 and redirected.location.endswith("/favicon")


def test_transactional_mail_carries_logo_and_colour(app):
    app.jinja_loader.searchpath.append(
        str(__import__("pathlib").Path(__file__).parent / "templates")
    )
    with app.test_request_context():
        mail = render_mail("test_hello", "de", name="Ada")
    assert '<img src="http://localhost/logo"' in mail.html
    assert "background:#7a1f2b" in mail.html.replace(" ", "")
    assert "Stadt Musterhausen" in mail.html


def test_issue_mail_carries_logo_and_colour(db):
    html, _text = render_issue(make_issue(db, items=[make_item(db)]), "de").fill(FILL)
    assert '<img src="http://localhost/logo"' in html
    assert "background-color:#7a1f2b" in html
    assert "Stadt Musterhausen" in html
    assert "#004b87;color:#ffffff" not in html


class TestWithoutConfiguration:
    """Without a logo or favicon file nothing is served and nothing links to one."""

    @pytest.fixture
    def settings_overrides(self):
        return {}

    def test_no_logo_but_a_derived_favicon(self, client):
        html = client.get("/").get_data(as_text=True)
        assert "site-logo" not in html
        assert client.get("/logo").status_code == 404
        assert client.get("/favicon").status_code == 200
        assert "--brand: #004b87;" in client.get("/gestaltung.css").get_data(as_text=True)
