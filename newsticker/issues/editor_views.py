"""The composer in the editor area: draft, compose, preview, test, schedule, cancel.

Each change is a small controller: it reads its form and hands a closure that calls
the service to `composer.carry`, which validates, answers refusals and redirects.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_date, format_time, get_locale
from flask_login import current_user

from newsticker.config import get_settings
from newsticker.core.access import protect_editor_blueprint, request_actor
from newsticker.core.db import db
from newsticker.core.i18n import gettext as _
from newsticker.core.site import site_links
from newsticker.issues import services
from newsticker.issues.composer import (
    Edit,
    article_prefix,
    audience_choices_of,
    carry,
    compose_page,
    figure_prefix,
    language_choices_of,
    load_issue,
    mail_language,
    preview_frame,
    preview_page,
    preview_values,
    user_id,
    version_prefix,
)
from newsticker.issues.forms import (
    ALL_LANGUAGES,
    ArticleForm,
    ArticleImageForm,
    ArticleVersionForm,
    AudienceForm,
    DraftForm,
    FigureForm,
    IssueForm,
    ScheduleForm,
    TestSendForm,
    VersionForm,
)
from newsticker.issues.models import STATUS_LABELS, IssueEntry, IssueStatus
from newsticker.issues.rendering import MAIL_LANGUAGES, format_figure_value
from newsticker.items.images import upload_dir
from newsticker.items.models import Item
from newsticker.items.services import VersionRejected

logger = logging.getLogger(__name__)

bp = Blueprint("issues_editor", __name__, url_prefix="/redaktion/ausgaben")
protect_editor_blueprint(bp)
# Templates compare an issue's status with the enum's members, not with strings.
bp.add_app_template_global(IssueStatus, "IssueStatus")

ENTRY_ACTIONS = ("up", "down", "remove")


@bp.app_template_filter("figure_value")
def _figure_value(value: str, unit: str) -> str:
    return format_figure_value(value, unit, str(get_locale() or "de"))


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
            user_id=user_id(),
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


@bp.route("/<int:issue_id>")
def compose(issue_id: int) -> ResponseReturnValue:
    """Show the composer of an issue."""
    return compose_page(load_issue(issue_id))


@bp.route("/<int:issue_id>", methods=["POST"])
def save(issue_id: int) -> ResponseReturnValue:
    """Save subject, preheader and editorial."""
    issue = load_issue(issue_id)
    form = IssueForm()

    def change(edit: Edit) -> str:
        services.update_issue(
            db.session,
            issue,
            subject=form.subject.data or "",
            preheader=form.preheader.data or "",
            editorial=form.editorial.data or "",
            image=services.ImageChange(
                upload_dir(),
                image=form.processed_image,
                alt=form.editorial_image_alt.data or "",
                remove=bool(form.remove_editorial_image.data),
            ),
            actor=request_actor(),
            **edit,
        )
        return _("The issue is saved.")

    return carry(issue, form, change, name="issue_form", anchor="content")


@bp.route("/<int:issue_id>/eintraege", methods=["POST"])
def add_entry(issue_id: int) -> ResponseReturnValue:
    """Add a published item to the issue."""
    issue = load_issue(issue_id)

    def change(edit: Edit) -> str:
        raw = request.form.get("item_id", "")
        item = db.session.get(Item, int(raw)) if raw.isdigit() else None
        if item is None:
            raise services.IssueError(_("There is no item with this number."))
        now = edit["now"]
        services.add_item(
            db.session,
            issue,
            item,
            occurrence_start=services.next_occurrence(
                item, now=max(now, issue.window_start or now), tz=get_settings().tz
            ),
            **edit,
        )
        return _("“%(title)s” is added.", title=item.title)

    return carry(issue, VersionForm(), change, anchor="sections")


@bp.route("/<int:issue_id>/eintraege/<int:entry_id>", methods=["POST"])
def change_entry(issue_id: int, entry_id: int) -> ResponseReturnValue:
    """Move an entry up or down, or remove it."""
    issue = load_issue(issue_id)
    action = request.form.get("action", "")
    if action not in ENTRY_ACTIONS:
        abort(400)

    def change(edit: Edit) -> str:
        if action == "remove":
            entry = services.remove_entry(
                db.session, issue, entry_id, upload_dir=upload_dir(), **edit
            )
            title = entry.item.title if entry.item is not None else entry.title
            return _("“%(title)s” is removed from the issue.", title=title)
        services.move_entry(db.session, issue, entry_id, -1 if action == "up" else 1, **edit)
        return _("The order is saved.")

    return carry(issue, VersionForm(), change, anchor="sections")


@bp.route("/<int:issue_id>/reihenfolge", methods=["POST"])
def reorder(issue_id: int) -> ResponseReturnValue:
    """Save a section's order sent by drag and drop; answer with the new version."""
    issue = load_issue(issue_id)
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
            user_id=user_id(),
            now=services.current_time(),
        )
    except services.IssueError as exc:
        return jsonify(error=str(exc)), 409
    return jsonify(version=issue.version)  # the service's flush bumped it


