"""Language versions of articles: an article's title and body in more languages.

The same idea as an item's versions (`items.services.versions`): the article's own
language is the original, each other language one `ArticleVersion`. Editors write
them in the composer (approved at once, while the issue is a draft); a translator's
version waits for an editor. Mails pick the version in their language (`display.py`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy.orm import Session

from newsticker.auth.models import User
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.issues.models import ArticleVersion, IssueEntry
from newsticker.issues.services.changes import NOT_A_DRAFT, IssueError, current_time, touch
from newsticker.issues.services.composing import check_markdown, single_line
from newsticker.items.models import VersionSource, VersionStatus
from newsticker.items.services import VersionRejected
from newsticker.items.services.versions import version_language_error


class ArticleVersionInput(TypedDict):
    """One article version as a form gives it."""

    language: str
    title: str
    body: str


def article_version_errors(entry: IssueEntry, data: ArticleVersionInput) -> dict[str, list[Any]]:
    """Return field -> messages for a version of this article (empty when it may be stored)."""
    errors: dict[str, list[Any]] = {}
    language_error = version_language_error(entry.language, data.get("language") or "")
    if language_error is not None:
        errors["language"] = [language_error]
    try:
        single_line(data.get("title") or "", "title", 200, required=True)
    except IssueError as exc:
        errors["title"] = [exc.message]
    try:
        check_markdown(data.get("body") or "", "body")
    except IssueError as exc:
        errors["body"] = [exc.message]
    return errors


def propose_article_version(
    session: Session,
    entry: IssueEntry,
    data: ArticleVersionInput,
    *,
    source: str,
    user: User | None = None,
    now: datetime | None = None,
) -> ArticleVersion:
    """Store the article's version in its language (replacing one there).

    An editor's version is approved at once and changes the draft (its version moves
    on); a translator's waits. Raises VersionRejected, storing nothing, on bad input,
    and IssueError when the issue is no longer a draft.
    """
    if not entry.is_article:
        raise IssueError(_l("Only articles written for the issue have language versions here."))
    if not entry.issue.is_draft:
        raise IssueError(NOT_A_DRAFT)
    errors = article_version_errors(entry, data)
    if errors:
        raise VersionRejected(errors)
    origin = VersionSource(source)
    now = now or current_time()
    language = data["language"].strip()
    version = next((v for v in entry.versions if v.language == language), None)
    if version is None:
        version = ArticleVersion(language=language, source=origin, created_at=now)
        entry.versions.append(version)
    version.title = single_line(data["title"], "title", 200, required=True)
    version.body = check_markdown(data["body"], "body")
    version.source = origin
    version.updated_at = now
    version.status = (
        VersionStatus.APPROVED if origin == VersionSource.EDITOR else VersionStatus.SUBMITTED
    )
    _changed(session, entry, version, user=user, now=now)
    return version


def approve_article_version(
    session: Session, version: ArticleVersion, *, user: User | None, now: datetime | None = None
) -> None:
    """Let an article's version go out with the issue."""
    if not version.entry.issue.is_draft:
        raise IssueError(NOT_A_DRAFT)
    version.status = VersionStatus.APPROVED
    version.updated_at = now or current_time()
    _changed(session, version.entry, version, user=user, now=version.updated_at)


def delete_article_version(
    session: Session, version: ArticleVersion, *, user: User | None, now: datetime | None = None
) -> None:
    """Remove an article's version (the mails show the original in that language again)."""
    entry = version.entry
    if not entry.issue.is_draft:
        raise IssueError(NOT_A_DRAFT)
    entry.versions.remove(version)
    touch(session, entry.issue, user_id=user.id if user else None, now=now or current_time())


def _changed(
    session: Session,
    entry: IssueEntry,
    version: ArticleVersion,
    *,
    user: User | None,
    now: datetime,
) -> None:
    if version.status == VersionStatus.APPROVED:
        # What the mails say changed: the draft's version moves on (previews go stale).
        touch(session, entry.issue, user_id=user.id if user else None, now=now)
    else:
        session.flush()
