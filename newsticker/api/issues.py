"""Issues through the API: list and read (read); draft, edit, compose (entries, articles,
key figures and their order), schedule, unschedule and test-send (publish). The same
services and refusals as the composer; every change has the one shape of `issue_change`."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import marshmallow as ma
from flask_babel import get_locale
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
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.core.site import site_links
from newsticker.issues import services
from newsticker.issues.composer import preview_values
from newsticker.issues.models import Issue
from newsticker.issues.rendering import MAIL_LANGUAGES
from newsticker.items.images import upload_dir
from newsticker.items.models import Item

bp = Blueprint(
    "api_issues",
    __name__,
    url_prefix="/api/v1/issues",
    description="Issues: list and read (token: read); draft, edit, schedule, test (publish).",
)

ISSUE_ID = "<int(min=1, max=2147483647):issue_id>"
ENTRY_ID = "<int(min=1, max=2147483647):entry_id>"
FIGURE_ID = "<int(min=1, max=2147483647):figure_id>"
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


# What a change gets besides its values: the version the caller saw, who, and when.
Edit = dict[str, Any]
Change = Callable[[Issue, dict[str, Any], Edit], object]


def issue_change(
    rule: str, action: str, arguments: type[ma.Schema], *, method: str = "POST"
) -> Callable[[Change], Any]:
    """Register a change of an issue (scope publish): the one shape every change has.

    The endpoint reads its values with `arguments` (from the query string for DELETE),
    calls `change(issue, values, edit)`, which calls the composer's service, records
    "api.issue.<action>" in the audit trail and answers the issue. An IssueError the
    service raises answers 422 (a field's message) or 409 (stale, or no longer a draft),
    and nothing is stored. This is what `composer.carry` is for the editor area.
    """
    location = "query" if method == "DELETE" else "json"

    def decorator(change: Change) -> Any:
        @wraps(change)
        def view(values: dict[str, Any], issue_id: int, **ids: int) -> Any:
            issue = _issue(issue_id)
            edit: Edit = {
                "version": values.pop("version", None),
                "user_id": current_token().user_id,
                "now": services.current_time(),
            }
            try:
                change(issue, {**values, **ids}, edit)
            except services.IssueError as exc:
                return _refused(exc)
            api_services.record_api_change(
                db.session,
                f"issue.{action}",
                actor=current_actor(),
                now=edit["now"],
                subject=("issue", issue.id),
                summary=f"{issue.publication} {issue.number}",
            )
            db.session.flush()
            return issue_data(issue)

        for decorate in (
            bp.alt_response(409, **CONFLICT),
            bp.response(200, schemas.IssueSchema),
            bp.arguments(arguments, location=location),
            token_required(ApiScope.PUBLISH),
            bp.doc(security=SECURITY),
            bp.route(f"/{ISSUE_ID}{rule}", methods=[method]),
        ):
            view = decorate(view)
        return view

    return decorator


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


@issue_change("", "edited", schemas.IssueEditSchema, method="PATCH")
def edit(issue: Issue, values: dict[str, Any], edit: Edit) -> None:
    """Change a draft's subject, preheader and editorial."""
    services.update_issue(db.session, issue, **values, **edit)


@issue_change("/schedule", "scheduled", schemas.ScheduleSchema)
def schedule(issue: Issue, values: dict[str, Any], edit: Edit) -> None:
    """Schedule a draft for a date and time in the site's time zone."""
    services.schedule_at_local_time(
        db.session,
        issue,
        day=values["send_date"],
        at=values["send_time"],
        settings=get_settings(),
        links=site_links(),
        override_size=values["override_size"],
        **edit,
    )


@issue_change("/unschedule", "unscheduled", schemas.Versioned)
def unschedule(issue: Issue, values: dict[str, Any], edit: Edit) -> None:
    """Take a scheduled issue back to draft."""
    services.unschedule_issue(db.session, issue, **edit)


# ---------------------------------------------------------------- entries and figures


@issue_change("/entries", "entry_added", schemas.NewEntrySchema)
def add_entry(issue: Issue, values: dict[str, Any], edit: Edit) -> None:
    """Add a published item to the section of its kind (an event: its next date)."""
    item = db.session.get(Item, values["item_id"])
    if item is None:
        raise services.IssueError(_l("There is no item with this number."), field="item_id")
    now = edit["now"]
    next_date = services.next_occurrence(
        item, now=max(now, issue.window_start or now), tz=get_settings().tz
    )
    services.add_item(db.session, issue, item, occurrence_start=next_date, **edit)


@issue_change("/articles", "article_added", schemas.ArticleSchema)
def add_article(issue: Issue, values: dict[str, Any], edit: Edit) -> None:
    """Add an article written for the issue, at the end of the articles."""
    services.add_article(db.session, issue, **values, **edit)


@issue_change(f"/articles/{ENTRY_ID}", "article_edited", schemas.ArticleSchema, method="PUT")
def edit_article(issue: Issue, values: dict[str, Any], edit: Edit) -> None:
    """Change an article's title, text, link and language (its place and image stay)."""
    services.update_article(db.session, issue, **values, **edit)


@issue_change("/order", "reordered", schemas.SectionOrderSchema, method="PUT")
def reorder(issue: Issue, values: dict[str, Any], edit: Edit) -> None:
    """Put a section's entries in an order: every entry of the section, each once."""
    services.reorder_section(db.session, issue, values["section"], values["entry_ids"], **edit)


@issue_change(f"/entries/{ENTRY_ID}", "entry_removed", schemas.VersionQuery, method="DELETE")
def remove_entry(issue: Issue, values: dict[str, Any], edit: Edit) -> None:
    """Take an entry (an item's date or an article) out of the issue."""
    services.remove_entry(db.session, issue, values["entry_id"], upload_dir=upload_dir(), **edit)


@issue_change("/figures", "figure_added", schemas.FigureSchema)
def add_figure(issue: Issue, values: dict[str, Any], edit: Edit) -> None:
    """Add a key figure at the end of the chart (the value as a number, 1234.5 or 1.234,5)."""
    services.add_figure(db.session, issue, _figure(values), language=_language(), **edit)


@issue_change(f"/figures/{FIGURE_ID}", "figure_edited", schemas.FigureSchema, method="PUT")
def edit_figure(issue: Issue, values: dict[str, Any], edit: Edit) -> None:
    """Change a key figure in place."""
    figure = _figure(values)
    services.update_figure(
        db.session, issue, values["figure_id"], figure, language=_language(), **edit
    )


@issue_change("/figures/order", "figures_reordered", schemas.FigureOrderSchema, method="PUT")
def reorder_figures(issue: Issue, values: dict[str, Any], edit: Edit) -> None:
    """Put the key figures in an order: every figure of the issue, each once."""
    services.reorder_figures(db.session, issue, values["figure_ids"], **edit)


@issue_change(f"/figures/{FIGURE_ID}", "figure_removed", schemas.VersionQuery, method="DELETE")
def remove_figure(issue: Issue, values: dict[str, Any], edit: Edit) -> None:
    """Take a key figure out of the chart."""
    services.remove_figure(db.session, issue, values["figure_id"], **edit)


def _figure(values: dict[str, Any]) -> services.FigureData:
    return services.FigureData(
        label=values["label"],
        value=values["value"],
        unit=values["unit"],
        period=values["period"],
        source=values["source"],
    )


def _language() -> str:
    # Values are read as the caller writes numbers: in the language it asks answers in.
    language = str(get_locale() or "de")
    return language if language in MAIL_LANGUAGES else "de"


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