@bp.route("/<int:issue_id>/artikel", methods=["POST"])
def add_article(issue_id: int) -> ResponseReturnValue:
    """Add an article written for the issue."""
    issue = load_issue(issue_id)
    form = ArticleForm()
    language_choices_of(form)

    def change(edit: Edit) -> str:
        services.add_article(
            db.session,
            issue,
            title=form.title.data or "",
            body=form.body.data or "",
            link=form.link.data or "",
            language=form.language.data or "de",
            image=services.ImageChange(
                upload_dir(), image=form.processed_image, alt=form.image_alt.data or ""
            ),
            **edit,
        )
        return _("The article is added.")

    return carry(issue, form, change, name="article_form", anchor="sections")


@bp.route("/<int:issue_id>/artikel/<int:entry_id>/bild", methods=["POST"])
def article_image(issue_id: int, entry_id: int) -> ResponseReturnValue:
    """Give an article a new image or description, or remove its image."""
    issue = load_issue(issue_id)
    form = ArticleImageForm(prefix=article_prefix(entry_id))

    def change(edit: Edit) -> str:
        services.set_article_image(
            db.session,
            issue,
            entry_id,
            services.ImageChange(
                upload_dir(),
                image=form.processed_image,
                alt=form.image_alt.data or "",
                remove=bool(form.remove_image.data),
            ),
            **edit,
        )
        return _("The article's image is saved.")

    return carry(issue, form, change, name="article_image_form", anchor=f"entry-{entry_id}")


@bp.route("/<int:issue_id>/zahlen", methods=["POST"])
def add_figure(issue_id: int) -> ResponseReturnValue:
    """Add a key figure."""
    issue = load_issue(issue_id)
    form = FigureForm()

    def change(edit: Edit) -> str:
        data = services.FigureData(
            label=form.label.data or "",
            value=form.value.data or "",
            unit=form.unit.data or "",
            period=form.period.data or "",
            source=form.source.data or "",
        )
        services.add_figure(db.session, issue, data, language=mail_language(), **edit)
        return _("The key figure is added.")

    return carry(issue, form, change, name="figure_form", anchor="figures")


@bp.route("/<int:issue_id>/zahlen/<int:figure_id>/aendern", methods=["POST"])
def edit_figure(issue_id: int, figure_id: int) -> ResponseReturnValue:
    """Change a key figure in place."""
    issue = load_issue(issue_id)
    form = FigureForm(prefix=figure_prefix(figure_id))

    def change(edit: Edit) -> str:
        data = services.FigureData(
            label=form.label.data or "",
            value=form.value.data or "",
            unit=form.unit.data or "",
            period=form.period.data or "",
            source=form.source.data or "",
        )
        services.update_figure(db.session, issue, figure_id, data, language=mail_language(), **edit)
        return _("The key figure is saved.")

    return carry(issue, form, change, name="figure_edit_form", anchor=f"figure-{figure_id}")


@bp.route("/<int:issue_id>/zahlen/<int:figure_id>", methods=["POST"])
def change_figure(issue_id: int, figure_id: int) -> ResponseReturnValue:
    """Move a key figure up or down, or remove it."""
    issue = load_issue(issue_id)
    action = request.form.get("action", "")
    if action not in ENTRY_ACTIONS:
        abort(400)

    def change(edit: Edit) -> str:
        if action == "remove":
            services.remove_figure(db.session, issue, figure_id, **edit)
            return _("The key figure is removed.")
        services.move_figure(db.session, issue, figure_id, -1 if action == "up" else 1, **edit)
        return _("The order is saved.")

    return carry(issue, VersionForm(), change, anchor="figures")


@bp.route("/<int:issue_id>/empfaenger", methods=["POST"])
def choose_audience(issue_id: int) -> ResponseReturnValue:
    """Choose which other publications' subscribers also receive the issue."""
    issue = load_issue(issue_id)
    form = AudienceForm()
    audience_choices_of(form, issue)

    def change(edit: Edit) -> str:
        services.choose_publications(
            db.session, issue, form.also_send_to.data or [], settings=get_settings(), **edit
        )
        return _("The recipients are saved.")

    return carry(issue, form, change, name="audience_form", anchor="audience")


