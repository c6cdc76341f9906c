"""The login form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

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
