"""Public pages of items: the list, item pages, the submission form, private links, feeds."""

from __future__ import annotations

import logging
import re
import time
from itertools import groupby
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
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
from werkzeug.exceptions import Gone, HTTPException, NotFound
from werkzeug.wrappers import Response

from newsticker.config import get_settings
from newsticker.core.db import db
from newsticker.core.extensions import limiter
from newsticker.core.tokens import KeyRing, TokenError
from newsticker.items import services
from newsticker.items.display import day_heading, item_when, languages_text, rule_text, when_text
from newsticker.items.feeds import atom_feed, ical_calendar
from newsticker.items.forms import (
    ConfirmForm,
    ItemEditForm,
    ItemForm,
    SubmissionForm,
    language_choices,
)
from newsticker.items.images import IMAGE_NAME_RE, MAX_IMAGE_BYTES, upload_dir
from newsticker.items.mails import absolute_url
from newsticker.items.models import FIELDS_OF_ACTION, KIND_LABELS, STATUS_LABELS, Item, ItemKind

logger = logging.getLogger(__name__)

bp = Blueprint("items", __name__)

PAGE_SIZE = 30
NOTICES_ON_FIRST_PAGE = 6
FORM_STAMP_PURPOSE = "item-form-started"
FORM_STAMP_MAX_AGE = 6 * 3600
ICAL_MIMETYPE = "text/calendar"
ATOM_MIMETYPE = "application/atom+xml"


@bp.app_template_global("item_when")
def _item_when(item: Item) -> str:
    return item_when(item, get_settings().tz)


@bp.app_template_global("occurrence_when")
def _occurrence_when(item: Item, start: Any, end: Any, with_date: bool = True) -> str:
    return when_text(start, end, item.all_day, get_settings().tz, with_date=with_date)


@bp.app_template_global("item_languages")
def _item_languages(codes: list[str]) -> str:
    return languages_text(codes)


@bp.app_template_global("item_rule")
def _item_rule(item: Item) -> str:
    return rule_text(item, get_settings().tz)


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {
        "fields_of_action": FIELDS_OF_ACTION,
        "kind_labels": KIND_LABELS,
        "status_labels": STATUS_LABELS,
    }


# ---------------------------------------------------------------- the public list


def _filters() -> services.PublicFilters:
    args = request.args
    field = args.get("bereich", "")
    kind = args.get("art", "")
    language = args.get("sprache", "")
    codes = {code for code, _name in language_choices(sign_language=True)}
    kinds = {k.value for k in ItemKind}
    return services.PublicFilters(
        query=args.get("q", "")[:200],
        field_of_action=field if field in FIELDS_OF_ACTION else "",
        language=language if language in codes else "",
        kind=kind if kind in kinds else "",
    )


