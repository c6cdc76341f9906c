"""What the editor's list, the composer and the public archive read about issues."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from newsticker.core.caching import Version
from newsticker.issues.models import OPEN_STATUSES, Issue, IssueStatus
from newsticker.items.models import Item, ItemKind, ItemStatus
from newsticker.items.services import next_dates


def editor_issues(session: Session, *, limit: int = 100) -> list[Issue]:
    """Return the issues for the editor's list: open ones first, then the newest."""
    issues = list(
        session.scalars(
            select(Issue).order_by(Issue.created_at.desc(), Issue.id.desc()).limit(limit)
        )
    )
    issues.sort(key=lambda i: (i.status not in OPEN_STATUSES,))
    return issues


def archived_issues(
    session: Session, publication: str | None = None, limit: int = 200
) -> list[Issue]:
    """Return sent issues, newest first (of one publication, or all)."""
    query = select(Issue).where(Issue.status == IssueStatus.SENT)
    if publication is not None:
        query = query.where(Issue.publication == publication)
    return list(session.scalars(query.order_by(Issue.sent_at.desc(), Issue.id.desc()).limit(limit)))


def archive_version(session: Session, publication: str | None = None, number: int = 0) -> Version:
    """Return the version of the archive's pages: it changes when an issue is sent."""
    query = select(func.count(), func.max(Issue.sent_at)).where(Issue.status == IssueStatus.SENT)
    if publication is not None:
        query = query.where(Issue.publication == publication)
    if number:
        query = query.where(Issue.number == number)
    count, latest = session.execute(query).one()
    stamp = latest.timestamp() if latest else 0
    token = f"archive-{publication or ''}-{number}-{count}-{stamp}"
    return Version(token, latest, exists=count > 0 or not number)


def archived_issue(session: Session, publication: str, number: int) -> Issue | None:
    """Return a sent issue by publication and number, or None."""
    return session.scalars(
        select(Issue).where(
            Issue.publication == publication,
            Issue.number == number,
            Issue.status == IssueStatus.SENT,
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
            Item.status == ItemStatus.APPROVED,
            Item.last_ends_at > now,
            Item.kind.in_(list(ItemKind)),
        )
        .order_by(Item.kind, func.coalesce(Item.starts_at, Item.approved_at), Item.id)
        .limit(limit + len(in_issue))
    )
    return [i for i in session.scalars(query) if i.id not in in_issue][:limit]


def next_occurrence(item: Item, *, now: datetime, tz: ZoneInfo) -> datetime | None:
    """Return the next date of a recurring event from now (None for other items)."""
    if item.recurrence is None or item.starts_at is None:
        return None
    dates = next_dates(item, now=now, tz=tz, limit=1)
    return dates[0].starts_at if dates else None
