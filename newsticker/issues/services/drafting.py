"""Drafting: the next issue of a publication, built from approved items not yet in one.

A draft offers what falls between its planned send time and the publication's horizon:
events and current announcements and calls. A recurring event (a series) is ONE entry,
pinned to its first date in the window that no other live issue of the publication has
pinned yet; the issue shows the series' dates inside its window (`issue_window_end`).
Items (or, for a series, pinned dates) already in a live issue of the same publication
are "claimed" and not offered again, and an item already in the draft is never added to
it twice, so running the draft twice never duplicates anything. New entries are placed
in date order within their section. Send times are local wall-clock times in the site's
time zone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsticker.config import PublicationSettings, Settings
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.issues.models import (
    CLAIMING_STATUSES,
    HORIZON_DAYS,
    SECTION_KINDS,
    Issue,
    IssueEntry,
    IssueStatus,
)
from newsticker.issues.services.changes import IssueError, flush_issue, touch
from newsticker.items.models import Item
from newsticker.items.services import PublicFilters, current_notices, upcoming_events

logger = logging.getLogger(__name__)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_CANDIDATES = 300


# ---------------------------------------------------------------- publications and times


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


# ---------------------------------------------------------------- what a draft may take


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
    found: list[Candidate] = []
    for section in publication.sections:
        if section == "events":
            found.extend(_event_candidates(session, publication, window_start, tz, claimed))
        elif section in ("announcements", "calls"):
            kind = SECTION_KINDS[section]
            items, _more = current_notices(
                session, PublicFilters(kind=kind), now=window_start, limit=MAX_CANDIDATES
            )
            taken = _claimed_items(claimed)
            found.extend(Candidate(section, i, None, None) for i in items if i.id not in taken)
    return found


def _event_candidates(
    session: Session,
    publication: PublicationSettings,
    window_start: datetime,
    tz: ZoneInfo,
    claimed: set[tuple[int, datetime | None]],
) -> list[Candidate]:
    listings, _total = upcoming_events(
        session,
        PublicFilters(),
        now=window_start,
        tz=tz,
        days=HORIZON_DAYS[publication.cadence],
        limit=MAX_CANDIDATES,
    )
    taken = _claimed_items(claimed)
    found: list[Candidate] = []
    for listing in listings:
        item = listing.item
        if not listing.is_series:
            if item.id not in taken:
                found.append(Candidate("events", item, None, listing.starts_at))
            continue
        # A series once: at its first date in the window no other issue has pinned.
        free = next(
            (
                d.starts_at
                for d in listing.dates
                if not d.cancelled and (item.id, d.starts_at) not in claimed
            ),
            None,
        )
        if free is not None:
            found.append(Candidate("events", item, free, free))
    return found


def entry_date(entry: IssueEntry) -> datetime | None:
    """Return the date an entry is ordered by: its pinned date, or its item's start."""
    if entry.occurrence_start is not None:
        return entry.occurrence_start
    return entry.item.starts_at if entry.item is not None else None


def _insert_in_date_order(issue: Issue, new: IssueEntry) -> None:
    """Put a new entry before the first entry of its section with a later date.

    The order the editor gave the existing entries is kept; an entry without a date
    (an announcement) goes to the end of its section.
    """
    entries = issue.section_entries(new.section)
    when = entry_date(new)
    index = len(entries)
    if when is not None:
        for number, entry in enumerate(entries):
            other = entry_date(entry)
            if other is not None and other > when:
                index = number
                break
    for entry in entries[index:]:
        entry.position += 1
    new.position = index
    issue.entries.append(new)


# ---------------------------------------------------------------- the draft


@dataclass
class DraftResult:
    """What drafting did: the draft, whether it is new, and how many entries it got."""

    issue: Issue
    created: bool
    added: int


def _greeting_paragraph(greeting: str) -> str:
    return f"{greeting}\n\n" if greeting else ""


def next_number(session: Session, publication: str) -> int:
    """Return the number the publication's next issue gets."""
    highest = session.scalar(select(func.max(Issue.number)).where(Issue.publication == publication))
    return (highest or 0) + 1


def open_draft(session: Session, publication: str) -> Issue | None:
    """Return the publication's current draft, if there is one."""
    return session.scalars(
        select(Issue)
        .where(Issue.publication == publication, Issue.status == IssueStatus.DRAFT)
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
            number=next_number(session, slug),
            status=IssueStatus.DRAFT,
            window_start=window_start,
            created_at=now,
            updated_at=now,
            created_by_id=user_id,
            updated_by_id=user_id,
            # The one salutation the mail carries, where the editor sees and edits it.
            editorial=_greeting_paragraph(publication.greeting),
        )
        session.add(issue)
        flush_issue(session)
    window_start = max(issue.window_start or now, now)
    claimed = claimed_keys(session, slug)
    in_issue = {entry.item_id for entry in issue.entries if entry.item_id is not None}
    added = 0
    for candidate in candidates(
        session, publication, window_start=window_start, tz=settings.tz, claimed=claimed
    ):
        if candidate.item.id in in_issue:
            continue
        in_issue.add(candidate.item.id)
        _insert_in_date_order(
            issue,
            IssueEntry(
                section=candidate.section,
                position=0,
                item=candidate.item,
                item_id=candidate.item.id,
                occurrence_start=candidate.occurrence_start,
            ),
        )
        added += 1
    if added and not created:
        touch(session, issue, user_id=user_id, now=now)
    flush_issue(session)
    logger.info("draft %s of %s: %s new entries", issue.id, slug, added)
    return DraftResult(issue=issue, created=created, added=added)
