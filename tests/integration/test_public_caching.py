"""Public pages a proxy can keep: no session, validators from the data, 304, compression."""

from __future__ import annotations

import gzip
from datetime import timedelta

import pytest

from newsticker.core.db import utcnow
from tests.factories import create_editor, login, make_issue, make_item

PUBLIC_PAGES = ["/angebote", "/angebote?q=Sprachcaf%C3%A9", "/archiv", "/archiv/ticker"]


@pytest.fixture
def content(db):
    item = make_item(db, title="Sprachcafé am Hafen")
    issue = make_issue(db, items=[item])
    return item, issue


@pytest.mark.parametrize("path", [*PUBLIC_PAGES, "item", "/feeds/angebote.atom"])
def test_public_pages_start_no_session_and_may_be_kept_by_a_proxy(client, content, path):
    item, _ = content
    path = f"/angebote/{item.id}" if path == "item" else path
    response = client.get(path)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers, path
    cache = response.headers["Cache-Control"]
    assert cache.startswith("public") and "max-age=" in cache, cache
    assert response.headers["ETag"].startswith('W/"')


@pytest.mark.parametrize("path", [*PUBLIC_PAGES, "item"])
def test_a_repeat_with_the_validator_gets_304_and_no_body(client, content, path):
    item, _ = content
    path = f"/angebote/{item.id}" if path == "item" else path
    first = client.get(path)
    again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    other = client.get(path, headers={"If-None-Match": 'W/"something-else"'})
    assert other.status_code == 200 and other.get_data()


def test_the_validator_changes_with_the_data_and_the_language(client, db, content):
    item, _ = content
    first = client.get("/angebote").headers["ETag"]
    assert client.get("/angebote").headers["ETag"] == first  # not from the clock
    item.title = "Sprachcafé im Hafen"
    item.updated_at = utcnow() + timedelta(seconds=1)
    db.flush()
    changed = client.get("/angebote")
    assert changed.headers["ETag"] != first
    assert "Sprachcafé im Hafen" in changed.get_data(as_text=True)
    assert client.get("/angebote", headers={"If-None-Match": first}).status_code == 200
    client.post("/sprache", data={"lang": "en", "next": "/"})
    assert client.get("/angebote").headers["ETag"] != changed.headers["ETag"]


def test_if_modified_since_gets_304_when_nothing_changed(client, content):
    first = client.get("/angebote")
    since = first.headers["Last-Modified"]
    assert client.get("/angebote", headers={"If-Modified-Since": since}).status_code == 304


def test_a_page_with_a_form_is_private(client):
    form = client.get("/einreichen")
    assert "Set-Cookie" in form.headers  # the form's CSRF token lives in the session
    assert form.headers["Cache-Control"] == "private, no-cache"


def test_an_editors_view_of_public_pages_is_private(client, db, content, no_csrf):
    create_editor(db)
    login(client)
    for path in PUBLIC_PAGES:
        response = client.get(path)
        assert response.headers["Cache-Control"] == "private, no-store", path
        assert "ETag" not in response.headers
    assert client.get("/redaktion/").headers["Cache-Control"] == "no-store"


def test_a_missing_page_is_not_answered_304(client, content):
    response = client.get("/angebote/999999", headers={"If-None-Match": "*"})
    assert response.status_code == 404


def test_large_answers_are_compressed_and_keep_their_validator(client, db, content):
    for n in range(30):
        make_item(db, title=f"Begegnung {n}", summary="Ein langer Text. " * 20)
    plain = client.get("/angebote")
    packed = client.get("/angebote", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.get_data()) == plain.get_data()
    assert packed.headers["ETag"] == plain.headers["ETag"]
    repeat = client.get(
        "/angebote",
        headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]},
    )
    assert repeat.status_code == 304


def test_a_rendered_page_is_kept_until_its_data_change(client, db, content, monkeypatch):
    from newsticker.items import views

    rendered: list[str] = []
    render = views.render_template

    def counting(name: str, **context: object) -> str:
        rendered.append(name)
        return render(name, **context)

    monkeypatch.setattr(views, "render_template", counting)
    first = client.get("/angebote")
    again = client.get("/angebote")
    assert rendered == ["items/list.html"]
    assert again.get_data() == first.get_data() and again.headers["ETag"] == first.headers["ETag"]
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    item, _ = content
    item.title = "Sprachcafé im Hafen"
    db.flush()
    assert "Sprachcafé im Hafen" in client.get("/angebote").get_data(as_text=True)
    assert rendered == ["items/list.html"] * 2
    with client.session_transaction() as session:
        session["_flashes"] = [("message", "Danke!")]
    assert "Danke!" in client.get("/angebote").get_data(as_text=True)
    assert rendered == ["items/list.html"] * 3


def test_a_public_page_is_compressed_once_per_encoding_and_version(
    client, db, content, monkeypatch
):
    # Browsers and calendar apps ask for gzip or Brotli on every poll: the worker keeps
    # the compressed body by encoding and ETag, and compresses again when the data change.
    import flask_compress.flask_compress as flask_compress

    compressed: list[str] = []
    compress = flask_compress._compress_data

    def counting(app: object, data: bytes, algorithm: str) -> bytes:
        compressed.append(algorithm)
        return compress(app, data, algorithm)

    monkeypatch.setattr(flask_compress, "_compress_data", counting)
    for n in range(30):
        make_item(db, title=f"Begegnung {n}", summary="Ein langer Text. " * 20)
    plain = client.get("/feeds/angebote.ics").get_data()
    for _ in range(3):
        packed = client.get("/feeds/angebote.ics", headers={"Accept-Encoding": "gzip"})
        assert gzip.decompress(packed.get_data()) == plain
    brotli = client.get("/feeds/angebote.ics", headers={"Accept-Encoding": "br"})
    assert brotli.headers["Content-Encoding"] == "br"
    assert client.get("/angebote", headers={"Accept-Encoding": "gzip"}).status_code == 200
    assert compressed == ["gzip", "br", "gzip"]
    item, _ = content
    item.title = "Sprachcafé im Hafen"
    item.updated_at = utcnow() + timedelta(seconds=1)
    db.flush()
    packed = client.get("/feeds/angebote.ics", headers={"Accept-Encoding": "gzip"})
    assert "Sprachcafé im Hafen" in gzip.decompress(packed.get_data()).decode()
    assert compressed == ["gzip", "br", "gzip", "gzip"]


def test_a_personal_answer_is_compressed_afresh_and_never_kept(
    client, db, content, no_csrf, monkeypatch
):
    import flask_compress.flask_compress as flask_compress

    compressed: list[str] = []
    compress = flask_compress._compress_data
    monkeypatch.setattr(
        flask_compress,
        "_compress_data",
        lambda app, data, algorithm: compressed.append(algorithm) or compress(app, data, algorithm),
    )
    for n in range(30):
        make_item(db, title=f"Begegnung {n}", summary="Ein langer Text. " * 20)
    create_editor(db)
    login(client)
    first = client.get("/angebote", headers={"Accept-Encoding": "gzip"})
    again = client.get("/angebote", headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == again.headers["Content-Encoding"] == "gzip"
    assert compressed == ["gzip", "gzip"]
    # Nothing of it was kept: an anonymous visitor's page is compressed for them.
    visitor = client.application.test_client()
    public = visitor.get("/angebote", headers={"Accept-Encoding": "gzip"})
    assert public.headers["Cache-Control"].startswith("public")
    assert compressed == ["gzip", "gzip", "gzip"]
    visitor.get("/angebote", headers={"Accept-Encoding": "gzip"})
    assert compressed == ["gzip", "gzip", "gzip"]
