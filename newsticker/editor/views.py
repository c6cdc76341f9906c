"""Dashboard and outbox of the editor area."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response

from newsticker.config import get_settings
from newsticker.core import audit
from newsticker.core.access import admin_required, protect_editor_blueprint, request_actor
from newsticker.core.catcher import read_caught, read_one
from newsticker.core.db import db, utcnow
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.delivery.models import SEND_STATE_LABELS
from newsticker.editor import services
from newsticker.editor.forms import ACTION_LABELS, AuditFilterForm
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


# ---------------------------------------------------------------- the audit trail (admins)

AUDIT_PAGE_SIZE = 50
AUDIT_HEADER = (
    _l("When"),
    _l("Action"),
    _l("Who"),
    _l("Account"),
    _l("IP address"),
    _l("Concerns"),
    _l("Number"),
    _l("What"),
)


def _audit_filters() -> tuple[AuditFilterForm, audit.AuditFilters, bool]:
    """Read the trail's filters from the query; a filter with a nonsense value is left out."""
    form = AuditFilterForm(formdata=request.args if request.args else None)
    form.setup(audit.known_actions(db.session))
    valid = not request.args or form.validate()
    filters = audit.AuditFilters(
        actor=(form.actor.data or "").strip()[:320] if not form.actor.errors else "",
        action=form.action.data or "" if not form.action.errors else "",
        date_from=form.date_from.data if not form.date_from.errors else None,
        date_to=form.date_to.data if not (form.date_to.errors or form.date_from.errors) else None,
    )
    return form, filters, valid


@bp.route("/protokoll")
@admin_required
def audit_trail() -> ResponseReturnValue:
    """Show the audit trail, newest first, filtered by actor, action and days, paged."""
    form, filters, valid = _audit_filters()
    raw_page = request.args.get("seite", "1")
    page = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) <= 100_000 else 1
    events, total = audit.search_events(
        db.session, filters, tz=get_settings().tz, page=page, per_page=AUDIT_PAGE_SIZE
    )
    return (
        render_template(
            "editor/audit.html",
            form=form,
            events=events,
            total=total,
            page=page,
            has_more=page * AUDIT_PAGE_SIZE < total,
            page_args={k: v for k, v in request.args.items() if k != "seite"},
            action_labels=ACTION_LABELS,
        ),
        200 if valid else 422,
    )


@bp.route("/protokoll.csv")
@admin_required
def audit_export() -> ResponseReturnValue:
    """Download the filtered trail as CSV (cells a spreadsheet will not run as formulas)."""
    _form, filters, valid = _audit_filters()
    if not valid:
        return audit_trail()
    body = audit.audit_csv(
        db.session,
        filters,
        tz=get_settings().tz,
        header=AUDIT_HEADER,
        actor=request_actor(),
        now=utcnow(),
    )
    response = Response(body, mimetype="text/csv")
    stamp = utcnow().strftime("%Y-%m-%d")
    response.headers["Content-Disposition"] = f'attachment; filename="protokoll-{stamp}.csv"'
    return response
