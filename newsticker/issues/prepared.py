"""The prepared issue: rendered once, filled per recipient by joining precomputed parts.

A rendering carries placeholders for the personal values ("xNT<marker>_<name>_TNx"); the
marker is random per rendering, so no text in an item, article or editorial can contain
a working placeholder: it would have to guess the marker of a rendering that happens
after it was written. `PreparedIssue` splits the templates at their placeholders once;
`fill(values)` then only joins the parts with the values.

Two regions are marked as well: what only recipients see (the "read in the browser"
link, the personal links in the footer) and what only the public archive shows (a link
to all issues and to subscribe). `fill` keeps the first, `web_html`/`web_text` the second.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from markupsafe import escape

# Values each recipient gets; "greeting" has a default, the links must be given;
# "subscription" names the publication through which they receive the issue (a special
# edition also goes to other publications' subscribers), by default the issue's own;
# "browser_url" is the "read in the browser" link, by default the archive page (a test
# mail, sent before there is one, links the editors' preview instead).
PERSONAL_FIELDS = (
    "greeting",
    "unsubscribe_url",
    "preferences_url",
    "subscription",
    "browser_url",
)
REGION_MARKERS = ("rcpt_begin", "rcpt_end", "web_begin", "web_end")
# A personal link of realistic length, to measure the size a recipient receives.
_SAMPLE_TOKEN = "x" * 160
# The composer warns from this share of the limit on.
SIZE_WARNING_SHARE = 0.8


class IssueTooLarge(ValueError):
    """The HTML part is above the size limit and no override was given."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the HTML part has {size} bytes, the limit is {limit}")
        self.size = size
        self.limit = limit


@dataclass(frozen=True)
class _Compiled:
    """A template split at its placeholders: parts[0], slot 0, parts[1], slot 1, ..."""

    pieces: tuple[str, ...]
    slots: tuple[tuple[int, str], ...]

    def join(self, values: Mapping[str, str]) -> str:
        pieces = list(self.pieces)
        for index, name in self.slots:
            pieces[index] = values[name]
        return "".join(pieces)


def _compile(template: str, marker: str, *, keep: str, drop: str) -> _Compiled:
    """Split a template at the marker's placeholders, keeping one region and dropping one."""
    tokens = re.split(rf"xNT{marker}_([a-z_]+)_TNx", template)
    pieces: list[str] = []
    slots: list[tuple[int, str]] = []
    text: list[str] = []
    dropping = 0
    for index, token in enumerate(tokens):
        if index % 2 == 0:
            if not dropping:
                text.append(token)
            continue
        if token == f"{drop}_begin":
            dropping += 1
        elif token == f"{drop}_end":
            dropping -= 1
        elif token in (f"{keep}_begin", f"{keep}_end") or dropping:
            continue
        elif token in PERSONAL_FIELDS:
            pieces.append("".join(text))
            text = []
            slots.append((len(pieces), token))
            pieces.append("")
        else:
            raise ValueError(f"unknown placeholder {token!r} in an issue template")
    pieces.append("".join(text))
    return _Compiled(tuple(pieces), tuple(slots))


@dataclass(frozen=True)
class PreparedIssue:
    """One issue rendered and inlined in one language, ready to be filled per recipient."""

    issue_id: int | None
    language: str
    subject: str
    archive_url: str
    html_template: str
    text_template: str
    marker: str
    default_greeting: str
    greeting_pattern: str
    # The issue's publication: what the footer names when no other subscription is given.
    publication_name: str = ""
    _html: _Compiled = field(init=False, repr=False)
    _text: _Compiled = field(init=False, repr=False)
    html_bytes: int = field(init=False)

    def __post_init__(self) -> None:
        html = _compile(self.html_template, self.marker, keep="rcpt", drop="web")
        text = _compile(self.text_template, self.marker, keep="rcpt", drop="web")
        object.__setattr__(self, "_html", html)
        object.__setattr__(self, "_text", text)
        sample = {
            "unsubscribe_url": f"{self.archive_url}/{_SAMPLE_TOKEN}",
            "preferences_url": f"{self.archive_url}/{_SAMPLE_TOKEN}",
        }
        object.__setattr__(self, "html_bytes", len(self.fill(sample)[0].encode("utf-8")))

    def fill(self, values: Mapping[str, str]) -> tuple[str, str]:
        """Return (html, text) for one recipient; the HTML gets the values escaped.

        `values` needs "unsubscribe_url" and "preferences_url"; "greeting" defaults to
        the generic salutation, "subscription" to the issue's publication, "browser_url"
        to the archive page. The cost is two joins of precomputed parts.
        """
        raw = {
            "greeting": values.get("greeting") or self.default_greeting,
            "unsubscribe_url": values["unsubscribe_url"],
            "preferences_url": values["preferences_url"],
            "subscription": values.get("subscription") or self.publication_name,
            "browser_url": values.get("browser_url") or self.archive_url,
        }
        escaped = {name: str(escape(value)) for name, value in raw.items()}
        return self._html.join(escaped), self._text.join(raw)

    def greeting_for(self, name: str | None) -> str:
        """Return the salutation for a recipient's name (the default one without a name)."""
        clean = " ".join((name or "").split())[:100]
        if not clean:
            return self.default_greeting
        return self.greeting_pattern.replace("{name}", clean)

    def web_html(self) -> str:
        """Return the HTML for the public archive: no personal links, the generic greeting."""
        compiled = _compile(self.html_template, self.marker, keep="web", drop="rcpt")
        return compiled.join({"greeting": str(escape(self.default_greeting))})

    def web_text(self) -> str:
        """Return the text version for the public archive."""
        compiled = _compile(self.text_template, self.marker, keep="web", drop="rcpt")
        return compiled.join({"greeting": self.default_greeting})


@dataclass(frozen=True)
class SizeCheck:
    """How the HTML part's size compares with the limit."""

    size: int
    limit: int

    @property
    def share(self) -> float:
        """Return the size as a share of the limit."""
        return self.size / self.limit

    @property
    def too_large(self) -> bool:
        """Return whether the size is above the limit."""
        return self.size > self.limit

    @property
    def warning(self) -> bool:
        """Return whether the size is close to (or above) the limit."""
        return self.share >= SIZE_WARNING_SHARE


def measure_size(prepared: PreparedIssue, limit: int) -> SizeCheck:
    """Return how the prepared issue's HTML size compares with the limit."""
    return SizeCheck(size=prepared.html_bytes, limit=limit)


def check_size(prepared: PreparedIssue, limit: int, override: bool = False) -> SizeCheck:
    """Return the size check; raise IssueTooLarge above the limit unless overridden."""
    result = measure_size(prepared, limit)
    if result.too_large and not override:
        raise IssueTooLarge(result.size, result.limit)
    return result
