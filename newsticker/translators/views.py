"""The translator's page behind the private link: the original, the form, decline.

The token is the only key (no account), so these pages never send it on (no
referrer), are never indexed, and answer an unknown link with 404 and a used, declined,
withdrawn or expired one with 410, storing nothing. The page speaks the language the
translator chose (German or English), whatever the browser's cookie says.
"""

from __future__ import annotations

import re
from datetime import datetime

from flask import Blueprint, abort, g, make_response, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from newsticker.config import get_settings
from newsticker.core.db import db, utcnow
from newsticker.core.extensions import limiter
from newsticker.core.i18n import text_direction, use_language
from newsticker.core.site import site_links
from newsticker.items.languages import language_name
from newsticker.translators import services
from newsticker.translators.forms import DeclineForm, TranslationForm
from newsticker.translators.models import RequestStatus, TranslationRequest

bp = Blueprint("translators", __name__)
bp.add_app_template_global(RequestStatus, "RequestStatus")

_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,100}")
# Answers a translator has given: the link then thanks them instead of asking again.
_ANSWERED = (RequestStatus.SUBMITTED, RequestStatus.PUBLISHED, RequestStatus.REJECTED)


def _token_limit() -> str:
    return get_settings().rate_limits.token_pages_per_ip


def _find(token: str) -> TranslationRequest:
    """Return the request of a link in its translator's language, or answer 404."""
    g.private_page = True
    ask = services.find_request(db.session, token) if _TOKEN_RE.fullmatch(token) else None
    if ask is None:
        response = make_response(render_template("translators/link_invalid.html", code=404), 404)
        abort(_private(response))
    use_language(ask.translator.mail_language)
    return ask


def _open_request(token: str) -> tuple[TranslationRequest, datetime]:
    """Return a link's request that still takes an answer, and the time; else answer 404/410."""
    ask = _find(token)
    now = utcnow()
    if not services.link_usable(ask, now=now):
        abort(_closed(ask))
    return ask, now


def _private(response: Response) -> Response:
    # The token is in the URL: never send it on to another site.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _closed(ask: TranslationRequest) -> Response:
    """Answer a link that can no longer be used (410), saying why."""
    body = render_template(
        "translators/link_closed.html", ask=ask, answered=ask.status in _ANSWERED, code=410
    )
    return _private(make_response(body, 410))


def _page(
    ask: TranslationRequest,
    token: str,
    form: TranslationForm,
    decline_form: DeclineForm,
    status: int = 200,
) -> Response:
    body = render_template(
        "translators/translate.html",
        ask=ask,
        item=ask.item,
        original=ask.original,
        token=token,
        form=form,
        decline_form=decline_form,
        target_name=language_name(ask.language),
        target_dir=text_direction(ask.language),
        source_name=language_name(ask.source_language),
        source_dir=text_direction(ask.source_language),
    )
    return _private(make_response(body, status))


@bp.route("/uebersetzen/<token>", methods=["GET", "POST"])
@limiter.limit(_token_limit)
def translate(token: str) -> ResponseReturnValue:
    """Show the original and take the translation, once."""
    ask, now = _open_request(token)
    form = TranslationForm()
    if not form.is_submitted():
        form.language.data = ask.language
        return _page(ask, token, form, DeclineForm(formdata=None))
    if not form.validate_on_submit():
        return _page(ask, token, form, DeclineForm(formdata=None), 422)
    try:
        services.submit_translation(
            db.session,
            ask,
            language=form.language.data or "",
            title=form.title.data or "",
            summary=form.summary.data or "",
            description=form.description.data or "",
            now=now,
        )
    except services.TranslationInvalid as exc:
        for name, messages in exc.errors.items():
            field = getattr(form, name, None)
            if field is not None and name != "language":
                field.errors = [*field.errors, *messages]
            else:
                form.form_errors.extend(messages)
        return _page(ask, token, form, DeclineForm(formdata=None), 422)
    except services.LinkClosed:
        return _closed(ask)
    return redirect(url_for("translators.thanks", token=token), 303)


@bp.route("/uebersetzen/<token>/ablehnen", methods=["POST"])
@limiter.limit(_token_limit)
def decline(token: str) -> ResponseReturnValue:
    """Record that the translator cannot do it, and tell the editor who asked."""
    ask, now = _open_request(token)
    form = DeclineForm()
    if not form.validate_on_submit():
        translation_form = TranslationForm(formdata=None)
        translation_form.language.data = ask.language
        return _page(ask, token, translation_form, form, 422)
    try:
        services.decline_request(
            db.session, ask, reason=form.reason.data or "", now=now, links=site_links()
        )
    except services.LinkClosed:
        return _closed(ask)
    return redirect(url_for("translators.thanks", token=token), 303)


@bp.route("/uebersetzen/<token>/danke")
@limiter.limit(_token_limit)
def thanks(token: str) -> ResponseReturnValue:
    """Thank the translator for their answer (or send them back to the form)."""
    ask = _find(token)
    if ask.status == RequestStatus.OPEN:
        return redirect(url_for("translators.translate", token=token), 303)
    if ask.status not in (*_ANSWERED, RequestStatus.DECLINED):
        return _closed(ask)
    body = render_template("translators/thanks.html", ask=ask, answered=ask.status in _ANSWERED)
    return _private(make_response(body))
