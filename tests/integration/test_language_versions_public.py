"""What the public sees of an item's language versions: pages, lists, search and feeds."""

from __future__ import annotations

import pytest
from icalendar import Calendar
from lxml import etree

from newsticker.items.models import Item
from newsticker.items.services import approve_version, propose_version
from tests.factories import create_editor, make_item

ARABIC = {
    "language": "ar",
    "title": "فطور متعدد الثقافات",
    "summary": "نفطر معاً ونتعرف على الجيران.",
    "description": "الجميع **مرحب** بهم.",
}
ENGLISH = {
    "language": "en",
    "title": "Intercultural breakfast",
    "summary": "Have breakfast together and meet the neighbours.",
    "description": "Everyone is **welcome**.",
}


@pytest.fixture
def item(db) -> Item:
    found = make_item(db)
    editor = create_editor(db)
    propose_version(db, found, dict(ENGLISH), source="editor", user=editor)
    propose_version(db, found, dict(ARABIC), source="editor", user=editor)
    return found


def test_the_page_shows_the_visitors_language_and_links_the_others(client, item):
    client.set_cookie("newsticker_lang", "en")
    html = client.get(f"/angebote/{item.id}").get_data(as_text=True)
    assert '<h1 lang="en" dir="ltr">Intercultural breakfast</h1>' in html
    assert "Have breakfast together" in html and "Gemeinsam frühstücken" not in html
    assert f'href="/angebote/{item.id}?sprache=ar" hreflang="ar"' in html
    assert f'href="/angebote/{item.id}?sprache=de" hreflang="de"' in html
    assert 'rel="alternate" hreflang="ar"' in html


def test_a_language_chosen_in_the_link_shows_that_version_right_to_left(client, item):
    html = client.get(f"/angebote/{item.id}?sprache=ar").get_data(as_text=True)
    assert f'<h1 lang="ar" dir="rtl">{ARABIC["title"]}</h1>' in html
    assert '<p class="lead item-lead" lang="ar" dir="rtl">' in html
    # Interface words keep the page's language inside the Arabic text.
    assert '<dt lang="de" dir="ltr">Ort</dt>' in html


@pytest.mark.parametrize("asked", ["fa", "xx", "<script>"])
def test_a_language_without_a_version_shows_the_original(client, item, asked):
    response = client.get(f"/angebote/{item.id}", query_string={"sprache": asked})
    assert response.status_code == 200
    assert '<h1 lang="de" dir="ltr">Interkulturelles Frühstück</h1>' in response.get_data(
        as_text=True
    )


def test_a_waiting_version_is_not_shown(client, db):
    waiting = make_item(db)
    propose_version(db, waiting, dict(ARABIC), source="submitter")
    html = client.get(f"/angebote/{waiting.id}?sprache=ar").get_data(as_text=True)
    assert ARABIC["title"] not in html
    assert 'hreflang="ar"' not in html


def test_the_list_shows_titles_in_the_visitors_language(client, item):
    client.set_cookie("newsticker_lang", "en")
    html = client.get("/angebote").get_data(as_text=True)
    assert "Intercultural breakfast" in html and "Interkulturelles Frühstück" not in html
    assert 'class="item-title" lang="en" dir="ltr"' in html


def test_search_finds_the_item_by_a_word_of_any_approved_version(client, db, item):
    for query in ("الجيران", "neighbours", "Frühstück"):
        html = client.get("/angebote", query_string={"q": query}).get_data(as_text=True)
        assert f"/angebote/{item.id}" in html, query
    waiting = make_item(db, title="Nähcafé")
    propose_version(db, waiting, {**ENGLISH, "title": "Sewing corner"}, source="submitter")
    html = client.get("/angebote", query_string={"q": "Sewing"}).get_data(as_text=True)
    assert f"/angebote/{waiting.id}" not in html
    approve_version(db, waiting.versions[0], user=None)
    html = client.get("/angebote", query_string={"q": "Sewing"}).get_data(as_text=True)
    assert f"/angebote/{waiting.id}" in html


def _event(body: bytes) -> object:
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    return event


def test_the_ical_feeds_take_a_language(client, item):
    original = client.get("/feeds/angebote.ics")
    arabic = client.get("/feeds/angebote.ics?sprache=ar")
    assert original.status_code == arabic.status_code == 200
    assert str(_event(original.data)["SUMMARY"]) == "Interkulturelles Frühstück"
    summary = _event(arabic.data)["SUMMARY"]
    assert str(summary) == ARABIC["title"] and summary.params["LANGUAGE"] == "ar"
    assert "الجميع مرحب بهم." in str(_event(arabic.data)["DESCRIPTION"])
    # A language without versions: the originals, marked as such.
    persian = _event(client.get("/feeds/angebote.ics?sprache=fa").data)["SUMMARY"]
    assert persian.params["LANGUAGE"] == "de"
    single = client.get(f"/angebote/{item.id}.ics?sprache=en")
    assert str(_event(single.data)["SUMMARY"]) == "Intercultural breakfast"
    field = client.get(f"/feeds/angebote/{item.field_of_action}.ics?sprache=ar")
    assert str(_event(field.data)["SUMMARY"]) == ARABIC["title"]


def test_the_atom_feed_takes_a_language(client, item):
    root = etree.fromstring(client.get("/feeds/angebote.atom?sprache=ar").data)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    (entry,) = root.findall("a:entry", ns)
    assert entry.findtext("a:title", namespaces=ns) == ARABIC["title"]
    assert entry.get("{http://www.w3.org/XML/1998/namespace}lang") == "ar"


@pytest.mark.parametrize(
    "url", ["/feeds/angebote.ics?sprache=xx", "/feeds/angebote.atom?sprache=de-DE"]
)
def test_a_feed_in_a_language_items_cannot_have_is_not_found(client, item, url):
    assert client.get(url).status_code == 404
