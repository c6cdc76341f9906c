"""Which language a request is shown in: the six on public pages, German or English in the
editor area, the switch naming each language in itself, the config's default language."""

from __future__ import annotations

import pytest

from newsticker.config import ConfigError, load_settings
from newsticker.core.i18n import LANGUAGE_COOKIE, LANGUAGES, text_direction


def page_language(response) -> tuple[str, str]:
    html = response.get_data(as_text=True)
    start = html.index("<html")
    tag = html[start : html.index(">", start)]
    lang = tag.split('lang="')[1].split('"')[0]
    direction = tag.split('dir="')[1].split('"')[0]
    return lang, direction


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_public_pages_speak_the_chosen_language(client, language):
    client.set_cookie(LANGUAGE_COOKIE, language)
    for path in ("/", "/abonnieren", "/einreichen", "/angebote", "/gibt-es-nicht"):
        assert page_language(client.get(path)) == (language, text_direction(language)), path


def test_the_switch_names_each_language_in_itself(client):
    html = client.get("/").get_data(as_text=True)
    for code, name in LANGUAGES.items():
        button = f'value="{code}" lang="{code}" dir="{text_direction(code)}"'
        assert button in html and f">{name}</button>" in html


def test_the_switch_sets_only_the_cookie(client):
    response = client.post("/sprache", data={"lang": "fa", "next": "/angebote"})
    assert response.status_code == 303 and response.headers["Location"] == "/angebote"
    assert f"{LANGUAGE_COOKIE}=fa" in response.headers["Set-Cookie"]
    refused = client.post("/sprache", data={"lang": "fr", "next": "/"})
    assert refused.status_code == 303 and "Set-Cookie" not in refused.headers


@pytest.mark.parametrize("cookie", ["ar", "fa", "uk", "tr"])
def test_the_editor_area_stays_german_or_english(client, cookie):
    client.set_cookie(LANGUAGE_COOKIE, cookie)
    response = client.get("/redaktion/login")
    assert page_language(response) == ("de", "ltr")
    html = response.get_data(as_text=True)
    # Its switch offers only what the area speaks.
    assert 'value="en"' in html and f'value="{cookie}"' not in html


def test_a_logged_in_editor_gets_the_account_language(client, db, no_csrf, editor):
    editor.language = "en"
    db.flush()
    client.set_cookie(LANGUAGE_COOKIE, "ar")
    assert page_language(client.get("/redaktion/")) == ("en", "ltr")
    # The public pages keep the visitor's own choice.
    assert page_language(client.get("/")) == ("ar", "rtl")
    client.set_cookie(LANGUAGE_COOKIE, "de")
    assert page_language(client.get("/redaktion/")) == ("de", "ltr")


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_default_language_may_be_any_of_the_six(language):
    settings = load_settings(overrides={"site.default_language": language}, environ={})
    assert settings.site.default_language == language


def test_default_language_refuses_another():
    with pytest.raises(ConfigError) as refused:
        load_settings(overrides={"site.default_language": "fr"}, environ={})
    assert "site.default_language: expected 'de', 'en', 'ar', 'fa', 'uk' or 'tr'" in str(
        refused.value
    )
