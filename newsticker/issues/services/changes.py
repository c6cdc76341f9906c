"""What every change to an issue shares: the refusals, the version check, who changed it.

A change to an issue bumps its version (the mapper's version counter), and a change
based on an older version is refused: two editors never silently overwrite each other.
The form carries the version the editor saw (`check_version`); a change that another
transaction committed in the meantime surfaces at the flush (`flush_issue`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from newsticker.core.db import utcnow
from newsticker.core.errors import UserError
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.issues.models import Issue

NOT_A_DRAFT = _l(
    "This issue is no longer a draft, so it cannot be changed. Take it back to draft first."
)


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


def check_version(issue: Issue, version: int | None) -> None:
    """Refuse a change based on an older version of the issue."""
    if version is not None and version != issue.version:
        raise StaleIssue()


def begin_change(issue: Issue, version: int | None) -> None:
    """Refuse a change to an issue that moved on, or that is no longer a draft."""
    check_version(issue, version)
    if not issue.is_draft:
        raise IssueError(NOT_A_DRAFT)


def touch(session: Session, issue: Issue, *, user_id: int | None, now: datetime) -> None:
    """Record who changed the issue and flush; the update bumps its version."""
    issue.updated_at = now
    issue.updated_by_id = user_id
    flush_issue(session)


def flush_issue(session: Session) -> None:
    """Flush, turning a concurrent change to the same issue into StaleIssue."""
    try:
        session.flush()
    except StaleDataError as exc:
        # Another transaction committed a change to the same issue in the meantime.
        raise StaleIssue() from exc