def _page() -> int:
    raw = request.args.get("seite", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= 1000 else 1


def _feed_links(field: str = "") -> dict[str, str]:
    links = {
        "ical": url_for("items.ical_feed", _external=True),
        "atom": url_for("items.atom", _external=True),
    }
    if field:
        links["ical_field"] = url_for("items.ical_field_feed", field=field, _external=True)
    return links


@bp.route("/angebote")
def events() -> ResponseReturnValue:
    """List upcoming events (recurring ones by date) and current announcements."""
    settings = get_settings()
    filters = _filters()
    page = _page()
    now = services.current_time()
    notices: list[Item] = []
    more_notices = False
    occurrences: list[services.Occurrence] = []
    has_more = False
    if filters.kind in ("", ItemKind.EVENT.value):
        occurrences, has_more = services.upcoming_occurrences(
            db.session,
            filters,
            now=now,
            tz=settings.tz,
            offset=(page - 1) * PAGE_SIZE,
            limit=PAGE_SIZE,
        )
    if filters.kind in (ItemKind.ANNOUNCEMENT.value, ItemKind.CALL.value):
        notices, has_more = services.current_notices(
            db.session, filters, now=now, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
    elif not filters.kind and page == 1:
        notices, more_notices = services.current_notices(
            db.session, filters, now=now, limit=NOTICES_ON_FIRST_PAGE
        )
    days = [
        (day_heading(day), list(group))
        for day, group in groupby(
            occurrences, key=lambda o: max(o.starts_at, now).astimezone(settings.tz).date()
        )
    ]
    args = {k: v for k, v in request.args.items() if k != "seite" and v}
    return render_template(
        "items/list.html",
        filters=filters,
        days=days,
        notices=notices,
        more_notices=more_notices,
        page=page,
        has_more=has_more,
        page_args=args,
        args_without_kind={k: v for k, v in args.items() if k != "art"},
        language_options=language_choices(sign_language=True),
        feeds=_feed_links(filters.field_of_action),
        searched=bool(args),
        now=now,
    )


@bp.route("/angebote/<int:item_id>")
def detail(item_id: int) -> ResponseReturnValue:
    """Show one approved item with its next dates."""
    item = services.public_item(db.session, item_id)
    if item is None:
        abort(404)
    now = services.current_time()
    dates = services.next_dates(item, now=now, tz=get_settings().tz)
    over = item.last_ends_at is not None and item.last_ends_at <= now
    return render_template(
        "items/detail.html",
        item=item,
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
    body = _calendar([item], item.title)
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
    return absolute_url("items.detail", item_id=item.id)


def _calendar(items: list[Item], name: str) -> bytes:
    settings = get_settings()
    return ical_calendar(
        items,
        name=name,
        tz=settings.tz,
        url_for_item=_item_url,
        base_url=settings.site.base_url,
    )


def _feed_response(body: bytes, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = "public, max-age=900"
    return response


# Rendered calendars by (field, language, day, fingerprint): a calendar of a thousand
# events takes a second to build, and every subscribed calendar app polls it.
_CALENDAR_CACHE: dict[tuple[str, ...], bytes] = {}
_CALENDAR_CACHE_SIZE = 32


def _cached_calendar(field: str, name: str) -> Response:
    now = services.current_time()
    fingerprint = services.feed_fingerprint(db.session, field_of_action=field)
    language = str(get_locale() or "de")
    settings = get_settings()
    day = now.astimezone(settings.tz).date().isoformat()
    key = (settings.site.base_url, field, language, day, fingerprint)
    body = _CALENDAR_CACHE.get(key)
    if body is None:
        items = services.feed_events(db.session, now=now, field_of_action=field)
        body = _calendar(items, name)
        if len(_CALENDAR_CACHE) >= _CALENDAR_CACHE_SIZE:
            _CALENDAR_CACHE.clear()
        _CALENDAR_CACHE[key] = body
    response = _feed_response(body, ICAL_MIMETYPE)
    response.set_etag("-".join(key[1:]))
    return response.make_conditional(request)


@bp.route("/feeds/angebote.ics")
def ical_feed() -> ResponseReturnValue:
    """Serve the iCal feed of all approved events."""
    return _cached_calendar("", f"{get_settings().site.name} – {_('Events')}")


@bp.route("/feeds/angebote/<field>.ics")
def ical_field_feed(field: str) -> ResponseReturnValue:
    """Serve the iCal feed of one field of action."""
    if field not in FIELDS_OF_ACTION:
        abort(404)
    return _cached_calendar(field, f"{get_settings().site.name} – {FIELDS_OF_ACTION[field]}")


@bp.route("/feeds/angebote.atom")
def atom() -> ResponseReturnValue:
    """Serve the Atom feed of newly published items."""
    settings = get_settings()
    now = services.current_time()
    items = services.feed_entries(db.session, now=now)
    updated = max((i.approved_at or i.created_at for i in items), default=now)
    body = atom_feed(
        items,
        title=f"{settings.site.name} – {_('Events & offers')}",
        feed_url=absolute_url("items.atom"),
        page_url=absolute_url("items.events"),
        language=str(get_locale() or settings.site.default_language),
        url_for_item=_item_url,
        describe_when=lambda i: item_when(i, settings.tz),
        updated=updated,
    )
    return _feed_response(body, ATOM_MIMETYPE)


# ---------------------------------------------------------------- submitting


def _keyring() -> KeyRing:
    settings = get_settings()
    return KeyRing([current_app.config["SECRET_KEY"], *settings.site.old_secret_keys])


def _form_stamp() -> str:
    return _keyring().sign(FORM_STAMP_PURPOSE, int(time.time()))


def _filled_too_fast(stamp: str) -> bool:
    """Return True when the form came back faster than a person can fill it in."""
    minimum = get_settings().rate_limits.min_fill_seconds
    if minimum <= 0:
        return False
    try:
        (started,) = _keyring().verify(FORM_STAMP_PURPOSE, stamp or "")
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
@limiter.limit(
    lambda: get_settings().rate_limits.submit_per_ip,
    methods=["POST"],
    deduct_when=_submitted_ok,
)
def submit() -> ResponseReturnValue:
    """Show the submission form and store a submission."""
    settings = get_settings()
    form = SubmissionForm()
    _prepare(form)
    status = 200
    if request.method == "GET":
        language = str(get_locale() or settings.site.default_language)
        form.mail_language.data = language if language in ("de", "en") else "de"
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
                    receipt_window_hours=settings.rate_limits.confirmation_mails_per_address_hours,
                )
            except services.TooManyReceipts as exc:
                form.form_errors.append(str(exc.message))
                status = 429
            else:
                session["item_submitted"] = {"title": item.title, "email": item.submitter_email}
                return redirect(url_for("items.thanks"), 303)
    else:
        status = 422
    return render_template("items/submit.html", form=form), status


@bp.route("/einreichen/danke")
def thanks() -> ResponseReturnValue:
    """Thank the submitter and say what happens next."""
    info = session.get("item_submitted")
    if not info:
        return redirect(url_for("items.submit"))
    g.private_page = True
    return render_template("items/thanks.html", info=info)


# ---------------------------------------------------------------- private links


_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,100}")


class LinkInvalid(NotFound):
    """A private link that matches no submission."""


class LinkExpired(Gone):
    """A private link past its end."""


@bp.errorhandler(LinkInvalid)
def _link_invalid(_exc: HTTPException) -> ResponseReturnValue:
    return render_template("items/link_invalid.html", code=404), 404


@bp.errorhandler(LinkExpired)
def _link_expired(_exc: HTTPException) -> ResponseReturnValue:
    return render_template("items/link_expired.html", code=410), 410


def _private_item(token: str) -> Item:
    """Return the item of a private link, or answer 404 (unknown) or 410 (expired)."""
    g.private_page = True
    item = services.find_by_token(db.session, token) if _TOKEN_RE.fullmatch(token) else None
    if item is None:
        raise LinkInvalid()
    if services.token_expires_at(item) < services.current_time():
        raise LinkExpired()
    return item


def _private_headers(response: Response) -> Response:
    # The token is in the URL: never send it on to another site.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _token_limit() -> str:
    return get_settings().rate_limits.token_pages_per_ip


@bp.route("/einreichung/<token>")
@limiter.limit(_token_limit)
def private(token: str) -> ResponseReturnValue:
    """Show a submission to its submitter, with edit and withdraw while it is pending."""
    item = _private_item(token)
    body = render_template(
        "items/private.html",
        item=item,
        token=token,
        may_edit=services.submitter_may_edit(item),
        withdraw_form=ConfirmForm(),
        expires_at=services.token_expires_at(item),
    )
    return _private_headers(make_response(body))


@bp.route("/einreichung/<token>/bearbeiten", methods=["GET", "POST"])
@limiter.limit(_token_limit)
def private_edit(token: str) -> ResponseReturnValue:
    """Let the submitter change a submission that is not reviewed yet."""
    item = _private_item(token)
    if not services.submitter_may_edit(item):
        flash(
            _("This submission has already been reviewed, so it can no longer be changed here."),
            "info",
        )
        return redirect(url_for("items.private", token=token), 303)
    form = ItemEditForm()
    _prepare(form)
    form.has_stored_image = bool(item.image_file)
    status = 200
    if request.method == "GET":
        form.fill_from(item, get_settings().tz)
        form.version.data = str(item.version)
    elif form.validate_on_submit():
        assert form.data_out is not None
        services.update_item(
            db.session,
            item,
            form.data_out,
            actor="submitter",
            tz=form.tz,
            now=form.now,
            image=form.processed_image,
            remove_image=bool(form.remove_image.data),
            upload_dir=upload_dir(),
        )
        flash(_("Your changes have been saved."), "success")
        return redirect(url_for("items.private", token=token), 303)
    else:
        status = 422
    body = render_template("items/private_edit.html", form=form, item=item, token=token)
    return _private_headers(make_response(body, status))


@bp.route("/einreichung/<token>/zurueckziehen", methods=["POST"])
@limiter.limit(_token_limit)
def withdraw(token: str) -> ResponseReturnValue:
    """Withdraw a submission that is not reviewed yet."""
    item = _private_item(token)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.withdraw_item(db.session, item, now=services.current_time())
    except services.ItemError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("items.private", token=token), 303)
    flash(_("Your submission has been withdrawn. It will not be published."), "success")
    return redirect(url_for("items.private", token=token), 303)
