"""Public subscriber pages behind a personal link: unsubscribe (RFC 8058), preferences, erasure.

The blueprint (`bp`) and what its pages share live in subscribers.pages; importing this
module also brings in subscribers.signup_views, so `subscribers.views.bp` carries every
public subscriber page.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import abort, flash, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from newsticker.core.db import db, utcnow
from newsticker.core.extensions import csrf, limiter
from newsticker.core.site import app_settings, site_keyring, site_links
from newsticker.core.tokens import TokenError, TokenExpired
from subscribers import services
from subscribers import signup_views as signup_views  # registers its routes on bp
from subscribers.forms import ActionForm, EraseForm, PreferencesForm, publication_choices
from subscribers.models import (
    BOUNCE_KIND_LABELS,
    CHANNEL_LABELS,
    CONSENT_ACTION_LABELS,
    Subscriber,
)
from subscribers.pages import bp, client_ip, private_page, publication_name, token_limit
from subscribers.site import site_salts

__all__ = ["bp", "signup_views"]

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- unsubscribing


def _unsubscribe_target(token: str) -> tuple[int, str]:
    try:
        return services.read_unsubscribe_token(site_keyring(), token)
    except TokenError:
        abort(404)


def _unsubscribe_context(subscriber_id: int, publication: str) -> dict[str, Any]:
    subscriber = services.get_subscriber(db.session, subscriber_id)
    prefs = (
        services.preferences_url(site_links(), site_keyring(), subscriber.id)
        if subscriber is not None
        else None
    )
    return {
        "publication": publication_name(publication),
        "subscribed": services.is_subscribed(subscriber, publication),
        "preferences_url": prefs,
    }


@bp.route("/abmelden/<token>", methods=["GET"])
@limiter.limit(token_limit)
def unsubscribe_page(token: str) -> ResponseReturnValue:
    """Show one button: link scanners fetch GET, so GET never unsubscribes."""
    subscriber_id, publication = _unsubscribe_target(token)
    return private_page(
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
    logger.info("unsubscribe via %s: %s", channel, outcome)
    response = private_page(
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
        subscriber_id = services.read_preferences_token(site_keyring(), token)
    except TokenError:
        abort(404)
    subscriber = services.get_subscriber(db.session, subscriber_id)
    if subscriber is None:
        abort(404)
    return subscriber


@bp.route("/einstellungen/<token>", methods=["GET", "POST"])
@limiter.limit(token_limit)
def preferences(token: str) -> ResponseReturnValue:
    """Let a subscriber choose publications, language and name."""
    settings = app_settings()
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
            ip=client_ip(),
            now=utcnow(),
            salts=site_salts(),
        )
        if changes:
            flash(_("Your settings have been saved."), "success")
        else:
            flash(_("Nothing was changed."), "info")
        return redirect(url_for("subscribers.preferences", token=token), 303)
    else:
        status = 422
    return private_page(
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
@limiter.limit(token_limit)
def data_copy(token: str) -> ResponseReturnValue:
    """Mail the subscriber a copy of their data."""
    subscriber = _subscriber_of(token)
    if not ActionForm().validate_on_submit():
        abort(400)
    settings = app_settings()
    sent = services.send_data_copy(
        db.session,
        subscriber,
        keyring=site_keyring(),
        links=site_links(),
        settings=settings,
        ip=client_ip(),
        now=utcnow(),
        window_hours=settings.rate_limits.confirmation_mails_per_address_hours,
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


# ---------------------------------------------------------------- the data copy (Art. 15)


def _moments(value: Any) -> Any:
    """Turn the copy's ISO times back into datetimes, for showing them in local time."""
    if isinstance(value, dict):
        return {
            key: (
                datetime.fromisoformat(item)
                if isinstance(item, str) and (key.endswith("_at") or key.endswith("time"))
                else _moments(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_moments(item) for item in value]
    return value


def _data_page(subscriber: Subscriber, json_url: str) -> Response:
    data = services.subscriber_data(db.session, subscriber)
    return private_page(
        "subscribers/my_data.html",
        data=_moments(data),
        json_url=json_url,
        publication_name=publication_name,
        action_labels=CONSENT_ACTION_LABELS,
        channel_labels=CHANNEL_LABELS,
        bounce_labels=BOUNCE_KIND_LABELS,
    )


def _data_file(subscriber: Subscriber) -> Response:
    response = Response(
        services.subscriber_data_json(db.session, subscriber),
        mimetype="application/json",
    )
    stamp = utcnow().strftime("%Y-%m-%d")
    response.headers["Content-Disposition"] = f'attachment; filename="meine-daten-{stamp}.json"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.route("/einstellungen/<token>/daten", methods=["GET"])
@limiter.limit(token_limit)
def data_page(token: str) -> ResponseReturnValue:
    """Show the subscriber everything stored about them, from the preferences page."""
    return _data_page(_subscriber_of(token), url_for("subscribers.data_file", token=token))


@bp.route("/einstellungen/<token>/daten.json")
@limiter.limit(token_limit)
def data_file(token: str) -> ResponseReturnValue:
    """Download everything stored about the subscriber as JSON."""
    return _data_file(_subscriber_of(token))


def _data_copy_subscriber(token: str) -> Subscriber | Response:
    try:
        subscriber_id = services.read_data_copy_token(site_keyring(), token)
    except TokenExpired:
        return private_page(
            "subscribers/data_expired.html", 410, link_days=services.DATA_COPY_LINK_DAYS
        )
    except TokenError:
        abort(404)
    subscriber = services.get_subscriber(db.session, subscriber_id)
    if subscriber is None:
        abort(404)
    return subscriber


@bp.route("/meine-daten/<token>")
@limiter.limit(token_limit)
def my_data(token: str) -> ResponseReturnValue:
    """Show the data copy behind the expiring link of the data-copy mail."""
    found = _data_copy_subscriber(token)
    if isinstance(found, Response):
        return found
    return _data_page(found, url_for("subscribers.my_data_file", token=token))


@bp.route("/meine-daten/<token>.json")
@limiter.limit(token_limit)
def my_data_file(token: str) -> ResponseReturnValue:
    """Download the data copy behind the expiring link as JSON."""
    found = _data_copy_subscriber(token)
    if isinstance(found, Response):
        return found
    return _data_file(found)


@bp.route("/einstellungen/<token>/loeschen", methods=["GET", "POST"])
@limiter.limit(token_limit)
def erase(token: str) -> ResponseReturnValue:
    """Erase the subscriber after a confirming tick."""
    subscriber = _subscriber_of(token)
    form = EraseForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            email = subscriber.email
            services.erase_subscriber(db.session, subscriber, salts=site_salts())
            logger.info("subscriber erased at their own request")
            return private_page("subscribers/erased.html", email=email)
        status = 422
    return private_page(
        "subscribers/erase.html", status, form=form, token=token, subscriber=subscriber
    )
