"""Tests for editor-safe Markdown rendering and single-line field checks."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from newsticker.core.markup import (
    ALLOWED_TAGS,
    URL_SCHEMES,
    clean_html,
    clean_line,
    has_control_chars,
    markdown_to_text,
    render_markdown,
)


class _TagCollector(HTMLParser):
    """Collect every start tag and its attributes, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))


def _tags(markup: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    parser = _TagCollector()
    parser.feed(markup)
    parser.close()
    return parser.tags


def _assert_safe(markup: str) -> None:
    assert "<script" not in markup.lower()
    for tag, attrs in _tags(markup):
        assert tag in ALLOWED_TAGS, tag
        names = [name for name, _value in attrs]
        assert not any(name.startswith("on") for name in names), (tag, attrs)
        if tag != "a":
            assert names == [], (tag, attrs)
            continue
        assert set(names) <= {"href", "title", "rel"}, attrs
        values = dict(attrs)
        assert values["rel"] == "noopener nofollow"
        href = values.get("href")
        if href is not None:
            assert "javascript:" not in href.lower()
            assert urlsplit(href.strip()).scheme.lower() in URL_SCHEMES, href


_NASTY = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<svg/onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox)",
    "<javascript:alert(1)>",
    "![i](javascript:alert(1))",
    '[x](http://example.org "onclick=alert(1)")',
    '[x](http://example.org "<script>")',
    "<https://example.org/?a=1&b=2>",
    "[ok](https://example.org)",
    "[mail](mailto:a@example.org)",
    "[rel](/relative/path)",
    '<p style="color:red" onclick="x">',
    "<!-- comment -->",
    "&lt;script&gt;",
    "<iframe src=https://evil.example>",
    "<style>body{}</style>",
    "| a | b |\n|---|---|\n| <b>1</b> | 2 |\n",
    "# ",
    "###### ",
    "- ",
    "1. ",
    "> ",
    "```\n",
    "`",
    "**",
    "_",
    "~~",
    "\n",
    "\n\n",
    "  \n",
    "    ",
    "[",
    "](",
    ")",
    "<",
    ">",
    "&",
    '"',
    "'",
    "=",
    "onmouseover=",
    "javascript:",
]

_markdownish = st.lists(st.one_of(st.sampled_from(_NASTY), st.text(max_size=12)), max_size=12).map(
    "".join
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), _markdownish))
def test_render_markdown_output_is_always_safe(text: str) -> None:
    _assert_safe(str(render_markdown(text)))


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), _markdownish))
def test_render_markdown_output_is_stable_under_cleaning(text: str) -> None:
    rendered = str(render_markdown(text))
    assert clean_html(rendered) == rendered


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), _markdownish))
def test_markdown_to_text_never_raises_and_has_no_entities(text: str) -> None:
    plain = markdown_to_text(text)
    assert isinstance(plain, str)
    if "&" not in text:
        assert "&amp;" not in plain
        assert "&lt;" not in plain


@pytest.mark.parametrize("text", ["", "   \n\t", None])
def test_render_markdown_empty_input(text: str | None) -> None:
    result = render_markdown(text)
    assert isinstance(result, Markup)
    assert result == Markup("")


def test_render_markdown_returns_markup_that_jinja_does_not_escape_again() -> None:
    result = render_markdown("**a** & b")
    assert isinstance(result, Markup)
    assert Markup("{}").format(result) == "<p><strong>a</strong> &amp; b</p>"


def test_render_markdown_basic_formatting() -> None:
    out = str(render_markdown("Hello **world**, _you_ and ~~not~~ `code`."))
    assert out == (
        "<p>Hello <strong>world</strong>, <em>you</em> and <s>not</s> <code>code</code>.</p>"
    )


def test_headings_are_kept_between_h2_and_h4() -> None:
    out = str(render_markdown("# One\n\n## Two\n\n### Three\n\n#### Four\n\n###### Six"))
    assert out == "<h2>One</h2>\n<h2>Two</h2>\n<h3>Three</h3>\n<h4>Four</h4>\n<h4>Six</h4>"


def test_links_get_rel_and_keep_only_href_and_title() -> None:
    out = str(render_markdown('[Anmeldung](https://example.org/form "Formular")'))
    assert out == (
        '<p><a href="https://example.org/form" title="Formular" rel="noopener nofollow">'
        "Anmeldung</a></p>"
    )


def test_mailto_links_are_kept() -> None:
    out = str(render_markdown("[Schreiben Sie uns](mailto:integration@example.org)"))
    assert 'href="mailto:integration@example.org"' in out


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "<javascript:alert(1)>",
        "[x](/relative)",
        "[x](ftp://example.org/file)",
    ],
)
def test_unsafe_or_relative_links_become_inert(source: str) -> None:
    out = str(render_markdown(source))
    _assert_safe(out)
    assert "href" not in out


def test_raw_html_is_shown_as_text_not_markup() -> None:
    out = str(render_markdown('<b onclick="x">hi</b> <script>alert(1)</script>'))
    assert out == ('<p>&lt;b onclick="x"&gt;hi&lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt;</p>')


def test_images_are_reduced_to_their_alt_text() -> None:
    assert str(render_markdown("![Plakat zum Fest](https://example.org/p.png)")) == (
        "<p>Plakat zum Fest</p>"
    )


