"""The public start page and the site's fixed pages.

The start page answers "what is on, and when next?": the next few events (each once,
at its next date), current announcements, the latest issue of each publication, the
subscribe form and the feeds. Each part shows only when its feature is registered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from newsticker.config import get_settings
from newsticker.core.branding import darker, derived_favicon, image_type
from newsticker.core.db import db
from newsticker.issues import services as issue_services
from newsticker.issues.rendering import issue_date
from newsticker.items import services as item_services

bp = Blueprint("public", __name__)

START_EVENTS = 5
START_NOTICES = 3


def _feeds() -> list[tuple[str, str, str]]:
    """Return the site's feeds as (title, type, absolute URL)."""
    feeds: list[tuple[str, str, str]] = []
    if "items.atom" in current_app.view_functions:
        feeds.append(
            (
                _("New events and offers (Atom)"),
                "application/atom+xml",
                url_for("items.atom", _external=True),
            )
        )
        feeds.append(
            (_("Events (iCal)"), "text/calendar", url_for("items.ical_feed", _external=True))
        )
    if "issues.feed" in current_app.view_functions:
        for pub in get_settings().publications:
            feeds.append(
                (
                    _("%(name)s: all issues (Atom)", name=pub.name),
                    "application/atom+xml",
                    url_for("issues.feed", slug=pub.slug, _external=True),
                )
            )
    return feeds


@bp.route("/")
def index() -> ResponseReturnValue:
    """Show the start page: next events, current notices, latest issues, subscribing."""
    settings = get_settings()
    now = item_services.current_time()
    events = item_services.next_events(db.session, now=now, tz=settings.tz, limit=START_EVENTS)
    notices, _more = item_services.current_notices(
        db.session, item_services.PublicFilters(), now=now, limit=START_NOTICES
    )
    latest: list[tuple[Any, Any]] = []
    for pub in settings.publications:
        issues = issue_services.archived_issues(db.session, pub.slug, limit=1)
        latest.append((pub, issues[0] if issues else None))
    return render_template(
        "public/index.html",
        events=events,
        notices=notices,
        latest=latest,
        feeds=_feeds(),
        issue_date=issue_date,
        endpoints=set(current_app.view_functions),
    )


@bp.route("/datenschutz")
def privacy() -> ResponseReturnValue:
    """Show the privacy notice."""
    return render_template("public/privacy.html")


# ---------------------------------------------------------------- the city's look

BRAND_MAX_AGE = 3600


def _image_file(path: str) -> Response:
    media_type = image_type(path)
    if not path or media_type is None or not Path(path).is_file():
        abort(404)
    # A logo is small: read whole, so no file handle outlives the request.
    response = Response(Path(path).read_bytes(), mimetype=media_type)
    response.headers["Cache-Control"] = f"public, max-age={BRAND_MAX_AGE}"
    if media_type == "image/svg+xml":
        # An SVG opened on its own may carry scripts: nothing in it may run.
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'"
        )
    return response


@bp.route("/gestaltung.css")
def brand_css() -> ResponseReturnValue:
    """Serve the configured main colour as the site's brand colours (CSS custom properties)."""
    colour = get_settings().site.colour
    body = f":root {{ --brand: {colour}; --brand-dark: {darker(colour)}; }}\n"
    response = Response(body, mimetype="text/css")
    response.headers["Cache-Control"] = f"public, max-age={BRAND_MAX_AGE}"
    return response


@bp.route("/logo")
def logo() -> ResponseReturnValue:
    """Serve the configured logo file (site header and mails link to it)."""
    return _image_file(get_settings().site.logo)


@bp.route("/favicon")
def favicon() -> ResponseReturnValue:
    """Serve the configured favicon, or one drawn from the name and the main colour."""
    site = get_settings().site
    if site.favicon:
        return _image_file(site.favicon)
    response = Response(derived_favicon(site.name, site.colour), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = f"public, max-age={BRAND_MAX_AGE}"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


@bp.route("/favicon.ico")
def favicon_ico() -> ResponseReturnValue:
    """Send browsers that ask for /favicon.ico on their own to the favicon."""
    return redirect(url_for("public.favicon"), 301)
