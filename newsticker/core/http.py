"""What every request shares: one transaction, mail after commit, headers, error pages."""

from __future__ import annotations

import logging
from typing import NoReturn
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, g, jsonify, redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError
from werkzeug.wrappers import Response

from newsticker.core.db import db, reset_write_intent, set_write_intent
from newsticker.core.extensions import csrf
from newsticker.core.i18n import LANGUAGE_COOKIE, LANGUAGES
from newsticker.core.unit_of_work import app_dispatcher, commit, rollback

logger = logging.getLogger(__name__)

CSP_DIRECTIVES = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-src 'self'",
]
CONTENT_SECURITY_POLICY = "; ".join([*CSP_DIRECTIVES, "frame-ancestors 'none'"])
ERROR_CODES = (400, 401, 403, 404, 405, 413, 422, 429, 500, 503)
_CSP_KEY = "newsticker_csp"


def content_security_policy(app: Flask) -> str:
    """Return the app's policy: with single sign-on, forms may also lead to the provider.

    The login button and the logout form answer with a redirect to the identity provider,
    and browsers apply form-action to the redirects after a form is sent.
    """
    policy: str | None = app.extensions.get(_CSP_KEY)
    if policy is None:
        policy = CONTENT_SECURITY_POLICY
        issuer = app.config["NEWSTICKER_SETTINGS"].auth.oidc.issuer
        if issuer:
            parts = urlsplit(issuer)
            policy = policy.replace(
                "form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}"
            )
        app.extensions[_CSP_KEY] = policy
    return policy


bp = Blueprint("core", __name__)


def safe_next_url(target: str | None, fallback: str) -> str:
    """Return target when it is a path on this site, else fallback (no open redirects)."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return fallback
    return target


@bp.route("/healthz")
def healthz() -> ResponseReturnValue:
    """Report whether the database answers (for monitoring)."""
    if db.ping():
        return jsonify(status="ok", database="ok"), 200
    return jsonify(status="error", database="unreachable"), 503


@bp.route("/sprache", methods=["POST"])
def set_language() -> ResponseReturnValue:
    """Remember the chosen interface language in a cookie and go back.

    No CSRF token: the form is on every page, and a token would start a session on every
    visit, so no proxy could keep a public page. Another site that posts here can only
    change the language shown, and only within this site's own paths.
    """
    lang = request.form.get("lang", "")
    target = safe_next_url(request.form.get("next"), "/")
    response = redirect(target, 303)
    if lang in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE,
            lang,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response


def _finish_transaction(response: Response) -> Response:
    """Commit the request's work, or roll it back when the answer is an error."""
    session = db.session
    if response.status_code >= 400:
        rollback(session)
        return response
    dispatch = app_dispatcher(current_app._get_current_object())  # type: ignore[attr-defined]
    if current_app.config.get("SEND_MAIL_SYNC"):
        commit(session, dispatch)
    else:
        # Sent once the answer is out: the visitor never waits for the relay.
        commit(session, lambda ids: response.call_on_close(lambda: dispatch(ids)))
    return response


def allow_framing(origins: list[str]) -> None:
    """Let this request's page be framed by these origins (and by no other site).

    Only the embeds call this. With no origins configured nothing changes: the page keeps
    frame-ancestors 'none' and X-Frame-Options DENY like every other page.
    """
    g.frame_ancestors = list(origins)


def framing_policy(origins: list[str]) -> str:
    """Return the Content-Security-Policy of a page these origins may frame."""
    ancestors = " ".join(origins) if origins else "'none'"
    return "; ".join([*CSP_DIRECTIVES, f"frame-ancestors {ancestors}"])


def _security_headers(response: Response) -> Response:
    headers = response.headers
    origins: list[str] = g.get("frame_ancestors") or []
    if origins:
        # X-Frame-Options cannot name several origins (ALLOW-FROM is dead), and a browser
        # that knows frame-ancestors ignores it; so it is left out rather than contradict.
        headers.setdefault("Content-Security-Policy", framing_policy(origins))
    else:
        headers.setdefault(
            "Content-Security-Policy",
            content_security_policy(current_app._get_current_object()),  # type: ignore[attr-defined]
        )
        headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if getattr(g, "private_page", False) or request.path.startswith("/redaktion"):
        headers["Cache-Control"] = "no-store"
    # Only pages that say so (core.caching) may be kept by a shared cache.
    headers.setdefault("Cache-Control", "private, no-cache")
    return response


def _render_error(code: int, description: str | None = None) -> Response:
    body = render_template(f"errors/{code}.html", code=code, description=description)
    return Response(body, code, mimetype="text/html")


def _handle_http_error(exc: HTTPException) -> ResponseReturnValue:
    code = exc.code or 500
    if code not in ERROR_CODES:
        return exc
    response = _render_error(code, getattr(exc, "user_message", None))
    for name in ("Allow", "Retry-After"):
        if name in exc.get_response().headers:
            response.headers[name] = exc.get_response().headers[name]
    return response


def _handle_csrf(_exc: CSRFError) -> ResponseReturnValue:
    return _render_error(
        400,
        _("The form has expired or was sent from elsewhere. Please reload the page and try again."),
    )


class RefusedRequest(BadRequest):
    """A request refused for a reason people should read (`user_message`, translated).

    Raised rather than answered, so the error handlers answer it as the path expects: an
    error page on the site, problem details under /api/.
    """

    def __init__(self, user_message: str) -> None:
        super().__init__()
        self.user_message = user_message


def _refuse_nul() -> NoReturn:
    raise RefusedRequest(
        _(
            "The request contains a NUL character, which no form sends and which cannot be "
            "stored. Nothing was saved."
        )
    )


def _refuse_nul_characters() -> ResponseReturnValue | None:
    """Refuse a NUL in the query or the form: PostgreSQL can neither store nor compare it.

    Path values need no check: tokens are looked up by their digest, the rest are numbers
    or matched against fixed lists.
    """
    if any("\x00" in key or "\x00" in value for key, value in request.args.items(multi=True)):
        return _refuse_nul()
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and any(
        "\x00" in key or "\x00" in value for key, value in request.form.items(multi=True)
    ):
        return _refuse_nul()
    return None


def _handle_unexpected(exc: Exception) -> ResponseReturnValue:
    # Never show a stack trace or a secret: log it, answer with the plain 500 page.
    if isinstance(exc, HTTPException):
        return _handle_http_error(exc)
    logger.exception("unhandled error on %s %s", request.method, request.path)
    db.session.rollback()
    return _render_error(InternalServerError.code)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _declare_write_intent() -> None:
    # A form post writes: its transaction takes SQLite's write lock first (and waits for
    # it), instead of failing when it turns from reading to writing (see core.db).
    g.write_intent_token = set_write_intent(request.method not in SAFE_METHODS)


def _forget_write_intent(_exc: BaseException | None = None) -> None:
    token = g.pop("write_intent_token", None)
    if token is not None:
        reset_write_intent(token)


def init_http(app: Flask) -> None:
    """Register the shared request hooks, error pages and core routes."""
    app.register_blueprint(bp)
    csrf.exempt(set_language)
    app.before_request(_declare_write_intent)
    app.teardown_request(_forget_write_intent)
    app.before_request(_refuse_nul_characters)
    app.after_request(_finish_transaction)
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(HTTPException, _handle_http_error)
    app.register_error_handler(Exception, _handle_unexpected)
