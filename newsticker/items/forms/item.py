"""The item form: what an item says, shared by the public form, the private link and editors.

Dates arrive as separate date and time fields in the city's time zone and leave as
aware datetimes; a repeating event's fields become one `Recurrence`. The rules across
fields are the services' (`check_item_data`), so imports and forms agree.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Field,
    IntegerField,
    RadioField,
    SelectField,
    TelField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from newsticker.core.i18n import lazy_gettext as _l
from newsticker.items.forms.dates import MONTHS, NTHS, WEEKDAYS, nth_of, parse_date
from newsticker.items.forms.fields import (
    MailAddress,
    MultiCheckboxField,
    PlainText,
    SingleLine,
    WebLink,
    choices,
    clean_text,
    strip_space,
    text_field,
)
from newsticker.items.images import ImageError, ProcessedImage, process_image
from newsticker.items.languages import language_choices
from newsticker.items.models import FIELDS_OF_ACTION, KIND_LABELS, Item, ItemKind
from newsticker.items.recurrence import MAX_COUNT, MAX_INTERVAL, Recurrence
from newsticker.items.services import ItemData, check_item_data, item_recurrence

MAX_TAGS = 10
MAX_TAG_LENGTH = 40
_PHONE = re.compile(r"[0-9+() /.\-]{3,50}")


class ItemForm(FlaskForm):
    """What an item says; shared by the public form, the private link and the editors."""

    kind = RadioField(
        _l("What are you submitting?"),
        choices=choices(KIND_LABELS.items()),
        default=ItemKind.EVENT,
        validators=[InputRequired(_l("Please choose what you are submitting."))],
    )
    title = text_field(_l("Title"), max_length=200, required=_l("Please enter a title."))
    summary = TextAreaField(
        _l("Short description"),
        validators=[
            DataRequired(_l("Please describe the event or offer in one or two sentences.")),
            Length(max=600, message=_l("Please use at most %(max)d characters.")),
            PlainText(),
        ],
        filters=[clean_text],
        render_kw={"rows": 3},
    )
    description = TextAreaField(
        _l("More details"),
        validators=[
            Optional(),
            Length(max=10_000, message=_l("Please use at most %(max)d characters.")),
            PlainText(),
        ],
        filters=[clean_text],
        render_kw={"rows": 8},
    )
    field_of_action = RadioField(
        _l("Field of action"),
        choices=choices(FIELDS_OF_ACTION.items()),
        default="general",
        validators=[InputRequired(_l("Please choose a field of action."))],
    )
    tags = text_field(_l("Keywords"), max_length=400)
    event_languages = MultiCheckboxField(_l("Languages spoken at the event"), choices=[])
    content_language = SelectField(_l("Language of this text"), choices=[])

    start_date = DateField(_l("Date"), validators=[Optional()])
    start_time = TimeField(_l("Start time"), validators=[Optional()])
    end_date = DateField(_l("End date"), validators=[Optional()])
    end_time = TimeField(_l("End time"), validators=[Optional()])
    all_day = BooleanField(_l("All day (no times)"))

    repeat = SelectField(
        _l("Repeats"),
        choices=choices(
            [
                ("none", _l("does not repeat")),
                ("weekly", _l("weekly")),
                ("monthly", _l("monthly on a weekday, e.g. every 2nd Tuesday")),
            ]
        ),
        default="none",
    )
    repeat_interval = IntegerField(
        _l("Every how many weeks or months"),
        default=1,
        validators=[
            Optional(),
            NumberRange(
                1, MAX_INTERVAL, message=_l("Please enter a number from %(min)d to %(max)d.")
            ),
        ],
    )
    repeat_weekdays = MultiCheckboxField(
        _l("On these weekdays (weekly)"), choices=choices(WEEKDAYS), coerce=int
    )
    repeat_nth = SelectField(_l("Which weekday of the month (monthly)"), choices=choices(NTHS))
    repeat_weekday = SelectField(
        _l("Weekday (monthly)"),
        choices=choices([("", _l("as on the first date")), *[(str(n), lb) for n, lb in WEEKDAYS]]),
    )
    repeat_months = MultiCheckboxField(
        _l("Only in these months (leave empty for every month)"),
        choices=choices(MONTHS),
        coerce=int,
    )
    repeat_until = DateField(_l("Repeats until"), validators=[Optional()])
    repeat_count = IntegerField(
        _l("Or: number of dates"),
        validators=[
            Optional(),
            NumberRange(1, MAX_COUNT, message=_l("Please enter a number from %(min)d to %(max)d.")),
        ],
    )
    repeat_exceptions = TextAreaField(
        _l("Dates to leave out"),
        validators=[Optional(), Length(max=2000), PlainText()],
        filters=[strip_space],
        render_kw={"rows": 2},
    )

    visible_until = DateField(_l("Show until"), validators=[Optional()])

    place_name = text_field(_l("Place"), max_length=200)
    place_address = text_field(_l("Address"), max_length=300)
    accessibility_note = text_field(_l("Accessibility"), max_length=500)
    organiser = text_field(
        _l("Organiser"), max_length=200, required=_l("Please enter who organises this.")
    )
    contact_name = text_field(_l("Contact person"), max_length=200)
    contact_email = EmailField(
        _l("Contact e-mail"),
        validators=[Optional(), Length(max=320), SingleLine(), MailAddress()],
        filters=[strip_space],
    )
    contact_phone = TelField(
        _l("Contact phone"),
        validators=[Optional(), Length(max=50), SingleLine()],
        filters=[strip_space],
    )
    link = URLField(
        _l("Web link"),
        validators=[Optional(), Length(max=1000), SingleLine(), WebLink()],
        filters=[strip_space],
    )
    image = FileField(
        _l("Image (optional)"), render_kw={"accept": "image/jpeg,image/png,image/webp"}
    )
    image_alt = text_field(_l("Image description"), max_length=300)

    # Set by the view before validation.
    tz: ZoneInfo
    now: datetime
    has_stored_image = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.event_languages.choices = choices(language_choices(sign_language=True))
        self.content_language.choices = choices(language_choices(sign_language=False))
        self.processed_image: ProcessedImage | None = None
        self.data_out: ItemData | None = None

    # ------------------------------------------------------------ checks

    def validate_tags(self, field: Field) -> None:
        tags = self.tag_list()
        if len(tags) > MAX_TAGS:
            raise ValidationError(_l("Please give at most %(n)d keywords.", n=MAX_TAGS))
        if any(len(tag) > MAX_TAG_LENGTH for tag in tags):
            raise ValidationError(
                _l("A keyword may have at most %(n)d characters.", n=MAX_TAG_LENGTH)
            )

    def validate_contact_phone(self, field: Field) -> None:
        if field.data and not _PHONE.fullmatch(field.data):
            raise ValidationError(
                _l("Please enter a phone number with digits only, e.g. +49 461 123456.")
            )

    def validate_image(self, field: Field) -> None:
        upload = field.data
        if not upload or not getattr(upload, "filename", ""):
            return
        try:
            self.processed_image = process_image(upload.stream)
        except ImageError as exc:
            raise ValidationError(exc.message) from None

    def tag_list(self) -> list[str]:
        """Return the keywords as a list."""
        raw = self.tags.data or ""
        return [t.strip() for t in re.split(r"[,;\n]", raw) if t.strip()]

    def validate(self, extra_validators: Any = None) -> bool:
        """Check each field, then the rules across fields (dates, recurrence, image text)."""
        valid = super().validate(extra_validators)
        is_event = self.kind.data == ItemKind.EVENT
        dates = self._dates() if is_event else (None, None)
        if dates is None:
            return False
        if not valid:
            return False
        rule = self._recurrence() if is_event else None
        if rule is False:
            return False
        starts_at, ends_at = dates
        data = ItemData(
            kind=self.kind.data or "",
            title=self.title.data or "",
            summary=self.summary.data or "",
            organiser=self.organiser.data or "",
            description=self.description.data or "",
            field_of_action=self.field_of_action.data or "general",
            tags=self.tag_list(),
            event_languages=list(self.event_languages.data or []),
            content_language=self.content_language.data or "de",
            starts_at=starts_at,
            ends_at=ends_at,
            all_day=bool(self.all_day.data) if is_event else False,
            recurrence=rule if isinstance(rule, Recurrence) else None,
            visible_until=self.visible_until.data,
            place_name=self.place_name.data or "",
            place_address=self.place_address.data or "",
            accessibility_note=self.accessibility_note.data or "",
            contact_name=self.contact_name.data or "",
            contact_email=self.contact_email.data or "",
            contact_phone=self.contact_phone.data or "",
            link=self.link.data or "",
            image_alt=self.image_alt.data or "",
        )
        has_image = self.processed_image is not None or (
            self.has_stored_image and not self._removing_image()
        )
        errors = check_item_data(data, tz=self.tz, now=self.now, has_image=has_image)
        for name, message in errors.items():
            getattr(self, name).errors.append(message)
        if errors:
            return False
        self.data_out = data
        return True

    def _removing_image(self) -> bool:
        return False

    def _dates(self) -> tuple[datetime | None, datetime | None] | None:
        """Combine date and time fields into aware datetimes; None on an error."""
        if self.start_date.errors or self.start_time.errors:
            return None
        start_day = self.start_date.data
        if start_day is None:
            self.start_date.errors.append(_l("Please enter the date of the event."))
            return None
        end_day = self.end_date.data
        if self.all_day.data:
            last_day = end_day or start_day
            start = datetime.combine(start_day, time(), self.tz)
            return start, datetime.combine(last_day + timedelta(days=1), time(), self.tz)
        if self.start_time.data is None:
            self.start_time.errors.append(_l("Please enter the start time, or choose “All day”."))
            return None
        start = datetime.combine(start_day, self.start_time.data, self.tz)
        if self.end_time.data is None:
            if end_day is not None and end_day != start_day:
                self.end_time.errors.append(_l("Please enter the end time as well."))
                return None
            return start, None
        return start, datetime.combine(end_day or start_day, self.end_time.data, self.tz)

    def _recurrence(self) -> Recurrence | bool | None:
        """Build the recurrence rule; False when a field could not be read."""
        freq = self.repeat.data
        if freq not in ("weekly", "monthly"):
            return None
        start_day = self.start_date.data
        assert start_day is not None
        exceptions = self._exception_dates()
        if exceptions is None:
            return False
        common: dict[str, Any] = {
            "interval": self.repeat_interval.data or 1,
            "months": tuple(sorted(set(self.repeat_months.data or []))),
            "until": self.repeat_until.data,
            "count": self.repeat_count.data,
            "exceptions": tuple(exceptions),
        }
        if freq == "weekly":
            weekdays = tuple(sorted(set(self.repeat_weekdays.data or [])))
            return Recurrence(freq="weekly", weekdays=weekdays, **common)
        nth = int(self.repeat_nth.data) if self.repeat_nth.data else nth_of(start_day)
        weekday = int(self.repeat_weekday.data) if self.repeat_weekday.data else start_day.weekday()
        return Recurrence(freq="monthly", nth=nth, weekday=weekday, **common)

    def _exception_dates(self) -> list[date] | None:
        found: list[date] = []
        for token in re.split(r"[\s,;]+", self.repeat_exceptions.data or ""):
            if not token:
                continue
            parsed = parse_date(token)
            if parsed is None:
                self.repeat_exceptions.errors.append(
                    _l(
                        "“%(value)s” is not a date. Please write dates like 24.12.2027.",
                        value=token[:30],
                    )
                )
                return None
            found.append(parsed)
        return found

    # ------------------------------------------------------------ prefill

    def fill_from(self, item: Item, tz: ZoneInfo) -> None:
        """Show an item's stored values in the form."""
        for name in (
            "kind",
            "title",
            "summary",
            "description",
            "field_of_action",
            "content_language",
            "visible_until",
            "place_name",
            "place_address",
            "accessibility_note",
            "organiser",
            "contact_name",
            "contact_email",
            "contact_phone",
            "link",
            "image_alt",
        ):
            getattr(self, name).data = getattr(item, name)
        self.tags.data = ", ".join(item.tags or [])
        self.event_languages.data = list(item.event_languages or [])
        self.all_day.data = item.all_day
        if item.starts_at is not None:
            start = item.starts_at.astimezone(tz)
            self.start_date.data = start.date()
            self.start_time.data = None if item.all_day else start.time()
            if item.ends_at is not None:
                end = item.ends_at.astimezone(tz)
                if item.all_day:
                    self.end_date.data = (end - timedelta(days=1)).date()
                else:
                    self.end_date.data = end.date()
                    self.end_time.data = end.time()
        rule = item_recurrence(item)
        if rule is not None:
            self.repeat.data = rule.freq
            self.repeat_interval.data = rule.interval
            self.repeat_weekdays.data = list(rule.weekdays)
            self.repeat_nth.data = str(rule.nth) if rule.nth is not None else ""
            self.repeat_weekday.data = str(rule.weekday) if rule.weekday is not None else ""
            self.repeat_months.data = list(rule.months)
            self.repeat_until.data = rule.until
            self.repeat_count.data = rule.count
            self.repeat_exceptions.data = ", ".join(d.strftime("%d.%m.%Y") for d in rule.exceptions)
        self.has_stored_image = bool(item.image_file)
