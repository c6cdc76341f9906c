"""Forms of the subscriber pages: subscribe, preferences, and the editors' tools."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from newsticker.config import Settings
from newsticker.core.addresses import InvalidAddress, normalise_address
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.core.i18n import mail_language_choices
from newsticker.core.markup import has_control_chars
from subscribers.csvio import NAME_MAX_LENGTH
from subscribers.models import STATUS_LABELS

LANGUAGE_CHOICES = mail_language_choices()


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _collapse(value: Any) -> Any:
    # Spaces inside a name are kept as one; line breaks are refused, not folded away.
    if not isinstance(value, str):
        return value
    if has_control_chars(value.strip()):
        return value.strip()
    return " ".join(value.split())


class MultiCheckboxField(SelectMultipleField):
    """Several checkboxes in a list (rendered as a fieldset by macros/forms.html)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class Address:
    """Check an address with the subscriber rules and keep its normalised form."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not field.data:
            return
        try:
            field.normalised = normalise_address(field.data)
        except InvalidAddress as exc:
            raise ValidationError(str(exc)) from exc


class SingleLineName:
    """Refuse line breaks and control characters: a name may end up in a mail header."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if field.data and has_control_chars(field.data):
            raise ValidationError(
                _l("The name must be on one line, without line breaks or control characters.")
            )


def publication_choices(settings: Settings) -> list[SelectChoice]:
    """Return a choice (slug, name) for every configured publication."""
    return [SelectChoice(p.slug, p.name) for p in settings.publications]


def _email_field(label: Any) -> EmailField:
    return EmailField(
        label,
        validators=[DataRequired(_l("Please enter an e-mail address.")), Address()],
        filters=[_strip],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )


def _name_field(label: Any) -> StringField:
    return StringField(
        label,
        validators=[
            Optional(),
            Length(
                max=NAME_MAX_LENGTH,
                message=_l("The name may have at most %(max)d characters."),
            ),
            SingleLineName(),
        ],
        filters=[_collapse],
        render_kw={"autocomplete": "name"},
    )


class SubscribeForm(FlaskForm):
    """The public sign-up: address, optional name, publications, language, spam guards."""

    email = _email_field(_l("E-mail address"))
    name = _name_field(_l("Name (optional)"))
    publications = MultiCheckboxField(_l("Publications to receive"), choices=[])
    language = RadioField(_l("Language of the mails"), choices=LANGUAGE_CHOICES, default="de")
    # The honeypot: hidden from people and screen readers, filled in by form robots.
    website = StringField(_l("Leave this field empty"), filters=[_strip])
    started = HiddenField()

    def validate_publications(self, field: Field) -> None:
        if not field.data:
            raise ValidationError(_l("Please choose at least one publication."))

    def validate_website(self, field: Field) -> None:
        if field.data:
            raise ValidationError(_l("Please leave this field empty."))


class PreferencesForm(FlaskForm):
    """A subscriber's own settings, reached through the personal link."""

    name = _name_field(_l("Name (optional)"))
    language = RadioField(_l("Language of the mails"), choices=LANGUAGE_CHOICES)
    publications = MultiCheckboxField(_l("Publications you receive"), choices=[])


class ActionForm(FlaskForm):
    """A button that changes something (CSRF only)."""


class EraseForm(FlaskForm):
    """Erasure asks for a tick, so one stray click cannot delete a person."""

    sure = BooleanField(
        _l("Yes, erase all data. This cannot be undone."),
        validators=[DataRequired(_l("Please tick the box to confirm the erasure."))],
    )


class SearchForm(FlaskForm):
    """The editor list's search (GET, no CSRF)."""

    class Meta:
        csrf = False

    q = StringField(_l("Search address or name"), filters=[_strip], validators=[Length(max=200)])
    publication = SelectField(_l("Publication"), choices=[], validate_choice=False)
    status = SelectField(_l("Status"), choices=[], validate_choice=False)

    def setup(self, settings: Settings) -> None:
        """Fill the choices from the configured publications."""
        self.publication.choices = [
            SelectChoice("", _l("All publications")),
            *publication_choices(settings),
        ]
        self.status.choices = [
            SelectChoice("", _l("Any status")),
            *(SelectChoice(value, label) for value, label in STATUS_LABELS.items()),
            SelectChoice("blocked", _l("Blocked")),
        ]


class AddSubscriberForm(FlaskForm):
    """An editor adds a person by hand and says how they consented."""

    email = _email_field(_l("E-mail address"))
    name = _name_field(_l("Name (optional)"))
    language = RadioField(_l("Language of the mails"), choices=LANGUAGE_CHOICES, default="de")
    publications = MultiCheckboxField(_l("Publications"), choices=[])
    consent_note = TextAreaField(
        _l("How and when did the person consent?"),
        validators=[
            DataRequired(_l("Please say how and when the person consented.")),
            Length(min=10, max=2000, message=_l("Please write between 10 and 2000 characters.")),
        ],
        filters=[_strip],
    )
    ask_confirmation = BooleanField(_l("Ask the person to confirm by mail (double opt-in)"))

    def validate_publications(self, field: Field) -> None:
        if not field.data:
            raise ValidationError(_l("Please choose at least one publication."))


class BlockForm(FlaskForm):
    """Block a subscriber, with an optional reason."""

    note = StringField(
        _l("Reason (optional)"),
        filters=[_strip],
        validators=[Optional(), Length(max=500), SingleLineName()],
    )


class ImportForm(FlaskForm):
    """Upload a list for import; the next page previews the report."""

    file = FileField(
        _l("CSV file"), validators=[FileRequired(_l("Please choose a CSV file to import."))]
    )
    publication = SelectField(_l("Publication"), choices=[])
    consent_note = TextAreaField(
        _l("How did the people on this list consent?"),
        validators=[
            DataRequired(_l("Please say how the people on this list consented.")),
            Length(min=10, max=2000, message=_l("Please write between 10 and 2000 characters.")),
        ],
        filters=[_strip],
    )


class ReinstateForm(FlaskForm):
    """Put an address back that bounces took off wrongly, saying why (for the audit trail)."""

    reason = StringField(
        _l("Why is the address deliverable after all?"),
        filters=[_strip],
        validators=[
            DataRequired(_l("Please say why the address is put back (for the audit trail).")),
            Length(max=500, message=_l("Please use at most %(max)d characters.")),
            SingleLineName(),
        ],
    )
