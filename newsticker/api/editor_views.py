"""API tokens in the editor area: make one (shown once), see them, revoke one."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from newsticker.api import services
from newsticker.api.forms import SCOPE_LABELS, TokenForm
from newsticker.core.access import protect_editor_blueprint
from newsticker.core.audit import Actor
from newsticker.core.db import db, utcnow
from newsticker.core.i18n import gettext as _

bp = Blueprint("api_tokens", __name__, url_prefix="/redaktion/api-schluessel")
protect_editor_blueprint(bp)


def _actor() -> Actor:
    return Actor(
        label=str(current_user.email), user_id=int(current_user.id), ip=request.remote_addr or ""
    )


def _page(form: TokenForm, status: int = 200, secret: str | None = None) -> ResponseReturnValue:
    return (
        render_template(
            "api/tokens.html",
            form=form,
            tokens=services.tokens_of(db.session, int(current_user.id)),
            secret=secret,
            scope_labels={scope.value: label for scope, label in SCOPE_LABELS.items()},
            now=utcnow(),
        ),
        status,
    )


@bp.route("", methods=["GET", "POST"])
def index() -> ResponseReturnValue:
    """List the account's tokens and make a new one."""
    form = TokenForm()
    if request.method == "GET":
        return _page(form)
    if not form.validate_on_submit():
        return _page(form, 422)
    try:
        made = services.create_token(
            db.session,
            user_id=int(current_user.id),
            name=form.name.data or "",
            scopes=list(form.scopes.data or []),
            days=int(form.days.data or 0),
            actor=_actor(),
            now=utcnow(),
        )
    except services.TokenRefused as exc:
        form.form_errors.append(str(exc.message))
        return _page(form, 422)
    # Shown on this answer only: it is stored as a digest and cannot be shown again.
    return _page(TokenForm(formdata=None), 201, secret=made.secret)


@bp.route("/<int:token_id>/widerrufen", methods=["POST"])
def revoke(token_id: int) -> ResponseReturnValue:
    """Revoke one of the account's tokens: it stops working at once."""
    # CSRFProtect checks the form's token for every post of the site.
    token = services.revoke_token(
        db.session, token_id, user_id=int(current_user.id), actor=_actor(), now=utcnow()
    )
    if token is None:
        abort(404)
    flash(_("The token “%(name)s” is revoked.", name=token.name), "success")
    return redirect(url_for("api_tokens.index"), 303)
