"""Mails to the editors about sending: paused, held, the report, a draft ready or waiting.

Each goes to every active editor in the editor's language. Links in them point at the
editor area under the site's base URL, built by the `Links` the caller passes in
(`newsticker.core.site.site_links(app)`), never through a request. `EditorMails` is the
`Notifier` delivery's services call when a send needs the editors: this module uses
the services' results, the services never import it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsticker.auth.models import User
from newsticker.config import get_settings
from newsticker.core.i18n import editor_mail_language
from newsticker.core.links import Links
from newsticker.core.mailrender import queue_rendered, render_mail
from newsticker.core.site import site_links
from newsticker.delivery.models import DeliveryReport
from newsticker.delivery.services import failed_deliveries
from newsticker.issues.models import Issue

# Failed addresses listed in the mailed report; the editor area shows all of them.
REPORT_FAILURES = 50


def editor_url(links: Links, endpoint: str, **values: Any) -> str:
    """Return the absolute URL of an editor page (the editor area's start if it is absent)."""
    if not links.has(endpoint):
        return get_settings().site.base_url + "/redaktion/"
    return links.url(endpoint, **values)


def editors(session: Session) -> list[tuple[str, str]]:
    """Return (address, language) of every active editor and admin."""
    rows = session.execute(
        select(User.email, User.language).where(User.active.is_(True)).order_by(User.id)
    ).all()
    return [(email, editor_mail_language(lang)) for email, lang in rows]


def queue_to_editors(session: Session, template: str, purpose: str, **context: Any) -> int:
    """Queue one mail per editor, each in the editor's language; return how many."""
    count = 0
    for address, language in editors(session):
        mail = render_mail(template, language, **context)
        queue_rendered(session, purpose=purpose, to=address, mail=mail)
        count += 1
    return count


def _issue_context(session: Session, report: DeliveryReport, links: Links) -> dict[str, Any]:
    settings = get_settings()
    issue = session.get(Issue, report.issue_id)
    publication = settings.publication(issue.publication) if issue else None
    return {
        "issue": issue,
        "report": report,
        "publication_name": publication.name if publication else "",
        "progress_url": editor_url(links, "delivery.progress", issue_id=report.issue_id),
    }


def queue_paused_notice(session: Session, report: DeliveryReport, *, links: Links) -> int:
    """Tell the editors that failures paused an issue, and how to go on."""
    return queue_to_editors(
        session, "delivery_paused", "delivery_paused", **_issue_context(session, report, links)
    )


def queue_held_notice(session: Session, report: DeliveryReport, *, links: Links) -> int:
    """Tell the editors that an issue missed its time and waits for their decision."""
    return queue_to_editors(
        session, "delivery_held", "delivery_held", **_issue_context(session, report, links)
    )


def queue_report(session: Session, report: DeliveryReport, *, links: Links) -> int:
    """Mail the delivery report: counts, duration, failure reasons and failed addresses."""
    failures = failed_deliveries(session, report.issue_id, limit=REPORT_FAILURES)
    return queue_to_editors(
        session,
        "delivery_report",
        "delivery_report",
        failures=failures,
        more_failures=max(report.failed - len(failures), 0),
        **_issue_context(session, report, links),
    )


def queue_draft_notice(
    session: Session, issue: Issue, *, template: str, links: Links | None = None
) -> int:
    """Tell the editors that a draft is ready (or still waits) for their review.

    Without links given, the current app's are used (what a scheduler job has).
    """
    settings = get_settings()
    publication = settings.publication(issue.publication)
    return queue_to_editors(
        session,
        template,
        template,
        issue=issue,
        publication_name=publication.name if publication else issue.publication,
        compose_url=editor_url(links or site_links(), "issues_editor.compose", issue_id=issue.id),
    )


class EditorMails:
    """Tell the editors by mail about a send that needs them (delivery's Notifier)."""

    def __init__(self, links: Links) -> None:
        self.links = links

    def paused(self, session: Session, report: DeliveryReport) -> int:
        """Tell that failures paused the send, and how to go on."""
        return queue_paused_notice(session, report, links=self.links)

    def held(self, session: Session, report: DeliveryReport) -> int:
        """Tell that the issue missed its time and waits for a decision."""
        return queue_held_notice(session, report, links=self.links)

    def ended(self, session: Session, report: DeliveryReport) -> int:
        """Send the report of a send that finished or was cancelled."""
        return queue_report(session, report, links=self.links)
