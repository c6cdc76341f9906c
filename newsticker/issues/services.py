"""Services for issues: drafting from approved items, composing, scheduling, test sends.

Every change goes through here; views, the CLI and jobs only call these functions and
own the transaction. A change to an issue bumps its version, and a change based on an
older version is refused (two editors never silently overwrite each other).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.numbers import NumberFormatError, parse_decimal
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from newsticker.config import PublicationSettings, Settings
from newsticker.core.db import utcnow
from newsticker.core.errors import UserError
from newsticker.core.markup import has_control_chars
from newsticker.issues.models import (
    CLAIMING_STATUSES,
    ITEM_SECTIONS,
    SECTION_KINDS,
    Issue,
    IssueEntry,
    IssueSnapshot,
    IssueStatus,
    KeyFigure,
)
from newsticker.items.models import Item, ItemKind, ItemStatus

logger = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# How far ahead a draft offers events, by cadence.
HORIZON_DAYS = {"weekly": 14, "monthly": 35, "quarterly": 92}
# A recurring event appears with at most this many dates in one issue.
MAX_DATES_PER_ITEM = {"weekly": 2, "monthly": 1, "quarterly": 1}
MAX_CANDIDATES = 300
MAX_TEST_ADDRESSES = 10
MAX_FIGURES = 30
MAX_FIGURE_ABS = Decimal("1e15")
SUBJECT_MAX = 200
PREHEADER_MAX = 200
EDITORIAL_MAX = 20_000
# HTML that has no place in editor Markdown: refused with a message, not silently dropped.
_FORBIDDEN_HTML = re.compile(
    r"<\s*/?\s*(script|style|iframe|object|embed|form|input|img|svg|link|meta|base)\b"
    r"|javascript\s*:",
    re.IGNORECASE,
)
_NUMBER_CHARS = re.compile(r"[+\-−]?[0-9][0-9.,]*")


class IssueError(UserError):
    """A change to an issue that is not allowed, with a message for the editor."""

    def __init__(self, message: Any, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class StaleIssue(IssueError):
    """Someone else changed the issue since the editor loaded it."""

    def __init__(self) -> None:
        super().__init__(
            _l(
                "Someone else changed this issue while you were working on it, so your "
                "change was not saved. The page now shows the current state: please repeat "
                "your change."
            )
        )


def current_time() -> datetime:
    """Return now as an aware UTC datetime (one place for tests to freeze the clock)."""
    return utcnow()


# ---------------------------------------------------------------- helpers


def publication_settings(settings: Settings, slug: str) -> PublicationSettings:
    """Return the configured publication, or raise IssueError naming the valid slugs."""
    publication = settings.publication(slug)
    if publication is None:
        raise IssueError(
            _l(
                "There is no publication “%(slug)s”. Configured publications: %(slugs)s.",
                slug=slug,
                slugs=", ".join(p.slug for p in settings.publications),
            ),
            field="publication",
        )
    return publication


def next_send_time(publication: PublicationSettings, tz: ZoneInfo, after: datetime) -> datetime:
    """Return the publication's next regular send time after a moment (aware UTC)."""
    local = after.astimezone(tz)
    weekday = WEEKDAYS.index(publication.send_weekday)
    for days in range(8):
        day = local.date() + timedelta(days=(weekday - local.weekday()) % 7 + 7 * (days // 7))
        candidate = datetime.combine(day, publication.send_time, tz)
        if candidate > local:
            return candidate.astimezone(UTC)
    raise AssertionError("a weekday recurs within eight days")


def local_send_time(day: date, at: time, tz: ZoneInfo) -> datetime:
    """Return a local date and time as aware UTC, refusing times a DST change skips or repeats."""
    naive = datetime.combine(day, at)
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        # zoneinfo gives the two offsets of a repeated hour, or of a skipped one; a
        # skipped wall time does not survive the round trip through UTC.
        back = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
        if back != naive:
            raise IssueError(
                _l(
                    "%(time)s does not exist on %(date)s: the clocks go forward that night. "
                    "Please choose another time.",
                    time=at.strftime("%H:%M"),
                    date=day.strftime("%d.%m.%Y"),
                ),
                field="send_time",
            )
        raise IssueError(
            _l(
                "%(time)s happens twice on %(date)s: the clocks go back that night. Please "
                "choose another time.",
                time=at.strftime("%H:%M"),
                date=day.strftime("%d.%m.%Y"),
            ),
            field="send_time",
        )
    return first.astimezone(UTC)


def check_version(issue: Issue, version: int | None) -> None:
    """Refuse a change based on an older version of the issue."""
    if version is not None and version != issue.version:
        raise StaleIssue()


def _require_draft(issue: Issue) -> None:
    if not issue.is_draft:
        raise IssueError(
            _l(
                "This issue is no longer a draft, so it cannot be changed. Take it back to "
                "draft first."
            )
        )


def _touch(session: Session, issue: Issue, *, user_id: int | None, now: datetime) -> None:
    """Record who changed the issue; the update bumps its version."""
    issue.updated_at = now
    issue.updated_by_id = user_id
    _flush(session)


def _flush(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError as exc:
        # Another transaction committed a change to the same issue in the meantime.
        raise StaleIssue() from exc


def _begin_change(issue: Issue, version: int | None) -> None:
    check_version(issue, version)
    _require_draft(issue)


# ---------------------------------------------------------------- drafting


@dataclass
class DraftResult:
    """What drafting did: the draft, whether it is new, and how many entries it got."""

    issue: Issue
    created: bool
    added: int


def claimed_keys(
    session: Session, publication: str, *, exclude_issue_id: int | None = None
) -> set[tuple[int, datetime | None]]:
    """Return (item id, date) pairs already in a live issue of the publication."""
    query = (
        select(IssueEntry.item_id, IssueEntry.occurrence_start)
        .join(Issue, Issue.id == IssueEntry.issue_id)
        .where(
            Issue.publication == publication,
            Issue.status.in_(CLAIMING_STATUSES),
            IssueEntry.item_id.is_not(None),
        )
    )
    if exclude_issue_id is not None:
        query = query.where(Issue.id != exclude_issue_id)
    return {(item_id, start) for item_id, start in session.execute(query) if item_id is not None}


def _claimed_items(claimed: set[tuple[int, datetime | None]]) -> set[int]:
    return {item_id for item_id, _start in claimed}


@dataclass(frozen=True)
class Candidate:
    """An item (with a date, for an event) a draft may take."""

    section: str
    item: Item
    occurrence_start: datetime | None
    starts_at: datetime | None


def candidates(
    session: Session,
    publication: PublicationSettings,
    *,
    window_start: datetime,
    tz: ZoneInfo,
    claimed: set[tuple[int, datetime | None]],
) -> list[Candidate]:
    """Return the approved items not yet in a live issue of the publication, by section."""
    from newsticker.items.services import PublicFilters, current_notices, upcoming_occurrences

    found: list[Candidate] = []
    for section in publication.sections:
        if section == "events":
            horizon = window_start + timedelta(days=HORIZON_DAYS[publication.cadence])
            dates, _more = upcoming_occurrences(
                session, PublicFilters(), now=window_start, tz=tz, limit=MAX_CANDIDATES
            )
            per_item: dict[int, int] = {}
            cap = MAX_DATES_PER_ITEM[publication.cadence]
            for occ in dates:
                if occ.starts_at >= horizon:
                    continue
                pinned = occ.starts_at if occ.item.recurrence is not None else None
                if (occ.item.id, pinned) in claimed:
                    continue
                if pinned is None and occ.item.id in _claimed_items(claimed):
                    continue
                if per_item.get(occ.item.id, 0) >= cap:
                    continue
                per_item[occ.item.id] = per_item.get(occ.item.id, 0) + 1
                found.append(Candidate(section, occ.item, pinned, occ.starts_at))
        elif section in ("announcements", "calls"):
            kind = SECTION_KINDS[section]
            items, _more = current_notices(
                session, PublicFilters(kind=kind), now=window_start, limit=MAX_CANDIDATES
            )
            taken = _claimed_items(claimed)
            found.extend(Candidate(section, i, None, None) for i in items if i.id not in taken)
    return found


def _next_number(session: Session, publication: str) -> int:
    highest = session.scalar(select(func.max(Issue.number)).where(Issue.publication == publication))
    return (highest or 0) + 1


def open_draft(session: Session, publication: str) -> Issue | None:
    """Return the publication's current draft, if there is one."""
    return session.scalars(
        select(Issue)
        .where(Issue.publication == publication, Issue.status == IssueStatus.DRAFT.value)
        .order_by(Issue.number.desc())
    ).first()


def draft_issue(
    session: Session,
    settings: Settings,
    slug: str,
    *,
    now: datetime,
    user_id: int | None = None,
) -> DraftResult:
    """Build the publication's next draft from approved items not yet in one of its issues.

    With a draft already open, add only what is new to it: running this twice never
    duplicates an item or creates a second draft.
    """
    publication = publication_settings(settings, slug)
    issue = open_draft(session, slug)
    created = issue is None
    if issue is None:
        window_start = next_send_time(publication, settings.tz, now)
        issue = Issue(
            publication=slug,
            number=_next_number(session, slug),
            status=IssueStatus.DRAFT.value,
            window_start=window_start,
            created_at=now,
            updated_at=now,
            created_by_id=user_id,
            updated_by_id=user_id,
        )
        session.add(issue)
        _flush(session)
    window_start = max(issue.window_start or now, now)
    claimed = claimed_keys(session, slug)
    added = 0
    positions = {section: len(issue.section_entries(section)) for section in ITEM_SECTIONS}
    for candidate in candidates(
        session, publication, window_start=window_start, tz=settings.tz, claimed=claimed
    ):
        issue.entries.append(
            IssueEntry(
                section=candidate.section,
                position=positions[candidate.section],
                item=candidate.item,
                item_id=candidate.item.id,
                occurrence_start=candidate.occurrence_start,
            )
        )
        positions[candidate.section] += 1
        added += 1
    if added and not created:
        _touch(session, issue, user_id=user_id, now=now)
    _flush(session)
    logger.info("draft %s of %s: %s new entries", issue.id, slug, added)
    return DraftResult(issue=issue, created=created, added=added)


# ---------------------------------------------------------------- composing


def _single_line(value: str, field: str, maximum: int, *, required: bool) -> str:
    if "\r" in value or "\n" in value or has_control_chars(value):
        raise IssueError(
            _l("Please write this on one line, without line breaks or control characters."),
            field=field,
        )
    value = value.strip()
    if required and not value:
        raise IssueError(_l("Please fill in this field."), field=field)
    if len(value) > maximum:
        raise IssueError(
            _l("Please use at most %(max)d characters.", max=maximum),
            field=field,
        )
    return value


def check_markdown(text: str, field: str, maximum: int = EDITORIAL_MAX) -> str:
    """Return editor Markdown stripped, refusing HTML such as scripts with a message."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(text) > maximum:
        raise IssueError(_l("Please use at most %(max)d characters.", max=maximum), field=field)
    if has_control_chars(text.replace("\n", "").replace("\t", "")):
        # NUL cannot even be stored in PostgreSQL; the others garble mails.
        raise IssueError(_l("The text contains invisible control characters."), field=field)
    match = _FORBIDDEN_HTML.search(text)
    if match is not None:
        raise IssueError(
            _l(
                "HTML such as “%(tag)s” is not allowed here. Please use Markdown: **bold**, "
                "*italic*, [link text](https://…), lists with “- ”.",
                tag=match.group(0).strip(),
            ),
            field=field,
        )
    return text


def update_issue(
    session: Session,
    issue: Issue,
    *,
    subject: str,
    preheader: str,
    editorial: str,
    version: int | None,
    user_id: int | None,
    now: datetime,
) -> None:
    """Change an issue's subject, preheader and editorial."""
    _begin_change(issue, version)
    issue.subject = _single_line(subject, "subject", SUBJECT_MAX, required=False)
    issue.preheader = _single_line(preheader, "preheader", PREHEADER_MAX, required=False)
    issue.editorial = check_markdown(editorial, "editorial")
    _touch(session, issue, user_id=user_id, now=now)


def _entry(issue: Issue, entry_id: int) -> IssueEntry:
    for entry in issue.entries:
        if entry.id == entry_id:
            return entry
    raise IssueError(_l("This entry is no longer part of the issue."))


def add_item(
    session: Session,
    issue: Issue,
    item: Item,
    *,
    occurrence_start: datetime | None = None,
    version: int | None,
    user_id: int | None,
    now: datetime,
) -> IssueEntry:
    """Add an approved item to the section of its kind, at the end."""
    _begin_change(issue, version)
    if item.status != ItemStatus.APPROVED.value:
        raise IssueError(_l("Only published items can be added to an issue."))
    section = {v: k for k, v in SECTION_KINDS.items()}[item.kind]
    if occurrence_start is not None and item.recurrence is None:
        occurrence_start = None
    for entry in issue.entries:
        if entry.item_id == item.id and entry.occurrence_start == occurrence_start:
            raise IssueError(_l("This item is already part of the issue."))
    entry = IssueEntry(
        section=section,
        position=len(issue.section_entries(section)),
        item=item,
        item_id=item.id,
        occurrence_start=occurrence_start,
    )
    issue.entries.append(entry)
    _touch(session, issue, user_id=user_id, now=now)
    return entry


def check_link(link: str, field: str = "link") -> str:
    """Return an http(s) link stripped, or raise IssueError."""
    link = _single_line(link, field, 1000, required=False)
    if not link:
        return ""
    parts = urlsplit(link)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise IssueError(
            _l("Please enter a complete web address starting with https://."), field=field
        )
    return link


def add_article(
    session: Session,
    issue: Issue,
    *,
    title: str,
    body: str,
    link: str,
    language: str,
    version: int | None,
    user_id: int | None,
    now: datetime,
) -> IssueEntry:
    """Add an article written for the issue (section "articles")."""
    _begin_change(issue, version)
    entry = IssueEntry(
        section="articles",
        position=len(issue.section_entries("articles")),
        title=_single_line(title, "title", 200, required=True),
        body=check_markdown(body, "body"),
        link=check_link(link),
        language=language or "de",
    )
    issue.entries.append(entry)
    _touch(session, issue, user_id=user_id, now=now)
    return entry


def remove_entry(
    session: Session,
    issue: Issue,
    entry_id: int,
    *,
    version: int | None,
    user_id: int | None,
    now: datetime,
) -> IssueEntry:
    """Take an entry out of the issue (the item stays available for the next draft)."""
    _begin_change(issue, version)
    entry = _entry(issue, entry_id)
    issue.entries.remove(entry)
    _renumber(issue.section_entries(entry.section))
    _touch(session, issue, user_id=user_id, now=now)
    return entry


def _renumber(entries: Sequence[IssueEntry | KeyFigure]) -> None:
    for position, entry in enumerate(entries):
        entry.position = position


def move_entry(
    session: Session,
    issue: Issue,
    entry_id: int,
    offset: int,
    *,
    version: int | None,
    user_id: int | None,
    now: datetime,
) -> None:
    """Move an entry up (offset -1) or down (+1) within its section."""
    _begin_change(issue, version)
    entry = _entry(issue, entry_id)
    siblings = issue.section_entries(entry.section)
    index = siblings.index(entry)
    target = min(max(index + offset, 0), len(siblings) - 1)
    siblings.insert(target, siblings.pop(index))
    _renumber(siblings)
    _touch(session, issue, user_id=user_id, now=now)


def reorder_section(
    session: Session,
    issue: Issue,
    section: str,
    entry_ids: Sequence[int],
    *,
    version: int | None,
    user_id: int | None,
    now: datetime,
) -> None:
    """Put a section's entries in the given order (drag and drop sends the whole order)."""
    _begin_change(issue, version)
    siblings = issue.section_entries(section)
    if sorted(entry_ids) != sorted(e.id for e in siblings):
        raise StaleIssue()
    by_id = {e.id: e for e in siblings}
    _renumber([by_id[i] for i in entry_ids])
    _touch(session, issue, user_id=user_id, now=now)


# ---------------------------------------------------------------- key figures


def parse_figure_value(raw: str, language: str = "de") -> str:
    """Return a key figure's number as canonical decimal text; German "1.234,5" is fine."""
    text = "".join(raw.split()).replace("\u2212", "-")
    if not text or _NUMBER_CHARS.fullmatch(text) is None:
        raise IssueError(
            _l("Please enter the value as a number, e.g. 1234 or 12,5."), field="value"
        )
    other = "en" if language == "de" else "de"
    number: Decimal | None = None
    for locale in (language, other):
        try:
            number = parse_decimal(text, locale=locale, strict=True)
            break
        except NumberFormatError:
            continue
    if number is None or not number.is_finite() or abs(number) >= MAX_FIGURE_ABS:
        raise IssueError(
            _l("Please enter the value as a number, e.g. 1234 or 12,5."), field="value"
        )
    result = format(number.normalize(), "f")
    return "0" if result in ("-0", "") else result


@dataclass
class FigureData:
    """A key figure as the form gives it."""

    label: str
    value: str
    unit: str = ""
    period: str = ""
    source: str = ""


def add_figure(
    session: Session,
    issue: Issue,
    data: FigureData,
    *,
    language: str,
    version: int | None,
    user_id: int | None,
    now: datetime,
) -> KeyFigure:
    """Add a key figure at the end of the chart."""
    _begin_change(issue, version)
    if len(issue.figures) >= MAX_FIGURES:
        raise IssueError(_l("An issue can show at most %(max)d key figures.", max=MAX_FIGURES))
    figure = KeyFigure(
        position=len(issue.figures),
        label=_single_line(data.label, "label", 200, required=True),
        value=parse_figure_value(data.value, language),
        unit=_single_line(data.unit, "unit", 40, required=False),
        period=_single_line(data.period, "period", 100, required=False),
        source=_single_line(data.source, "source", 300, required=False),
    )
    issue.figures.append(figure)
    _touch(session, issue, user_id=user_id, now=now)
    return figure


def _figure(issue: Issue, figure_id: int) -> KeyFigure:
    for figure in issue.figures:
        if figure.id == figure_id:
            return figure
    raise IssueError(_l("This key figure is no longer part of the issue."))


def remove_figure(
    session: Session,
    issue: Issue,
    figure_id: int,
    *,
    version: int | None,
    user_id: int | None,
    now: datetime,
) -> None:
    """Take a key figure out of the chart."""
    _begin_change(issue, version)
    issue.figures.remove(_figure(issue, figure_id))
    _renumber(sorted(issue.figures, key=lambda f: f.position))
    _touch(session, issue, user_id=user_id, now=now)


def move_figure(
    session: Session,
    issue: Issue,
    figure_id: int,
    offset: int,
    *,
    version: int | None,
    user_id: int | None,
    now: datetime,
) -> None:
    """Move a key figure up (-1) or down (+1)."""
    _begin_change(issue, version)
    figures = sorted(issue.figures, key=lambda f: (f.position, f.id))
    figure = _figure(issue, figure_id)
    index = figures.index(figure)
    target = min(max(index + offset, 0), len(figures) - 1)
    figures.insert(target, figures.pop(index))
    _renumber(figures)
    _touch(session, issue, user_id=user_id, now=now)


# ---------------------------------------------------------------- checks before sending


def rendered_entry_count(issue: Issue) -> int:
    """Return how many entries (items still published, or articles) the issue would show."""
    count = 0
    for entry in issue.entries:
        if entry.item is None:
            count += 1 if entry.is_article else 0
        elif entry.item.status == ItemStatus.APPROVED.value:
            count += 1
    return count


def check_sendable(issue: Issue) -> None:
    """Refuse an issue with nothing in it."""
    if rendered_entry_count(issue) == 0 and not issue.figures:
        raise IssueError(
            _l(
                "This issue has no items yet. Add at least one event, announcement, call or "
                "article before you schedule it."
            )
        )


def size_problem(issue: Issue, limit: int) -> tuple[int, bool]:
    """Return the largest HTML size over the mail languages and whether it is above the limit."""
    from newsticker.issues.rendering import MAIL_LANGUAGES, render_issue

    size = max(render_issue(issue, language).html_bytes for language in MAIL_LANGUAGES)
    return size, size > limit


# ---------------------------------------------------------------- scheduling


def schedule_issue(
    session: Session,
    issue: Issue,
    *,
    send_at: datetime,
    now: datetime,
    max_html_bytes: int,
    override_size: bool = False,
    version: int | None,
    user_id: int | None,
) -> None:
    """Schedule a draft for a time in the future, once it has content and fits the size limit."""
    _begin_change(issue, version)
    if send_at <= now:
        raise IssueError(
            _l("This time is in the past. Please choose a time in the future."),
            field="send_date",
        )
    check_sendable(issue)
    size, too_large = size_problem(issue, max_html_bytes)
    if too_large and not override_size:
        raise IssueError(
            _l(
                "The issue is too large: its HTML has %(size)d KB, the limit is %(limit)d KB "
                "(Gmail cuts longer mails off). Remove some entries, or confirm that it may "
                "be sent anyway.",
                size=size // 1024,
                limit=max_html_bytes // 1024,
            ),
            field="override_size",
        )
    issue.size_override = bool(too_large and override_size)
    issue.status = IssueStatus.SCHEDULED.value
    issue.scheduled_at = send_at
    _touch(session, issue, user_id=user_id, now=now)


def unschedule_issue(
    session: Session, issue: Issue, *, version: int | None, user_id: int | None, now: datetime
) -> None:
    """Take a scheduled issue back to draft so it can be changed."""
    check_version(issue, version)
    if issue.status != IssueStatus.SCHEDULED.value:
        raise IssueError(_l("Only a scheduled issue can be taken back to draft."))
    issue.status = IssueStatus.DRAFT.value
    issue.scheduled_at = None
    issue.size_override = False
    _touch(session, issue, user_id=user_id, now=now)


def cancel_issue(
    session: Session, issue: Issue, *, version: int | None, user_id: int | None, now: datetime
) -> None:
    """Cancel a draft or a scheduled issue; its items become available to the next draft."""
    check_version(issue, version)
    if issue.status not in (IssueStatus.DRAFT.value, IssueStatus.SCHEDULED.value):
        raise IssueError(_l("Only a draft or a scheduled issue can be cancelled."))
    issue.status = IssueStatus.CANCELLED.value
    issue.scheduled_at = None
    _touch(session, issue, user_id=user_id, now=now)


def restore_issue(
    session: Session, issue: Issue, *, version: int | None, user_id: int | None, now: datetime
) -> None:
    """Make a cancelled issue a draft again (unless the publication has another draft)."""
    check_version(issue, version)
    if issue.status != IssueStatus.CANCELLED.value:
        raise IssueError(_l("Only a cancelled issue can be restored."))
    other = open_draft(session, issue.publication)
    if other is not None:
        raise IssueError(
            _l(
                "Issue %(number)d is already the open draft of this publication. Cancel it "
                "first, or continue with it.",
                number=other.number,
            )
        )
    issue.status = IssueStatus.DRAFT.value
    _touch(session, issue, user_id=user_id, now=now)


# ---------------------------------------------------------------- test sends


def parse_addresses(raw: str) -> list[str]:
    """Return the addresses of a comma- or line-separated list, or raise IssueError."""
    from newsticker.core.addresses import InvalidAddress, normalise_address

    parts = [p.strip() for p in re.split(r"[,;\n\r]+", raw or "") if p.strip()]
    if not parts:
        raise IssueError(_l("Please enter at least one e-mail address."), field="addresses")
    if len(parts) > MAX_TEST_ADDRESSES:
        raise IssueError(
            _l("Please enter at most %(max)d addresses.", max=MAX_TEST_ADDRESSES),
            field="addresses",
        )
    addresses: list[str] = []
    for part in parts:
        try:
            address = normalise_address(part)
        except InvalidAddress as exc:
            raise IssueError(
                _l("“%(address)s”: %(problem)s", address=part[:100], problem=exc.message),
                field="addresses",
            ) from exc
        if address not in addresses:
            addresses.append(address)
    return addresses


def send_test(
    session: Session,
    issue: Issue,
    addresses: Sequence[str],
    *,
    language: str,
    settings: Settings,
    values: dict[str, str],
) -> int:
    """Queue the issue to a few addresses, marked as a test; it goes out after the commit."""
    from newsticker.core.mailqueue import queue_mail
    from newsticker.issues.rendering import prepare_issue

    if not addresses:
        raise IssueError(_l("Please enter at least one e-mail address."), field="addresses")
    prepared = prepare_issue(session, issue, language)
    html, text = prepared.fill(values)
    subject = f"[TEST] {prepared.subject}"
    for address in addresses:
        queue_mail(
            session,
            purpose="issue_test",
            to=address,
            sender=settings.mail.sender,
            reply_to=settings.mail.reply_to,
            subject=subject,
            text=text,
            html=html,
            headers={"X-Newsticker-Issue": f"{issue.publication}/{issue.number}; test"},
        )
    return len(addresses)


# ---------------------------------------------------------------- the way out (delivery)


def due_issues(session: Session, *, now: datetime) -> list[Issue]:
    """Return scheduled issues whose time has come, oldest first."""
    return list(
        session.scalars(
            select(Issue)
            .where(Issue.status == IssueStatus.SCHEDULED.value, Issue.scheduled_at <= now)
            .order_by(Issue.scheduled_at, Issue.id)
        )
    )


def start_sending(session: Session, issue: Issue, *, now: datetime) -> list[IssueSnapshot]:
    """Freeze the issue's rendering in every mail language and mark it sending.

    Safe to call twice: an issue already sending keeps the snapshots it has.
    """
    from newsticker.issues.rendering import MAIL_LANGUAGES, freeze, render_issue

    if issue.status == IssueStatus.SENDING.value and issue.snapshots:
        return list(issue.snapshots)
    if issue.status != IssueStatus.SCHEDULED.value:
        raise IssueError(_l("Only a scheduled issue can be sent."))
    check_sendable(issue)
    for language in MAIL_LANGUAGES:
        issue.snapshots.append(freeze(render_issue(issue, language)))
    issue.status = IssueStatus.SENDING.value
    issue.updated_at = now
    _flush(session)
    return list(issue.snapshots)


def mark_sent(session: Session, issue: Issue, *, now: datetime) -> None:
    """Record that every recipient has been handled; the issue appears in the archive."""
    if issue.status != IssueStatus.SENDING.value:
        raise IssueError(_l("Only an issue that is being sent can be marked as sent."))
    issue.status = IssueStatus.SENT.value
    issue.sent_at = now
    issue.updated_at = now
    _flush(session)


# ---------------------------------------------------------------- lists


def editor_issues(session: Session, *, limit: int = 100) -> list[Issue]:
    """Return the issues for the editor's list: open ones first, then the newest."""
    open_statuses = (
        IssueStatus.DRAFT.value,
        IssueStatus.SCHEDULED.value,
        IssueStatus.SENDING.value,
    )
    issues = list(
        session.scalars(
            select(Issue).order_by(Issue.created_at.desc(), Issue.id.desc()).limit(limit)
        )
    )
    issues.sort(key=lambda i: (i.status not in open_statuses,))
    return issues


def archived_issues(
    session: Session, publication: str | None = None, limit: int = 200
) -> list[Issue]:
    """Return sent issues, newest first (of one publication, or all)."""
    query = select(Issue).where(Issue.status == IssueStatus.SENT.value)
    if publication is not None:
        query = query.where(Issue.publication == publication)
    return list(session.scalars(query.order_by(Issue.sent_at.desc(), Issue.id.desc()).limit(limit)))


def archived_issue(session: Session, publication: str, number: int) -> Issue | None:
    """Return a sent issue by publication and number, or None."""
    return session.scalars(
        select(Issue).where(
            Issue.publication == publication,
            Issue.number == number,
            Issue.status == IssueStatus.SENT.value,
        )
    ).first()


def available_items(
    session: Session, issue: Issue, *, now: datetime, limit: int = 100
) -> list[Item]:
    """Return published, current items not yet in this issue (to add by hand)."""
    in_issue = {e.item_id for e in issue.entries if e.item_id is not None}
    query = (
        select(Item)
        .where(
            Item.status == ItemStatus.APPROVED.value,
            Item.last_ends_at > now,
            Item.kind.in_([k.value for k in ItemKind]),
        )
        .order_by(Item.kind, func.coalesce(Item.starts_at, Item.approved_at), Item.id)
        .limit(limit + len(in_issue))
    )
    return [i for i in session.scalars(query) if i.id not in in_issue][:limit]


def next_occurrence(item: Item, *, now: datetime, tz: ZoneInfo) -> datetime | None:
    """Return the next date of a recurring event from now (None for other items)."""
    if item.recurrence is None or item.starts_at is None:
        return None
    from newsticker.items.services import next_dates

    dates = next_dates(item, now=now, tz=tz, limit=1)
    return dates[0].starts_at if dates else None
