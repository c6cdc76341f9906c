"""The composer page and the one shape of every change made from it.

`compose_page` builds the composer of an issue: its forms (filled from the issue, or the
ones an editor just sent back with errors), its sections with warnings for entries
that will be left out, the size of the mail and what may be added. `carry` is what
every change in the composer does: validate the form, call the service, and answer with
a redirect and a message, or with the composer showing why nothing was stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from newsticker.config import get_settings
from newsticker.core.db import db
from newsticker.core.links import Links
from newsticker.core.site import site_links
from newsticker.issues import services
from newsticker.issues.forms import (
    ArticleForm,
    ArticleImageForm,
    ArticleVersionForm,
    AudienceForm,
    FigureForm,
    IssueForm,
    ScheduleForm,
    TestSendForm,
    VersionForm,
)
from newsticker.issues.models import SECTION_LABELS, STATUS_LABELS, Issue, IssueEntry
from newsticker.issues.rendering import (
    MAIL_LANGUAGES,
    default_subject,
    entry_occurrence,
    measure_size,
    prepare_issue,
    render_issue,
)
from newsticker.items.display import series_text, when_text
from newsticker.items.forms import choices, language_choices
from newsticker.items.models import Item, ItemStatus

PREVIEW_WIDTHS = (375, 600)
# The preview frames: no scripts, no forms, no plugins; only the composer may frame them.
PREVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data: 'self' https:; "
    "frame-ancestors 'self'; sandbox"
)

# What a change gets besides its form: the version the editor saw, who, and when.
Edit = dict[str, Any]


def user_id() -> int | None:
    """Return the id of the editor who is logged in."""
    return getattr(current_user, "id", None)


def load_issue(issue_id: int) -> Issue:
    """Return the issue, or answer 404."""
    issue = db.session.get(Issue, issue_id)
    if issue is None:
        abort(404)
    return issue


def mail_language() -> str:
    """Return the editor's language if issues are mailed in it, else German."""
    lang = str(get_locale() or "de")
    return lang if lang in MAIL_LANGUAGES else "de"


def preview_values(links: Links) -> dict[str, str]:
    """Return stand-ins for the personal values in previews and test sends."""
    target = "subscribers.subscribe" if links.has("subscribers.subscribe") else "public.index"
    link = links.url(target)
    return {"unsubscribe_url": link, "preferences_url": link}


def article_prefix(entry_id: int) -> str:
    """Return the prefix of an article's image form (ids stay unique on the page)."""
    return f"article-{entry_id}"


def article_image_forms(
    issue: Issue, sent_back: ArticleImageForm | None
) -> dict[int, ArticleImageForm]:
    """Return an image form per article; one sent back with errors replaces its own."""
    result: dict[int, ArticleImageForm] = {}
    for entry in issue.entries:
        if not entry.is_article:
            continue
        prefix = article_prefix(entry.id)
        if sent_back is not None and sent_back._prefix == f"{prefix}-":
            form = sent_back
        else:
            form = ArticleImageForm(
                formdata=None, prefix=prefix, data={"image_alt": entry.image_alt}
            )
        form.version.data = str(issue.version)
        result[entry.id] = form
    return result


def version_prefix(entry_id: int) -> str:
    """Return the prefix of an article's language-version form."""
    return f"version-{entry_id}"


def article_version_forms(
    issue: Issue, sent_back: ArticleVersionForm | None
) -> dict[int, ArticleVersionForm]:
    """Return a form per article for its texts in other languages."""
    result: dict[int, ArticleVersionForm] = {}
    for entry in issue.entries:
        if not entry.is_article:
            continue
        prefix = version_prefix(entry.id)
        if sent_back is not None and sent_back._prefix == f"{prefix}-":
            form = sent_back
        else:
            form = ArticleVersionForm(formdata=None, prefix=prefix)
        language_choices_of(form)
        form.version.data = str(issue.version)
        result[entry.id] = form
    return result


