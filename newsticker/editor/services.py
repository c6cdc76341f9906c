"""The dashboard's queries: what needs doing now, gathered from the features' services.

Nothing here changes anything; the view passes in the settings and the time and shows
what comes back. Each part names where its work is done (the view links there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsticker.config import Settings
from newsticker.delivery import services as delivery_services
from newsticker.delivery.models import DeliveryReport, SendState
from newsticker.issues.models import OPEN_STATUSES, Issue
from newsticker.items.models import Item, ItemStatus
from newsticker.translators import services as translator_services
from subscribers import services as subscriber_services

RETURNS_DAYS = 30
GROWTH_WEEKS = 12


@dataclass(frozen=True)
class Waiting:
    """Submissions waiting for a decision."""

    count: int
    oldest_at: datetime | None
    oldest_age: timedelta | None


@dataclass(frozen=True)
class NextIssue:
    """A publication's next issue (None when it has no open one) and who would receive it."""

    slug: str
    name: str
    issue: Issue | None
    send_state: SendState | None
    send_at: datetime | None
    recipients: int


@dataclass(frozen=True)
class LastSend:
    """The latest send: its counts from the report, and what came back since it started."""

    issue: Issue
    report: DeliveryReport | None  # None: marked sent without a send of ours (the demo's)
    bounced: int
    unsubscribed: int


@dataclass(frozen=True)
class Returns:
    """Bounces and complaints of the last days."""

    days: int
    hard: int
    soft: int
    complaints: int


@dataclass(frozen=True)
class Bar:
    """One week of the growth chart, laid out."""

    x: int
    up: int
    down: int
    week: subscriber_services.WeekGrowth
    labelled: bool


@dataclass(frozen=True)
class GrowthChart:
    """Subscriber growth per week laid out for a server-side SVG: bars, axes and their labels."""

    weeks: list[subscriber_services.WeekGrowth]
    bars: list[Bar] = field(default_factory=list)
    peak: int = 1
    width: int = 0
    height: int = 0
    left: int = 0
    top: int = 0
    mid: int = 0
    half: int = 0
    bar: int = 0


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard shows."""

    waiting: Waiting
    publications: list[NextIssue]
    last_send: LastSend | None
    returns: Returns
    growth: GrowthChart
    translations: list[translator_services.PendingRequest] = field(default_factory=list)


def waiting_submissions(session: Session, *, now: datetime) -> Waiting:
    """Return how many submissions wait for a decision and since when the oldest does."""
    count, oldest = session.execute(
        select(func.count(), func.min(Item.created_at)).where(Item.status == ItemStatus.SUBMITTED)
    ).one()
    return Waiting(int(count or 0), oldest, (now - oldest) if oldest is not None else None)


def next_issues(session: Session, settings: Settings) -> list[NextIssue]:
    """Return each publication's next open issue (scheduled first) and its audience."""
    result = []
    for publication in settings.publications:
        issue = session.scalars(
            select(Issue)
            .where(Issue.publication == publication.slug, Issue.status.in_(OPEN_STATUSES))
            .order_by(
                Issue.scheduled_at.is_(None),
                Issue.scheduled_at,
                Issue.window_start,
                Issue.id,
            )
            .limit(1)
        ).first()
        slugs = [publication.slug, *publication.also_send_to]
        state = delivery_services.send_state(session, issue.id) if issue is not None else None
        result.append(
            NextIssue(
                slug=publication.slug,
                name=publication.name,
                issue=issue,
                send_state=state,
                send_at=issue.scheduled_at if issue is not None else None,
                recipients=subscriber_services.count_recipients(session, slugs),
            )
        )
    return result


def last_send(session: Session, settings: Settings) -> LastSend | None:
    """Return the latest send that began, with bounces and unsubscriptions since it began."""
    rows = delivery_services.recent_reports(session, limit=1)
    if not rows:
        return None
    report, issue = rows[0]
    if report is not None:
        since = report.started_at or report.updated_at
    else:
        # An issue marked sent without a send of ours has no counts, only its time.
        since = issue.sent_at or issue.updated_at
    publication = settings.publication(issue.publication)
    slugs = [issue.publication, *(publication.also_send_to if publication else [])]
    returned = subscriber_services.returns_since(session, since)
    return LastSend(
        issue=issue,
        report=report,
        bounced=returned[subscriber_services.BounceKind.HARD]
        + returned[subscriber_services.BounceKind.SOFT],
        unsubscribed=subscriber_services.withdrawn_since(session, slugs, since),
    )


def recent_returns(session: Session, *, now: datetime, days: int = RETURNS_DAYS) -> Returns:
    """Return the bounces and complaints of the last days."""
    counts = subscriber_services.returns_since(session, now - timedelta(days=days))
    kinds = subscriber_services.BounceKind
    return Returns(days, counts[kinds.HARD], counts[kinds.SOFT], counts[kinds.COMPLAINT])


def growth_chart(weeks: list[subscriber_services.WeekGrowth]) -> GrowthChart:
    """Lay out weeks of growth: bars up for new subscriptions, down for withdrawals.

    The y axis is labelled at the peak above and below the zero line, the x axis with
    the first day of every other week (and always the latest).
    """
    peak = max([1, *(w.subscribed for w in weeks), *(w.withdrawn for w in weeks)])
    bar, gap, half, left, top = 22, 10, 70, 56, 12
    bars = []
    last = len(weeks) - 1
    for index, week in enumerate(weeks):
        bars.append(
            Bar(
                x=left + gap + index * (bar + gap),
                up=round(half * week.subscribed / peak),
                down=round(half * week.withdrawn / peak),
                week=week,
                labelled=(last - index) % 2 == 0,
            )
        )
    return GrowthChart(
        weeks=weeks,
        bars=bars,
        peak=peak,
        width=left + gap + len(weeks) * (bar + gap) + 30,
        height=top + 2 * half + 44,
        left=left,
        top=top,
        mid=top + half,
        half=half,
        bar=bar,
    )


def dashboard(session: Session, settings: Settings, *, now: datetime) -> Dashboard:
    """Gather the dashboard: waiting work, translations, next issues, the last send, growth."""
    weeks = subscriber_services.growth_by_week(session, weeks=GROWTH_WEEKS, now=now, tz=settings.tz)
    return Dashboard(
        waiting=waiting_submissions(session, now=now),
        publications=next_issues(session, settings),
        last_send=last_send(session, settings),
        returns=recent_returns(session, now=now),
        growth=growth_chart(weeks),
        translations=translator_services.pending_requests(
            session, today=now.astimezone(settings.tz).date()
        ),
    )


def age_parts(age: timedelta | None) -> dict[str, Any]:
    """Split an age into days and hours for a message ("3 days, 4 hours")."""
    if age is None:
        return {"days": 0, "hours": 0}
    seconds = max(int(age.total_seconds()), 0)
    return {"days": seconds // 86400, "hours": (seconds % 86400) // 3600}
