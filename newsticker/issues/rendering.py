"""Render an issue once per language, with placeholders for what differs per recipient.

Sending an issue to thousands of people must not render or inline it per recipient. So
`prepare_issue` renders the Jinja templates email/issue.html and .txt once, runs
premailer once, and returns a `PreparedIssue` whose personal values (the greeting, the
unsubscribe and preferences links) are placeholders. The placeholders are split out
once; `PreparedIssue.fill(values)` then only joins precomputed parts with the values.

Placeholders carry a random marker made for each rendering, so no text in an item,
article or editorial can contain a working placeholder: it would have to guess the
marker of a rendering that happens after it was written.

Two regions are marked as well: what only recipients see (the "read in the browser"
link, the personal links in the footer) and what only the public archive shows (a link
to all issues and to subscribe). `fill` keeps the first, `web_html`/`web_text` the second.

The seam for delivery (issue 6)::

    prepared = prepare_issue(session, issue, "de")      # once per issue and language
    check_size(prepared, settings.delivery.max_html_bytes, override=issue.size_override)
    html, text = prepared.fill({
        "greeting": prepared.greeting_for(name),        # or leave out for the default
        "unsubscribe_url": "...", "preferences_url": "...",
    })

For an issue that is sending or sent, `prepare_issue` reads the frozen snapshot instead
of rendering, so every worker sends exactly the same mail.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal
from flask import current_app, has_request_context, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsticker.config import PublicationSettings, Settings, get_settings
from newsticker.core.i18n import text_direction
from newsticker.core.mailrender import inline_css
from newsticker.core.markup import markdown_to_text, render_markdown
from newsticker.issues.models import (
    SECTION_LABELS,
    Issue,
    IssueEntry,
    IssueSnapshot,
    KeyFigure,
)
from newsticker.items.models import FIELDS_OF_ACTION, Item, ItemStatus
from newsticker.items.recurrence import occurrences

logger = logging.getLogger(__name__)

MAIL_LANGUAGES = ("de", "en")
# Values each recipient gets; "greeting" has a default, the links must be given.
PERSONAL_FIELDS = ("greeting", "unsubscribe_url", "preferences_url")
_REGION_MARKERS = ("rcpt_begin", "rcpt_end", "web_begin", "web_end")
_MARKER_RE = re.compile(r"xNT([0-9a-f]{16})_([a-z_]+)_TNx")
# A personal link of realistic length, to measure the size a recipient receives.
_SAMPLE_TOKEN = "x" * 160
# The composer warns from this share of the limit on.
SIZE_WARNING_SHARE = 0.8
# Item statuses whose entries are rendered (withdrawn or rejected ones are left out).
RENDERED_ITEM_STATUSES = frozenset({ItemStatus.APPROVED.value})


class IssueTooLarge(ValueError):
    """The HTML part is above the size limit and no override was given."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the HTML part has {size} bytes, the limit is {limit}")
        self.size = size
        self.limit = limit


# ---------------------------------------------------------------- the prepared issue


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
        the generic salutation. The cost is two joins of precomputed parts.
        """
        raw = {
            "greeting": values.get("greeting") or self.default_greeting,
            "unsubscribe_url": values["unsubscribe_url"],
            "preferences_url": values["preferences_url"],
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


# ---------------------------------------------------------------- what the templates show


@dataclass(frozen=True)
class EntryView:
    """One entry as the mail shows it."""

    kind: str
    title: str
    url: str
    lang: str
    dir: str
    when: str = ""
    rule: str = ""
    place: str = ""
    organiser: str = ""
    languages: str = ""
    field_label: str = ""
    summary: str = ""
    body_html: Markup = field(default_factory=Markup)
    body_text: str = ""
    link: str = ""
    accessibility: str = ""
    image_url: str = ""
    image_alt: str = ""


@dataclass(frozen=True)
class FigureView:
    """One key figure with its bar length in percent."""

    label: str
    value_text: str
    period: str
    source: str
    percent: int


@dataclass(frozen=True)
class SectionView:
    """One section of the issue."""

    key: str
    title: str
    entries: list[EntryView] = field(default_factory=list)
    figures: list[FigureView] = field(default_factory=list)


@dataclass(frozen=True)
class IssueView:
    """Everything the issue templates show, already in the mail's language."""

    language: str
    dir: str
    site_name: str
    publication_name: str
    number: int
    date_text: str
    subject: str
    preheader: str
    editorial_html: Markup
    editorial_text: str
    sections: list[SectionView]
    contents: str
    archive_url: str
    archive_list_url: str
    subscribe_url: str
    privacy_url: str
    imprint_url: str
    imprint: list[str]


def issue_date(issue: Issue) -> datetime:
    """Return the date an issue carries: sent, scheduled, planned or created."""
    return issue.sent_at or issue.scheduled_at or issue.window_start or issue.created_at


def format_figure_value(value: str, unit: str, language: str) -> str:
    """Return a key figure's value with its unit in the language, e.g. "1.234,5 €"."""
    try:
        number = Decimal(value)
    except InvalidOperation:
        return f"{value} {unit}".strip()
    text = format_decimal(number, locale=language, decimal_quantization=False)
    return f"{text}\u00a0{unit}" if unit else text


