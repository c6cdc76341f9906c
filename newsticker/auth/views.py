"""Log editors in and out; their own account; admins manage accounts.

Login is the password, then (where set up) a code from the authenticator app or a
recovery code. A refused attempt answers with an error status, which rolls the
request's transaction back; its audit entry is written in a transaction of its own.
"""

from __future__ import annotations

import time
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from newsticker.auth import oidc, services
from newsticker.auth.forms import (
    ChangePasswordForm,
    CodeForm,
    DisableTotpForm,
    LoginForm,
    NewUserForm,
    ResetPasswordForm,
    ResetRequestForm,
    RoleForm,
)
from newsticker.auth.models import User
from newsticker.config import get_settings
from newsticker.core.access import admin_required
from newsticker.core.audit import Actor
from newsticker.core.db import db, utcnow
from newsticker.core.extensions import limiter, login_manager
from newsticker.core.http import safe_next_url
from newsticker.core.i18n import gettext as _
from newsticker.core.site import site_links
from newsticker.core.unit_of_work import commit, rollback

bp = Blueprint("auth", __name__, url_prefix="/redaktion")

# Kept in the signed session cookie between the password and the second factor.
PENDING_USER = "auth_pending_user"
PENDING_NEXT = "auth_pending_next"
PENDING_AT = "auth_pending_at"
# The code must follow the password within this many seconds.
PENDING_SECONDS = 600
SETUP_SECRET = "auth_totp_setup_secret"  # noqa: S105 (a session key)
LOGIN_METHOD = "auth_login_method"
ID_TOKEN = "auth_oidc_id_token"  # noqa: S105 (a session key)
# What an admin who must set up two-factor login may still open.
_SETUP_ENDPOINTS = frozenset({"auth.totp_setup", "auth.logout", "auth.account"})


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    return services.load_user(db.session, user_id)


def _ip() -> str:
    return request.remote_addr or ""


def _me() -> User:
    user: User = current_user._get_current_object()
    return user


def _login_account_key() -> str:
    return "login-account:" + request.form.get("email", "").strip().lower()


def _pending_account_key() -> str:
    return "second-factor:" + str(session.get(PENDING_USER, ""))


def _reset_address_key() -> str:
    return "reset-address:" + request.form.get("email", "").strip().lower()


def _login_failed(response: Response) -> bool:
    # Only failed attempts count against the account, so a user who logs in often
    # is never locked out by success.
    return response.status_code != 302


def _record_refusal(email: str, reason: str) -> None:
    """Write a refused login to the audit trail, although the answer rolls back."""
    rollback(db.session)
    services.record_login_failed(db.session, email, ip=_ip(), now=utcnow(), reason=reason)
    commit(db.session, None)


def _require_2fa(user: User) -> bool:
    return (
        user.is_admin
        and get_settings().auth.require_2fa_for_admins
        and not user.has_totp
        and session.get(LOGIN_METHOD) != "oidc"
    )


@bp.before_app_request
def _send_admins_to_2fa_setup() -> ResponseReturnValue | None:
    """An admin who must use two-factor login sets it up before anything else."""
    if not request.path.startswith("/redaktion") or request.endpoint in _SETUP_ENDPOINTS:
        return None
    if current_user.is_authenticated and _require_2fa(_me()):
        flash(_("Administrators must use two-factor login. Please set it up now."), "info")
        return redirect(url_for("auth.totp_setup"))
    return None


