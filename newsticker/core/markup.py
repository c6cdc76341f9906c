"""Editor-safe Markdown: sanitised HTML, a plain-text twin, and single-line field checks.

Submissions come from anyone on the internet and end up in e-mails to thousands of
people, so the HTML is cleaned after rendering with an allowlist, whatever the
Markdown renderer already escaped.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.tree import SyntaxTreeNode
from markdown_it.utils import EnvType, OptionsDict
from markupsafe import Markup

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_TAGS",
    "URL_SCHEMES",
    "clean_html",
    "clean_line",
    "has_control_chars",
    "markdown_to_text",
    "render_markdown",
]

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "strong",
        "em",
        "s",
        "ul",
        "ol",
        "li",
        "a",
        "h2",
        "h3",
        "h4",
        "blockquote",
        "code",
        "pre",
        "hr",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
)
ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {"a": frozenset({"href", "title"})}
URL_SCHEMES = frozenset({"http", "https", "mailto"})

# Bidi embeddings, overrides and isolates can make a sender or subject read
# differently from what it is ("Trojan Source"); plain marks (LRM, RLM, ALM) stay
# allowed because right-to-left names legitimately need them.
_BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
# Line and paragraph separators break a "single line" just as LF does.
_LINE_SEPARATORS = frozenset({"\u2028", "\u2029"})

_cleaner = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags={"script", "style"},
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    link_rel="noopener nofollow",
    url_schemes=set(URL_SCHEMES),
    # The same text goes into e-mails, where a relative link leads nowhere.
    url_relative="deny",
)


def _clamp_headings(state: StateCore) -> None:
    # The page or mail template owns <h1>; editors' "#" becomes a section heading.
    for token in state.tokens:
        if token.type in ("heading_open", "heading_close"):
            level = int(token.tag[1])
            token.tag = f"h{min(max(level, 2), 4)}"


def _render_image(
    self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # Images are not allowed (tracking pixels, broken layouts in mail); keep the alt text.
    return str(self.renderInlineAsText(tokens[idx].children or [], options, env))


def _build_markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False})
    md.enable(["table", "strikethrough"])
    md.core.ruler.push("clamp_headings", _clamp_headings)
    md.add_render_rule("image", _render_image)
    return md


_md = _build_markdown()


def clean_html(html: str) -> str:
    """Sanitise an HTML fragment with the editor allowlist."""
    return _cleaner.clean(html)


def render_markdown(text: str | None) -> Markup:
    """Render editor Markdown to sanitised HTML for element content in a page or mail.

    Never put the result into an attribute value: quotes in text stay unescaped.
    """
    if not text or not text.strip():
        return Markup("")
    return Markup(clean_html(_md.render(text)).strip())  # noqa: S704 - sanitised by nh3


def markdown_to_text(text: str | None) -> str:
    """Render editor Markdown as readable plain text for the text/plain part of a mail."""
    if not text or not text.strip():
        return ""
    root = SyntaxTreeNode(_md.parse(text))
    lines = _blocks(root.children, tight=False)
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def clean_line(value: str) -> str:
    """Return a single-line field value with surrounding whitespace removed."""
    return value.strip()


def has_control_chars(value: str) -> bool:
    """Return True if the value holds control, line-separator or bidi-override characters."""
    return any(
        unicodedata.category(char) == "Cc" or char in _BIDI_CONTROLS or char in _LINE_SEPARATORS
        for char in value
    )


def _blocks(nodes: Sequence[SyntaxTreeNode], *, tight: bool) -> list[str]:
    """Render block nodes to lines, a blank line between blocks unless tight."""
    lines: list[str] = []
    for node in nodes:
        rendered = _block(node)
        if not rendered:
            continue
        if lines and not tight:
            lines.append("")
        lines.extend(rendered)
    return lines


def _block(node: SyntaxTreeNode) -> list[str]:
    kind = node.type
    if kind in ("paragraph", "heading"):
        return _inline_text(node).split("\n")
    if kind == "bullet_list":
        return _list_items(node, lambda _number: "- ")
    if kind == "ordered_list":
        first = int(str(node.attrs.get("start", 1)))
        return _list_items(node, lambda number: f"{first + number}. ")
    if kind == "blockquote":
        return [f"> {line}" if line else ">" for line in _blocks(node.children, tight=False)]
    if kind in ("fence", "code_block"):
        return ["    " + line for line in node.content.rstrip("\n").split("\n")]
    if kind == "hr":
        return ["-" * 20]
    if kind == "table":
        return [
            " | ".join(_inline_text(cell) for cell in row.children)
            for section in node.children
            for row in section.children
        ]
    return _blocks(node.children, tight=False)


def _list_items(node: SyntaxTreeNode, marker: Callable[[int], str]) -> list[str]:
    lines: list[str] = []
    for number, item in enumerate(node.children):
        prefix = marker(number)
        # markdown-it hides the paragraphs of a tight list; keep those items compact.
        tight = all(child.hidden for child in item.children if child.type == "paragraph")
        body = _blocks(item.children, tight=tight) or [""]
        lines.append(prefix + body[0])
        lines.extend((" " * len(prefix) + line) if line else "" for line in body[1:])
    return lines


def _inline_text(node: SyntaxTreeNode) -> str:
    parts: list[str] = []
    for child in node.children:
        if child.type == "inline":
            parts.append(_inline_text(child))
        elif child.type in ("text", "text_special", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "link":
            parts.append(_link_text(child))
        else:
            # em, strong, s, image (its children are the alt text): keep the words.
            parts.append(_inline_text(child))
    return "".join(parts)


def _link_text(node: SyntaxTreeNode) -> str:
    label = _inline_text(node)
    url = _md.normalizeLinkText(str(node.attrs.get("href", "")))
    scheme = url.partition(":")[0].lower() if ":" in url else ""
    if scheme not in URL_SCHEMES:
        # The HTML drops such links too (relative or unknown scheme); keep the words only.
        return label
    shown = url[len("mailto:") :] if scheme == "mailto" else url
    if not label.strip() or label.strip() in (url, shown):
        return shown
    return f"{label} ({shown})"