def figure_percents(figures: Sequence[KeyFigure]) -> list[int]:
    """Return each figure's bar length in percent of the largest figure of the same unit."""
    largest: dict[str, Decimal] = {}
    values: list[Decimal] = []
    for figure in figures:
        try:
            number = max(Decimal(figure.value), Decimal(0))
        except InvalidOperation:
            number = Decimal(0)
        values.append(number)
        key = figure.unit.strip().casefold()
        largest[key] = max(largest.get(key, Decimal(0)), number)
    percents: list[int] = []
    for figure, number in zip(figures, values, strict=True):
        key = figure.unit.strip().casefold()
        # Shares in percent are drawn against 100, not against the largest share.
        scale = max(largest[key], Decimal(100)) if key == "%" else largest[key]
        percents.append(int((number * 100 / scale).to_integral_value()) if scale > 0 else 0)
    return percents


def entry_occurrence(
    item: Item, start: datetime | None, tz: ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """Return the (start, end) an entry shows: a recurring event's pinned date, or the item's."""
    if item.starts_at is None:
        return None, None
    if start is None or item.recurrence is None:
        return item.starts_at, item.ends_at
    from newsticker.items.services import item_recurrence

    found = occurrences(
        item.starts_at,
        item.ends_at,
        item_recurrence(item),
        tz=tz,
        window_start=start,
        window_end=start + timedelta(seconds=1),
    )
    for occ_start, occ_end in found:
        if occ_start == start:
            return occ_start, occ_end
    return None, None


def _entry_view(
    entry: IssueEntry, *, tz: ZoneInfo, url: Callable[..., str], language: str
) -> EntryView | None:
    from newsticker.items.display import languages_text, rule_text, when_text

    if entry.item is None:
        if not entry.is_article:
            return None
        return EntryView(
            kind="article",
            title=entry.title,
            url=entry.link,
            lang=entry.language,
            dir=text_direction(entry.language),
            body_html=render_markdown(entry.body),
            body_text=markdown_to_text(entry.body),
        )
    item = entry.item
    if item.status not in RENDERED_ITEM_STATUSES:
        return None
    when = rule = ""
    if item.starts_at is not None:
        start, end = entry_occurrence(item, entry.occurrence_start, tz)
        if start is None:
            return None
        when = when_text(start, end, item.all_day, tz)
        rule = rule_text(item, tz)
    place = ", ".join(part for part in (item.place_name, item.place_address) if part)
    image_url = url("items.image", name=item.image_file) if item.image_file else ""
    return EntryView(
        kind=item.kind,
        title=item.title,
        url=url("items.detail", item_id=item.id),
        lang=item.content_language or "de",
        dir=text_direction(item.content_language),
        when=when,
        rule=rule,
        place=place,
        organiser=item.organiser,
        languages=languages_text(item.event_languages or []),
        field_label=str(FIELDS_OF_ACTION.get(item.field_of_action, "")),
        summary=item.summary,
        link=item.link,
        accessibility=item.accessibility_note,
        image_url=image_url,
        image_alt=item.image_alt or item.title,
    )


def _sections(
    issue: Issue, publication: PublicationSettings, *, tz: ZoneInfo, url: Callable[..., str]
) -> list[SectionView]:
    language = _current_language()
    sections: list[SectionView] = []
    for key in publication.sections:
        title = str(SECTION_LABELS[key])
        if key == "figures":
            figures = list(issue.figures)
            percents = figure_percents(figures)
            views = [
                FigureView(
                    label=f.label,
                    value_text=format_figure_value(f.value, f.unit, language),
                    period=f.period,
                    source=f.source,
                    percent=percent,
                )
                for f, percent in zip(figures, percents, strict=True)
            ]
            if views:
                sections.append(SectionView(key=key, title=title, figures=views))
            continue
        entries = [
            view
            for entry in issue.section_entries(key)
            if (view := _entry_view(entry, tz=tz, url=url, language=language)) is not None
        ]
        if entries:
            sections.append(SectionView(key=key, title=title, entries=entries))
    return sections


def _current_language() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "de")


def _contents(sections: list[SectionView]) -> str:
    parts = []
    for section in sections:
        count = len(section.entries) or len(section.figures)
        parts.append(f"{section.title} ({count})")
    return " · ".join(parts)


def build_view(
    issue: Issue,
    language: str,
    *,
    settings: Settings,
    url: Callable[..., str],
) -> IssueView:
    """Return what the templates show of an issue, in a language (call under force_locale)."""
    publication = settings.publication(issue.publication)
    if publication is None:
        raise LookupError(f"publication {issue.publication!r} is not configured")
    tz = settings.tz
    sections = _sections(issue, publication, tz=tz, url=url)
    day: date = issue_date(issue).astimezone(tz).date()
    archive_url = url("issues.issue", slug=issue.publication, number=issue.number)
    subscribe_endpoint = (
        "subscribers.subscribe"
        if "subscribers.subscribe" in current_app.view_functions
        else "public.index"
    )
    return IssueView(
        language=language,
        dir=text_direction(language),
        site_name=settings.site.name,
        publication_name=publication.name,
        number=issue.number,
        date_text=format_date(day, "long", locale=language),
        subject=issue.subject or default_subject(issue, publication, settings),
        preheader=issue.preheader,
        editorial_html=render_markdown(issue.editorial),
        editorial_text=markdown_to_text(issue.editorial),
        sections=sections,
        contents=_contents(sections),
        archive_url=archive_url,
        archive_list_url=url("issues.publication", slug=issue.publication),
        subscribe_url=url(subscribe_endpoint),
        privacy_url=settings.site.privacy_url or url("public.privacy"),
        imprint_url=settings.site.imprint_url,
        imprint=list(settings.mail.imprint),
    )