def _finish_login(user: User, method: str, next_url: str | None) -> Response:
    login_user(user)
    session[LOGIN_METHOD] = method
    services.record_login(db.session, user, ip=_ip(), now=utcnow(), method=method)
    if _require_2fa(user):
        flash(_("Administrators must use two-factor login. Please set it up now."), "info")
        return redirect(url_for("auth.totp_setup"))
    return redirect(safe_next_url(next_url, url_for("editor.dashboard")))


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
    """Show the login form and check the password."""
    if current_user.is_authenticated:
        return redirect(url_for("editor.dashboard"))
    settings = get_settings().auth
    form = LoginForm()
    status = 200
    if not settings.local_login:
        if form.is_submitted():
            form.form_errors.append(_("Please log in with single sign-on."))
            status = 403
        return render_template("auth/login.html", form=form, auth=settings), status
    if form.validate_on_submit():
        email = form.email.data or ""
        user = services.authenticate(db.session, email, form.password.data or "")
        if user is not None:
            session.pop(PENDING_USER, None)
            if user.has_totp:
                session[PENDING_USER] = user.get_id()
                session[PENDING_AT] = int(time.time())
                session[PENDING_NEXT] = request.args.get("next") or ""
                return redirect(url_for("auth.second_factor"))
            return _finish_login(user, "password", request.args.get("next"))
        # One message for an unknown address and a wrong password: no hint which it was.
        form.form_errors.append(_("E-mail address or password is not correct."))
        _record_refusal(email, "password")
        status = 401
    elif form.is_submitted():
        status = 422
    return render_template("auth/login.html", form=form, auth=settings), status


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit(
    lambda: get_settings().rate_limits.second_factor_per_account,
    methods=["POST"],
    key_func=_pending_account_key,
    deduct_when=_login_failed,
)
def second_factor() -> ResponseReturnValue:
    """Ask for the code from the authenticator app (or a recovery code)."""
    pending = session.get(PENDING_USER)
    started = session.get(PENDING_AT)
    fresh = isinstance(started, int) and 0 <= time.time() - started <= PENDING_SECONDS
    user = services.load_user(db.session, pending) if isinstance(pending, str) else None
    if user is None or not user.has_totp or not fresh:
        session.pop(PENDING_USER, None)
        session.pop(PENDING_AT, None)
        return redirect(url_for("auth.login"))
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            method = services.verify_second_factor(
                db.session, user, form.code.data or "", ip=_ip(), now=utcnow()
            )
        except services.SecondFactorError as exc:
            form.code.errors = [*form.code.errors, str(exc)]
            _record_refusal(user.email, "second_factor")
            status = 401
        else:
            session.pop(PENDING_USER, None)
            session.pop(PENDING_AT, None)
            next_url = session.pop(PENDING_NEXT, None)
            if method == "recovery":
                left = services.unused_recovery_codes(db.session, user)
                flash(
                    _("You used a recovery code; %(n)d are left.", n=left),
                    "info" if left > 2 else "error",
                )
            return _finish_login(user, method, next_url)
    elif form.is_submitted():
        status = 422
    return render_template("auth/second_factor.html", form=form), status


def _oidc_message(kind: str) -> str:
    if kind == "refused":
        return _("The sign-on was refused or cancelled at the identity provider.")
    if kind == "state":
        return _("This sign-on is unknown or has expired. Please start again.")
    if kind == "token":
        return _("The identity provider's answer could not be verified. Please start again.")
    return _(
        "The identity provider reported an error. Please try again later or ask the IT department."
    )


def _oidc_refused(message: str, reason: str, claims: dict[str, Any], status: int) -> Response:
    rollback(db.session)
    services.record_oidc_refused(db.session, claims, reason=reason, ip=_ip(), now=utcnow())
    commit(db.session, None)
    form = LoginForm()
    form.form_errors.append(message)
    body = render_template("auth/login.html", form=form, auth=get_settings().auth)
    return Response(body, status=status, mimetype="text/html")


@bp.route("/login/oidc", methods=["POST"])
def oidc_start() -> ResponseReturnValue:
    """Send the person to the identity provider (Authorization Code flow with PKCE)."""
    settings = get_settings().auth.oidc
    if not settings.enabled:
        abort(404)
    session[PENDING_NEXT] = request.args.get("next") or ""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        return oidc.start(app, settings, site_links().url("auth.oidc_callback"))
    except oidc.OidcFailure as exc:
        return _oidc_refused(_oidc_message(exc.kind), f"{exc.kind}: {exc.detail}", {}, 502)


@bp.route("/login/oidc/callback", methods=["GET"])
@limiter.limit(lambda: get_settings().rate_limits.login_per_ip, deduct_when=_login_failed)
def oidc_callback() -> ResponseReturnValue:
    """Check the provider's answer and log the person in with the role it maps to."""
    settings = get_settings().auth.oidc
    if not settings.enabled:
        abort(404)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        claims, id_token = oidc.finish(app, settings)
    except oidc.OidcFailure as exc:
        status = 403 if exc.kind == "refused" else 400 if exc.kind in ("state", "token") else 502
        return _oidc_refused(_oidc_message(exc.kind), f"{exc.kind}: {exc.detail}", {}, status)
    try:
        user = services.oidc_login(
            db.session,
            claims,
            role_claim=settings.role_claim,
            role_mapping=dict(settings.role_mapping),
            create_accounts=settings.create_accounts,
            ip=_ip(),
            now=utcnow(),
        )
    except services.UserError as exc:
        return _oidc_refused(str(exc), "no role or account", claims, 403)
    login_user(user)
    session[LOGIN_METHOD] = "oidc"
    session[ID_TOKEN] = id_token
    next_url = session.pop(PENDING_NEXT, None)
    return redirect(safe_next_url(next_url, url_for("editor.dashboard")))


