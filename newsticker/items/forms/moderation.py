"""Forms of the moderation queue: reject with a reason, merge, confirm, filter the queue."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from newsticker.core.i18n import lazy_gettext as _l
from newsticker.items.forms.fields import PlainText, choices, clean_text, strip_space
from newsticker.items.models import FIELDS_OF_ACTION, STATUS_LABELS


class RejectForm(FlaskForm):
    """The reason for a rejection, sent to the submitter."""

    reason = TextAreaField(
        _l("Reason for the submitter"),
        validators=[
            DataRequired(_l("Please give a reason; the submitter will read it.")),
            Length(max=2000, message=_l("Please use at most %(max)d characters.")),
            PlainText(),
        ],
        filters=[clean_text],
        render_kw={"rows": 4},
    )


class MergeForm(FlaskForm):
    """The item a duplicate is folded into."""

    target = IntegerField(
        _l("Number of the item to keep"),
        validators=[InputRequired(_l("Please enter the number of the item to keep."))],
    )


class ConfirmForm(FlaskForm):
    """A button that only needs the CSRF token (approve, withdraw)."""


class QueueFilterForm(FlaskForm):
    """Filters of the moderation queue (GET, no CSRF)."""

    class Meta:
        csrf = False

    status = SelectField(
        _l("Status"),
        choices=choices([("", _l("all")), *STATUS_LABELS.items()]),
        default="submitted",
    )
    field_of_action = SelectField(
        _l("Field of action"),
        choices=choices([("", _l("all")), *FIELDS_OF_ACTION.items()]),
        default="",
    )
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    q = StringField(_l("Search"), validators=[Optional(), Length(max=200)], filters=[strip_space])
