"""The form that registers a webhook endpoint."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from newsticker.core.i18n import lazy_gettext as _l
from newsticker.core.webhooks import EVENT_TYPES


class MultiCheckboxField(SelectMultipleField):
    """Several checkboxes in a list (rendered as a fieldset by macros/forms.html)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EndpointForm(FlaskForm):
    """An admin registers a receiver and the events it wants."""

    url = StringField(
        _l("Address (URL)"),
        validators=[DataRequired(_l("Please enter the address of the receiver.")), Length(max=500)],
        render_kw={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"},
    )
    description = StringField(_l("Description"), validators=[Length(max=200)])
    events = MultiCheckboxField(
        _l("Events"),
        choices=[SelectChoice(key, label) for key, label in EVENT_TYPES.items()],
        validators=[DataRequired(_l("Please choose at least one event."))],
    )
    submit = SubmitField(_l("Register endpoint"))
