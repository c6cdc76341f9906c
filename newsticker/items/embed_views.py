"""The directory for other sites: a compact listing for an iframe, and its JSON feed.

A CMS shows /embed/angebote (with the directory's filters as query parameters) in an
iframe. Only the origins in `embed.allowed_origins` may frame it: its
Content-Security-Policy names them in frame-ancestors (core.http.allow_framing), while
every other page keeps frame-ancestors 'none' and X-Frame-Options DENY. Links open in
the top window, on this site, so the visitor leaves the frame for the full page.

/embed/angebote.json is the same page as a JSON Feed 1.1 document, for a CMS that
renders the listing itself; browsers on the allowed origins may read it (CORS).

Both show each item in the page's language (`lang=`, else the visitor's as usual) where
it has an approved version there, else its original (`item_text`), each text marked with
its own language, as the directory's cards are. `sprache` is the directory's filter (the
languages spoken at the event), not the language of the texts.
"""

from __future__ import annotations

from flask import jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

from newsticker.config import get_settings
from newsticker.core.db import db
from newsticker.core.http import allow_framing
from newsticker.core.i18n import use_language
from newsticker.core.site import site_links
from newsticker.items import services
from newsticker.items.blueprint import bp
from newsticker.items.directory import directory_page, page_number, public_filters
from newsticker.items.display import day_heading, when_text
from newsticker.items.feeds import json_feed, json_feed_item
from newsticker.items.models import Item

EMBED_PAGE_SIZE = 20
JSON_FEED_MIMETYPE = "application/feed+json"


def _query_args() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k != "seite" and v}


@bp.route("/embed/angebote")
def embed() -> ResponseReturnValue:
    """Show a compact listing of the directory, meant for an iframe on allowed sites."""
    settings = get_settings()
    allow_framing(settings.embed.allowed_origins)
    # Our language cookie is a third-party cookie inside the frame: the page says it.
    use_language(request.args.get("lang"))
    filters = public_filters(request.args)
    page = page_number(request.args)
    now = services.current_time()
    found = directory_page(db.session, filters, page=page, now=now, page_size=EMBED_PAGE_SIZE)
    response = render_template(
        "items/embed.html",
        filters=filters,
        days=[(day_heading(day), group) for day, group in found.days(now, settings.tz)],
        notices=found.notices,
        page=page,
        has_more=found.has_more,
        page_args=_query_args(),
    )
    return response, 200, {"Cache-Control": "public, max-age=300"}


@bp.route("/embed/angebote.json")
def embed_feed() -> ResponseReturnValue:
    """Serve the embed's listing as a JSON Feed 1.1 document."""
    settings = get_settings()
    use_language(request.args.get("lang"))
    filters = public_filters(request.args)
    page = page_number(request.args)
    now = services.current_time()
    found = directory_page(db.session, filters, page=page, now=now, page_size=EMBED_PAGE_SIZE)
    links = site_links()
    args = _query_args()
    # The texts are in the page's language, as on the embed page this feed is a copy of
    # (the same parameters give the same items in the same words). The Atom feed takes
    # its item language from ?sprache= instead, because a feed reader's request carries
    # no language of its own, only the site's default; this feed's link carries one in
    # lang=, and its sprache= is the directory's filter of spoken languages, so it cannot
    # also name the texts' language here without changing what the filter does.
    language = str(get_locale() or settings.site.default_language)

    def url(item: Item) -> str:
        return links.url("items.detail", item_id=item.id)

    entries = [
        json_feed_item(
            item,
            url=url(item),
            when=when_text(item.starts_at, item.ends_at, item.all_day, settings.tz)
            if item.starts_at
            else "",
            starts_at=item.starts_at,
            ends_at=item.ends_at,
            language=language,
        )
        for item in found.notices
    ]
    entries += [
        json_feed_item(
            occ.item,
            url=url(occ.item),
            when=when_text(occ.starts_at, occ.ends_at, occ.item.all_day, settings.tz),
            starts_at=occ.starts_at,
            ends_at=occ.ends_at,
            language=language,
            # A recurring event has one entry per date: each needs an id of its own.
            id_suffix=f"#{occ.starts_at.astimezone(settings.tz):%Y-%m-%dT%H:%M}",
        )
        for occ in found.occurrences
    ]
    feed = json_feed(
        entries,
        title=f"{settings.site.name} – {_('Events & offers')}",
        feed_url=links.url("items.embed_feed", **args),
        page_url=links.url("items.events", **args),
        language=language,
        next_url=links.url("items.embed_feed", seite=page + 1, **args) if found.has_more else None,
    )
    response = jsonify(feed)
    response.mimetype = JSON_FEED_MIMETYPE
    response.headers["Cache-Control"] = "public, max-age=300"
    origin = request.headers.get("Origin", "").lower()
    response.headers["Vary"] = "Origin"
    if origin and origin in settings.embed.allowed_origins:
        response.headers["Access-Control-Allow-Origin"] = origin
    return response
