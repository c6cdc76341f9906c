"""Public pages of items: the directory of events and offers, item pages, feeds, submitting.

The submitter's private pages (see, edit, withdraw by token) are in `private_views`,
on the same blueprint (`blueprint.bp`), which this module registers as a whole.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from flask import (
    abort,
    g,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from newsticker.config import get_settings
from newsticker.core.caching import Version, conditional
from newsticker.core.db import db
from newsticker.core.extensions import submission_limit
from newsticker.core.i18n import mail_language
from newsticker.core.site import site_keyring, site_links
from newsticker.core.tokens import TokenError
from newsticker.items import embed_views as _embed_views  # noqa: F401 - its routes
from newsticker.items import private_views as _private_views  # noqa: F401 - its routes
from newsticker.items import services
from newsticker.items.blueprint import bp
from newsticker.items.directory import directory_page, page_number, public_filters
from newsticker.items.display import item_when
from newsticker.items.feeds import atom_feed, ical_calendar
from newsticker.items.forms import MAX_VERSIONS, ItemForm, SubmissionForm, language_choices
from newsticker.items.images import IMAGE_NAME_RE, MAX_IMAGE_BYTES, upload_dir
from newsticker.items.languages import LANGUAGE_CODES
from newsticker.items.models import FIELDS_OF_ACTION, Item, ItemKind

__all__ = ["bp"]

logger = logging.getLogger(__name__)

PAGE_SIZE = 20
NOTICE_FILTERS = (ItemKind.ANNOUNCEMENT, ItemKind.CALL)
# A series in the list shows its next date and at most this many of the following ones.
LATER_DATES_SHOWN = 4
FORM_STAMP_PURPOSE = "item-form-started"
FORM_STAMP_MAX_AGE = 6 * 3600
ICAL_MIMETYPE = "text/calendar"
ATOM_MIMETYPE = "application/atom+xml"


# ---------------------------------------------------------------- the public list


def _filters() -> services.PublicFilters:
    return public_filters(request.args)


def _page() -> int:
    return page_number(request.args)


def _feed_links(field: str = "") -> dict[str, str]:
    # A visitor reading in another language than the site's gets the feeds in theirs.
    language = str(get_locale() or "")
    asked = {"sprache": language} if language != get_settings().site.default_language else {}
    links = {
        "ical": url_for("items.ical_feed", _external=True, **asked),
        "atom": url_for("items.atom", _external=True, **asked),
    }
    if field:
        links["ical_field"] = url_for("items.ical_field_feed", field=field, _external=True, **asked)
    return links


def _directory_version(**_: object) -> Version:
    return services.directory_version(db.session, now=services.current_time(), tz=get_settings().tz)


def _item_version(item_id: int) -> Version:
    return services.item_version(
        db.session, item_id, now=services.current_time(), tz=get_settings().tz
    )


def _page_numbers(page: int, pages: int, *, last_known: bool = True) -> list[int | None]:
    """Return the page numbers a pager shows: first, last and the pages around the current.

    When the last page is not known (the count stopped early), `pages` is the next page
    and a gap (None) stands for the rest.
    """
    shown = sorted({1, pages, *range(max(page - 1, 1), min(page + 1, pages) + 1)})
    numbers: list[int | None] = []
    for number in shown:
        if numbers and number - (numbers[-1] or 0) > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers if last_known else [*numbers, None]


@bp.route("/angebote")
@conditional(_directory_version)
def events() -> ResponseReturnValue:
    """List upcoming events (a series once, at its next date) and current announcements."""
    settings = get_settings()
    filters = _filters()
    page = _page()
    now = services.current_time()
    found = directory_page(db.session, filters, page=page, now=now, page_size=PAGE_SIZE)
    notices_only = filters.kind in NOTICE_FILTERS
    total = found.notice_total if notices_only else found.event_total
    beyond = found.notices_beyond if notices_only else found.events_beyond
    # Beyond the count, the pager knows there is a next page, not which is the last.
    pages = page + 1 if beyond else max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    args = {k: v for k, v in request.args.items() if k != "seite" and v}
    return render_template(
        "items/list.html",
        filters=filters,
        listings=found.occurrences,
        event_total=found.event_total,
        notice_total=found.notice_total,
        events_beyond=found.events_beyond,
        notices_beyond=found.notices_beyond,
        last_page_known=not beyond,
        notices=found.notices,
        more_notices=found.more_notices,
        page=page,
        pages=pages,
        page_numbers=_page_numbers(page, pages, last_known=not beyond),
        page_args=args,
        args_without_kind={k: v for k, v in args.items() if k != "art"},
        language_options=language_choices(sign_language=True),
        feeds=_feed_links(filters.field_of_action),
        searched=bool(args),
        upcoming_days=settings.site.upcoming_days,
        later_dates_shown=LATER_DATES_SHOWN,
        now=now,
    )


@bp.route("/angebote/<int:item_id>")
@conditional(_item_version)
def detail(item_id: int) -> ResponseReturnValue:
    """Show one approved item with its next dates."""
    item = services.public_item(db.session, item_id)
    if item is None:
        abort(404)
    now = services.current_time()
    dates = services.next_dates(item, now=now, tz=get_settings().tz, with_cancelled=True)
    over = item.last_ends_at is not None and item.last_ends_at <= now
    # A language asked for in the link (?sprache=ar), else the page's; without an
    # approved version there the original shows.
    language = request.args.get("sprache", "").strip() or str(get_locale() or "")
    return render_template(
        "items/detail.html",
        item=item,
        text=services.item_text(item, language),
        dates=dates,
        over=over,
        feeds=_feed_links(item.field_of_action),
    )


@bp.route("/angebote/<int:item_id>.ics")
def item_ics(item_id: int) -> ResponseReturnValue:
    """Download one event for a calendar app ("add to calendar")."""
    item = services.public_item(db.session, item_id)
    if item is None or item.starts_at is None:
        abort(404)
    language = _feed_language()
    body = _calendar([item], services.item_text(item, language).title, language)
    response = Response(body, mimetype=ICAL_MIMETYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="angebot-{item.id}.ics"'
    return response


@bp.route("/angebote/bilder/<name>")
def image(name: str) -> ResponseReturnValue:
    """Serve a stored item image (re-encoded JPEG, never user bytes)."""
    if not IMAGE_NAME_RE.fullmatch(name):
        abort(404)
    response = send_from_directory(upload_dir(), name, mimetype="image/jpeg", max_age=86400)
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response


# ---------------------------------------------------------------- feeds


def _item_url(item: Item) -> str:
    return site_links().url("items.detail", item_id=item.id)


def _feed_language() -> str | None:
    """Return the item language a feed link asks for (?sprache=ar), None for the originals.

    A language no item can be written in is no such feed (404).
    """
    asked = request.args.get("sprache", "").strip()
    if not asked:
        return None
    if asked not in LANGUAGE_CODES:
        abort(404)
    return asked


def _calendar(items: list[Item], name: str, language: str | None = None) -> bytes:
    settings = get_settings()
    return ical_calendar(
        items,
        name=name,
        tz=settings.tz,
        url_for_item=_item_url,
        base_url=settings.site.base_url,
        language=language,
    )


def _feed_response(body: bytes, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = FEED_CACHE
    return response


# Calendar apps and feed readers poll; a quarter of an hour late is fine for them.
FEED_CACHE = "public, max-age=900, stale-while-revalidate=3600"


def _feed_window() -> services.FeedWindow:
    feeds = get_settings().feeds
    return services.FeedWindow(feeds.past_days, feeds.future_days, feeds.max_entries)


def _feed_version(*, until_next_end: bool = False) -> Version:
    # Asked by the validators and again for the kept build: one query per request.
    version: Version | None = g.get("feed_version")
    if version is None:
        version = g.feed_version = services.feed_version(
            db.session,
            now=services.current_time(),
            tz=get_settings().tz,
            until_next_end=until_next_end,
        )
    return version


def _ical_version(field: str = "") -> Version:
    if field and field not in FIELDS_OF_ACTION:
        return Version("missing", exists=False)  # a 404, never a 304
    return _feed_version()


def _atom_version() -> Version:
    # The Atom feed shows current items: it changes when the next one ends.
    return _feed_version(until_next_end=True)


# Built feeds by (feed, settings, language, content version): every subscribed calendar
# app and feed reader polls, and the workers each keep what they built until it changes.
_FEED_CACHE: dict[tuple[str, ...], bytes] = {}
_FEED_CACHE_SIZE = 32


def _cached_feed(feed: str, version: Version, build: Callable[[], bytes]) -> bytes:
    settings = get_settings()
    language = str(get_locale() or settings.site.default_language)
    key = (
        feed,
        settings.site.base_url,
        repr(settings.feeds),
        language,
        _feed_language() or "",
        version.token,
    )
    body = _FEED_CACHE.get(key)
    if body is None:
        body = build()
        if len(_FEED_CACHE) >= _FEED_CACHE_SIZE:
            _FEED_CACHE.clear()
        _FEED_CACHE[key] = body
    return body


def _ical_feed_response(field: str, name: str) -> Response:
    def build() -> bytes:
        now = services.current_time()
        items = services.feed_events(
            db.session, now=now, window=_feed_window(), field_of_action=field
        )
        return _calendar(items, name, _feed_language())

    body = _cached_feed(f"ical-{field}", _ical_version(field), build)
    return _feed_response(body, ICAL_MIMETYPE)


@bp.route("/feeds/angebote.ics")
@conditional(_ical_version, cache_control=FEED_CACHE)
def ical_feed() -> ResponseReturnValue:
    """Serve the iCal feed of all approved events."""
    return _ical_feed_response("", f"{get_settings().site.name} – {_('Events')}")


@bp.route("/feeds/angebote/<field>.ics")
@conditional(_ical_version, cache_control=FEED_CACHE)
def ical_field_feed(field: str) -> ResponseReturnValue:
    """Serve the iCal feed of one field of action."""
    if field not in FIELDS_OF_ACTION:
        abort(404)
    return _ical_feed_response(field, f"{get_settings().site.name} – {FIELDS_OF_ACTION[field]}")


@bp.route("/feeds/angebote.atom")
@conditional(_atom_version, cache_control=FEED_CACHE)
def atom() -> ResponseReturnValue:
    """Serve the Atom feed of newly published items."""

    def build() -> bytes:
        settings = get_settings()
        now = services.current_time()
        items = services.feed_entries(db.session, now=now, window=_feed_window())
        updated = max((i.approved_at or i.created_at for i in items), default=now)
        return atom_feed(
            items,
            title=f"{settings.site.name} – {_('Events & offers')}",
            feed_url=site_links().url("items.atom"),
            page_url=site_links().url("items.events"),
            language=str(get_locale() or settings.site.default_language),
            url_for_item=_item_url,
            describe_when=lambda i: item_when(i, settings.tz),
            updated=updated,
            item_language=_feed_language(),
        )

    body = _cached_feed("atom", _atom_version(), build)
    return _feed_response(body, ATOM_MIMETYPE)


# ---------------------------------------------------------------- submitting


def _form_stamp() -> str:
    return site_keyring().sign(FORM_STAMP_PURPOSE, int(time.time()))


def _filled_too_fast(stamp: str) -> bool:
    """Return True when the form came back faster than a person can fill it in."""
    minimum = get_settings().rate_limits.min_fill_seconds
    if minimum <= 0:
        return False
    try:
        (started,) = site_keyring().verify(FORM_STAMP_PURPOSE, stamp or "")
    except (TokenError, ValueError):
        return True
    elapsed = time.time() - int(started)
    return elapsed < minimum or elapsed > FORM_STAMP_MAX_AGE


def _prepare(form: ItemForm) -> None:
    form.tz = get_settings().tz
    form.now = services.current_time()


def _submitted_ok(response: Response) -> bool:
    return response.status_code == 303


@bp.errorhandler(413)
def _too_large(_exc: HTTPException) -> ResponseReturnValue:
    description = _(
        "The file is too large: an image may have at most %(mb)d MB. Please go back, choose "
        "a smaller image and send the form again.",
        mb=MAX_IMAGE_BYTES // (1024 * 1024),
    )
    return render_template("errors/413.html", code=413, description=description), 413


@bp.errorhandler(429)
def _rate_limited(_exc: HTTPException) -> ResponseReturnValue:
    if request.endpoint == "items.submit":
        description = _(
            "You have sent several submissions in a short time. To protect this form against "
            "spam, please wait an hour and try again."
        )
    else:
        description = None
    return render_template("errors/429.html", code=429, description=description), 429


@bp.route("/einreichen", methods=["GET", "POST"])
@submission_limit(deduct_when=_submitted_ok)
def submit() -> ResponseReturnValue:
    """Show the submission form and store a submission."""
    settings = get_settings()
    form = SubmissionForm()
    _prepare(form)
    status = 200
    if request.method == "GET":
        language = str(get_locale() or settings.site.default_language)
        form.mail_language.data = mail_language(language, settings.site.default_language)
        form.content_language.data = language
        form.started.data = _form_stamp()
    elif form.validate_on_submit():
        assert form.data_out is not None
        if _filled_too_fast(form.started.data or ""):
            form.form_errors.append(
                _(
                    "You filled in the form very quickly. To protect us against spam, please "
                    "check your entries and send the form again."
                )
            )
            form.started.data = _form_stamp()
            status = 422
        else:
            try:
                item, _token = services.submit_item(
                    db.session,
                    form.data_out,
                    submitter_email=form.submitter_email.data or "",
                    submitter_language=form.mail_language.data or "de",
                    image=form.processed_image,
                    upload_dir=upload_dir(),
                    tz=settings.tz,
                    now=form.now,
                    links=site_links(),
                    receipt_window_hours=settings.rate_limits.confirmation_mails_per_address_hours,
                    versions=form.versions_out,
                )
            except services.TooManyReceipts as exc:
                form.form_errors.append(str(exc.message))
                status = 429
            else:
                session["item_submitted"] = {"title": item.title, "email": item.submitter_email}
                return redirect(url_for("items.thanks"), 303)
    else:
        status = 422
    return render_template("items/submit.html", form=form, max_versions=MAX_VERSIONS), status


@bp.route("/einreichen/danke")
def thanks() -> ResponseReturnValue:
    """Thank the submitter and say what happens next."""
    info = session.get("item_submitted")
    if not info:
        return redirect(url_for("items.submit"))
    g.private_page = True
    return render_template("items/thanks.html", info=info)
