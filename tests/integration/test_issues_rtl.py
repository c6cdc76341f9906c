"""An issue in Arabic or Persian runs right to left: the html element and the mail's own
container say so (some webmail drops the html element), alignment and the figures' spacing
are mirrored, and an item written left to right keeps its own direction inside."""

from __future__ import annotations

import re

import pytest
from lxml import html as lxml_html

from newsticker.issues.rendering import render_issue
from tests.integration.test_issues_golden import VALUES, newsletter, ticker


def document(db, issue, language):
    html, _text = render_issue(issue, language).fill(VALUES)
    return html, lxml_html.document_fromstring(html)


def style_of(element) -> dict[str, str]:
    pairs = (part.split(":", 1) for part in element.get("style", "").split(";") if ":" in part)
    return {name.strip(): value.strip() for name, value in pairs}


@pytest.mark.parametrize("language", ["ar", "fa"])
def test_ticker_in_a_right_to_left_language(db, language):
    html, doc = document(db, ticker(db), language)
    assert f'<html lang="{language}" dir="rtl">' in html
    article = doc.find(".//div[@role='article']")
    assert (article.get("lang"), article.get("dir")) == (language, "rtl")
    card = article.find(".//table")
    assert style_of(card)["text-align"] == "right"
    # The items are German: each keeps its language, direction and alignment.
    entries = doc.xpath("//div[@lang='de'][@dir]")
    assert entries, "the ticker's items are marked with their own language"
    for entry in entries:
        assert entry.get("dir") == "ltr"
        assert style_of(entry)["text-align"] == "left"


def test_ticker_in_german_stays_left_to_right(db):
    html, doc = document(db, ticker(db), "de")
    assert '<html lang="de" dir="ltr">' in html
    card = doc.find(".//div[@role='article']").find(".//table")
    assert style_of(card)["text-align"] == "left"


def test_figures_keep_their_gap_on_the_mirrored_side(db):
    issue = newsletter(db)
    _html, rtl = document(db, issue, "ar")
    _html, ltr = document(db, issue, "de")
    (rtl_value, *_), (ltr_value, *_) = (
        d.xpath("//td[contains(@class, 'fig-value')]") for d in (rtl, ltr)
    )
    assert style_of(rtl_value)["padding-right"] == "12px"
    assert style_of(ltr_value)["padding-left"] == "12px"
    assert "padding-left" not in style_of(rtl_value)
    assert not re.search(r"padding:\s*0 0 0 12px", rtl_value.get("style"))
