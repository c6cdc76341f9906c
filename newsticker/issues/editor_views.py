"""The composer in the editor area: draft, compose, preview, test, schedule, cancel."""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from newsticker.config import get_settings
from newsticker.core.access import protect_editor_blueprint
from newsticker.core.db import db
from newsticker.issues import services
from newsticker.issues.forms import (
    ArticleForm,
    DraftForm,
    FigureForm,
    IssueForm,
    ScheduleForm,
    TestSendForm,
    VersionForm,
)
from newsticker.issues.models import SECTION_LABELS, STATUS_LABELS, Issue
from newsticker.issues.rendering import (
    MAIL_LANGUAGES,
    default_subject,
    entry_occurrence,
    format_figure_value,
    measure_size,
    render_issue,
)
from newsticker.items.models import Item

logger = logging.getLogger(__name__)

bp = Blueprint("issues_editor", __name__, url_prefix="/redaktion/ausgaben")
protect_editor_blueprint(bp)

# The preview frames: no scripts, no forms, no plugins; only the composer may frame them.
PREVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data: 'self' https:; "
    "frame-ancestors 'self'; sandbox"
)
PREVIEW_WIDTHS = (375, 600)


@bp.app_template_filter("figure_value")
def _figure_value(value: str, unit: str) -> str:
    return format_figure_value(value, unit, str(get_locale() or "de"))


def _user_id() -> int | None:
    return getattr(current_user, "id", None)


def _issue(issue_id: int) -> Issue:
    issue = db.session.get(Issue, issue_id)
    if issue is None:
        abort(404)
    return issue


def _language() -> str:
    lang = str(get_locale() or "de")
    return lang if lang in MAIL_LANGUAGES else "de"


def _preview_values() -> dict[str, str]:
    """Return stand-ins for the personal values in previews and test sends."""
    settings = get_settings()
    target = (
        url_for("subscribers.subscribe")
        if "subscribers.subscribe" in _view_functions()
        else url_for("public.index")
    )
    link = settings.site.base_url + target
    return {"unsubscribe_url": link, "preferences_url": link}


def _view_functions() -> dict[str, Any]:
    from flask import current_app

    return current_app.view_functions


# ---------------------------------------------------------------- the list


@bp.route("")
def index() -> ResponseReturnValue:
    """List the issues: open ones first; offer a new draft per publication."""
    settings = get_settings()
    issues = services.editor_issues(db.session)
    drafts = {p.slug: services.open_draft(db.session, p.slug) for p in settings.publications}
    return render_template(
        "issues_editor/index.html",
        issues=issues,
        publications=settings.publications,
        drafts=drafts,
        draft_form=DraftForm(),
        status_labels=STATUS_LABELS,
    )


@bp.route("/entwurf", methods=["POST"])
def draft() -> ResponseReturnValue:
    """Build (or top up) the next draft of a publication from approved items."""
    form = DraftForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        result = services.draft_issue(
            db.session,
            get_settings(),
            form.publication.data or "",
            now=services.current_time(),
            user_id=_user_id(),
        )
    except services.IssueError as exc:
        flash(str(exc), "error")
        return redirect(url_for("issues_editor.index"), 303)
    if result.created:
        flash(
            _(
                "Issue %(number)d is drafted with %(count)d entries.",
                number=result.issue.number,
                count=result.added,
            ),
            "success",
        )
    elif result.added:
        flash(_("%(count)d new entries were added to the draft.", count=result.added), "success")
    else:
        flash(_("The draft is up to date: there are no new items."), "info")
    return redirect(url_for("issues_editor.compose", issue_id=result.issue.id), 303)


# ---------------------------------------------------------------- the composer