@bp.route("/logout", methods=["POST"])
def logout() -> ResponseReturnValue:
    """Log the user out (and out of the identity provider after single sign-on)."""
    if current_user.is_authenticated:
        services.record_logout(db.session, _me(), ip=_ip(), now=utcnow())
    method = session.get(LOGIN_METHOD)
    id_token = session.get(ID_TOKEN) or ""
    logout_user()
    for key in (PENDING_USER, PENDING_NEXT, PENDING_AT, SETUP_SECRET, LOGIN_METHOD, ID_TOKEN):
        session.pop(key, None)
    flash(_("You have been logged out."), "info")
    settings = get_settings().auth.oidc
    if method == "oidc" and settings.enabled:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        end = oidc.logout_url(
            app,
            settings,
            id_token=str(id_token),
            post_logout_redirect_uri=site_links().url("auth.login"),
        )
        if end:
            return redirect(end)
    return redirect(url_for("auth.login"))


# --- the user's own account -------------------------------------------------------------


def _render_account(status: int = 200, **forms: Any) -> ResponseReturnValue:
    user = _me()
    forms.setdefault("password_form", ChangePasswordForm(prefix="pw"))
    forms.setdefault("disable_form", DisableTotpForm(prefix="off"))
    return (
        render_template(
            "auth/account.html",
            user=user,
            recovery_left=services.unused_recovery_codes(db.session, user),
            required=_totp_required_for(user),
            local_login=get_settings().auth.local_login,
            **forms,
        ),
        status,
    )


def _totp_required_for(user: User) -> bool:
    return user.is_admin and get_settings().auth.require_2fa_for_admins


@bp.route("/konto", methods=["GET"])
@login_required
def account() -> ResponseReturnValue:
    """The user's own account: password and two-factor login."""
    return _render_account()


def _own_account_key() -> str:
    return "own-account:" + str(current_user.get_id() or "").partition(":")[0]


@bp.route("/konto/passwort", methods=["POST"])
@login_required
@limiter.limit(
    lambda: get_settings().rate_limits.login_per_account,
    key_func=_own_account_key,
    deduct_when=_login_failed,
)
def change_password() -> ResponseReturnValue:
    """Change one's own password; every other session of the account ends."""
    form = ChangePasswordForm(prefix="pw")
    if not form.validate_on_submit():
        return _render_account(422, password_form=form)
    user = _me()
    try:
        services.change_password(
            db.session,
            user,
            form.current_password.data or "",
            form.new_password.data or "",
            ip=_ip(),
            now=utcnow(),
        )
    except services.UserError as exc:
        form.form_errors.append(str(exc))
        return _render_account(422, password_form=form)
    # The session version changed: this browser logs in anew, all others are out.
    method = session.get(LOGIN_METHOD)
    login_user(user)
    if method:
        session[LOGIN_METHOD] = method
    flash(_("Your password has been changed. You have been logged out everywhere else."), "success")
    return redirect(url_for("auth.account"))


@bp.route("/konto/2fa", methods=["GET", "POST"])
@login_required
def totp_setup() -> ResponseReturnValue:
    """Set up two-factor login: scan the QR code, confirm with one code."""
    user = _me()
    if user.has_totp:
        return redirect(url_for("auth.account"))
    secret = session.get(SETUP_SECRET)
    if not isinstance(secret, str) or not secret:
        secret = session[SETUP_SECRET] = services.new_totp_secret()
    form = CodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            codes = services.enable_totp(
                db.session, user, secret, form.code.data or "", ip=_ip(), now=utcnow()
            )
        except services.SecondFactorError as exc:
            form.code.errors = [*form.code.errors, str(exc)]
            status = 422
        else:
            session.pop(SETUP_SECRET, None)
            return render_template("auth/recovery_codes.html", codes=codes)
    elif form.is_submitted():
        status = 422
    uri = services.totp_uri(user, secret, get_settings().site.name)
    return (
        render_template(
            "auth/totp_setup.html",
            form=form,
            qr_svg=_qr_svg(uri),
            secret=" ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            required=_require_2fa(user),
        ),
        status,
    )


def _qr_svg(uri: str) -> Markup:
    """Return the QR code of a URI as inline SVG markup (no file, no script).

    segno writes the SVG from our own otpauth URI and escapes the title it is given.
    """
    import io

    import segno

    out = io.BytesIO()
    segno.make(uri, error="m").save(
        out,
        kind="svg",
        scale=5,
        border=2,
        xmldecl=False,
        svgns=True,
        omitsize=False,
        title=_("QR code for your authenticator app"),
        svgclass="qr-code",
    )
    return Markup(out.getvalue().decode("utf-8"))  # noqa: S704 - segno's own SVG


