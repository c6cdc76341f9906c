"""What an issue shows: its entries, key figures and sections, as the mail templates need them.

`build_view` turns an issue into plain values in the mail's language (dates, places,
figure values and bar lengths, links), so the templates email/issue.html and .txt only
lay them out. Each item and article shows its approved version in the mail's language
where it has one (`item_text`, `IssueEntry.version_in`), else its original text; either
way marked with the text's own language and direction. Entries whose item was
withdrawn, rejected or deleted, or whose pinned date no longer exists, are left out
here. Links are absolute under the site's base URL (`newsticker.core.links.Links`):
they go out in mails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal
from flask_babel import get_locale
from markupsafe import Markup

from newsticker.config import PublicationSettings, Settings
from newsticker.core.branding import site_brand
from newsticker.core.i18n import gettext as _
from newsticker.core.i18n import text_direction
from newsticker.core.links import Links
from newsticker.core.markup import markdown_to_text, render_markdown
from newsticker.issues.models import SECTION_LABELS, Issue, IssueEntry, KeyFigure
from newsticker.items.display import dates_texts, languages_text, series_text, when_text
from newsticker.items.models import FIELDS_OF_ACTION, Item, ItemStatus
from newsticker.items.recurrence import occurrences, series_dates
from newsticker.items.services import item_recurrence, item_text

# A series in an issue lists at most this many further dates of the issue's period.
LATER_DATES_IN_ISSUE = 4
# Item statuses whose entries are rendered (withdrawn or rejected ones are left out).
RENDERED_ITEM_STATUSES = frozenset({ItemStatus.APPROVED})


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
    # A series' further dates inside the issue's period: (date text, cancelled).
    later_dates: tuple[tuple[str, bool], ...] = ()
    more_dates: int = 0


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
    brand_colour: str = "#004b87"
    logo_url: str = ""
    # The editorial's image (absolute, served by the site) and its description.
    editorial_image_url: str = ""
    editorial_image_alt: str = ""


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


def _later_dates(
    item: Item, start: datetime, until: datetime | None, tz: ZoneInfo
) -> tuple[tuple[tuple[str, bool], ...], int]:
    """Return a series' dates after `start` up to `until` (cancelled marked), and how many more."""
    rule = item_recurrence(item)
    if rule is None or item.starts_at is None or until is None or until <= start:
        return (), 0
    found = series_dates(
        item.starts_at,
        item.ends_at,
        rule,
        tz=tz,
        window_start=start + timedelta(seconds=1),
        window_end=until,
    )
    later = [d for d in found if d.starts_at > start]
    shown = dates_texts(later[:LATER_DATES_IN_ISSUE], tz)
    return tuple(shown), max(len(later) - LATER_DATES_IN_ISSUE, 0)


def _article_view(entry: IssueEntry, *, language: str, links: Links) -> EntryView:
    version = entry.version_in(language) if language != entry.language else None
    title, body, lang = (
        (version.title, version.body, version.language)
        if version is not None
        else (entry.title, entry.body, entry.language)
    )
    return EntryView(
        kind="article",
        title=title,
        url=entry.link,
        lang=lang,
        dir=text_direction(lang),
        body_html=render_markdown(body),
        body_text=markdown_to_text(body),
        image_url=links.url("items.image", name=entry.image_file) if entry.image_file else "",
        image_alt=entry.image_alt or title,
    )


def _entry_view(
    entry: IssueEntry,
    *,
    language: str,
    tz: ZoneInfo,
    links: Links,
    until: datetime | None = None,
) -> EntryView | None:
    if entry.item is None:
        return _article_view(entry, language=language, links=links) if entry.is_article else None
    item = entry.item
    if item.status not in RENDERED_ITEM_STATUSES:
        return None
    when = rule = ""
    later: tuple[tuple[str, bool], ...] = ()
    more = 0
    if item.starts_at is not None:
        start, end = entry_occurrence(item, entry.occurrence_start, tz)
        if start is None:
            return None
        when = when_text(start, end, item.all_day, tz)
        rule = series_text(item, tz)
        later, more = _later_dates(item, start, until, tz)
    place = ", ".join(part for part in (item.place_name, item.place_address) if part)
    image_url = links.url("items.image", name=item.image_file) if item.image_file else ""
    text = item_text(item, language)
    return EntryView(
        kind=item.kind,
        title=text.title,
        url=links.url("items.detail", item_id=item.id),
        lang=text.language or "de",
        dir=text.dir,
        when=when,
        rule=rule,
        place=place,
        organiser=item.organiser,
        languages=languages_text(item.event_languages or []),
        field_label=str(FIELDS_OF_ACTION.get(item.field_of_action, "")),
        summary=text.summary,
        link=item.link,
        accessibility=item.accessibility_note,
        image_url=image_url,
        image_alt=item.image_alt or text.title,
        later_dates=later,
        more_dates=more,
    )


def _sections(
    issue: Issue, publication: PublicationSettings, *, language: str, tz: ZoneInfo, links: Links
) -> list[SectionView]:
    until = issue.window_end(publication.cadence)
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
        entries: list[EntryView] = []
        series_seen: set[int] = set()
        for entry in issue.section_entries(key):
            # A series once per issue, even in issues drafted when each date was an entry.
            series = entry.item is not None and entry.item.recurrence is not None
            if series and entry.item_id in series_seen:
                continue
            view = _entry_view(entry, language=language, tz=tz, links=links, until=until)
            if view is None:
                continue
            if series and entry.item_id is not None:
                series_seen.add(entry.item_id)
            entries.append(view)
        if entries:
            sections.append(SectionView(key=key, title=title, entries=entries))
    return sections


def _current_language() -> str:
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
    links: Links,
) -> IssueView:
    """Return what the templates show of an issue, in a language (call under force_locale)."""
    publication = settings.publication(issue.publication)
    if publication is None:
        raise LookupError(f"publication {issue.publication!r} is not configured")
    tz = settings.tz
    sections = _sections(issue, publication, language=language, tz=tz, links=links)
    day: date = issue_date(issue).astimezone(tz).date()
    archive_url = links.url("issues.issue", slug=issue.publication, number=issue.number)
    brand = site_brand(settings, links)
    # The subscribers package may be left out of a site: then the start page it is.
    subscribe_endpoint = (
        "subscribers.subscribe" if links.has("subscribers.subscribe") else "public.index"
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
        archive_list_url=links.url("issues.publication", slug=issue.publication),
        subscribe_url=links.url(subscribe_endpoint),
        privacy_url=settings.site.privacy_url or links.url("public.privacy"),
        imprint_url=settings.site.imprint_url,
        imprint=list(settings.mail.imprint),
        brand_colour=brand.colour,
        logo_url=brand.logo_url,
        editorial_image_url=(
            links.url("items.image", name=issue.editorial_image_file)
            if issue.editorial_image_file
            else ""
        ),
        editorial_image_alt=issue.editorial_image_alt,
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
