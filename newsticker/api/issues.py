"""Issues through the API: list and read (read), draft, edit, schedule, unschedule and
test-send (publish). The same services and refusals as the composer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_smorest import Blueprint
from werkzeug.exceptions import NotFound

from newsticker.api import schemas
from newsticker.api import services as api_services
from newsticker.api.auth import SECURITY, current_actor, current_token, token_required
from newsticker.api.models import ApiScope
from newsticker.api.problems import problem
from newsticker.config import get_settings
from newsticker.core.db import db
from newsticker.core.i18n import gettext as _
from newsticker.core.site import site_links
from newsticker.issues import services
from newsticker.issues.composer import preview_values
from newsticker.issues.models import Issue

bp = Blueprint(
    "api_issues",
    __name__,
    url_prefix="/api/v1/issues",
    description="Issues: list and read (token: read); draft, edit, schedule, test (publish).",
)

ISSUE_ID = "<int(min=1, max=2147483647):issue_id>"
CONFLICT = {"schema": schemas.ProblemSchema, "content_type": "application/problem+json"}


def issue_data(issue: Issue) -> dict[str, Any]:
    """Return what the API shows of an issue."""
    return {
        "id": issue.id,
        "publication": issue.publication,
        "number": issue.number,
        "status": issue.status.value,
        "subject": issue.subject,
        "preheader": issue.preheader,
        "editorial": issue.editorial,
        "scheduled_at": issue.scheduled_at,
        "sent_at": issue.sent_at,
        "version": issue.version,
        "entries": [
            {
                "id": e.id,
                "section": e.section,
                "position": e.position,
                "item_id": e.item_id,
                "occurrence_start": e.occurrence_start,
                "title": e.title,
                "body": e.body,
                "link": e.link,
                "language": e.language,
            }
            for e in issue.entries
        ],
    }


def _issue(issue_id: int) -> Issue:
    issue = db.session.get(Issue, issue_id)
    if issue is None:
        raise NotFound()
    return issue


def _refused(exc: services.IssueError) -> Any:
    if exc.field and not isinstance(exc, services.StaleIssue):
        return problem(422, errors={exc.field: [str(exc.message)]})
    return problem(409, str(exc.message))


def _change(issue: Issue, action: str, work: Callable[[], object]) -> Any:
    """Run a change of an issue, record it in the audit trail, answer the issue."""
    try:
        work()
    except services.IssueError as exc:
        return _refused(exc)
    api_services.record_api_change(
        db.session,
        f"issue.{action}",
        actor=current_actor(),
        now=services.current_time(),
        subject=("issue", issue.id),
        summary=f"{issue.publication} {issue.number}",
    )
    db.session.flush()
    return issue_data(issue)


@bp.route("")
@bp.doc(security=SECURITY)
@token_required(ApiScope.READ)
@bp.response(200, schemas.IssueSchema(many=True))
def index() -> Any:
    """Issues of every publication, newest first."""
    return [issue_data(i) for i in services.editor_issues(db.session)]


@bp.route("", methods=["POST"])
@bp.doc(security=SECURITY)
@token_required(ApiScope.PUBLISH)
@bp.arguments(schemas.NewDraftSchema)
@bp.response(201, schemas.IssueSchema)
@bp.alt_response(200, schema=schemas.IssueSchema, description="New items added to the open draft")
def draft(values: dict[str, Any]) -> Any:
    """Draft a publication's next issue from approved items (or add new ones to its draft)."""
    try:
        result = services.draft_issue(
            db.session,
            get_settings(),
            values["publication"],
            now=services.current_time(),
            user_id=current_token().user_id,
        )
    except services.IssueError as exc:
        return _refused(exc)
    issue = result.issue
    api_services.record_api_change(
        db.session,
        "issue.drafted",
        actor=current_actor(),
        now=services.current_time(),
        subject=("issue", issue.id),
        summary=f"{issue.publication} {issue.number}",
    )
    return issue_data(issue), 201 if result.created else 200


@bp.route(f"/{ISSUE_ID}")
@bp.doc(security=SECURITY)
@token_required(ApiScope.READ)
@bp.response(200, schemas.IssueSchema)
def show(issue_id: int) -> Any:
    """One issue with its entries."""
    return issue_data(_issue(issue_id))


@bp.route(f"/{ISSUE_ID}", methods=["PATCH"])
@bp.doc(security=SECURITY)
@token_required(ApiScope.PUBLISH)
@bp.arguments(schemas.IssueEditSchema)
@bp.response(200, schemas.IssueSchema)
@bp.alt_response(409, **CONFLICT)
def edit(values: dict[str, Any], issue_id: int) -> Any:
    """Change a draft's subject, preheader and editorial."""
    issue = _issue(issue_id)
    return _change(
        issue,
        "edited",
        lambda: services.update_issue(
            db.session,
            issue,
            subject=values["subject"],
            preheader=values["preheader"],
            editorial=values["editorial"],
            version=values["version"],
            user_id=current_token().user_id,
            now=services.current_time(),
        ),
    )


@bp.route(f"/{ISSUE_ID}/schedule", methods=["POST"])
@bp.doc(security=SECURITY)
@token_required(ApiScope.PUBLISH)
@bp.arguments(schemas.ScheduleSchema)
@bp.response(200, schemas.IssueSchema)
@bp.alt_response(409, **CONFLICT)
def schedule(values: dict[str, Any], issue_id: int) -> Any:
    """Schedule a draft for a date and time in the site's time zone."""
    issue = _issue(issue_id)
    return _change(
        issue,
        "scheduled",
        lambda: services.schedule_at_local_time(
            db.session,
            issue,
            day=values["send_date"],
            at=values["send_time"],
            settings=get_settings(),
            links=site_links(),
            now=services.current_time(),
            override_size=values["override_size"],
            version=values["version"],
            user_id=current_token().user_id,
        ),
    )


@bp.route(f"/{ISSUE_ID}/unschedule", methods=["POST"])
@bp.doc(security=SECURITY)
@token_required(ApiScope.PUBLISH)
@bp.arguments(schemas.VersionSchema_)
@bp.response(200, schemas.IssueSchema)
@bp.alt_response(409, **CONFLICT)
def unschedule(values: dict[str, Any], issue_id: int) -> Any:
    """Take a scheduled issue back to draft."""
    issue = _issue(issue_id)
    return _change(
        issue,
        "unscheduled",
        lambda: services.unschedule_issue(
            db.session,
            issue,
            version=values["version"],
            user_id=current_token().user_id,
            now=services.current_time(),
        ),
    )


@bp.route(f"/{ISSUE_ID}/test", methods=["POST"])
@bp.doc(security=SECURITY)
@token_required(ApiScope.PUBLISH)
@bp.arguments(schemas.TestSendSchema)
@bp.response(202, schemas.MessageSchema)
def test_send(values: dict[str, Any], issue_id: int) -> Any:
    """Send the issue, marked as a test, to a few addresses."""
    issue = _issue(issue_id)
    links = site_links()
    try:
        addresses = services.parse_addresses(values["addresses"])
        count = services.send_test(
            db.session,
            issue,
            addresses,
            language=values["language"],
            settings=get_settings(),
            links=links,
            values=preview_values(links),
        )
    except services.IssueError as exc:
        return _refused(exc)
    api_services.record_api_change(
        db.session,
        "issue.test_sent",
        actor=current_actor(),
        now=services.current_time(),
        subject=("issue", issue.id),
        summary=", ".join(addresses[:count]),
    )
    return {
        "message": _(
            "The test mail is on its way to %(addresses)s.", addresses=", ".join(addresses[:count])
        )
    }, 202