def _compose(
    issue: Issue, status: int = 200, *, error: str | None = None, **forms: Any
) -> ResponseReturnValue:
    settings = get_settings()
    publication = settings.publication(issue.publication)
    if publication is None:
        abort(404)
    now = services.current_time()
    version = str(issue.version)
    issue_form = forms.get("issue_form") or IssueForm(
        formdata=None,
        data={
            "subject": issue.subject,
            "preheader": issue.preheader,
            "editorial": issue.editorial,
        },
    )
    article_form = forms.get("article_form") or ArticleForm(formdata=None)
    figure_form = forms.get("figure_form") or FigureForm(formdata=None)
    test_form = forms.get("test_form") or TestSendForm(
        formdata=None,
        data={"addresses": getattr(current_user, "email", ""), "language": _language()},
    )
    send_at = issue.scheduled_at or issue.window_start
    if send_at is None or send_at <= now:
        send_at = services.next_send_time(publication, settings.tz, now)
    local = send_at.astimezone(settings.tz)
    schedule_form = forms.get("schedule_form") or ScheduleForm(
        formdata=None, data={"send_date": local.date(), "send_time": local.time()}
    )
    for form in (issue_form, article_form, figure_form, schedule_form):
        form.version.data = version
    _language_choices(article_form)
    prepared = render_issue(issue, _language())
    size = measure_size(prepared, settings.delivery.max_html_bytes)
    sections = []
    for key in publication.sections:
        entries = [] if key == "figures" else issue.section_entries(key)
        sections.append(
            {
                "key": key,
                "title": SECTION_LABELS[key],
                "entries": [_entry_info(e, settings.tz) for e in entries],
            }
        )
    available = services.available_items(db.session, issue, now=now) if issue.is_draft else []
    with_default = default_subject(issue, publication, settings)
    return (
        render_template(
            "issues_editor/compose.html",
            issue=issue,
            publication=publication,
            sections=sections,
            figures=sorted(issue.figures, key=lambda f: (f.position, f.id)),
            available=available,
            issue_form=issue_form,
            article_form=article_form,
            figure_form=figure_form,
            test_form=test_form,
            schedule_form=schedule_form,
            action_form=VersionForm(formdata=None, data={"version": version}),
            size=size,
            default_subject=with_default,
            status_labels=STATUS_LABELS,
            error=error,
            entry_count=services.rendered_entry_count(issue),
            preview_widths=PREVIEW_WIDTHS,
        ),
        status,
    )


def _language_choices(form: ArticleForm) -> None:
    from newsticker.items.forms import choices, language_choices

    form.language.choices = choices(language_choices(sign_language=False))


def _entry_info(entry: Any, tz: Any) -> dict[str, Any]:
    """Return what the composer shows of an entry, with a warning when it will be left out."""
    from newsticker.items.display import when_text

    info: dict[str, Any] = {"entry": entry, "when": "", "warning": ""}
    item: Item | None = entry.item
    if item is None:
        if not entry.is_article:
            info["warning"] = _("The item was deleted; this entry will be left out.")
        return info
    if item.status != "approved":
        info["warning"] = _("The item is no longer published; this entry will be left out.")
        return info
    if item.starts_at is not None:
        start, end = entry_occurrence(item, entry.occurrence_start, tz)
        if start is None:
            info["warning"] = _(
                "The item's dates changed and this date no longer exists; it will be left out."
            )
        else:
            info["when"] = when_text(start, end, item.all_day, tz)
    return info


@bp.route("/<int:issue_id>")
def compose(issue_id: int) -> ResponseReturnValue:
    """Show the composer of an issue."""
    return _compose(_issue(issue_id))


def _refused(issue: Issue, exc: services.IssueError, **forms: Any) -> ResponseReturnValue:
    """Answer a refused change: nothing is stored; show the current state and why."""
    db.session.rollback()
    issue = _issue(issue.id)
    db.session.refresh(issue)
    status = 409 if isinstance(exc, services.StaleIssue) or exc.field is None else 422
    form = next(iter(forms.values()), None) if forms else None
    if form is not None and exc.field and hasattr(form, exc.field):
        getattr(form, exc.field).errors = [*getattr(form, exc.field).errors, exc.message]
        return _compose(issue, status, **forms)
    return _compose(issue, status, error=str(exc), **forms)


def _done(issue: Issue, message: str, anchor: str = "") -> ResponseReturnValue:
    flash(message, "success")
    target = url_for("issues_editor.compose", issue_id=issue.id)
    return redirect(target + (f"#{anchor}" if anchor else ""), 303)


@bp.route("/<int:issue_id>", methods=["POST"])
def save(issue_id: int) -> ResponseReturnValue:
    """Save subject, preheader and editorial."""
    issue = _issue(issue_id)
    form = IssueForm()
    if not form.validate_on_submit():
        return _compose(issue, 422, issue_form=form)
    try:
        services.update_issue(
            db.session,
            issue,
            subject=form.subject.data or "",
            preheader=form.preheader.data or "",
            editorial=form.editorial.data or "",
            version=form.version_number(),
            user_id=_user_id(),
            now=services.current_time(),
        )
    except services.IssueError as exc:
        return _refused(issue, exc, issue_form=form)
    return _done(issue, _("The issue is saved."), "content")


