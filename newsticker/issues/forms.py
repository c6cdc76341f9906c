"""Forms of the composer; the rules across fields live in the services."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from newsticker.core.i18n import lazy_gettext as _l
from newsticker.issues.rendering import MAIL_LANGUAGES
from newsticker.items.forms import MultiCheckboxField
from newsticker.items.images import ImageError, ProcessedImage, process_image

IMAGE_ACCEPT = {"accept": "image/jpeg,image/png,image/webp"}
# The test send's choice for one mail in each language the issue goes out in.
ALL_LANGUAGES = "all"


def _processed(field: Any) -> ProcessedImage | None:
    """Return the uploaded image of a file field re-encoded, None without one; else refuse."""
    upload = field.data
    if not upload or not getattr(upload, "filename", ""):
        return None
    try:
        return process_image(upload.stream)
    except ImageError as exc:
        raise ValidationError(exc.message) from None


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class VersionForm(FlaskForm):
    """A button that changes the issue: carries the version the editor saw."""

    version = HiddenField()

    def version_number(self) -> int | None:
        """Return the submitted version, or None when absent or malformed."""
        raw = self.version.data or ""
        return int(raw) if raw.isdigit() else None


class IssueForm(VersionForm):
    """Subject, preheader and editorial of an issue."""

    subject = StringField(
        _l("Subject"), validators=[Length(max=200)], filters=[_strip], render_kw={"dir": "auto"}
    )
    preheader = StringField(
        _l("Preheader"),
        validators=[Length(max=200)],
        filters=[_strip],
        render_kw={"dir": "auto"},
    )
    editorial = TextAreaField(
        _l("Editorial"), validators=[Length(max=20_000)], render_kw={"rows": 8, "dir": "auto"}
    )
    editorial_image = FileField(_l("Image above the editorial (optional)"), render_kw=IMAGE_ACCEPT)
    editorial_image_alt = StringField(
        _l("Image description"), validators=[Length(max=300)], filters=[_strip]
    )
    remove_editorial_image = BooleanField(_l("Remove the image"))
    processed_image: ProcessedImage | None = None

    def validate_editorial_image(self, field: Any) -> None:
        """Re-encode an uploaded image, or refuse it with a message."""
        self.processed_image = _processed(field)


class ArticleForm(VersionForm):
    """An article written for the issue."""

    title = StringField(
        _l("Title"),
        validators=[InputRequired(_l("Please enter a title.")), Length(max=200)],
        filters=[_strip],
        render_kw={"dir": "auto"},
    )
    body = TextAreaField(
        _l("Text"), validators=[Length(max=20_000)], render_kw={"rows": 8, "dir": "auto"}
    )
    link = URLField(_l("Link (optional)"), validators=[Length(max=1000)], filters=[_strip])
    language = SelectField(_l("Language of the text"), default="de")
    image = FileField(_l("Image (optional)"), render_kw=IMAGE_ACCEPT)
    image_alt = StringField(
        _l("Image description"),
        validators=[Length(max=300)],
        filters=[_strip],
    )
    processed_image: ProcessedImage | None = None

    def validate_image(self, field: Any) -> None:
        """Re-encode an uploaded image, or refuse it with a message."""
        self.processed_image = _processed(field)


class ArticleVersionForm(VersionForm):
    """An article's title and text in another language."""

    language = SelectField(_l("Language"), validate_choice=False)
    title = StringField(
        _l("Title in this language"),
        validators=[InputRequired(_l("Please enter a title.")), Length(max=200)],
        filters=[_strip],
        render_kw={"dir": "auto"},
    )
    body = TextAreaField(
        _l("Text in this language"),
        validators=[Length(max=20_000)],
        render_kw={"rows": 6, "dir": "auto"},
    )


class ArticleImageForm(VersionForm):
    """A new image for an article, its description, or its removal."""

    image = FileField(_l("New image"), render_kw=IMAGE_ACCEPT)
    image_alt = StringField(_l("Image description"), validators=[Length(max=300)], filters=[_strip])
    remove_image = BooleanField(_l("Remove the image"))
    processed_image: ProcessedImage | None = None

    def validate_image(self, field: Any) -> None:
        """Re-encode an uploaded image, or refuse it with a message."""
        self.processed_image = _processed(field)


class FigureForm(VersionForm):
    """One key figure: label, value, unit, period, source."""

    label = StringField(
        _l("Label"),
        validators=[InputRequired(_l("Please enter a label.")), Length(max=200)],
        filters=[_strip],
    )
    value = StringField(
        _l("Value"),
        validators=[InputRequired(_l("Please enter the value as a number.")), Length(max=40)],
        filters=[_strip],
        render_kw={"inputmode": "decimal"},
    )
    unit = StringField(_l("Unit"), validators=[Length(max=40)], filters=[_strip])
    period = StringField(_l("Period"), validators=[Length(max=100)], filters=[_strip])
    source = StringField(_l("Source"), validators=[Length(max=300)], filters=[_strip])


class AudienceForm(VersionForm):
    """Which other publications' subscribers also receive the issue (a special edition)."""

    also_send_to = MultiCheckboxField(_l("Also send to the subscribers of"), choices=[])


class TestSendForm(FlaskForm):
    """Addresses for a test send."""

    addresses = TextAreaField(
        _l("Send a test to"),
        validators=[InputRequired(_l("Please enter at least one e-mail address."))],
        render_kw={"rows": 2, "autocomplete": "email"},
    )
    language = SelectField(
        _l("Language of the mail"),
        choices=[
            SelectChoice(ALL_LANGUAGES, _l("every language that goes out")),
            *(SelectChoice(code, code.upper()) for code in MAIL_LANGUAGES),
        ],
        default=ALL_LANGUAGES,
        # The article form on the same page has a "language" too: ids must stay unique.
        id="test-language",
    )


class LocalDateField(DateField):
    """A date field whose parse error speaks the editor's language."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Parse the date, or report a readable error."""
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(_l("Please enter a date such as 24.12.2026.")) from exc


class LocalTimeField(TimeField):
    """A time field whose parse error speaks the editor's language."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Parse the time, or report a readable error."""
        try:
            super().process_formdata(valuelist)
        except ValueError as exc:
            raise ValueError(_l("Please enter a time such as 10:00.")) from exc


class ScheduleForm(VersionForm):
    """When to send the issue (local time)."""

    send_date = LocalDateField(
        _l("Date"),
        validators=[InputRequired(_l("Please enter a date."))],
        format=["%Y-%m-%d", "%d.%m.%Y"],
    )
    send_time = LocalTimeField(
        _l("Time"),
        validators=[InputRequired(_l("Please enter a time."))],
        format=["%H:%M", "%H:%M:%S"],
    )
    override_size = BooleanField(_l("Send it even though it is larger than the limit"))


class DraftForm(FlaskForm):
    """Which publication to draft."""

    publication = HiddenField(validators=[Optional()])