def entry_languages(entry: IssueEntry) -> list[str]:
    """Return the languages an entry can go out in: its original first, then its versions."""
    if entry.item is not None:
        return entry.item.approved_languages
    return [entry.language, *(v.language for v in entry.versions if v.is_approved)]


def figure_prefix(figure_id: int) -> str:
    """Return the prefix of a key figure's edit form (ids stay unique on the page)."""
    return f"figure-{figure_id}"


def figure_edit_forms(issue: Issue, sent_back: FigureForm | None) -> dict[int, FigureForm]:
    """Return a filled edit form per key figure; one sent back with errors replaces its own."""
    language = mail_language()
    version = str(issue.version)
    result: dict[int, FigureForm] = {}
    for figure in issue.figures:
        prefix = figure_prefix(figure.id)
        if sent_back is not None and sent_back._prefix == f"{prefix}-":
            form = sent_back
        else:
            form = FigureForm(
                formdata=None,
                prefix=prefix,
                data={
                    "label": figure.label,
                    "value": services.figure_input_value(figure.value, language),
                    "unit": figure.unit,
                    "period": figure.period,
                    "source": figure.source,
                },
            )
        form.version.data = version
        result[figure.id] = form
    return result


def audience_choices_of(form: AudienceForm, issue: Issue) -> None:
    """Offer the other configured publications as recipients of the issue."""
    form.also_send_to.choices = [
        (p.slug, p.name) for p in get_settings().publications if p.slug != issue.publication
    ]


def language_choices_of(form: ArticleForm | ArticleVersionForm) -> None:
    """Offer the languages an article may be written in."""
    form.language.choices = choices(language_choices(sign_language=False))


def compose_page(
    issue: Issue, status: int = 200, *, error: str | None = None, **forms: Any
) -> ResponseReturnValue:
    """Answer with the composer of an issue; forms given replace the fresh ones."""
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
            "editorial_image_alt": issue.editorial_image_alt,
        },
    )
    article_form = forms.get("article_form") or ArticleForm(formdata=None)
    figure_form = forms.get("figure_form") or FigureForm(formdata=None)
    audience_form = forms.get("audience_form") or AudienceForm(
        formdata=None, data={"also_send_to": services.extra_publications(settings, issue)}
    )
    audience_choices_of(audience_form, issue)
    test_form = forms.get("test_form") or TestSendForm(
        formdata=None,
        data={"addresses": getattr(current_user, "email", ""), "language": mail_language()},
    )
    send_at = issue.scheduled_at or issue.window_start
    if send_at is None or send_at <= now:
        send_at = services.next_send_time(publication, settings.tz, now)
    local = send_at.astimezone(settings.tz)
    schedule_form = forms.get("schedule_form") or ScheduleForm(
        formdata=None, data={"send_date": local.date(), "send_time": local.time()}
    )
    for form in (issue_form, article_form, figure_form, schedule_form, audience_form):
        form.version.data = version
    language_choices_of(article_form)
    prepared = render_issue(issue, mail_language(), links=site_links())
    size = measure_size(prepared, settings.delivery.max_html_bytes)
    sections = []
    for key in publication.sections:
        entries = [] if key == "figures" else issue.section_entries(key)
        sections.append(
            {
                "key": key,
                "title": SECTION_LABELS[key],
                "entries": [entry_info(e, settings.tz) for e in entries],
            }
        )
    available = services.available_items(db.session, issue, now=now) if issue.is_draft else []
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
            figure_edit_forms=figure_edit_forms(issue, forms.get("figure_edit_form")),
            article_image_forms=article_image_forms(issue, forms.get("article_image_form")),
            article_version_forms=article_version_forms(issue, forms.get("article_version_form")),
            test_form=test_form,
            mail_languages=services.issue_languages(db.session, settings, issue),
            audience_form=audience_form,
            audience=services.count_audience(db.session, settings, issue),
            schedule_form=schedule_form,
            action_form=VersionForm(formdata=None, data={"version": version}),
            size=size,
            default_subject=default_subject(issue, publication, settings),
            status_labels=STATUS_LABELS,
            error=error,
            entry_count=services.rendered_entry_count(issue),
            preview_widths=PREVIEW_WIDTHS,
        ),
        status,
    )


