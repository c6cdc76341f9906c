"""Test data for the issue tests: items and issues in the database (no tests in here)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from newsticker.issues.models import Issue, IssueEntry, IssueStatus, KeyFigure
from newsticker.items.models import Item
from tests.integration.test_items_factories import (
    EDITOR,
    create_editor,
    local,
    login,
    make_item,
    today,
)

__all__ = [
    "EDITOR",
    "create_editor",
    "local",
    "login",
    "make_issue",
    "make_item",
    "today",
]


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
        status=values.pop("status", IssueStatus.DRAFT.value),
        window_start=values.pop("window_start", local(today() + timedelta(days=1), 10)),
        **values,
    )
    sections = {"event": "events", "announcement": "announcements", "call": "calls"}
    for position, item in enumerate(items or []):
        issue.entries.append(IssueEntry(section=sections[item.kind], position=position, item=item))
    for position, (label, value, unit) in enumerate(figures or []):
        issue.figures.append(KeyFigure(position=position, label=label, value=value, unit=unit))
    session.add(issue)
    session.flush()
    return issue
