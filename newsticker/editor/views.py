"""Dashboard and outbox of the editor area."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, render_template
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from newsticker.config import get_settings
from newsticker.core.access import protect_editor_blueprint
from newsticker.core.catcher import read_caught, read_one
from newsticker.core.db import db, utcnow
from newsticker.delivery.models import SEND_STATE_LABELS
from newsticker.editor import services
from newsticker.issues.models import STATUS_LABELS as ISSUE_STATUS_LABELS

bp = Blueprint("editor", __name__, url_prefix="/redaktion")
protect_editor_blueprint(bp)

# Caught mails are shown in a sandboxed frame: no scripts, no forms, no same origin, no
# remote images, and only the outbox page may frame them.
MAIL_PREVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data: 'self'; "
    "frame-ancestors 'self'; sandbox"
)
OUTBOX_PAGE_SIZE = 200


def _maildir() -> Path:
    settings = get_settings()
    return settings.instance_dir / settings.catcher.maildir


@bp.route("/")
def dashboard() -> ResponseReturnValue:
    """Show what needs doing: waiting submissions, next issues, the last send, returns, growth."""
    board = services.dashboard(db.session, get_settings(), now=utcnow())
    return render_template(
        "editor/dashboard.html",
        board=board,
        waiting_age=services.age_parts(board.waiting.oldest_age),
        issue_labels=ISSUE_STATUS_LABELS,
        send_labels=SEND_STATE_LABELS,
    )


@bp.route("/postausgang")
def outbox() -> ResponseReturnValue:
    """List the mails the loopback catcher received, newest first."""
    mails = read_caught(_maildir())
    return render_template(
        "editor/outbox.html",
        mails=mails[:OUTBOX_PAGE_SIZE],
        total=len(mails),
        catcher_enabled=get_settings().catcher.enabled,
    )


@bp.route("/postausgang/<key>")
def outbox_mail(key: str) -> ResponseReturnValue:
    """Show one caught mail: headers, text part and HTML part."""
    mail = read_one(_maildir(), key)
    if mail is None:
        abort(404)
    return render_template("editor/outbox_mail.html", mail=mail)


@bp.route("/postausgang/<key>/html")
def outbox_mail_html(key: str) -> ResponseReturnValue:
    """Serve a caught mail's HTML part for the sandboxed preview frame."""
    mail = read_one(_maildir(), key)
    html = mail.body("html") if mail else None
    if html is None:
        abort(404)
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = MAIL_PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
