"""The prepared issue: placeholders, regions, escaping, sizes; figure values and bars."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from newsticker.issues.rendering import (
    IssueTooLarge,
    PreparedIssue,
    check_size,
    figure_percents,
    format_figure_value,
)
from newsticker.issues.services import IssueError, parse_figure_value

MARKER = "0123456789abcdef"


def ph(name: str, marker: str = MARKER) -> str:
    return f"xNT{marker}_{name}_TNx"


def prepared(html: str, text: str = "") -> PreparedIssue:
    return PreparedIssue(
        issue_id=1,
        language="de",
        subject="Betreff",
        archive_url="https://example.org/archiv/ticker/1",
        html_template=html,
        text_template=text or html,
        marker=MARKER,
        default_greeting="Liebe Leserinnen und Leser,",
        greeting_pattern="Hallo {name},",
    )


TEMPLATE = (
    f"<p>{ph('greeting')}</p>"
    f'{ph("rcpt_begin")}<a href="{ph("unsubscribe_url")}">Abmelden</a>'
    f'<a href="{ph("preferences_url")}">Einstellungen</a>{ph("rcpt_end")}'
    f'{ph("web_begin")}<a href="/archiv">Archiv</a>{ph("web_end")}'
)
VALUES = {"unsubscribe_url": 'https://x/u?a=1&b="2"', "preferences_url": "https://x/p"}


def test_fill_escapes_html_and_keeps_text_raw():
    issue = prepared(TEMPLATE)
    html, text = issue.fill({**VALUES, "greeting": issue.greeting_for("Ana <b>")})
    assert html == (
        "<p>Hallo Ana &lt;b&gt;,</p>"
        '<a href="https://x/u?a=1&amp;b=&#34;2&#34;">Abmelden</a>'
        '<a href="https://x/p">Einstellungen</a>'
    )
    assert "Hallo Ana <b>," in text and 'b="2"' in text


def test_default_greeting_and_web_version_without_personal_links():
    issue = prepared(TEMPLATE)
    html, _text = issue.fill(VALUES)
    assert html.startswith("<p>Liebe Leserinnen und Leser,</p>")
    web = issue.web_html()
    assert web == '<p>Liebe Leserinnen und Leser,</p><a href="/archiv">Archiv</a>'
    assert "xNT" not in web


def test_greeting_for_cleans_names():
    issue = prepared(TEMPLATE)
    assert issue.greeting_for("  Amira \n Yilmaz ") == "Hallo Amira Yilmaz,"
    assert issue.greeting_for("") == issue.greeting_for(None) == "Liebe Leserinnen und Leser,"


def test_links_must_be_given():
    with pytest.raises(KeyError):
        prepared(TEMPLATE).fill({"unsubscribe_url": "u"})


def test_placeholders_of_another_marker_stay_text():
    forged = ph("unsubscribe_url", marker="ffffffffffffffff")
    html, _text = prepared(f"<p>{forged}</p>{ph('unsubscribe_url')}").fill(VALUES)
    assert html.startswith(f"<p>{forged}</p>")


def test_unknown_placeholder_is_a_bug():
    with pytest.raises(ValueError, match="unknown placeholder"):
        prepared(ph("password"))


def test_size_counts_realistic_links_and_check_size_refuses_above_the_limit():
    issue = prepared(TEMPLATE)
    assert issue.html_bytes > len(TEMPLATE.encode()) - 200
    with pytest.raises(IssueTooLarge):
        check_size(issue, issue.html_bytes - 1)
    assert check_size(issue, issue.html_bytes - 1, override=True).too_large
    assert check_size(issue, issue.html_bytes * 2).warning is False


@pytest.mark.parametrize(
    ("raw", "language", "expected"),
    [
        ("1234", "de", "1234"),
        ("1.234", "de", "1234"),
        ("1.234,5", "de", "1234.5"),
        ("12,5", "de", "12.5"),
        ("1234.5", "de", "1234.5"),
        ("12.5", "en", "12.5"),
        ("12,5", "en", "12.5"),
        ("1,234.5", "en", "1234.5"),
        ("1 234,5", "de", "1234.5"),
        ("−3", "de", "-3"),
        ("0,0", "de", "0"),
    ],
)
def test_parse_figure_value(raw, language, expected):
    assert parse_figure_value(raw, language) == expected


@pytest.mark.parametrize(
    "raw", ["", "viele", "1e5", "NaN", "Infinity", "12 %", "1,2,3,4.5.6", "--3"]
)
def test_parse_figure_value_refuses_what_is_not_a_number(raw):
    with pytest.raises(IssueError):
        parse_figure_value(raw, "de")


def test_format_figure_value():
    assert format_figure_value("1234.5", "Personen", "de") == "1.234,5\u00a0Personen"
    assert format_figure_value("62.5", "%", "en") == "62.5\u00a0%"
    assert format_figure_value("7", "", "de") == "7"


def test_bars_compare_figures_of_the_same_unit():
    figures = [
        SimpleNamespace(value="1000", unit="Personen"),
        SimpleNamespace(value="250", unit="Personen"),
        SimpleNamespace(value="40", unit="%"),
        SimpleNamespace(value="-3", unit="%"),
        SimpleNamespace(value="5", unit="Kurse"),
    ]
    assert figure_percents(figures) == [100, 25, 40, 0, 100]
