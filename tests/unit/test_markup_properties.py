"""Properties of the sanitiser and the form filters, fed with the hostile corpus.

Extends tests/unit/test_markup.py: there, random Markdown; here, the security audit's
hostile values (tests/security/hostile.py) spliced into Markdown, checked by parsing.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import Environment, select_autoescape

from newsticker.core.markup import has_control_chars, markdown_to_text, render_markdown
from newsticker.items.forms import clean_text
from tests.security.hostile import CORPUS, html_findings, template_findings

hostile = st.sampled_from([v for k, v in CORPUS.items() if k != "overlong"])
markdown_bits = st.sampled_from(
    ["# ", "## ", "- ", "1. ", "> ", "**", "_", "`", "```\n", "[", "](", ")", "![", "\n\n", " "]
)
documents = st.lists(st.one_of(hostile, markdown_bits, st.text(max_size=8)), max_size=10).map(
    "".join
)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_rendered_markdown_never_carries_executable_markup(text: str) -> None:
    rendered = str(render_markdown(text))
    assert html_findings("markdown", rendered) == []
    assert template_findings("markdown", rendered, secret="") == []


@settings(max_examples=200, deadline=None)
@given(documents)
def test_markdown_as_text_keeps_no_control_characters_it_was_not_given(text: str) -> None:
    plain = markdown_to_text(text)
    # The text part goes into a mail: it gains no NUL, escape or bidi override.
    for char in ("\x00", "\x1b", "\u202e"):
        assert plain.count(char) <= text.count(char)


@settings(max_examples=300, deadline=None)
@given(st.one_of(hostile, documents, st.text()))
def test_clean_text_strips_the_tags_it_is_given(text: str) -> None:
    # clean_text returns text (shown escaped), so entities come back as characters;
    # without entities in the input, no tag survives it.
    cleaned = clean_text(text)
    if "&" not in text:
        assert html_findings("clean_text", cleaned) == []
        assert re.search(r"<[A-Za-z!/?]", cleaned) is None
        assert len(cleaned) <= len(text)


@given(st.text())
def test_control_characters_are_found_wherever_they_are(text: str) -> None:
    for char in ("\x00", "\r", "\n", "\u202e", "\u2028", "\x1b"):
        assert has_control_chars(text + char + text)


_env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_page = _env.from_string(
    '<p title="{{ value }}">{{ value }}</p><a href="/x?q={{ value | urlencode }}">x</a>'
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(hostile, documents, st.text()))
def test_autoescaped_values_never_execute_or_evaluate(value: str) -> None:
    rendered = _page.render(value=value)
    assert html_findings("template", rendered) == []
    assert template_findings("template", rendered, secret="") == []
    assert rendered.count("<p") == 1 and rendered.count("<a") == 1
