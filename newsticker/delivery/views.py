"""The editor area's delivery pages: progress while sending, pause, resume, cancel, report."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session

from newsticker.auth.services import names_by_email
from newsticker.config import get_settings
from newsticker.core.access import protect_editor_blueprint, request_actor
from newsticker.core.db import db, utcnow
from newsticker.core.errors import UserError
from newsticker.core.site import site_links
from newsticker.core.unit_of_work import separate_unit_of_work
from newsticker.delivery import services
from newsticker.delivery.log import LogLine, log_actors, log_lines
from newsticker.delivery.mails import EditorMails
from newsticker.delivery.models import SEND_STATE_LABELS, SendState
from newsticker.issues.models import STATUS_LABELS, Issue, IssueStatus

bp = Blueprint("delivery", __name__, url_prefix="/redaktion/versand")
protect_editor_blueprint(bp)
# Templates (pages and the editors' mails) compare states with the enums' members.
bp.add_app_template_global(SendState, "SendState")
bp.add_app_template_global(IssueStatus, "IssueStatus")

# While sending, the progress page reloads itself this often (no JavaScript needed).
REFRESH_SECONDS = 5
FAILURES_SHOWN = 200
DUE_SOON = timedelta(minutes=10)


def _issue(issue_id: int) -> Issue:
    issue = db.session.get(Issue, issue_id)
    if issue is None:
        abort(404)
    return issue


def _actor() -> str:
    return str(getattr(current_user, "email", "") or "")


def _act(work: Callable[[Session], Any]) -> Any:
    """Run an editor's action in a transaction of its own whose first statement is its write."""
    with separate_unit_of_work() as session:
        return work(session)


@bp.route("/")
def index() -> ResponseReturnValue:
    """List the sends, newest first."""
    return render_template(
        "delivery/index.html",
        reports=services.recent_reports(db.session),
        state_labels=SEND_STATE_LABELS,
        status_labels=STATUS_LABELS,
    )


@bp.route("/<int:issue_id>")
def progress(issue_id: int) -> ResponseReturnValue:
    """Show an issue's progress while sending, and its report afterwards."""
    return _page(issue_id)


def _log(report: Any) -> list[LogLine]:
    events = list(report.events or []) if report is not None else []
    return log_lines(events, names_by_email(db.session, log_actors(events)))


def _page(issue_id: int, status: int = 200) -> ResponseReturnValue:
    issue = _issue(issue_id)
    state = services.progress(db.session, issue_id, now=utcnow())
    publication = get_settings().publication(issue.publication)
    sending = state.state == SendState.SENDING
    # About to start: refresh too, so the editor sees the send begin.
    due_soon = (
        state.state is None
        and issue.status == IssueStatus.SCHEDULED
        and issue.scheduled_at is not None
        and issue.scheduled_at <= utcnow() + DUE_SOON
    )
    live = (sending or due_soon) and status == 200
    html = render_template(
        "delivery/progress.html",
        issue=issue,
        publication_name=publication.name if publication else issue.publication,
        progress=state,
        report=state.report,
        log=_log(state.report),
        failures=services.failed_deliveries(db.session, issue_id, limit=FAILURES_SHOWN),
        # Reloading by itself only when the editor asks for it (WCAG 2.2.1: a page that
        # reloads on its own restarts screen readers; the user must control that).
        refresh=REFRESH_SECONDS if live and request.args.get("auto") == "1" else None,
        can_refresh=live,
        refresh_seconds=REFRESH_SECONDS,
        state_labels=SEND_STATE_LABELS,
        status_labels=STATUS_LABELS,
        record_days=get_settings().retention.delivery_record_days,
        compose_url=(
            url_for("issues_editor.compose", issue_id=issue_id)
            if site_links().has("issues_editor.compose")
            else None
        ),
    )
    return html, status


def _back(issue_id: int) -> ResponseReturnValue:
    return redirect(url_for("delivery.progress", issue_id=issue_id), 303)


def _refuse(issue_id: int, message: str, status: int = 409) -> ResponseReturnValue:
    flash(message, "error")
    return _page(issue_id, status)


@bp.route("/<int:issue_id>/pausieren", methods=["POST"])
def pause(issue_id: int) -> ResponseReturnValue:
    """Pause sending: no worker claims more recipients until it is resumed."""
    _issue(issue_id)
    # The reason is shown as written: name the editor as people know them.
    name = str(getattr(current_user, "display_name", "") or _actor())
    reason = _("paused by %(name)s", name=name)
    done = _act(
        lambda s: services.pause_issue(
            s, issue_id, reason=reason, now=utcnow(), actor=_actor(), who=request_actor()
        )
    )
    if not done:
        return _refuse(issue_id, _("This issue is not being sent, so it cannot be paused."))
    flash(_("Sending is paused. Messages already handed to the relay still arrive."), "success")
    return _back(issue_id)


@bp.route("/<int:issue_id>/fortsetzen", methods=["POST"])
def resume(issue_id: int) -> ResponseReturnValue:
    """Resume a paused send; the scheduler sends the rest."""
    _issue(issue_id)
    who = request_actor()
    if not _act(
        lambda s: services.resume_issue(s, issue_id, now=utcnow(), actor=_actor(), who=who)
    ):
        return _refuse(issue_id, _("This issue is not paused."))
    flash(_("Sending goes on. The scheduler picks it up within a minute."), "success")
    return _back(issue_id)


@bp.route("/<int:issue_id>/jetzt-senden", methods=["POST"])
def send_held(issue_id: int) -> ResponseReturnValue:
    """Send an issue that was held because it missed its time."""
    _issue(issue_id)
    settings = get_settings()
    try:
        result = _act(
            lambda s: services.send_or_queue(
                s,
                issue_id,
                now=utcnow(),
                send_now=True,
                settings=settings,
                links=site_links(),
                actor=_actor(),
                who=request_actor(),
            )
        )
    except UserError as exc:
        return _refuse(issue_id, str(exc))
    if result.decision != services.SendDecision.STARTED:
        return _refuse(issue_id, _("This issue is not waiting to be sent."))
    flash(_("Sending has begun. The scheduler picks it up within a minute."), "success")
    return _back(issue_id)


@bp.route("/<int:issue_id>/absagen", methods=["POST"])
def cancel(issue_id: int) -> ResponseReturnValue:
    """Cancel sending for good (the recipients not yet reached get nothing)."""
    _issue(issue_id)
    if request.form.get("confirm") != "yes":
        return _refuse(
            issue_id, _("Please tick the box to confirm that the send is to be cancelled."), 422
        )
    notify = EditorMails(site_links())
    who = request_actor()
    cancelled = _act(
        lambda s: services.cancel_sending(
            s, issue_id, now=utcnow(), notify=notify, actor=_actor(), who=who
        )
    )
    if not cancelled:
        return _refuse(issue_id, _("This send cannot be cancelled any more."))
    flash(_("Sending is cancelled. The report was mailed to the editors."), "success")
    return _back(issue_id)