@bp.route("/<int:issue_id>/eintraege", methods=["POST"])
def add_entry(issue_id: int) -> ResponseReturnValue:
    """Add a published item to the issue."""
    issue = _issue(issue_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    raw = request.form.get("item_id", "")
    item = db.session.get(Item, int(raw)) if raw.isdigit() else None
    if item is None:
        return _refused(issue, services.IssueError(_("There is no item with this number.")))
    try:
        tz = get_settings().tz
        now = services.current_time()
        services.add_item(
            db.session,
            issue,
            item,
            occurrence_start=services.next_occurrence(
                item, now=max(now, issue.window_start or now), tz=tz
            ),
            version=form.version_number(),
            user_id=_user_id(),
            now=now,
        )
    except services.IssueError as exc:
        return _refused(issue, exc)
    return _done(issue, _("“%(title)s” is added.", title=item.title), "sections")


@bp.route("/<int:issue_id>/eintraege/<int:entry_id>", methods=["POST"])
def change_entry(issue_id: int, entry_id: int) -> ResponseReturnValue:
    """Move an entry up or down, or remove it."""
    issue = _issue(issue_id)
    form = VersionForm()
    action = request.form.get("action", "")
    if not form.validate_on_submit() or action not in ("up", "down", "remove"):
        abort(400)
    common: dict[str, Any] = {
        "version": form.version_number(),
        "user_id": _user_id(),
        "now": services.current_time(),
    }
    try:
        if action == "remove":
            entry = services.remove_entry(db.session, issue, entry_id, **common)
            title = entry.item.title if entry.item is not None else entry.title
            message = _("“%(title)s” is removed from the issue.", title=title)
        else:
            offset = -1 if action == "up" else 1
            services.move_entry(db.session, issue, entry_id, offset, **common)
            message = _("The order is saved.")
    except services.IssueError as exc:
        return _refused(issue, exc)
    return _done(issue, message, "sections")


@bp.route("/<int:issue_id>/reihenfolge", methods=["POST"])
def reorder(issue_id: int) -> ResponseReturnValue:
    """Save a section's order sent by drag and drop; answer with the new version."""
    issue = _issue(issue_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    raw_ids = request.form.getlist("entry_id")
    if not all(raw.isdigit() for raw in raw_ids):
        abort(400)
    try:
        services.reorder_section(
            db.session,
            issue,
            request.form.get("section", ""),
            [int(raw) for raw in raw_ids],
            version=form.version_number(),
            user_id=_user_id(),
            now=services.current_time(),
        )
    except services.IssueError as exc:
        return jsonify(error=str(exc)), 409
    db.session.flush()
    return jsonify(version=issue.version)


@bp.route("/<int:issue_id>/artikel", methods=["POST"])
def add_article(issue_id: int) -> ResponseReturnValue:
    """Add an article written for the issue."""
    issue = _issue(issue_id)
    form = ArticleForm()
    _language_choices(form)
    if not form.validate_on_submit():
        return _compose(issue, 422, article_form=form)
    try:
        services.add_article(
            db.session,
            issue,
            title=form.title.data or "",
            body=form.body.data or "",
            link=form.link.data or "",
            language=form.language.data or "de",
            version=form.version_number(),
            user_id=_user_id(),
            now=services.current_time(),
        )
    except services.IssueError as exc:
        return _refused(issue, exc, article_form=form)
    return _done(issue, _("The article is added."), "sections")


@bp.route("/<int:issue_id>/zahlen", methods=["POST"])
def add_figure(issue_id: int) -> ResponseReturnValue:
    """Add a key figure."""
    issue = _issue(issue_id)
    form = FigureForm()
    if not form.validate_on_submit():
        return _compose(issue, 422, figure_form=form)
    try:
        services.add_figure(
            db.session,
            issue,
            services.FigureData(
                label=form.label.data or "",
                value=form.value.data or "",
                unit=form.unit.data or "",
                period=form.period.data or "",
                source=form.source.data or "",
            ),
            language=_language(),
            version=form.version_number(),
            user_id=_user_id(),
            now=services.current_time(),
        )
    except services.IssueError as exc:
        return _refused(issue, exc, figure_form=form)
    return _done(issue, _("The key figure is added."), "figures")


@bp.route("/<int:issue_id>/zahlen/<int:figure_id>", methods=["POST"])
def change_figure(issue_id: int, figure_id: int) -> ResponseReturnValue:
    """Move a key figure up or down, or remove it."""
    issue = _issue(issue_id)
    form = VersionForm()
    action = request.form.get("action", "")
    if not form.validate_on_submit() or action not in ("up", "down", "remove"):
        abort(400)
    common: dict[str, Any] = {
        "version": form.version_number(),
        "user_id": _user_id(),
        "now": services.current_time(),
    }
    try:
        if action == "remove":
            services.remove_figure(db.session, issue, figure_id, **common)
            message = _("The key figure is removed.")
        else:
            offset = -1 if action == "up" else 1
            services.move_figure(db.session, issue, figure_id, offset, **common)
            message = _("The order is saved.")
    except services.IssueError as exc:
        return _refused(issue, exc)
    return _done(issue, message, "figures")


# ---------------------------------------------------------------- preview and test


@bp.route("/<int:issue_id>/vorschau")
def preview(issue_id: int) -> ResponseReturnValue:
    """Show the issue as a phone and a desktop show it, and as plain text."""
    issue = _issue(issue_id)
    language = request.args.get("sprache", _language())
    if language not in MAIL_LANGUAGES:
        language = "de"
    prepared = _prepared(issue, language)
    _html, text = prepared.fill(_preview_values())
    size = measure_size(prepared, get_settings().delivery.max_html_bytes)
    return render_template(
        "issues_editor/preview.html",
        issue=issue,
        prepared=prepared,
        text=text,
        language=language,
        mail_languages=MAIL_LANGUAGES,
        widths=PREVIEW_WIDTHS,
        size=size,
    )


def _prepared(issue: Issue, language: str) -> Any:
    from newsticker.issues.rendering import prepare_issue

    return prepare_issue(db.session, issue, language)


@bp.route("/<int:issue_id>/vorschau.html")
def preview_html(issue_id: int) -> ResponseReturnValue:
    """Serve the issue's HTML for a sandboxed preview frame."""
    issue = _issue(issue_id)
    language = request.args.get("sprache", "de")
    if language not in MAIL_LANGUAGES:
        abort(404)
    html, _text = _prepared(issue, language).fill(_preview_values())
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.route("/<int:issue_id>/test", methods=["POST"])
def test_send(issue_id: int) -> ResponseReturnValue:
    """Send the issue, marked as a test, to the given addresses."""
    issue = _issue(issue_id)
    form = TestSendForm()
    if not form.validate_on_submit():
        return _compose(issue, 422, test_form=form)
    try:
        addresses = services.parse_addresses(form.addresses.data or "")
        count = services.send_test(
            db.session,
            issue,
            addresses,
            language=form.language.data or "de",
            settings=get_settings(),
            values=_preview_values(),
        )
    except services.IssueError as exc:
        return _refused(issue, exc, test_form=form)
    return _done(
        issue,
        _("The test mail is on its way to %(addresses)s.", addresses=", ".join(addresses[:count])),
        "test",
    )


# ---------------------------------------------------------------- schedule and cancel


@bp.route("/<int:issue_id>/planen", methods=["POST"])
def schedule(issue_id: int) -> ResponseReturnValue:
    """Schedule the issue for a local date and time."""
    issue = _issue(issue_id)
    form = ScheduleForm()
    if not form.validate_on_submit():
        return _compose(issue, 422, schedule_form=form)
    settings = get_settings()
    assert form.send_date.data is not None
    assert form.send_time.data is not None
    try:
        send_at = services.local_send_time(form.send_date.data, form.send_time.data, settings.tz)
        services.schedule_issue(
            db.session,
            issue,
            send_at=send_at,
            now=services.current_time(),
            max_html_bytes=settings.delivery.max_html_bytes,
            override_size=bool(form.override_size.data),
            version=form.version_number(),
            user_id=_user_id(),
        )
    except services.IssueError as exc:
        return _refused(issue, exc, schedule_form=form)
    local = send_at.astimezone(settings.tz)
    return _done(
        issue,
        _(
            "Issue %(number)d is scheduled for %(date)s at %(time)s.",
            number=issue.number,
            date=local.strftime("%d.%m.%Y"),
            time=local.strftime("%H:%M"),
        ),
    )


def _state_change(issue_id: int, change: Any, message: str) -> ResponseReturnValue:
    issue = _issue(issue_id)
    form = VersionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        change(
            db.session,
            issue,
            version=form.version_number(),
            user_id=_user_id(),
            now=services.current_time(),
        )
    except services.IssueError as exc:
        return _refused(issue, exc)
    return _done(issue, message % {"number": issue.number})


@bp.route("/<int:issue_id>/zurueckholen", methods=["POST"])
def unschedule(issue_id: int) -> ResponseReturnValue:
    """Take a scheduled issue back to draft."""
    return _state_change(
        issue_id, services.unschedule_issue, _("Issue %(number)d is a draft again.")
    )


@bp.route("/<int:issue_id>/absagen", methods=["POST"])
def cancel(issue_id: int) -> ResponseReturnValue:
    """Cancel a draft or a scheduled issue."""
    return _state_change(issue_id, services.cancel_issue, _("Issue %(number)d is cancelled."))


@bp.route("/<int:issue_id>/wiederherstellen", methods=["POST"])
def restore(issue_id: int) -> ResponseReturnValue:
    """Make a cancelled issue a draft again."""
    return _state_change(issue_id, services.restore_issue, _("Issue %(number)d is a draft again."))
