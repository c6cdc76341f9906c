"""The item form as the public submits it, and as the submitter and the editors edit it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from wtforms import BooleanField, EmailField, Field, HiddenField, RadioField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from newsticker.core.i18n import lazy_gettext as _l
from newsticker.items.forms.fields import MailAddress, SingleLine, choices, strip_space
from newsticker.items.forms.item import ItemForm
from newsticker.items.forms.versions import check_versions, version_list
from newsticker.items.models import Item
from newsticker.items.services import VersionInput


class SubmissionForm(ItemForm):
    """The public form: the item, who sends it, consent and the spam guards."""

    submitter_email = EmailField(
        _l("Your e-mail address"),
        validators=[
            DataRequired(_l("Please enter your e-mail address.")),
            Length(max=320),
            SingleLine(),
            MailAddress(),
        ],
        filters=[strip_space],
        render_kw={"autocomplete": "email"},
    )
    mail_language = RadioField(
        _l("Language of our mails to you"),
        choices=choices([("de", "Deutsch"), ("en", "English")]),
        validators=[InputRequired(_l("Please choose a language."))],
    )
    consent = BooleanField(
        _l(
            "I agree that this information is published on this website, in its feeds and in "
            "the city's newsletters."
        ),
        validators=[
            DataRequired(
                _l("Please agree to publication, otherwise we cannot publish your submission.")
            )
        ],
    )
    # The texts in more languages (stored as versions waiting with the submission).
    versions = version_list()
    # The honeypot: hidden from people and screen readers, filled in by form robots.
    website = StringField(_l("Leave this field empty"), filters=[strip_space])
    started = HiddenField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.versions_out: list[VersionInput] = []

    def validate_website(self, field: Field) -> None:
        if field.data:
            raise ValidationError(_l("Please leave this field empty."))

    def validate(self, extra_validators: Any = None) -> bool:
        """Check the item, then its texts in other languages (all messages at once)."""
        valid = super().validate(extra_validators)
        found = check_versions(self.versions, self.content_language.data or "")
        self.versions_out = found or []
        return valid and found is not None


class ItemEditForm(ItemForm):
    """Editing through the private link or in the editor area."""

    remove_image = BooleanField(_l("Remove the image"))
    version = HiddenField()

    def _removing_image(self) -> bool:
        return bool(self.remove_image.data)

    def fill_from(self, item: Item, tz: ZoneInfo) -> None:
        """Show an item's stored values, and remember which version of it they are."""
        super().fill_from(item, tz)
        self.version.data = str(item.version)

    def based_on_version(self) -> int | None:
        """Return the version of the item the form was filled from (None if it is garbled)."""
        raw = (self.version.data or "").strip()
        return int(raw) if raw.isdigit() else None

    @classmethod
    def of_current_state(
        cls, item: Item, *, tz: ZoneInfo, now: datetime, error: Any
    ) -> ItemEditForm:
        """Return a form showing the item as stored, with an error on top (after a refusal)."""
        form = cls(formdata=None)
        form.tz, form.now = tz, now
        form.fill_from(item, tz)
        form.form_errors.append(error)
        return form
