"""Forms of the translators' pages: the list the editors keep, a request, the translation."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Field,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from newsticker.core.i18n import lazy_gettext as _l
from newsticker.items.forms.fields import (
    MailAddress,
    MultiCheckboxField,
    PlainText,
    SingleLine,
    choices,
    clean_text,
    strip_space,
    text_field,
)
from newsticker.items.languages import LANGUAGE_CODES, language_name
from newsticker.translators.models import MAIL_LANGUAGES, Translator

_NOTE_LENGTH = 2000
# Each in its own name, as the submission form offers them.
MAIL_LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}


def _note_field(label: Any) -> TextAreaField:
    return TextAreaField(
        label,
        validators=[
            Optional(),
            Length(max=_NOTE_LENGTH, message=_l("Please use at most %(max)d characters.")),
            PlainText(),
        ],
        filters=[clean_text],
        render_kw={"rows": 3},
    )


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class TranslatorForm(FlaskForm):
    """A translator as the editors keep them."""

    name = text_field(_l("Name"), max_length=200, required=_l("Please enter a name."))
    email = EmailField(
        _l("E-mail address"),
        validators=[
            DataRequired(_l("Please enter an e-mail address.")),
            Length(max=320),
            SingleLine(),
            MailAddress(),
        ],
        filters=[strip_space],
    )
    # Checked in validate_languages: DataRequired would mark every checkbox as required.
    languages = MultiCheckboxField(_l("Translates into"), choices=[])
    mail_language = RadioField(
        _l("Language of our mails to them"),
        choices=choices((code, MAIL_LANGUAGE_NAMES[code]) for code in MAIL_LANGUAGES),
        default="de",
        validators=[InputRequired(_l("Please choose a language."))],
    )
    active = BooleanField(_l("Active (offered for new requests)"), default=True)
    note = _note_field(_l("Note for the editors"))

    def validate_languages(self, field: Field) -> None:
        if not field.data:
            raise ValidationError(_l("Please choose at least one language."))

    def setup(self) -> TranslatorForm:
        """Offer the item languages, named in the interface language."""
        self.languages.choices = choices((code, language_name(code)) for code in LANGUAGE_CODES)
        return self

    def fill_from(self, translator: Translator) -> None:
        """Show a translator's stored values."""
        self.name.data = translator.name
        self.email.data = translator.email
        self.languages.data = list(translator.languages)
        self.mail_language.data = translator.mail_language
        self.active.data = translator.active
        self.note.data = translator.note


class RequestForm(FlaskForm):
    """Ask a translator for a version: whom and into which language, a note, a due date."""

    # One choice per (language, translator): only translators of a language are offered
    # under it, and no script is needed to narrow the list.
    whom = SelectField(
        _l("Language and translator"),
        choices=[],
        validate_choice=True,
        validators=[InputRequired(_l("Please choose a translator."))],
    )
    note = _note_field(_l("Note for the translator"))
    due_on = DateField(
        _l("Wanted by"),
        validators=[Optional()],
    )

    def setup(self, offers: list[tuple[str, list[Translator]]]) -> RequestForm:
        """Offer each language (code, its translators) as a group of translators."""
        grouped: dict[str, list[tuple[str, str]]] = {}
        for code, translators in offers:
            grouped[language_name(code)] = [(f"{code}:{t.id}", t.name) for t in translators]
        self.whom.choices = grouped
        return self

    def chosen(self) -> tuple[str, int]:
        """Return the chosen language and translator id."""
        code, _sep, translator_id = (self.whom.data or "").partition(":")
        return code, int(translator_id)


class TranslationForm(FlaskForm):
    """The translator's version; its rules are the version service's (as a submission's)."""

    language = HiddenField()
    title = StringField(_l("Title"), filters=[clean_text])
    summary = TextAreaField(_l("Short description"), filters=[clean_text], render_kw={"rows": 3})
    description = TextAreaField(_l("More details"), filters=[clean_text], render_kw={"rows": 8})


class DeclineForm(FlaskForm):
    """The translator cannot do it; a reason is welcome but not needed."""

    reason = _note_field(_l("Reason (optional)"))


class ReviewForm(FlaskForm):
    """An editor turns a translation down, saying why (for the trail)."""

    reason = _note_field(_l("Reason (optional)"))
