"""Public subscriber pages: subscribe, confirm, unsubscribe (RFC 8058), preferences, erasure."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from newsticker.config import get_settings
from newsticker.core.db import db, utcnow
from newsticker.core.extensions import csrf, limiter
from newsticker.core.tokens import TokenError
from subscribers import services
from subscribers.forms import (
    ActionForm,
    EraseForm,
    PreferencesForm,
    SubscribeForm,
    publication_choices,
)
from subscribers.models import STATUS_LABELS, Subscriber

logger = logging.getLogger(__name__)

bp = Blueprint("subscribers", __name__)

FORM_STAMP_PURPOSE = "subscribers:form-started"
FORM_STAMP_MAX_AGE = 6 * 3600
# Confirmation tokens are random_token() output; anything else is refused unread.
_RANDOM_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,100}")


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"subscription_status_labels": STATUS_LABELS}


def _publication_name(slug: str) -> str:
    pub = get_settings().publication(slug)
    return pub.name if pub is not None else slug


def _ip() -> str | None:
    return request.remote_addr


def _private(response: Response) -> Response:
    """Mark a page behind a personal link: never cached, never indexed, no referrer."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response


def _page(template: str, status: int = 200, **context: Any) -> Response:
    g.private_page = True
    body = render_template(template, **context)
    return _private(Response(body, status, mimetype="text/html"))


def _token_limit() -> str:
    return get_settings().rate_limits.token_pages_per_ip


def _subscribe_limit() -> str:
    return get_settings().rate_limits.subscribe_per_ip


@bp.errorhandler(429)
def _rate_limited(_exc: HTTPException) -> ResponseReturnValue:
    description = None
    if request.endpoint == "subscribers.subscribe":
        description = _(
            "Many sign-ups have come from your network in a short time. To protect this form "
            "against abuse, please wait an hour and try again."
        )
    return render_template("errors/429.html", code=429, description=description), 429


# ---------------------------------------------------------------- subscribing


def _form_stamp() -> str:
    return services.current_keyring().sign(FORM_STAMP_PURPOSE, int(time.time()))


def _filled_too_fast(stamp: str) -> bool:
    """Return True when the form came back faster than a person can fill it in."""
    minimum = get_settings().rate_limits.min_fill_seconds
    if minimum <= 0:
        return False
    try:
        (started,) = services.current_keyring().verify(FORM_STAMP_PURPOSE, stamp or "")
    except (TokenError, ValueError):
        return True
    elapsed = time.time() - int(started)
    return elapsed < minimum or elapsed > FORM_STAMP_MAX_AGE


def _succeeded(response: Response) -> bool:
    return response.status_code == 303


@bp.route("/abonnieren", methods=["GET", "POST"])
@limiter.limit(_subscribe_limit, methods=["POST"], deduct_when=_succeeded)
def subscribe() -> ResponseReturnValue:
    """Show the subscription form and start the double opt-in."""
    settings = get_settings()
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
                ip=_ip(),
                form_url=request.url,
            ),
            keyring=services.current_keyring(),
            now=utcnow(),
            window=services.MailWindow.from_settings(settings),
        )
        logger.info("sign-up: %s", outcome.value)
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
    return _page(
        "subscribers/thanks.html",
        email=email,
        link_hours=get_settings().subscribers.confirmation_link_hours,
    )


# ---------------------------------------------------------------- confirming


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
        services.preferences_url(services.current_keyring(), subscriber.id)
        if subscriber is not None and state == services.ConfirmState.CONFIRMED
        else None
    )
    return _page(
        "subscribers/confirm.html",
        status,
        state=state.value,
        token=token,
        publications=[_publication_name(p) for p in confirmation.publications]
        if confirmation is not None
        else [],
        preferences_url=prefs,
        form=ActionForm(),
    )


def _checked_token(token: str) -> str:
    return token if _RANDOM_TOKEN_RE.fullmatch(token) else ""


@bp.route("/bestaetigen/<token>", methods=["GET", "POST"])
@limiter.limit(_token_limit)
def confirm(token: str) -> ResponseReturnValue:
    """Show the confirmation button (GET changes nothing) and confirm on POST."""
    checked = _checked_token(token)
    if request.method == "GET":
        return _confirm_page(
            services.inspect_confirmation(db.session, checked, now=utcnow()), token
        )
    if not ActionForm().validate_on_submit():
        abort(400)
    result = services.confirm_subscription(db.session, checked, ip=_ip(), now=utcnow())
    if result.state == services.ConfirmState.CONFIRMED:
        return redirect(url_for("subscribers.confirm", token=token), 303)
    return _confirm_page(result, token)


@bp.route("/bestaetigen/<token>/neu", methods=["POST"])
@limiter.limit(_token_limit)
def resend(token: str) -> ResponseReturnValue:
    """Send a new confirmation link for an expired one."""
    if not ActionForm().validate_on_submit():
        abort(400)
    outcome = services.resend_confirmation(
        db.session,
        _checked_token(token),
        ip=_ip(),
        now=utcnow(),
        window=services.MailWindow.from_settings(get_settings()),
    )
    if outcome is None:
        return redirect(url_for("subscribers.confirm", token=token), 303)
    return _page("subscribers/resent.html", outcome=outcome.value)


# ---------------------------------------------------------------- unsubscribing


