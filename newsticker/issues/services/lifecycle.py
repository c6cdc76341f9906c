"""An issue's way from draft to sent: one table of transitions, and the services that move it.

`TRANSITIONS` is the whole state machine, (from status, action) -> to status:

    draft             --schedule-->       scheduled
    scheduled         --unschedule-->     draft
    draft, scheduled  --cancel-->         cancelled
    cancelled         --restore-->        draft
    scheduled         --start_sending-->  sending
    sending           --mark_sent-->      sent
    scheduled, sending --stop_sending-->  cancelled   (delivery cancelled the send)

`transition` checks an action against the table and applies it, refusing with the
action's message from `REFUSALS`; `require` only checks, for services that validate more
before they apply. What else an action needs (content, a time in the future, the size
limit, no second draft) stays in the service of that action.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from newsticker.config import Settings, get_settings
from newsticker.core.addresses import InvalidAddress, normalise_address
from newsticker.core.audit import Actor, actor_or, record_event
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.core.links import Links
from newsticker.core.mailqueue import queue_mail
from newsticker.core.webhooks import emit_event
from newsticker.issues.models import Issue, IssueSnapshot, IssueStatus
from newsticker.issues.rendering import MAIL_LANGUAGES, freeze, prepare_issue, render_issue
from newsticker.issues.services.audience import issue_languages
from newsticker.issues.services.changes import (
    NOT_A_DRAFT,
    IssueError,
    check_version,
    flush_issue,
    touch,
)
from newsticker.issues.services.drafting import local_send_time, open_draft
from newsticker.items.models import ItemStatus

MAX_TEST_ADDRESSES = 10


class IssueAction(StrEnum):
    """What can happen to an issue's status."""

    SCHEDULE = "schedule"
    UNSCHEDULE = "unschedule"
    CANCEL = "cancel"
    RESTORE = "restore"
    START_SENDING = "start_sending"
    MARK_SENT = "mark_sent"
    # Delivery cancelled the send: what was not sent yet never will be.
    STOP_SENDING = "stop_sending"


TRANSITIONS: Mapping[tuple[IssueStatus, IssueAction], IssueStatus] = MappingProxyType(
    {
        (IssueStatus.DRAFT, IssueAction.SCHEDULE): IssueStatus.SCHEDULED,
        (IssueStatus.SCHEDULED, IssueAction.UNSCHEDULE): IssueStatus.DRAFT,
        (IssueStatus.DRAFT, IssueAction.CANCEL): IssueStatus.CANCELLED,
        (IssueStatus.SCHEDULED, IssueAction.CANCEL): IssueStatus.CANCELLED,
        (IssueStatus.CANCELLED, IssueAction.RESTORE): IssueStatus.DRAFT,
        (IssueStatus.SCHEDULED, IssueAction.START_SENDING): IssueStatus.SENDING,
        (IssueStatus.SENDING, IssueAction.MARK_SENT): IssueStatus.SENT,
        (IssueStatus.SCHEDULED, IssueAction.STOP_SENDING): IssueStatus.CANCELLED,
        (IssueStatus.SENDING, IssueAction.STOP_SENDING): IssueStatus.CANCELLED,
    }
)

# Why an action does not fit the issue's status, for whoever asked.
REFUSALS: Mapping[IssueAction, Any] = MappingProxyType(
    {
        IssueAction.SCHEDULE: NOT_A_DRAFT,
        IssueAction.UNSCHEDULE: _l("Only a scheduled issue can be taken back to draft."),
        IssueAction.CANCEL: _l("Only a draft or a scheduled issue can be cancelled."),
        IssueAction.RESTORE: _l("Only a cancelled issue can be restored."),
        IssueAction.START_SENDING: _l("Only a scheduled issue can be sent."),
        IssueAction.MARK_SENT: _l("Only an issue that is being sent can be marked as sent."),
        IssueAction.STOP_SENDING: _l("This send cannot be cancelled any more."),
    }
)


def allows(issue: Issue, action: IssueAction) -> bool:
    """Return whether the table lets the action happen to the issue in its status."""
    return (issue.status, action) in TRANSITIONS


def require(issue: Issue, action: IssueAction) -> IssueStatus:
    """Return the status the action leads to, or raise IssueError saying why it cannot."""
    target = TRANSITIONS.get((issue.status, action))
    if target is None:
        raise IssueError(REFUSALS[action])
    return target


