"""Forms for an item's texts in more languages: a repeatable group, and one version alone.

The public form carries a fixed number of empty groups (`VERSION_GROUPS`), so it works
without JavaScript; items.js shows one group at a time and adds more, up to
`MAX_VERSIONS`. A group left empty is no version. The rules are the services'
(`version_errors`), so the public form, the private link, the translators' link and the
editors apply the same ones; the form only cleans the text first, as the item's own
fields do.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, SelectField, TextAreaField
from wtforms.validators import Optional

from newsticker.core.i18n import lazy_gettext as _l
from newsticker.items.forms.fields import choices, clean_text, text_field
from newsticker.items.languages import language_choices
from newsticker.items.models import ItemVersion
from newsticker.items.services import VersionInput, version_errors_for

# Empty groups the public form shows; with JavaScript a submitter can add more.
VERSION_GROUPS = 2
MAX_VERSIONS = 6
TEXT_FIELDS = ("title", "summary", "description")


def _language_choices() -> list[Any]:
    return choices([("", _l("Choose a language")), *language_choices(sign_language=False)])


def _language_field() -> SelectField:
    return SelectField(_l("Language"), choices=[], validate_choice=False)


def _summary_field() -> TextAreaField:
    return TextAreaField(
        _l("Short description in this language"),
        validators=[Optional()],
        filters=[clean_text],
        render_kw={"rows": 3},
    )


def _description_field() -> TextAreaField:
    return TextAreaField(
        _l("More details in this language"),
        validators=[Optional()],
        filters=[clean_text],
        render_kw={"rows": 6},
    )


class _VersionTexts:
    """A version's fields and what they do, in a group of the item forms or in a form of
    its own (WTForms finds fields on a mixin like this one)."""

    language = _language_field()
    title = text_field(_l("Title in this language"), max_length=200)
    summary = _summary_field()
    description = _description_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language.choices = _language_choices()

    def is_empty(self) -> bool:
        """Return whether nothing was written in this group (it is then no version)."""
        return not any((getattr(self, name).data or "").strip() for name in TEXT_FIELDS)

    def version_input(self) -> VersionInput:
        """Return the fields as the services take them."""
        return VersionInput(
            language=self.language.data or "",
            title=self.title.data or "",
            summary=self.summary.data or "",
            description=self.description.data or "",
        )

    def show_errors(self, errors: dict[str, list[Any]]) -> None:
        """Put the services' messages next to their fields."""
        for name, messages in errors.items():
            field = getattr(self, name)
            field.errors = [*field.errors, *messages]


class VersionFields(_VersionTexts, Form):
    """One group of the item forms (inside another form, so no CSRF token of its own)."""


def version_list() -> FieldList:
    """Return the repeatable group of versions the item forms carry."""
    return FieldList(
        FormField(VersionFields, label=_l("Text in another language")),
        label=_l("Add this text in another language"),
        min_entries=VERSION_GROUPS,
        max_entries=MAX_VERSIONS,
    )


def check_versions(versions: FieldList, original_language: str) -> list[VersionInput] | None:
    """Check the filled-in groups against the rules and each other; None when one is wrong.

    The messages are put next to the fields; a language given twice is refused too.
    """
    found: list[VersionInput] = []
    valid = True
    seen: set[str] = set()
    for entry in versions.entries:
        group: VersionFields = entry.form
        if group.is_empty():
            continue
        data = group.version_input()
        errors = version_errors_for(original_language, data)
        if not errors and data["language"] in seen:
            errors = {"language": [_l("You have already given a text in this language.")]}
        seen.add(data["language"])
        if errors or any(group.errors.values()):
            group.show_errors(errors)
            valid = False
            continue
        found.append(data)
    # FieldList keeps the errors of its last validation: bring them up to date.
    versions.errors = [entry.errors for entry in versions.entries]
    if not any(versions.errors):
        versions.errors = []
    return found if valid else None


class VersionForm(_VersionTexts, FlaskForm):
    """One version on its own: the editors' item page and the submitter's private link."""

    def fill_from(self, version: ItemVersion) -> None:
        """Show a stored version for editing."""
        self.language.data = version.language
        for name in TEXT_FIELDS:
            getattr(self, name).data = getattr(version, name)

    def check(self, original_language: str) -> VersionInput | None:
        """Return the version when it keeps the rules, else None with the messages shown."""
        if not self.validate():
            return None
        data = self.version_input()
        errors = version_errors_for(original_language, data)
        if errors:
            self.show_errors(errors)
            return None
        return data
