"""The public subscriber pages' blueprint and what its pages share.

The routes live in subscribers.signup_views (subscribe, confirm) and subscribers.views
(unsubscribe, preferences, erasure); both register on `bp` here. Pages behind a personal
link are private: never cached, never indexed, sent without a referrer. The status
enums are Jinja globals, so templates compare members, not strings.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from newsticker.config import get_settings
from subscribers.models import STATUS_LABELS
from subscribers.services import ConfirmState, SignupOutcome

bp = Blueprint("subscribers", __name__)
bp.add_app_template_global(ConfirmState, "ConfirmState")
bp.add_app_template_global(SignupOutcome, "SignupOutcome")


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"subscription_status_labels": STATUS_LABELS}


def publication_name(slug: str) -> str:
    """Return the configured name of a publication (its slug if it is gone)."""
    pub = get_settings().publication(slug)
    return pub.name if pub is not None else slug


def client_ip() -> str | None:
    """Return the address the request came from, for the consent log."""
    return request.remote_addr


def private_page(template: str, status: int = 200, **context: Any) -> Response:
    """Render a page behind a personal link: never cached, never indexed, no referrer."""
    g.private_page = True
    body = render_template(template, **context)
    response = Response(body, status, mimetype="text/html")
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response


def token_limit() -> str:
    """Return the rate limit of pages behind a link (per IP)."""
    return get_settings().rate_limits.token_pages_per_ip


@bp.errorhandler(429)
def _rate_limited(_exc: HTTPException) -> ResponseReturnValue:
    description = None
    if request.endpoint == "subscribers.subscribe":
        description = _(
            "Many sign-ups have come from your network in a short time. To protect this form "
            "against abuse, please wait an hour and try again."
        )
    return render_template("errors/429.html", code=429, description=description), 429