def transition(issue: Issue, action: IssueAction) -> IssueStatus:
    """Check the action against the table and move the issue to its new status."""
    issue.status = require(issue, action)
    return issue.status


# ---------------------------------------------------------------- checks before sending


def rendered_entry_count(issue: Issue) -> int:
    """Return how many entries (items still published, or articles) the issue would show."""
    count = 0
    for entry in issue.entries:
        if entry.item is None:
            count += 1 if entry.is_article else 0
        elif entry.item.status == ItemStatus.APPROVED:
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


def size_problem(issue: Issue, limit: int, *, links: Links) -> tuple[int, bool]:
    """Return the largest HTML size over the mail languages and whether it is above the limit."""
    size = max(render_issue(issue, language, links=links).html_bytes for language in MAIL_LANGUAGES)
    return size, size > limit


# ---------------------------------------------------------------- scheduling


def _record(
    session: Session,
    action: str,
    issue: Issue,
    actor: Actor,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    """Add a change of an issue's state to the audit trail."""
    record_event(
        session,
        action,
        actor=actor,
        now=now,
        subject=("issue", issue.id),
        summary=f"{issue.publication} #{issue.number} {issue.subject}".strip(),
        details=details,
    )


def schedule_issue(
    session: Session,
    issue: Issue,
    *,
    send_at: datetime,
    now: datetime,
    max_html_bytes: int,
    links: Links,
    override_size: bool = False,
    version: int | None,
    user_id: int | None,
    actor: Actor | None = None,
) -> None:
    """Schedule a draft for a time in the future, once it has content and fits the size limit."""
    check_version(issue, version)
    require(issue, IssueAction.SCHEDULE)
    if send_at <= now:
        raise IssueError(
            _l("This time is in the past. Please choose a time in the future."),
            field="send_date",
        )
    check_sendable(issue)
    size, too_large = size_problem(issue, max_html_bytes, links=links)
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
    transition(issue, IssueAction.SCHEDULE)
    issue.scheduled_at = send_at
    touch(session, issue, user_id=user_id, now=now)
    _record(
        session,
        "issue.scheduled",
        issue,
        actor_or(actor, user_id),
        now,
        {"send_at": send_at.isoformat(), "size_override": issue.size_override},
    )
    emit_event(
        session,
        "issue.scheduled",
        {
            "id": issue.id,
            "publication": issue.publication,
            "number": issue.number,
            "subject": issue.subject,
            "scheduled_at": send_at.isoformat(),
        },
        now=now,
    )


def schedule_at_local_time(
    session: Session,
    issue: Issue,
    *,
    day: date,
    at: time,
    settings: Settings,
    links: Links,
    now: datetime,
    override_size: bool = False,
    version: int | None,
    user_id: int | None,
    actor: Actor | None = None,
) -> datetime:
    """Schedule a draft for a date and time in the site's time zone; return it in UTC.

    What the composer and `newsticker schedule-issue` both do, so both refuse alike.
    """
    send_at = local_send_time(day, at, settings.tz)
    schedule_issue(
        session,
        issue,
        send_at=send_at,
        now=now,
        max_html_bytes=settings.delivery.max_html_bytes,
        links=links,
        override_size=override_size,
        version=version,
        user_id=user_id,
        actor=actor,
    )
    return send_at


def unschedule_issue(
    session: Session,
    issue: Issue,
    *,
    version: int | None,
    user_id: int | None,
    now: datetime,
    actor: Actor | None = None,
) -> None:
    """Take a scheduled issue back to draft so it can be changed."""
    check_version(issue, version)
    transition(issue, IssueAction.UNSCHEDULE)
    issue.scheduled_at = None
    issue.size_override = False
    touch(session, issue, user_id=user_id, now=now)
    _record(session, "issue.unscheduled", issue, actor_or(actor, user_id), now)


def cancel_issue(
    session: Session,
    issue: Issue,
    *,
    version: int | None,
    user_id: int | None,
    now: datetime,
    actor: Actor | None = None,
) -> None:
    """Cancel a draft or a scheduled issue; its items become available to the next draft."""
    check_version(issue, version)
    transition(issue, IssueAction.CANCEL)
    issue.scheduled_at = None
    touch(session, issue, user_id=user_id, now=now)
    _record(session, "issue.cancelled", issue, actor_or(actor, user_id), now)


def restore_issue(
    session: Session,
    issue: Issue,
    *,
    version: int | None,
    user_id: int | None,
    now: datetime,
    actor: Actor | None = None,
) -> None:
    """Make a cancelled issue a draft again (unless the publication has another draft)."""
    check_version(issue, version)
    require(issue, IssueAction.RESTORE)
    other = open_draft(session, issue.publication)
    if other is not None:
        raise IssueError(
            _l(
                "Issue %(number)d is already the open draft of this publication. Cancel it "
                "first, or continue with it.",
                number=other.number,
            )
        )
    transition(issue, IssueAction.RESTORE)
    touch(session, issue, user_id=user_id, now=now)
    _record(session, "issue.restored", issue, actor_or(actor, user_id), now)


def bring_forward(session: Session, issue_id: int, *, now: datetime) -> bool:
    """Move a scheduled issue's time to now if it lies ahead ("send it now"); True if it did.

    One conditional UPDATE, so it can be the first statement of a transaction (on SQLite
    that takes the write lock before anything is read).
    """
    result = session.execute(
        update(Issue)
        .where(
            Issue.id == issue_id,
            Issue.status == IssueStatus.SCHEDULED,
            Issue.scheduled_at > now,
        )
        # A change like any other: an editor's form based on the old time is stale now.
        .values(scheduled_at=now, version=Issue.version + 1)
        .execution_options(synchronize_session="fetch")
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- the way out (delivery)


def due_issues(session: Session, *, now: datetime) -> list[Issue]:
    """Return scheduled issues whose time has come, oldest first."""
    return list(
        session.scalars(
            select(Issue)
            .where(Issue.status == IssueStatus.SCHEDULED, Issue.scheduled_at <= now)
            .order_by(Issue.scheduled_at, Issue.id)
        )
    )


def start_sending(
    session: Session,
    issue: Issue,
    *,
    now: datetime,
    links: Links,
    settings: Settings | None = None,
) -> list[IssueSnapshot]:
    """Freeze the issue's rendering in each language it needs and mark it sending.

    The languages are those of its audience and the default (`issue_languages`): a
    recipient whose language has no snapshot gets the default's. Safe to call twice: an
    issue already sending keeps the snapshots it has.
    """
    if issue.status == IssueStatus.SENDING and issue.snapshots:
        return list(issue.snapshots)
    require(issue, IssueAction.START_SENDING)
    check_sendable(issue)
    for language in issue_languages(session, settings or get_settings(), issue):
        issue.snapshots.append(freeze(render_issue(issue, language, links=links)))
    transition(issue, IssueAction.START_SENDING)
    issue.updated_at = now
    flush_issue(session)
    return list(issue.snapshots)


def mark_sent(session: Session, issue: Issue, *, now: datetime) -> None:
    """Record that every recipient has been handled; the issue appears in the archive."""
    transition(issue, IssueAction.MARK_SENT)
    issue.sent_at = now
    issue.updated_at = now
    flush_issue(session)


def stop_sending(session: Session, issue: Issue, *, now: datetime) -> bool:
    """Cancel a scheduled issue, or one being sent, whose send was cancelled; True if it was."""
    if not allows(issue, IssueAction.STOP_SENDING):
        return False
    transition(issue, IssueAction.STOP_SENDING)
    issue.updated_at = now
    return True


# ---------------------------------------------------------------- test sends


def parse_addresses(raw: str) -> list[str]:
    """Return the addresses of a comma- or line-separated list, or raise IssueError."""
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
    links: Links,
    values: dict[str, str],
) -> int:
    """Queue the issue to a few addresses, marked as a test; it goes out after the commit."""
    if not addresses:
        raise IssueError(_l("Please enter at least one e-mail address."), field="addresses")
    prepared = prepare_issue(session, issue, language, links=links)
    # Before it is sent the archive has no page for it: "read in the browser" opens the
    # editors' preview (behind the login) instead.
    preview = (
        links.url("issues_editor.preview", issue_id=issue.id, sprache=language)
        if links.has("issues_editor.preview")
        else ""
    )
    browser_url = prepared.archive_url if issue.status == IssueStatus.SENT else preview
    html, text = prepared.fill({**values, "browser_url": browser_url})
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
