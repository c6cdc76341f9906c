"""Public pages of signing up: the subscription form, the thank-you page, confirming.

Routes on subscribers.pages.bp. The form carries a signed time stamp: a form sent back
faster than a person can fill it in is refused (a cheap bot filter without a CAPTCHA).
"""

from __future__ import annotations

import logging
import re
import time

from flask import abort, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from newsticker.core.db import db, utcnow
from newsticker.core.extensions import limiter, subscription_limit
from newsticker.core.site import app_settings, site_keyring, site_links
from newsticker.core.tokens import TokenError
from subscribers import services
from subscribers.forms import ActionForm, SubscribeForm, publication_choices
from subscribers.pages import (
    bp,
    client_ip,
    private_page,
    publication_name,
    token_limit,
)
from subscribers.site import site_salts

logger = logging.getLogger(__name__)

FORM_STAMP_PURPOSE = "subscribers:form-started"
FORM_STAMP_MAX_AGE = 6 * 3600
# Confirmation tokens are random_token() output; anything else is refused unread.
_RANDOM_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,100}")


def _form_stamp() -> str:
    return site_keyring().sign(FORM_STAMP_PURPOSE, int(time.time()))


def _filled_too_fast(stamp: str) -> bool:
    """Return True when the form came back faster than a person can fill it in."""
    minimum = app_settings().rate_limits.min_fill_seconds
    if minimum <= 0:
        return False
    try:
        (started,) = site_keyring().verify(FORM_STAMP_PURPOSE, stamp or "")
    except (TokenError, ValueError):
        return True
    elapsed = time.time() - int(started)
    return elapsed < minimum or elapsed > FORM_STAMP_MAX_AGE


def _succeeded(response: Response) -> bool:
    return response.status_code == 303


def _blank_form() -> SubscribeForm:
    """Return the sign-up form as a GET shows it: page language, fresh time stamp."""
    settings = app_settings()
    form = SubscribeForm(formdata=None)
    form.publications.choices = publication_choices(settings)
    language = str(get_locale() or settings.site.default_language)
    form.language.data = language if language in services.LANGUAGES else "de"
    form.started.data = _form_stamp()
    return form


@bp.app_template_global("signup_form")
def signup_form() -> dict[str, object]:
    """Return what the sign-up form needs, for pages other than its own (the start page)."""
    return {
        "form": _blank_form(),
        "publications": app_settings().publications,
        "consent_text": services.CONSENT_TEXTS[services.CONSENT_TEXT_VERSION],
    }


@bp.route("/abonnieren", methods=["GET", "POST"])
@subscription_limit(deduct_when=_succeeded)
def subscribe() -> ResponseReturnValue:
    """Show the subscription form and start the double opt-in."""
    settings = app_settings()
    form = SubscribeForm()
    form.publications.choices = publication_choices(settings)
    status = 200
    if request.method == "GET":
        language = str(get_locale() or settings.site.default_language)
        form.language.data = language if language in services.LANGUAGES else "de"
        form.started.data = _form_stamp()
    elif not form.validate_on_submit():
        status = 422
    elif _filled_too_fast(form.started.data or ""):
        form.form_errors.append(
            _(
                "You filled in the form very quickly. To protect us against spam, please "
                "check your entries and send the form again."
            )
        )
        form.started.data = _form_stamp()
        status = 422
    else:
        email = form.email.normalised
        outcome = services.request_subscription(
            db.session,
            services.SignupRequest(
                email=email,
                name=form.name.data or "",
                language=form.language.data or "de",
                publications=tuple(form.publications.data or ()),
                ip=client_ip(),
                form_url=request.url,
                # The consent text next to the button was shown in the page's language.
                consent_language=str(get_locale() or settings.site.default_language),
            ),
            keyring=site_keyring(),
            links=site_links(),
            settings=settings,
            now=utcnow(),
            window=services.MailWindow.from_settings(settings),
        )
        logger.info("sign-up: %s", outcome)
        # The same answer whatever happened: the page must not tell whether an address
        # is subscribed, pending, blocked or was mailed recently.
        session["subscribe_email"] = email
        return redirect(url_for("subscribers.thanks"), 303)
    if status != 200:
        form.started.data = form.started.data or _form_stamp()
    return (
        render_template(
            "subscribers/subscribe.html",
            form=form,
            publications=settings.publications,
            consent_text=services.CONSENT_TEXTS[services.CONSENT_TEXT_VERSION],
        ),
        status,
    )


@bp.route("/abonnieren/danke")
def thanks() -> ResponseReturnValue:
    """Ask the visitor to look for the confirmation mail."""
    email = session.get("subscribe_email")
    if not email:
        return redirect(url_for("subscribers.subscribe"))
    return private_page(
        "subscribers/thanks.html",
        email=email,
        link_hours=app_settings().subscribers.confirmation_link_hours,
    )


def _confirm_page(result: services.ConfirmResult, token: str) -> Response:
    state = result.state
    status = {
        services.ConfirmState.VALID: 200,
        services.ConfirmState.CONFIRMED: 200,
        services.ConfirmState.EXPIRED: 410,
        services.ConfirmState.INVALID: 404,
    }[state]
    confirmation = result.confirmation
    subscriber = result.subscriber
    prefs = (
        services.preferences_url(site_links(), site_keyring(), subscriber.id)
        if subscriber is not None and state == services.ConfirmState.CONFIRMED
        else None
    )
    return private_page(
        "subscribers/confirm.html",
        status,
        state=state,
        token=token,
        publications=[publication_name(p) for p in confirmation.publications]
        if confirmation is not None
        else [],
        preferences_url=prefs,
        form=ActionForm(),
    )


def _checked_token(token: str) -> str:
    return token if _RANDOM_TOKEN_RE.fullmatch(token) else ""


@bp.route("/bestaetigen/<token>", methods=["GET", "POST"])
@limiter.limit(token_limit)
def confirm(token: str) -> ResponseReturnValue:
    """Show the confirmation button (GET changes nothing) and confirm on POST."""
    checked = _checked_token(token)
    if request.method == "GET":
        return _confirm_page(
            services.inspect_confirmation(db.session, checked, now=utcnow()), token
        )
    if not ActionForm().validate_on_submit():
        abort(400)
    result = services.confirm_subscription(
        db.session, checked, ip=client_ip(), now=utcnow(), salts=site_salts()
    )
    if result.state == services.ConfirmState.CONFIRMED:
        return redirect(url_for("subscribers.confirm", token=token), 303)
    return _confirm_page(result, token)


@bp.route("/bestaetigen/<token>/neu", methods=["POST"])
@limiter.limit(token_limit)
def resend(token: str) -> ResponseReturnValue:
    """Send a new confirmation link for an expired one."""
    if not ActionForm().validate_on_submit():
        abort(400)
    settings = app_settings()
    outcome = services.resend_confirmation(
        db.session,
        _checked_token(token),
        ip=client_ip(),
        now=utcnow(),
        links=site_links(),
        settings=settings,
        window=services.MailWindow.from_settings(settings),
    )
    if outcome is None:
        return redirect(url_for("subscribers.confirm", token=token), 303)
    return private_page("subscribers/resent.html", outcome=outcome)
