"""The public archive of sent issues and its Atom feeds."""

from __future__ import annotations

from feedgen.feed import FeedGenerator
from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response

from newsticker.config import PublicationSettings, get_settings
from newsticker.core.caching import Version, conditional
from newsticker.core.db import db
from newsticker.core.site import site_links
from newsticker.issues import services
from newsticker.issues.models import Issue, IssueSnapshot
from newsticker.issues.rendering import MAIL_LANGUAGES, issue_date, prepared_from_snapshot

bp = Blueprint("issues", __name__)

ATOM_MIMETYPE = "application/atom+xml"
# An archived issue is the sent mail as a page of its own: its inline styles need a
# policy other than the site's, and nothing in it may run or be sent anywhere.
ARCHIVE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data: 'self' https:; "
    "frame-ancestors 'self'; sandbox"
)
FEED_SIZE = 30


def _publication(slug: str) -> PublicationSettings:
    publication = get_settings().publication(slug)
    if publication is None:
        abort(404)
    return publication


def _feed_links(slug: str | None = None) -> list[tuple[str, str]]:
    settings = get_settings()
    publications = [p for p in settings.publications if slug is None or p.slug == slug]
    return [
        (
            _("%(name)s: all issues (Atom)", name=p.name),
            site_links().url("issues.feed", slug=p.slug),
        )
        for p in publications
    ]


def _archive_version(slug: str | None = None, number: int = 0) -> Version:
    return services.archive_version(db.session, slug, number)


def _with_feed_links(html: str, feeds: list[tuple[str, str]]) -> str:
    """Announce the publication's feed in an archived issue's head (feed autodiscovery).

    The page is the snapshot as it was sent, so the link goes in here rather than into
    the mail template: issues archived before feeds were announced get it as well.
    """
    links = "".join(
        Markup('<link rel="alternate" type="{}" title="{}" href="{}">\n').format(
            ATOM_MIMETYPE, title, href
        )
        for title, href in feeds
    )
    head_end = html.find("</head>")
    return html if head_end < 0 else html[:head_end] + links + html[head_end:]


@bp.route("/archiv")
@conditional(_archive_version)
def archive() -> ResponseReturnValue:
    """List the sent issues of every publication, newest first."""
    settings = get_settings()
    shelves = [
        (p, services.archived_issues(db.session, p.slug, limit=12)) for p in settings.publications
    ]
    return render_template(
        "issues/archive.html", shelves=shelves, feeds=_feed_links(), issue_date=issue_date
    )


@bp.route("/archiv/<slug>")
@conditional(_archive_version)
def publication(slug: str) -> ResponseReturnValue:
    """List every sent issue of one publication."""
    pub = _publication(slug)
    return render_template(
        "issues/publication.html",
        publication=pub,
        issues=services.archived_issues(db.session, slug),
        feeds=_feed_links(slug),
        issue_date=issue_date,
    )


def _snapshot(issue: Issue) -> IssueSnapshot:
    wanted = request.args.get("sprache") or str(get_locale() or "")
    by_language = {s.language: s for s in issue.snapshots}
    for language in (wanted, get_settings().site.default_language, *MAIL_LANGUAGES):
        if language in by_language:
            return by_language[language]
    abort(404)


def _archived(slug: str, number: int) -> Issue:
    _publication(slug)
    issue = services.archived_issue(db.session, slug, number)
    if issue is None or not issue.snapshots:
        abort(404)
    return issue


@bp.route("/archiv/<slug>/<int:number>")
@conditional(_archive_version)
def issue(slug: str, number: int) -> ResponseReturnValue:
    """Show a sent issue as it was sent, without the personal links."""
    snapshot = _snapshot(_archived(slug, number))
    prepared = prepared_from_snapshot(snapshot, links=site_links())
    html = _with_feed_links(prepared.web_html(), _feed_links(slug))
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = ARCHIVE_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Content-Language"] = snapshot.language
    return response


@bp.route("/archiv/<slug>/<int:number>.txt")
@conditional(_archive_version)
def issue_text(slug: str, number: int) -> ResponseReturnValue:
    """Show a sent issue's plain-text version."""
    snapshot = _snapshot(_archived(slug, number))
    prepared = prepared_from_snapshot(snapshot, links=site_links())
    response = Response(prepared.web_text(), mimetype="text/plain")
    response.headers["Content-Language"] = snapshot.language
    return response


@bp.route("/feeds/archiv/<slug>.atom")
def feed(slug: str) -> ResponseReturnValue:
    """Serve the Atom feed of a publication's sent issues."""
    pub = _publication(slug)
    settings = get_settings()
    issues = services.archived_issues(db.session, slug, limit=FEED_SIZE)
    fg = FeedGenerator()
    links = site_links()
    feed_url = links.url("issues.feed", slug=slug)
    fg.id(feed_url)
    fg.title(pub.name)
    fg.subtitle(pub.description_in(settings.site.default_language) or pub.name)
    fg.link(href=links.url("issues.publication", slug=slug), rel="alternate", type="text/html")
    fg.link(href=feed_url, rel="self", type=ATOM_MIMETYPE)
    fg.language(settings.site.default_language)
    fg.author({"name": settings.site.name})
    fg.updated(max((issue_date(i) for i in issues), default=services.current_time()))
    # feedgen puts each new entry first: add the oldest first so the newest leads.
    for item in reversed(issues):
        url = links.url("issues.issue", slug=slug, number=item.number)
        entry = fg.add_entry()
        entry.id(url)
        entry.title(item.subject or _("Issue %(number)d", number=item.number))
        entry.link(href=url, rel="alternate", type="text/html")
        entry.summary(item.preheader or item.subject or pub.name)
        entry.published(issue_date(item))
        entry.updated(issue_date(item))
    response = Response(bytes(fg.atom_str(pretty=True)), mimetype=ATOM_MIMETYPE)
    response.headers["Cache-Control"] = "public, max-age=900"
    return response