def default_subject(issue: Issue, publication: PublicationSettings, settings: Settings) -> str:
    """Return the subject an issue gets unless the editor writes one."""
    day = issue_date(issue).astimezone(settings.tz).date()
    return _(
        "%(name)s no. %(number)d – %(date)s",
        name=publication.name,
        number=issue.number,
        date=format_date(day, "long", locale=_current_language()),
    )


# ---------------------------------------------------------------- rendering


@contextmanager
def _url_context(settings: Settings) -> Iterator[Callable[..., str]]:
    """Yield a function returning absolute URLs under the base URL, with or without a request."""
    base = settings.site.base_url

    def absolute(endpoint: str, **values: Any) -> str:
        from flask import request

        path = url_for(endpoint, **values)
        root = request.script_root
        if root and path.startswith(root):
            path = path[len(root) :]
        return base + path

    if has_request_context():
        yield absolute
        return
    with current_app.test_request_context(base_url=base):
        yield absolute


def _placeholder(marker: str) -> Callable[[str], Markup]:
    def placeholder(name: str) -> Markup:
        if name not in PERSONAL_FIELDS and name not in _REGION_MARKERS:
            raise ValueError(f"unknown placeholder {name!r}")
        return Markup(f"xNT{marker}_{name}_TNx")  # noqa: S704 - fixed ASCII letters only

    return placeholder


def render_issue(issue: Issue, language: str) -> PreparedIssue:
    """Render and inline the issue's templates once in a language (no snapshot involved)."""
    if language not in MAIL_LANGUAGES:
        raise ValueError(f"mail language must be one of {MAIL_LANGUAGES}, not {language!r}")
    settings = get_settings()
    env = current_app.jinja_env
    marker = secrets.token_hex(8)
    with _url_context(settings) as url, force_locale(language):
        view = build_view(issue, language, settings=settings, url=url)
        context = {"view": view, "ph": _placeholder(marker)}
        html = inline_css(env.get_template("email/issue.html").render(context))
        text = env.get_template("email/issue.txt").render(context)
        text = re.sub(r"\n{3,}", "\n\n", text.strip()) + "\n"
        default_greeting = _("Dear readers,")
        greeting_pattern = _("Hello %(name)s,", name="{name}")
    return PreparedIssue(
        issue_id=issue.id,
        language=language,
        subject=" ".join(view.subject.split()),
        archive_url=view.archive_url,
        html_template=html,
        text_template=text,
        marker=marker,
        default_greeting=default_greeting,
        greeting_pattern=greeting_pattern,
    )


def prepared_from_snapshot(snapshot: IssueSnapshot) -> PreparedIssue:
    """Return the prepared issue frozen in a snapshot (no rendering, no inlining)."""
    with force_locale(snapshot.language):
        default_greeting = _("Dear readers,")
        greeting_pattern = _("Hello %(name)s,", name="{name}")
    issue = snapshot.issue
    with _url_context(get_settings()) as url:
        archive_url = url("issues.issue", slug=issue.publication, number=issue.number)
    return PreparedIssue(
        issue_id=snapshot.issue_id,
        language=snapshot.language,
        subject=snapshot.subject,
        archive_url=archive_url,
        html_template=snapshot.html,
        text_template=snapshot.text,
        marker=snapshot.marker,
        default_greeting=default_greeting,
        greeting_pattern=greeting_pattern,
    )


def prepare_issue(session: Session, issue: Issue, language: str) -> PreparedIssue:
    """Return the issue ready to fill per recipient: the frozen snapshot, or a fresh rendering.

    Renders the templates and runs premailer once; call it once per issue and language
    and reuse the result for every recipient.
    """
    if issue.is_frozen:
        snapshot = session.scalars(
            select(IssueSnapshot).where(
                IssueSnapshot.issue_id == issue.id, IssueSnapshot.language == language
            )
        ).first()
        if snapshot is not None:
            return prepared_from_snapshot(snapshot)
        logger.warning("issue %s is %s but has no %s snapshot", issue.id, issue.status, language)
    return render_issue(issue, language)


def freeze(prepared: PreparedIssue) -> IssueSnapshot:
    """Return a snapshot row holding the prepared issue as it is now."""
    return IssueSnapshot(
        language=prepared.language,
        subject=prepared.subject,
        html=prepared.html_template,
        text=prepared.text_template,
        marker=prepared.marker,
        html_bytes=prepared.html_bytes,
    )
