"""Delivery through the API: the progress of a send and the reports (token: read)."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint
from werkzeug.exceptions import NotFound

from newsticker.api import schemas
from newsticker.api.auth import SECURITY, token_required
from newsticker.api.models import ApiScope
from newsticker.core.db import db, utcnow
from newsticker.delivery import services
from newsticker.issues.models import Issue

bp = Blueprint(
    "api_delivery",
    __name__,
    url_prefix="/api/v1/delivery",
    description="Delivery progress and reports (token: read).",
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


@bp.route("/issues/<int(min=1, max=2147483647):issue_id>")
@bp.doc(security=SECURITY)
@token_required(ApiScope.READ)
@bp.response(200, schemas.ProgressSchema)
def progress(issue_id: int) -> Any:
    """Where the sending of an issue stands: counts, rate and the time left."""
    if db.session.get(Issue, issue_id) is None:
        raise NotFound()
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
