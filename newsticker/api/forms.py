"""The form that makes an API token in the editor area."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from newsticker.api.models import ApiScope
from newsticker.api.services import MAX_DAYS, MAX_NAME
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.items.forms.fields import MultiCheckboxField, choices

SCOPE_LABELS = {
    ApiScope.READ: _l("Read (moderation queue, issues, delivery)"),
    ApiScope.MODERATE: _l("Moderate submissions"),
    ApiScope.PUBLISH: _l("Compose, schedule and test-send issues"),
    ApiScope.SUBSCRIBERS: _l("Manage subscribers"),
}


class TokenForm(FlaskForm):
    """Name, permissions and lifetime of a new token."""

    name = StringField(
        _l("Name (which system or script uses it)"),
        validators=[
            DataRequired(_l("Please give the token a name.")),
            Length(max=MAX_NAME, message=_l("Please use at most %(max)d characters.")),
        ],
    )
    scopes = MultiCheckboxField(
        _l("Permissions"),
        choices=choices((scope.value, label) for scope, label in SCOPE_LABELS.items()),
        validators=[DataRequired(_l("Please choose at least one permission."))],
    )
    days = IntegerField(
        _l("Valid for (days)"),
        default=365,
        validators=[
            InputRequired(_l("Please enter a number of days.")),
            NumberRange(
                min=1, max=MAX_DAYS, message=_l("A token may be valid for 1 to %(max)d days.")
            ),
        ],
    )
