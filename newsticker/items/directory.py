"""One page of the directory, as its filters and page number in the query ask for it.

The directory (/angebote), its embed (/embed/angebote) and the embed's JSON feed take
the same parameters (bereich, art, sprache, q, seite) and show the same items: unknown
values are ignored, never refused. The API's list (/api/v1/items) is the same page too.
The site's zone and how far "upcoming" reaches come from the settings here, not from
each caller, so the pages cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import groupby
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from newsticker.config import get_settings
from newsticker.items import services
from newsticker.items.forms import language_choices
from newsticker.items.models import FIELDS_OF_ACTION, Item, ItemKind

MAX_PAGE = 1000
PAGE_SIZE = 30
NOTICES_ON_FIRST_PAGE = 6
NOTICE_KINDS = (ItemKind.ANNOUNCEMENT, ItemKind.CALL)
# The list counts what it shows up to here (or through the page asked for) and says
# "more than" beyond: a count reads every row it counts, and a city with 100,000 items
# has tens of thousands of dates in the next months, which no visitor pages through.
COUNT_AT_MOST = 1000


def public_filters(args: MultiDict[str, str]) -> services.PublicFilters:
    """Return the filters the query parameters ask for."""
    field = args.get("bereich", "")
    kind = args.get("art", "")
    language = args.get("sprache", "")
    codes = {code for code, _name in language_choices(sign_language=True)}
    return services.PublicFilters(
        query=args.get("q", "")[:200],
        field_of_action=field if field in FIELDS_OF_ACTION else "",
        language=language if language in codes else "",
        kind=ItemKind(kind) if kind in set(ItemKind) else "",
    )


def page_number(args: MultiDict[str, str]) -> int:
    """Return the page asked for (1 when missing or out of range)."""
    raw = args.get("seite", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= MAX_PAGE else 1


@dataclass
class DirectoryPage:
    """The dates and notices of one page of the directory, and how many there are in all.

    `event_total` counts events (a series once); `notice_total` counts announcements and
    calls when they are what the page lists or a filter narrowed them (else 0: the first
    page shows the newest few and links to the rest). Counting stops at COUNT_AT_MOST or
    the end of the page, whichever is further: `events_beyond` and `notices_beyond` say
    there are more than the total (a lower bound, then).
    """

    occurrences: list[services.Listing] = field(default_factory=list)
    notices: list[Item] = field(default_factory=list)
    has_more: bool = False
    more_notices: bool = False
    event_total: int = 0
    notice_total: int = 0
    events_beyond: bool = False
    notices_beyond: bool = False

    def days(self, now: datetime, tz: ZoneInfo) -> list[tuple[date, list[services.Listing]]]:
        """Return the dates grouped by local day (a running event counts as today)."""
        return [
            (day, list(group))
            for day, group in groupby(
                self.occurrences, key=lambda o: max(o.starts_at, now).astimezone(tz).date()
            )
        ]


def directory_page(
    session: Session,
    filters: services.PublicFilters,
    *,
    page: int,
    now: datetime,
    page_size: int = PAGE_SIZE,
) -> DirectoryPage:
    """Return one page: upcoming events (a series once, at its next date) and current
    notices on the first page or by kind, in the site's zone and upcoming days."""
    settings = get_settings()
    tz, days = settings.tz, settings.site.upcoming_days
    result = DirectoryPage()
    offset = (page - 1) * page_size
    at_most = max(COUNT_AT_MOST, offset + page_size)
    if filters.kind in NOTICE_KINDS:
        result.notices, result.has_more = services.current_notices(
            session, filters, now=now, offset=offset, limit=page_size
        )
        counted = services.count_notices(session, filters, now=now, at_most=at_most)
        result.notice_total, result.notices_beyond = min(counted, at_most), counted > at_most
        return result
    result.occurrences, counted = services.upcoming_events(
        session,
        filters,
        now=now,
        tz=tz,
        days=days,
        offset=offset,
        limit=page_size,
        count_at_most=at_most,
    )
    result.event_total, result.events_beyond = min(counted, at_most), counted > at_most
    result.has_more = offset + len(result.occurrences) < counted
    if not filters.kind:
        if filters.query or filters.field_of_action or filters.language:
            # Only a search says how many notices matched too.
            counted = services.count_notices(session, filters, now=now, at_most=COUNT_AT_MOST)
            result.notice_total = min(counted, COUNT_AT_MOST)
            result.notices_beyond = counted > COUNT_AT_MOST
        if page == 1:
            result.notices, result.more_notices = services.current_notices(
                session, filters, now=now, limit=NOTICES_ON_FIRST_PAGE
            )
    return result
