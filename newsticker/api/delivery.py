"""Delivery through the API: the progress of a send and the reports (token: read); pause,
resume and cancel a send (publish), with the delivery pages' services and messages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g
from flask_smorest import Blueprint
from sqlalchemy.orm import Session
from werkzeug.exceptions import NotFound

from newsticker.api import schemas
from newsticker.api.auth import SECURITY, current_actor, token_required
from newsticker.api.models import ApiScope
from newsticker.api.problems import PROBLEM_MIMETYPE, problem
from newsticker.core.audit import Actor
from newsticker.core.db import db, utcnow
from newsticker.core.i18n import gettext as _
from newsticker.core.site import site_links
from newsticker.core.unit_of_work import separate_unit_of_work
from newsticker.delivery import services
from newsticker.delivery.mails import EditorMails
from newsticker.issues.models import Issue

bp = Blueprint(
    "api_delivery",
    __name__,
    url_prefix="/api/v1/delivery",
    description="Delivery progress and reports (token: read); pause, resume, cancel (publish).",
)


@bp.route("/reports")
@bp.doc(security=SECURITY)
@token_required(ApiScope.READ)
@bp.response(200, schemas.ReportSchema(many=True))
def reports() -> Any:
    """The latest sends with their reports, newest first."""
    return [
        {
            "issue_id": issue.id,
            "publication": issue.publication,
            "number": issue.number,
            "state": report.state.value,
            "scheduled_for": report.scheduled_for,
            "started_at": report.started_at,
            "finished_at": report.finished_at,
            "recipients": report.recipients,
            "sent": report.sent,
            "failed": report.failed,
            "skipped": report.skipped,
            "cancelled": report.cancelled,
            "failure_reasons": report.failure_reasons or [],
        }
        for report, issue in services.recent_reports(db.session)
        if report is not None  # an issue marked sent without a send has no report
    ]


ISSUE = "/issues/<int(min=1, max=2147483647):issue_id>"


@bp.route(ISSUE)
@bp.doc(security=SECURITY)
@token_required(ApiScope.READ)
@bp.response(200, schemas.ProgressSchema)
def progress(issue_id: int) -> Any:
    """Where the sending of an issue stands: counts, rate and the time left."""
    _issue(issue_id)
    return progress_data(issue_id)


def _issue(issue_id: int) -> Issue:
    issue = db.session.get(Issue, issue_id)
    if issue is None:
        raise NotFound()
    return issue


def progress_data(issue_id: int) -> dict[str, Any]:
    """Return what the API shows of a send's progress."""
    state = services.progress(db.session, issue_id, now=utcnow())
    return {
        "issue_id": issue_id,
        "state": state.state.value if state.state is not None else None,
        "total": state.total,
        "sent": state.sent,
        "failed": state.failed,
        "skipped": state.skipped,
        "cancelled": state.cancelled,
        "pending": state.pending,
        "rate_per_second": state.rate_per_second,
        "eta_seconds": state.eta_seconds,
        "finished": state.finished,
    }


Control = Callable[[Session, int, Actor], bool]


def send_control(rule: str, refusal: Callable[[], str]) -> Callable[[Control], Any]:
    """Register a turn of a running send (scope publish), as the delivery pages make it.

    `control(session, issue_id, who)` calls the delivery service in a transaction of its
    own (as the pages do: workers commit all the time) and returns whether it applied;
    the service records it in the audit trail. The answer is the progress, or 409 with
    the page's message, `refusal()`, when the send is not in a state for it.
    """

    def decorator(control: Control) -> Any:
        @wraps(control)
        def view(issue_id: int) -> Any:
            _issue(issue_id)
            with separate_unit_of_work() as session:
                done = control(session, issue_id, current_actor())
            if not done:
                return problem(409, refusal())
            db.session.expire_all()
            return progress_data(issue_id)

        for decorate in (
            bp.alt_response(409, schema=schemas.ProblemSchema, content_type=PROBLEM_MIMETYPE),
            bp.response(200, schemas.ProgressSchema),
            token_required(ApiScope.PUBLISH),
            bp.doc(security=SECURITY),
            bp.route(f"{ISSUE}/{rule}", methods=["POST"]),
        ):
            view = decorate(view)
        return view

    return decorator


@send_control("pause", lambda: _("This issue is not being sent, so it cannot be paused."))
def pause(session: Session, issue_id: int, who: Actor) -> bool:
    """Pause sending: no worker claims more recipients until it is resumed.

    Messages already handed to the relay still arrive.
    """
    user = g.api_user
    reason = _("paused by %(name)s", name=user.display_name or user.email)
    return services.pause_issue(
        session, issue_id, reason=reason, now=utcnow(), actor=user.email, who=who
    )


@send_control("resume", lambda: _("This issue is not paused."))
def resume(session: Session, issue_id: int, who: Actor) -> bool:
    """Resume a paused send; the workers (or the scheduler) send the rest."""
    return services.resume_issue(session, issue_id, now=utcnow(), actor=g.api_user.email, who=who)


@send_control("cancel", lambda: _("This send cannot be cancelled any more."))
def cancel(session: Session, issue_id: int, who: Actor) -> bool:
    """Cancel sending for good: the recipients not yet reached get nothing.

    The report is mailed to the editors.
    """
    notify = EditorMails(site_links())
    return services.cancel_sending(
        session, issue_id, now=utcnow(), notify=notify, actor=g.api_user.email, who=who
    )
