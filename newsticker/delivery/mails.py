"""Mails to the editors about sending: paused, held, the report, a draft ready or waiting."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsticker.auth.models import User
from newsticker.config import get_settings
from newsticker.core.mailrender import queue_rendered, render_mail
from newsticker.delivery.models import DeliveryReport
from newsticker.issues.models import Issue

MAIL_LANGUAGES = ("de", "en")
# Failed addresses listed in the mailed report; the editor area shows all of them.
REPORT_FAILURES = 50


def absolute_url(endpoint: str, **values: Any) -> str:
    """Return the URL of a page under the configured base URL (what links in mails need)."""
    base = get_settings().site.base_url
    if endpoint not in current_app.view_functions:
        return base + "/redaktion/"
    if not has_request_context():
        with current_app.test_request_context(base_url=base):
            return absolute_url(endpoint, **values)
    path = url_for(endpoint, **values)
    if request.script_root and path.startswith(request.script_root):
        path = path[len(request.script_root) :]
    return base + path


def editors(session: Session) -> list[tuple[str, str]]:
    """Return (address, language) of every active editor and admin."""
    rows = session.execute(
        select(User.email, User.language).where(User.active.is_(True)).order_by(User.id)
    ).all()
    return [(email, lang if lang in MAIL_LANGUAGES else "de") for email, lang in rows]


def queue_to_editors(session: Session, template: str, purpose: str, **context: Any) -> int:
    """Queue one mail per editor, each in the editor's language; return how many."""
    count = 0
    for address, language in editors(session):
        mail = render_mail(template, language, **context)
        queue_rendered(session, purpose=purpose, to=address, mail=mail)
        count += 1
    return count


def _issue_context(session: Session, report: DeliveryReport) -> dict[str, Any]:
    settings = get_settings()
    issue = session.get(Issue, report.issue_id)
    publication = settings.publication(issue.publication) if issue else None
    return {
        "issue": issue,
        "report": report,
        "publication_name": publication.name if publication else "",
        "progress_url": absolute_url("delivery.progress", issue_id=report.issue_id),
    }


def queue_paused_notice(session: Session, report: DeliveryReport) -> int:
    """Tell the editors that failures paused an issue, and how to go on."""
    return queue_to_editors(
        session, "delivery_paused", "delivery_paused", **_issue_context(session, report)
    )


def queue_held_notice(session: Session, report: DeliveryReport) -> int:
    """Tell the editors that an issue missed its time and waits for their decision."""
    return queue_to_editors(
        session, "delivery_held", "delivery_held", **_issue_context(session, report)
    )


def queue_report(session: Session, report: DeliveryReport) -> int:
    """Mail the delivery report: counts, duration, failure reasons and failed addresses."""
    from newsticker.delivery.services import failed_deliveries

    failures = failed_deliveries(session, report.issue_id, limit=REPORT_FAILURES)
    return queue_to_editors(
        session,
        "delivery_report",
        "delivery_report",
        failures=failures,
        more_failures=max(report.failed - len(failures), 0),
        **_issue_context(session, report),
    )


def queue_draft_notice(session: Session, issue: Issue, *, template: str) -> int:
    """Tell the editors that a draft is ready (or still waits) for their review."""
    settings = get_settings()
    publication = settings.publication(issue.publication)
    return queue_to_editors(
        session,
        template,
        template,
        issue=issue,
        publication_name=publication.name if publication else issue.publication,
        compose_url=absolute_url("issues_editor.compose", issue_id=issue.id),
    )