def test_tables_lists_quotes_and_code_survive_without_attributes() -> None:
    source = (
        "| Tag | Zeit |\n|:--|--:|\n| Di | 18:30 |\n\n"
        "- a\n- b\n\n1. c\n\n> zitiert\n\n```python\nprint(1)\n```\n\n---\n"
    )
    out = str(render_markdown(source))
    for tag in ("table", "thead", "tbody", "tr", "th", "td", "ul", "ol", "li"):
        assert f"<{tag}>" in out
    assert "<blockquote>" in out
    assert "<pre><code>print(1)\n</code></pre>" in out
    assert "<hr>" in out
    assert "style=" not in out
    assert "class=" not in out


def test_clean_html_strips_disallowed_markup() -> None:
    dirty = (
        '<div class="x"><h1 id="t">T</h1><p style="x" onclick="y">a<img src="x"></p>'
        '<script>bad()</script><style>p{}</style><a href="javascript:x">l</a></div>'
    )
    assert clean_html(dirty) == 'T<p>a</p><a rel="noopener nofollow">l</a>'


def test_right_to_left_text_passes_through() -> None:
    out = str(render_markdown("مرحبا **بكم** في فلنسبورغ"))
    assert out == "<p>مرحبا <strong>بكم</strong> في فلنسبورغ</p>"


def test_markdown_to_text_reads_naturally() -> None:
    source = (
        "# Runder Tisch\n\n"
        "Wir treffen uns am **Dienstag** & besprechen &lt;alles&gt;.\n"
        "Zweite Zeile.\n\n"
        "## Themen\n\n"
        "- Sprachkurse, siehe [VHS](https://vhs.example.org/kurse?a=1&b=2)\n"
        "- Kontakt: [Anna](mailto:anna@example.org)\n"
        "  - Unterpunkt\n"
        "- <https://example.org>\n\n"
        "3. drei\n4. vier\n\n"
        "> Zitat\n\n"
        "```\ncode line\n```\n\n"
        "---\n\n"
        "| A | B |\n|---|---|\n| 1 | 2 |\n\n"
        "![Plakat](https://example.org/p.png) [intern](/x)"
    )
    assert markdown_to_text(source) == (
        "Runder Tisch\n"
        "\n"
        "Wir treffen uns am Dienstag & besprechen <alles>.\n"
        "Zweite Zeile.\n"
        "\n"
        "Themen\n"
        "\n"
        "- Sprachkurse, siehe VHS (https://vhs.example.org/kurse?a=1&b=2)\n"
        "- Kontakt: Anna (anna@example.org)\n"
        "  - Unterpunkt\n"
        "- https://example.org\n"
        "\n"
        "3. drei\n"
        "4. vier\n"
        "\n"
        "> Zitat\n"
        "\n"
        "    code line\n"
        "\n"
        "--------------------\n"
        "\n"
        "A | B\n"
        "1 | 2\n"
        "\n"
        "Plakat intern"
    )


def test_markdown_to_text_loose_list_items_keep_their_paragraphs() -> None:
    source = "- first\n\n  more of first\n- second\n"
    assert markdown_to_text(source) == "- first\n\n  more of first\n- second"


def test_markdown_to_text_decodes_links_for_reading() -> None:
    assert markdown_to_text("[Straße](https://example.org/straße)") == (
        "Straße (https://example.org/straße)"
    )


@pytest.mark.parametrize("text", ["", "  \n", None])
def test_markdown_to_text_empty_input(text: str | None) -> None:
    assert markdown_to_text(text) == ""


def test_markdown_to_text_has_no_markup_for_plain_prose() -> None:
    plain = markdown_to_text("Fest im *Park* am 3. Juli – alle sind willkommen!")
    assert plain == "Fest im Park am 3. Juli – alle sind willkommen!"
    assert not re.search(r"&\w+;", plain)
    assert html.unescape(plain) == plain


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("  Runder Tisch  ", "Runder Tisch"),
        ("\tTitel\n", "Titel"),
        ("ok", "ok"),
        ("", ""),
        ("\u00a0Nachricht\u3000", "Nachricht"),
    ],
)
def test_clean_line_strips_surrounding_whitespace(value: str, expected: str) -> None:
    assert clean_line(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "Betreff\r\nBcc: victim@example.org",
        "a\nb",
        "a\rb",
        "nul\x00byte",
        "tab\there",
        "escape\x1b[31m",
        "delete\x7f",
        "c1\x85next-line",
        "c1\x9bcsi",
        "bidi\u202eevil",
        "embed\u202a",
        "isolate\u2066x\u2069",
        "line\u2028separator",
        "para\u2029separator",
    ],
)
def test_has_control_chars_detects_dangerous_characters(value: str) -> None:
    assert has_control_chars(value)


@pytest.mark.parametrize(
    "value",
    [
        "Runder Tisch Integration",
        "Straße & Café – „Zusammenleben“",
        "مرحبا بكم",
        "\u200fRTL mark is fine",
        "\u061cArabic letter mark is fine",
        "emoji 🎉",
        "",
    ],
)
def test_has_control_chars_accepts_ordinary_text(value: str) -> None:
    assert not has_control_chars(value)


@given(st.text())
def test_has_control_chars_agrees_with_character_classes(value: str) -> None:
    dangerous = any(
        ord(c) < 0x20
        or 0x7F <= ord(c) <= 0x9F
        or 0x202A <= ord(c) <= 0x202E
        or 0x2066 <= ord(c) <= 0x2069
        or c in "\u2028\u2029"
        for c in value
    )
    assert has_control_chars(value) == dangerous
