"""The login form."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from newsticker.core.i18n import lazy_gettext as _l


class LoginForm(FlaskForm):
    """Address and password of an editor."""

    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(_l("Please enter your e-mail address.")), Length(max=320)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Please enter your password.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Log in"))


class NewUserForm(FlaskForm):
    """An admin creates an account."""

    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(_l("Please enter an e-mail address.")), Length(max=320)],
    )
    name = StringField(_l("Name"), validators=[Length(max=200)])
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice("editor", _l("Editor")), SelectChoice("admin", _l("Administrator"))],
    )
    password = PasswordField(
        _l("Initial password"),
        validators=[DataRequired(_l("Please enter a password.")), Length(max=1024)],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Create account"))


def _new_password_fields() -> tuple[Any, Any]:
    """Return a new password and its repetition (the change and the reset form ask alike)."""
    return (
        PasswordField(
            _l("New password"),
            validators=[DataRequired(_l("Please enter a new password.")), Length(max=1024)],
            render_kw={"autocomplete": "new-password"},
        ),
        PasswordField(
            _l("New password again"),
            validators=[
                DataRequired(_l("Please enter the new password again.")),
                EqualTo("new_password", _l("The two new passwords are not the same.")),
            ],
            render_kw={"autocomplete": "new-password"},
        ),
    )


class ChangePasswordForm(FlaskForm):
    """A user changes their own password."""

    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Please enter your current password.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password, confirm = _new_password_fields()
    submit = SubmitField(_l("Change password"))


class ResetRequestForm(FlaskForm):
    """Ask for a password reset link."""

    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(_l("Please enter your e-mail address.")), Length(max=320)],
        render_kw={"autocomplete": "username"},
    )
    submit = SubmitField(_l("Send link"))


class ResetPasswordForm(FlaskForm):
    """Choose a new password through a reset link."""

    new_password, confirm = _new_password_fields()
    submit = SubmitField(_l("Save new password"))


class CodeForm(FlaskForm):
    """A code from the authenticator app, or a recovery code."""

    code = StringField(
        _l("Code"),
        validators=[DataRequired(_l("Please enter the code.")), Length(max=32)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Confirm"))


class DisableTotpForm(FlaskForm):
    """Turn two-factor login off (the password confirms it)."""

    password = PasswordField(
        _l("Your password, to confirm"),
        validators=[DataRequired(_l("Please enter your current password.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Turn off two-factor login"))


class RoleForm(FlaskForm):
    """An admin gives an account another role."""

    role = SelectField(
        _l("Role"),
        choices=[SelectChoice("editor", _l("Editor")), SelectChoice("admin", _l("Administrator"))],
    )
    submit = SubmitField(_l("Change role"))