@bp.route("/konto/2fa/aus", methods=["POST"])
@login_required
@limiter.limit(
    lambda: get_settings().rate_limits.login_per_account,
    key_func=_own_account_key,
    deduct_when=_login_failed,
)
def totp_disable() -> ResponseReturnValue:
    """Turn two-factor login off, the password required (not for admins who must use it)."""
    user = _me()
    form = DisableTotpForm(prefix="off")
    if not form.validate_on_submit():
        return _render_account(422, disable_form=form)
    try:
        services.disable_totp(
            db.session,
            user,
            form.password.data or "",
            ip=_ip(),
            now=utcnow(),
            required=_totp_required_for(user),
        )
    except services.UserError as exc:
        form.form_errors.append(str(exc))
        return _render_account(422, disable_form=form)
    flash(_("Two-factor login is off."), "success")
    return redirect(url_for("auth.account"))


# --- password reset by mail -------------------------------------------------------------


@bp.route("/passwort-vergessen", methods=["GET", "POST"])
@limiter.limit(lambda: get_settings().rate_limits.password_reset_per_ip, methods=["POST"])
@limiter.limit(
    lambda: get_settings().rate_limits.password_reset_per_address,
    methods=["POST"],
    key_func=_reset_address_key,
)
def forgot_password() -> ResponseReturnValue:
    """Ask for a reset link; the answer is the same whether the address has an account."""
    if not get_settings().auth.local_login:
        abort(404)
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.request_password_reset(
            db.session, form.email.data or "", links=site_links(), ip=_ip(), now=utcnow()
        )
        flash(
            _(
                "If an account exists for this address, we have sent it a link to set a new "
                "password. The link works once and for one hour."
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/forgot_password.html", form=form), status


@bp.route("/passwort-neu/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: get_settings().rate_limits.token_pages_per_ip)
def reset_password(token: str) -> ResponseReturnValue:
    """Choose a new password through a reset link (single use, expiring)."""
    if not get_settings().auth.local_login:
        abort(404)
    try:
        services.valid_reset(db.session, token, now=utcnow())
    except services.ResetLinkError as exc:
        return render_template("auth/reset_invalid.html", message=str(exc)), 410
    form = ResetPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            services.reset_password(
                db.session, token, form.new_password.data or "", ip=_ip(), now=utcnow()
            )
        except services.UserError as exc:
            form.form_errors.append(str(exc))
            status = 422
        else:
            logout_user()
            flash(_("Your new password is set. Please log in."), "success")
            return redirect(url_for("auth.login"))
    elif form.is_submitted():
        status = 422
    return render_template("auth/reset_password.html", form=form), status


# --- admins manage accounts -------------------------------------------------------------


def _admin_actor() -> Actor:
    return services.actor_of(_me(), _ip())


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
    role_forms = {a.id: RoleForm(prefix=f"role-{a.id}", role=a.role.value) for a in accounts}
    return (
        render_template("auth/users.html", form=form, accounts=accounts, role_forms=role_forms),
        status,
    )


def _account_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/benutzer/<int:user_id>/aktiv", methods=["POST"])
@login_required
@admin_required
def toggle_user(user_id: int) -> ResponseReturnValue:
    """Deactivate or reactivate an account (never one's own, nor the last admin)."""
    user = _account_or_404(user_id)
    try:
        services.set_active(db.session, user, not user.active, actor=_admin_actor(), now=utcnow())
    except services.UserError as exc:
        flash(str(exc), "error")
    else:
        if user.active:
            flash(_("%(email)s can log in again.", email=user.email), "success")
        else:
            flash(_("%(email)s is deactivated and logged out.", email=user.email), "success")
    return redirect(url_for("auth.users"))


@bp.route("/benutzer/<int:user_id>/rolle", methods=["POST"])
@login_required
@admin_required
def change_role(user_id: int) -> ResponseReturnValue:
    """Give an account another role (not one's own, and one admin always stays)."""
    user = _account_or_404(user_id)
    form = RoleForm(prefix=f"role-{user.id}")
    if not form.validate_on_submit():
        flash(_("Please choose a role."), "error")
        return redirect(url_for("auth.users"))
    try:
        services.change_role(
            db.session, user, form.role.data or "", actor=_admin_actor(), now=utcnow()
        )
    except services.UserError as exc:
        flash(str(exc), "error")
    else:
        flash(
            _(
                "%(email)s now has the role %(role)s.",
                email=user.email,
                role=_("Administrator") if user.is_admin else _("Editor"),
            ),
            "success",
        )
    return redirect(url_for("auth.users"))


@bp.route("/benutzer/<int:user_id>/2fa-aus", methods=["POST"])
@login_required
@admin_required
def reset_user_totp(user_id: int) -> ResponseReturnValue:
    """Turn off another person's two-factor login; they set it up anew at the next login."""
    user = _account_or_404(user_id)
    try:
        services.reset_totp(db.session, user, actor=_admin_actor(), now=utcnow())
    except services.UserError as exc:
        flash(str(exc), "error")
    else:
        flash(
            _("Two-factor login of %(email)s is off; they are logged out.", email=user.email),
            "success",
        )
    return redirect(url_for("auth.users"))