@bp.route("/<int:issue_id>/artikel/<int:entry_id>/fassungen", methods=["POST"])
def article_version(issue_id: int, entry_id: int) -> ResponseReturnValue:
    """Save an article's text in another language; publish (a translator's) or remove one."""
    issue = load_issue(issue_id)
    entry = _article(issue.id, entry_id)
    form = ArticleVersionForm(prefix=version_prefix(entry_id))
    language_choices_of(form)
    removing = request.form.get("remove", "")
    approving = request.form.get("approve", "")

    def change(edit: Edit) -> str:
        services.check_version(issue, edit["version"])
        if removing or approving:
            found = next((v for v in entry.versions if v.language in (removing, approving)), None)
            if found is None:
                abort(404)
            if approving:
                services.approve_article_version(
                    db.session, found, user=current_user, now=edit["now"]
                )
                return _("The text in this language is published.")
            services.delete_article_version(db.session, found, user=current_user, now=edit["now"])
            return _("The text in this language is removed.")
        data = services.ArticleVersionInput(
            language=form.language.data or "",
            title=form.title.data or "",
            body=form.body.data or "",
        )
        try:
            services.propose_article_version(
                db.session, entry, data, source="editor", user=current_user, now=edit["now"]
            )
        except VersionRejected as exc:
            # Every message next to its field; the first one is the refusal shown on top.
            (first, messages), *others = exc.errors.items()
            for name, more in others:
                getattr(form, name).errors = [*getattr(form, name).errors, *more]
            raise services.IssueError(messages[0], field=first) from exc
        return _("The article's text in this language is saved.")

    if removing or approving:
        # These buttons carry the version only; the text fields are not filled in.
        form.title.validators = []
    return carry(issue, form, change, name="article_version_form", anchor=f"entry-{entry_id}")


def _article(issue_id: int, entry_id: int) -> IssueEntry:
    entry = db.session.get(IssueEntry, entry_id)
    if entry is None or entry.issue_id != issue_id or not entry.is_article:
        abort(404)
    return entry


# ---------------------------------------------------------------- preview and test


@bp.route("/<int:issue_id>/vorschau")
def preview(issue_id: int) -> ResponseReturnValue:
    """Show the issue as a phone and a desktop show it, and as plain text."""
    language = request.args.get("sprache", mail_language())
    return preview_page(load_issue(issue_id), language if language in MAIL_LANGUAGES else "de")


@bp.route("/<int:issue_id>/vorschau.html")
def preview_html(issue_id: int) -> ResponseReturnValue:
    """Serve the issue's HTML for a sandboxed preview frame."""
    issue = load_issue(issue_id)
    language = request.args.get("sprache", "de")
    if language not in MAIL_LANGUAGES:
        abort(404)
    return preview_frame(issue, language)


@bp.route("/<int:issue_id>/test", methods=["POST"])
def test_send(issue_id: int) -> ResponseReturnValue:
    """Send the issue, marked as a test, to the given addresses."""
    issue = load_issue(issue_id)
    form = TestSendForm()

    def change(_edit: Edit) -> str:
        links = site_links()
        settings = get_settings()
        addresses = services.parse_addresses(form.addresses.data or "")
        chosen = form.language.data or ALL_LANGUAGES
        # One test mail per language that goes out, or the one language chosen.
        languages = (
            services.issue_languages(db.session, settings, issue)
            if chosen == ALL_LANGUAGES
            else [chosen]
        )
        for language in languages:
            count = services.send_test(
                db.session,
                issue,
                addresses,
                language=language,
                settings=settings,
                links=links,
                values=preview_values(links),
            )
        return _(
            "The test mail is on its way to %(addresses)s (%(languages)s).",
            addresses=", ".join(addresses[:count]),
            languages=" · ".join(languages),
        )

    return carry(issue, form, change, name="test_form", anchor="test")


# ---------------------------------------------------------------- schedule and cancel


@bp.route("/<int:issue_id>/planen", methods=["POST"])
def schedule(issue_id: int) -> ResponseReturnValue:
    """Schedule the issue for a local date and time."""
    issue = load_issue(issue_id)
    form = ScheduleForm()

    def change(edit: Edit) -> str:
        assert form.send_date.data is not None
        assert form.send_time.data is not None
        settings = get_settings()
        send_at = services.schedule_at_local_time(
            db.session,
            issue,
            day=form.send_date.data,
            at=form.send_time.data,
            settings=settings,
            links=site_links(),
            override_size=bool(form.override_size.data),
            actor=request_actor(),
            **edit,
        )
        local = send_at.astimezone(settings.tz)
        return _(
            "Issue %(number)d is scheduled for %(date)s at %(time)s.",
            number=issue.number,
            date=format_date(local, "medium"),
            time=format_time(local, "short"),
        )

    return carry(issue, form, change, name="schedule_form")


def _state_change(issue_id: int, service: Callable[..., None], message: str) -> ResponseReturnValue:
    issue = load_issue(issue_id)

    def change(edit: Edit) -> str:
        service(db.session, issue, actor=request_actor(), **edit)
        return message % {"number": issue.number}

    return carry(issue, VersionForm(), change)


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
