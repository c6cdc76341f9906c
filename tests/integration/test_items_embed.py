"""The embed: a compact listing framable only from the configured origins, and its JSON feed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from newsticker.config import ConfigError, load_settings
from newsticker.items.models import ItemStatus
from newsticker.items.services import propose_version
from tests.conftest import EMPTY_CONFIG
from tests.factories import create_editor, local, make_item, today

ALLOWED = "https://www.flensburg.de"


@pytest.fixture
def settings_overrides():
    return {"embed.allowed_origins": [ALLOWED, "http://127.0.0.1:8081"]}


def frame_ancestors(response) -> str:
    policy = response.headers["Content-Security-Policy"]
    (directive,) = [d.strip() for d in policy.split(";") if "frame-ancestors" in d]
    return directive


def test_embed_lists_upcoming_dates_and_is_framable_from_the_allowed_origins(client, db):
    item = make_item(db, title="Sprachcafé", place_name="Stadtbibliothek")
    make_item(db, title="Abgelehnt", status=ItemStatus.REJECTED)
    response = client.get("/embed/angebote")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Sprachcafé" in html and "Stadtbibliothek" in html
    assert "Abgelehnt" not in html
    assert f'href="/angebote/{item.id}"' in html
    assert '<base target="_top">' in html
    assert "site-header" not in html  # no navigation inside somebody else's page
    assert frame_ancestors(response) == f"frame-ancestors {ALLOWED} http://127.0.0.1:8081"
    # X-Frame-Options cannot name origins: it must not contradict the policy.
    assert "X-Frame-Options" not in response.headers


def test_every_other_page_still_refuses_framing(client):
    for path in ("/angebote", "/", "/einreichen"):
        response = client.get(path)
        assert frame_ancestors(response) == "frame-ancestors 'none'", path
        assert response.headers["X-Frame-Options"] == "DENY", path


def test_embed_takes_the_directorys_filters(client, db):
    make_item(db, title="Deutschkurs", field_of_action="education")
    make_item(db, title="Fußballturnier", field_of_action="health")
    html = client.get("/embed/angebote?bereich=education").get_data(as_text=True)
    assert "Deutschkurs" in html and "Fußballturnier" not in html
    html = client.get("/embed/angebote?q=Fu%C3%9Fball").get_data(as_text=True)
    assert "Fußballturnier" in html and "Deutschkurs" not in html


def test_embed_ignores_bad_filters_instead_of_failing(client, db):
    make_item(db, title="Sprachcafé")
    response = client.get("/embed/angebote?bereich=<script>&art=nonsense&seite=-4&sprache=xx")
    assert response.status_code == 200
    assert "Sprachcafé" in response.get_data(as_text=True)
    assert "<script>" not in response.get_data(as_text=True)


def test_embed_speaks_english_when_asked(client, db):
    make_item(db, title="Sprachcafé")
    html = client.get("/embed/angebote?lang=en").get_data(as_text=True)
    assert "Upcoming dates" in html and '<html lang="en"' in html
    html = client.get("/embed/angebote?lang=xx").get_data(as_text=True)
    assert "Kommende Termine" in html


def test_json_feed_is_json_feed_1_1_with_one_entry_per_date(client, db):
    start = local(today() + timedelta(days=3), 18, 30)
    item = make_item(db, title="Sprachcafé", starts_at=start, ends_at=start + timedelta(hours=2))
    response = client.get("/embed/angebote.json?bereich=" + item.field_of_action)
    assert response.status_code == 200
    assert response.mimetype == "application/feed+json"
    feed = response.get_json()
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["feed_url"].startswith("http://localhost/embed/angebote.json")
    assert "bereich=" in feed["feed_url"]
    (entry,) = feed["items"]
    assert entry["url"] == f"http://localhost/angebote/{item.id}"
    assert entry["title"] == "Sprachcafé"
    assert datetime.fromisoformat(entry["_newsticker"]["starts_at"]) == start
    assert entry["id"].startswith(entry["url"] + "#")


def test_json_feed_cors_only_for_allowed_origins(client, db):
    make_item(db)
    allowed = client.get("/embed/angebote.json", headers={"Origin": ALLOWED})
    assert allowed.headers["Access-Control-Allow-Origin"] == ALLOWED
    other = client.get("/embed/angebote.json", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    assert other.status_code == 200  # public data; only other sites' scripts are refused


def test_without_allowed_origins_the_embed_refuses_framing(app, client, db):
    settings = app.config["NEWSTICKER_SETTINGS"]
    embed = settings.embed.model_copy(update={"allowed_origins": []})
    app.config["NEWSTICKER_SETTINGS"] = settings.model_copy(update={"embed": embed})
    response = client.get("/embed/angebote")
    assert frame_ancestors(response) == "frame-ancestors 'none'"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "origin",
    ["https://www.flensburg.de/path", "*", "https://*.flensburg.de", "ftp://x.de", "'self'"],
)
def test_config_refuses_an_origin_that_is_not_one(origin):
    with pytest.raises(ConfigError, match="embed.allowed_origins"):
        load_settings(EMPTY_CONFIG, overrides={"embed.allowed_origins": [origin]}, environ={})


# ---------------------------------------------------------------- in the reader's language

ARABIC = {
    "language": "ar",
    "title": "فطور متعدد الثقافات",
    "summary": "نفطر معاً ونتعرف على الجيران.",
    "description": "الجميع **مرحب** بهم.",
}
UKRAINIAN = {
    "language": "uk",
    "title": "Міжкультурний сніданок",
    "summary": "Снідаємо разом і знайомимося з сусідами.",
    "description": "Ласкаво **просимо** всіх.",
}
ORIGINAL = "Interkulturelles Frühstück"


@pytest.fixture
def versioned(db):
    """An event and an announcement, each with an approved Arabic and a waiting Ukrainian text."""
    editor = create_editor(db)
    event = make_item(db)
    notice = make_item(
        db,
        kind="announcement",
        starts_at=None,
        ends_at=None,
        visible_until=today() + timedelta(days=5),
    )
    for item in (event, notice):
        propose_version(db, item, dict(ARABIC), source="editor", user=editor)
        propose_version(db, item, dict(UKRAINIAN), source="submitter")
    return event, notice


def test_embed_shows_the_approved_version_in_the_page_language_marked_as_such(client, versioned):
    html = client.get("/embed/angebote?lang=ar").get_data(as_text=True)
    event, notice = versioned
    # The event's date and the announcement: each title in Arabic, right to left.
    for heading, item in (("h4", event), ("h3", notice)):
        assert (
            f'<{heading} class="item-title" lang="ar" dir="rtl">'
            f'<a href="/angebote/{item.id}">{ARABIC["title"]}</a></{heading}>'
        ) in html
    assert f'<p class="item-summary" lang="ar" dir="rtl">{ARABIC["summary"]}</p>' in html
    assert ORIGINAL not in html
    # The place is shared by all versions: it stays in the original's language.
    assert '<p class="item-meta" lang="de" dir="ltr">Stadtteilhaus</p>' in html


def test_embed_shows_the_original_where_the_version_still_waits(client, versioned):
    html = client.get("/embed/angebote?lang=uk").get_data(as_text=True)
    assert '<html lang="uk"' in html
    assert UKRAINIAN["title"] not in html and UKRAINIAN["summary"] not in html
    assert (
        f'class="item-title" lang="de" dir="ltr"><a href="/angebote/{versioned[0].id}">{ORIGINAL}'
        in html
    )
    assert '<p class="item-summary" lang="de" dir="ltr">Gemeinsam frühstücken' in html


def test_json_feed_carries_the_version_in_the_page_language(client, versioned):
    feed = client.get("/embed/angebote.json?lang=ar").get_json()
    assert feed["language"] == "ar"
    assert len(feed["items"]) == 2
    for entry in feed["items"]:
        assert entry["title"] == ARABIC["title"]
        assert entry["language"] == "ar"
        assert entry["summary"].endswith(ARABIC["summary"])
        assert "<strong>مرحب</strong>" in entry["content_html"]
        assert (
            ARABIC["summary"] in entry["content_text"]
            and "الجميع مرحب بهم" in entry["content_text"]
        )
        assert "frühstücken" not in entry["content_text"]


def test_json_feed_keeps_the_original_where_the_version_still_waits(client, versioned):
    feed = client.get("/embed/angebote.json?lang=uk").get_json()
    for entry in feed["items"]:
        assert entry["title"] == ORIGINAL and entry["language"] == "de"
        assert "<strong>willkommen</strong>" in entry["content_html"]


def test_sprache_is_the_directorys_filter_on_the_embed_and_its_feed(client, db, versioned):
    """`sprache` filters by the languages spoken, as on /angebote; texts follow the page."""
    make_item(db, title="Deutschkurs", event_languages=["de"])
    for path in ("/angebote", "/embed/angebote"):
        html = client.get(path, query_string={"sprache": "ar"}).get_data(as_text=True)
        assert ORIGINAL in html and "Deutschkurs" not in html, path
    feed = client.get("/embed/angebote.json?sprache=ar").get_json()
    assert {entry["title"] for entry in feed["items"]} == {ORIGINAL}
    feed = client.get("/embed/angebote.json?sprache=ar&lang=ar").get_json()
    assert {entry["title"] for entry in feed["items"]} == {ARABIC["title"]}
    # An unknown code is ignored like every bad filter of the directory: no 404, no filter.
    for path in ("/angebote", "/embed/angebote", "/embed/angebote.json"):
        response = client.get(path, query_string={"sprache": "xx"})
        assert response.status_code == 200, path
        assert "Deutschkurs" in response.get_data(as_text=True), path