def _unsubscribe_target(token: str) -> tuple[int, str]:
    try:
        return services.read_unsubscribe_token(services.current_keyring(), token)
    except TokenError:
        abort(404)


def _unsubscribe_context(subscriber_id: int, publication: str) -> dict[str, Any]:
    subscriber = db.session.get(Subscriber, subscriber_id)
    subscription = (
        services.subscription_of(subscriber, publication) if subscriber is not None else None
    )
    prefs = (
        services.preferences_url(services.current_keyring(), subscriber.id)
        if subscriber is not None
        else None
    )
    return {
        "publication": _publication_name(publication),
        "subscribed": subscription is not None
        and subscription.status != "unsubscribed"
        and subscriber is not None,
        "preferences_url": prefs,
    }


@bp.route("/abmelden/<token>", methods=["GET"])
@limiter.limit(_token_limit)
def unsubscribe_page(token: str) -> ResponseReturnValue:
    """Show one button: link scanners fetch GET, so GET never unsubscribes."""
    subscriber_id, publication = _unsubscribe_target(token)
    return _page(
        "subscribers/unsubscribe.html",
        token=token,
        done=False,
        **_unsubscribe_context(subscriber_id, publication),
    )


@bp.route("/abmelden/<token>", methods=["POST"])
@csrf.exempt
def unsubscribe(token: str) -> ResponseReturnValue:
    """Unsubscribe at once (RFC 8058 one-click): no cookie, no login, no redirect.

    Not rate-limited per IP: mailbox providers send every one-click request of their
    users from a few addresses, and the signed token already makes guessing futile.
    """
    subscriber_id, publication = _unsubscribe_target(token)
    if request.form.get("List-Unsubscribe") != "One-Click":
        abort(400)
    channel = "unsubscribe-page" if request.form.get("via") == "page" else "one-click"
    outcome = services.unsubscribe(
        db.session, subscriber_id, publication, channel=channel, now=utcnow()
    )
    logger.info("unsubscribe via %s: %s", channel, outcome.value)
    response = _page(
        "subscribers/unsubscribe.html",
        token=token,
        done=True,
        **_unsubscribe_context(subscriber_id, publication),
    )
    if not request.cookies:
        # A mailbox provider's server came without a cookie; it gets none either (the
        # page's language form would have started a session).
        session.clear()
        session.modified = False
    return response


# ---------------------------------------------------------------- preferences


def _subscriber_of(token: str) -> Subscriber:
    try:
        subscriber_id = services.read_preferences_token(services.current_keyring(), token)
    except TokenError:
        abort(404)
    subscriber = db.session.get(Subscriber, subscriber_id)
    if subscriber is None:
        abort(404)
    return subscriber


@bp.route("/einstellungen/<token>", methods=["GET", "POST"])
@limiter.limit(_token_limit)
def preferences(token: str) -> ResponseReturnValue:
    """Let a subscriber choose publications, language and name."""
    settings = get_settings()
    subscriber = _subscriber_of(token)
    form = PreferencesForm()
    form.publications.choices = publication_choices(settings)
    status = 200
    if request.method == "GET":
        form.name.data = subscriber.name
        form.language.data = subscriber.language
        form.publications.data = services.confirmed_publications(subscriber)
    elif form.validate_on_submit():
        changes = services.update_preferences(
            db.session,
            subscriber,
            name=form.name.data or "",
            language=form.language.data or subscriber.language,
            publications=form.publications.data or [],
            known_publications=[p.slug for p in settings.publications],
            ip=_ip(),
            now=utcnow(),
        )
        if changes:
            flash(_("Your settings have been saved."), "success")
        else:
            flash(_("Nothing was changed."), "info")
        return redirect(url_for("subscribers.preferences", token=token), 303)
    else:
        status = 422
    return _page(
        "subscribers/preferences.html",
        status,
        form=form,
        token=token,
        subscriber=subscriber,
        publications=settings.publications,
        subscriptions={s.publication: s for s in subscriber.subscriptions},
        action_form=ActionForm(),
    )


@bp.route("/einstellungen/<token>/daten", methods=["POST"])
@limiter.limit(_token_limit)
def data_copy(token: str) -> ResponseReturnValue:
    """Mail the subscriber a copy of their data."""
    subscriber = _subscriber_of(token)
    if not ActionForm().validate_on_submit():
        abort(400)
    sent = services.send_data_copy(
        db.session,
        subscriber,
        keyring=services.current_keyring(),
        ip=_ip(),
        now=utcnow(),
        window_hours=get_settings().rate_limits.confirmation_mails_per_address_hours,
    )
    if sent:
        flash(
            _("We have sent a copy of your data to %(email)s.", email=subscriber.email), "success"
        )
    else:
        flash(
            _("We sent you a copy of your data recently. Please look in your inbox."),
            "info",
        )
    return redirect(url_for("subscribers.preferences", token=token), 303)


@bp.route("/einstellungen/<token>/loeschen", methods=["GET", "POST"])
@limiter.limit(_token_limit)
def erase(token: str) -> ResponseReturnValue:
    """Erase the subscriber after a confirming tick."""
    subscriber = _subscriber_of(token)
    form = EraseForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            email = subscriber.email
            services.erase_subscriber(db.session, subscriber, salts=services.current_salts())
            logger.info("subscriber erased at their own request")
            return _page("subscribers/erased.html", email=email)
        status = 422
    return _page("subscribers/erase.html", status, form=form, token=token, subscriber=subscriber)