def entry_info(entry: IssueEntry, tz: ZoneInfo) -> dict[str, Any]:
    """Return what the composer shows of an entry, with a warning when it will be left out."""
    info: dict[str, Any] = {
        "entry": entry,
        "when": "",
        "rule": "",
        "warning": "",
        "languages": entry_languages(entry),
    }
    item: Item | None = entry.item
    if item is None:
        if not entry.is_article:
            info["warning"] = _("The item was deleted; this entry will be left out.")
        return info
    if item.status != ItemStatus.APPROVED:
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
            info["rule"] = series_text(item, tz)
    return info


def preview_page(issue: Issue, language: str) -> ResponseReturnValue:
    """Answer with the preview of an issue in a mail language: two widths and the text."""
    links = site_links()
    prepared = prepare_issue(db.session, issue, language, links=links)
    _html, text = prepared.fill(preview_values(links))
    size = measure_size(prepared, get_settings().delivery.max_html_bytes)
    return render_template(
        "issues_editor/preview.html",
        issue=issue,
        prepared=prepared,
        text=text,
        language=language,
        # The languages the issue goes out in (its audience's and the default).
        mail_languages=services.issue_languages(db.session, get_settings(), issue),
        widths=PREVIEW_WIDTHS,
        size=size,
    )


def preview_frame(issue: Issue, language: str) -> Response:
    """Answer with the issue's HTML for a sandboxed preview frame."""
    links = site_links()
    html, _text = prepare_issue(db.session, issue, language, links=links).fill(
        preview_values(links)
    )
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def refused(issue: Issue, exc: services.IssueError, **forms: Any) -> ResponseReturnValue:
    """Answer a refused change: nothing is stored; show the current state and why."""
    db.session.rollback()
    issue = load_issue(issue.id)
    db.session.refresh(issue)
    status = 409 if isinstance(exc, services.StaleIssue) or exc.field is None else 422
    form = next(iter(forms.values()), None) if forms else None
    if form is not None and exc.field and hasattr(form, exc.field):
        getattr(form, exc.field).errors = [*getattr(form, exc.field).errors, exc.message]
        return compose_page(issue, status, **forms)
    return compose_page(issue, status, error=str(exc), **forms)


def done(issue: Issue, message: str, anchor: str = "") -> ResponseReturnValue:
    """Answer a change that went through: back to the composer, with the message."""
    flash(message, "success")
    target = url_for("issues_editor.compose", issue_id=issue.id)
    return redirect(target + (f"#{anchor}" if anchor else ""), 303)


def carry(
    issue: Issue,
    form: FlaskForm,
    change: Callable[[Edit], str],
    *,
    name: str | None = None,
    anchor: str = "",
) -> ResponseReturnValue:
    """Validate a composer form, make the change, and answer as every change does.

    `name` is the form's name in the composer page: an invalid form is shown there again
    with its errors (422). Without a name the form is only a button, and an invalid one
    (a missing CSRF token, say) answers 400. `change` gets the version the editor saw,
    who they are and the time, and returns the message to show; an IssueError it raises
    is shown in the composer, and nothing is stored.
    """
    forms = {name: form} if name else {}
    if not form.validate_on_submit():
        if name is None:
            abort(400)
        return compose_page(issue, 422, **forms)
    edit: Edit = {
        "version": form.version_number() if isinstance(form, VersionForm) else None,
        "user_id": user_id(),
        "now": services.current_time(),
    }
    try:
        message = change(edit)
    except services.IssueError as exc:
        return refused(issue, exc, **forms)
    return done(issue, message, anchor)
