"""The embed: a compact listing framable only from the configured origins, and its JSON feed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from newsticker.config import ConfigError, load_settings
from newsticker.items.models import ItemStatus
from tests.conftest import EMPTY_CONFIG
from tests.factories import local, make_item, today

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
