"""Issues: a draft with entries for given items and key figures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from newsticker.issues.models import Issue, IssueEntry, IssueStatus, KeyFigure
from newsticker.items.models import Item
from tests.factories.items import local, today

# The section of the ticker each kind of item goes into.
SECTIONS = {"event": "events", "announcement": "announcements", "call": "calls"}


def make_issue(
    session: Session,
    *,
    items: list[Item] | None = None,
    publication: str = "ticker",
    number: int = 1,
    figures: list[tuple[str, str, str]] | None = None,
    **values: Any,
) -> Issue:
    """Store a draft issue with entries for the given items."""
    issue = Issue(
        publication=publication,
        number=number,
        status=values.pop("status", IssueStatus.DRAFT),
        window_start=values.pop("window_start", local(today() + timedelta(days=1), 10)),
        **values,
    )
    for position, item in enumerate(items or []):
        issue.entries.append(IssueEntry(section=SECTIONS[item.kind], position=position, item=item))
    for position, (label, value, unit) in enumerate(figures or []):
        issue.figures.append(KeyFigure(position=position, label=label, value=value, unit=unit))
    session.add(issue)
    session.flush()
    return issue
