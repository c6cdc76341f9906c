"""Render an issue once per language, with placeholders for what differs per recipient.

Sending an issue to thousands of people must not render or inline it per recipient. So
`prepare_issue` renders the Jinja templates email/issue.html and .txt once, runs
premailer once, and returns a `PreparedIssue` (see prepared.py) whose personal values
(the greeting, the unsubscribe and preferences links) are placeholders, filled per
recipient by joining precomputed parts. What the templates show comes from
`display.build_view`.

The seam for delivery (issue 6)::

    prepared = prepare_issue(session, issue, "de", links=links)  # once per issue and language
    check_size(prepared, settings.delivery.max_html_bytes, override=issue.size_override)
    html, text = prepared.fill({
        "greeting": prepared.greeting_for(name),        # or leave out for the default
        "unsubscribe_url": "...", "preferences_url": "...",
    })

For an issue that is sending or sent, `prepare_issue` reads the frozen snapshot instead
of rendering, so every worker sends exactly the same mail.

An issue is rendered in the languages it needs (`needed_languages`: its audience's
languages among the mail languages, and the site's default for everyone else), never
per recipient; each rendering shows every item in its version in that language where
one exists (display.py).

Links in the mail are absolute under the site's base URL, built by the `Links` the
caller passes in (`newsticker.core.site.site_links(app)`), never through a request.
Rendering needs the app's templates and translations, so it runs in an app context;
without links given, it takes the current app's.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Callable, Sequence

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsticker.config import get_settings
from newsticker.core.links import Links
from newsticker.core.mailrender import inline_css
from newsticker.core.site import site_links
from newsticker.issues.display import (
    EntryView,
    FigureView,
    IssueView,
    SectionView,
    build_view,
    default_subject,
    entry_occurrence,
    figure_percents,
    format_figure_value,
    issue_date,
)
from newsticker.issues.models import Issue, IssueSnapshot
from newsticker.issues.prepared import (
    PERSONAL_FIELDS,
    REGION_MARKERS,
    IssueTooLarge,
    PreparedIssue,
    SizeCheck,
    check_size,
    measure_size,
)

__all__ = [
    "MAIL_LANGUAGES",
    "PERSONAL_FIELDS",
    "EntryView",
    "FigureView",
    "IssueTooLarge",
    "IssueView",
    "PreparedIssue",
    "SectionView",
    "SizeCheck",
    "build_view",
    "check_size",
    "default_subject",
    "entry_occurrence",
    "figure_percents",
    "format_figure_value",
    "freeze",
    "issue_date",
    "measure_size",
    "needed_languages",
    "prepare_issue",
    "prepared_from_snapshot",
    "render_issue",
]

logger = logging.getLogger(__name__)

MAIL_LANGUAGES = ("de", "en", "ar", "fa", "uk", "tr")


def needed_languages(default: str, audience: Sequence[str]) -> list[str]:
    """Return the languages an issue is rendered in: the default first, then the audience's.

    A language no mail is written in is left out: its readers get the default's.
    """
    first = default if default in MAIL_LANGUAGES else MAIL_LANGUAGES[0]
    others = sorted({lang for lang in audience if lang in MAIL_LANGUAGES} - {first})
    return [first, *others]


def _links(links: Links | None) -> Links:
    return links if links is not None else site_links()


def _placeholder(marker: str) -> Callable[[str], Markup]:
    def placeholder(name: str) -> Markup:
        if name not in PERSONAL_FIELDS and name not in REGION_MARKERS:
            raise ValueError(f"unknown placeholder {name!r}")
        return Markup(f"xNT{marker}_{name}_TNx")  # noqa: S704 - fixed ASCII letters only

    return placeholder


def render_issue(issue: Issue, language: str, *, links: Links | None = None) -> PreparedIssue:
    """Render and inline the issue's templates once in a language (no snapshot involved)."""
    if language not in MAIL_LANGUAGES:
        raise ValueError(f"mail language must be one of {MAIL_LANGUAGES}, not {language!r}")
    settings = get_settings()
    env = current_app.jinja_env
    marker = secrets.token_hex(8)
    with force_locale(language):
        view = build_view(issue, language, settings=settings, links=_links(links))
        context = {"view": view, "ph": _placeholder(marker)}
        html = inline_css(env.get_template("email/issue.html").render(context))
        text = env.get_template("email/issue.txt").render(context)
        text = re.sub(r"\n{3,}", "\n\n", text.strip()) + "\n"
        default_greeting = _("Dear readers,")
        greeting_pattern = _("Hello %(name)s,", name="{name}")
    return PreparedIssue(
        issue_id=issue.id,
        language=language,
        subject=" ".join(view.subject.split()),
        archive_url=view.archive_url,
        html_template=html,
        text_template=text,
        marker=marker,
        default_greeting=default_greeting,
        greeting_pattern=greeting_pattern,
        publication_name=view.publication_name,
    )


def prepared_from_snapshot(snapshot: IssueSnapshot, *, links: Links | None = None) -> PreparedIssue:
    """Return the prepared issue frozen in a snapshot (no rendering, no inlining)."""
    with force_locale(snapshot.language):
        default_greeting = _("Dear readers,")
        greeting_pattern = _("Hello %(name)s,", name="{name}")
    issue = snapshot.issue
    archive_url = _links(links).url("issues.issue", slug=issue.publication, number=issue.number)
    publication = get_settings().publication(issue.publication)
    return PreparedIssue(
        issue_id=snapshot.issue_id,
        language=snapshot.language,
        subject=snapshot.subject,
        archive_url=archive_url,
        html_template=snapshot.html,
        text_template=snapshot.text,
        marker=snapshot.marker,
        default_greeting=default_greeting,
        greeting_pattern=greeting_pattern,
        publication_name=publication.name if publication is not None else issue.publication,
    )


def prepare_issue(
    session: Session, issue: Issue, language: str, *, links: Links | None = None
) -> PreparedIssue:
    """Return the issue ready to fill per recipient: the frozen snapshot, or a fresh rendering.

    Renders the templates and runs premailer once; call it once per issue and language
    and reuse the result for every recipient.
    """
    if issue.is_frozen:
        snapshot = session.scalars(
            select(IssueSnapshot).where(
                IssueSnapshot.issue_id == issue.id, IssueSnapshot.language == language
            )
        ).first()
        if snapshot is not None:
            return prepared_from_snapshot(snapshot, links=links)
        logger.warning("issue %s is %s but has no %s snapshot", issue.id, issue.status, language)
    return render_issue(issue, language, links=links)


def freeze(prepared: PreparedIssue) -> IssueSnapshot:
    """Return a snapshot row holding the prepared issue as it is now."""
    return IssueSnapshot(
        language=prepared.language,
        subject=prepared.subject,
        html=prepared.html_template,
        text=prepared.text_template,
        marker=prepared.marker,
        html_bytes=prepared.html_bytes,
    )
