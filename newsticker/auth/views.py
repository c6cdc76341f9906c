"""Log editors in and out."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from newsticker.auth import services
from newsticker.auth.forms import LoginForm, NewUserForm
from newsticker.auth.models import User
from newsticker.config import get_settings
from newsticker.core.access import admin_required
from newsticker.core.db import db
from newsticker.core.extensions import limiter, login_manager
from newsticker.core.http import safe_next_url

bp = Blueprint("auth", __name__, url_prefix="/redaktion")


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    return services.load_user(db.session, user_id)


def _login_account_key() -> str:
    return "login-account:" + request.form.get("email", "").strip().lower()


def _login_failed(response: Response) -> bool:
    # Only failed attempts count against the account, so a user who logs in often
    # is never locked out by success.
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: get_settings().rate_limits.login_per_ip, methods=["POST"], deduct_when=_login_failed
)
@limiter.limit(
    lambda: get_settings().rate_limits.login_per_account,
    methods=["POST"],
    key_func=_login_account_key,
    deduct_when=_login_failed,
)
def login() -> ResponseReturnValue:
    """Show the login form and log the user in."""
    if current_user.is_authenticated:
        return redirect(url_for("editor.dashboard"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = services.authenticate(db.session, form.email.data or "", form.password.data or "")
        if user is not None:
            login_user(user)
            return redirect(safe_next_url(request.args.get("next"), url_for("editor.dashboard")))
        # One message for an unknown address and a wrong password: no hint which it was.
        form.form_errors.append(_("E-mail address or password is not correct."))
        status = 401
    elif form.is_submitted():
        status = 422
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    """Log the user out."""
    logout_user()
    flash(_("You have been logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/benutzer", methods=["GET", "POST"])
@login_required
@admin_required
def users() -> ResponseReturnValue:
    """List the accounts and create new ones (admins only)."""
    form = NewUserForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.create_user(
                db.session,
                form.email.data or "",
                form.password.data or "",
                role=form.role.data or "editor",
                name=form.name.data or "",
            )
        except services.UserError as exc:
            form.form_errors.append(str(exc))
            status = 422
        else:
            flash(_("Account %(email)s created.", email=user.email), "success")
            return redirect(url_for("auth.users"))
    elif form.is_submitted():
        status = 422
    accounts = db.session.scalars(select(User).order_by(User.email)).all()
    return render_template("auth/users.html", form=form, accounts=accounts), status


@bp.route("/benutzer/<int:user_id>/aktiv", methods=["POST"])
@login_required
@admin_required
def toggle_user(user_id: int) -> ResponseReturnValue:
    """Deactivate or reactivate an account (never one's own)."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    if user.id == current_user.id:
        flash(_("You cannot deactivate your own account."), "error")
        return redirect(url_for("auth.users"))
    services.set_active(db.session, user, not user.active)
    return redirect(url_for("auth.users"))
