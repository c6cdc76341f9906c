"""Forms for submitting, editing, moderating and filtering items."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import nh3
from babel import Locale, UnknownLocaleError
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Field,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
    TimeField,
    URLField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from newsticker.core.addresses import InvalidAddress, normalise_address
from newsticker.core.markup import has_control_chars
from newsticker.items.images import ImageError, ProcessedImage, process_image
from newsticker.items.models import FIELDS_OF_ACTION, KIND_LABELS, STATUS_LABELS, Item, ItemKind
from newsticker.items.recurrence import MAX_COUNT, MAX_INTERVAL, Recurrence
from newsticker.items.services import ItemData, check_item_data, item_recurrence

# Languages events are held in and content is written in; Flensburg's communities first.
LANGUAGE_CODES = (
    "de",
    "en",
    "da",
    "frr",
    "ar",
    "fa",
    "ps",
    "ku",
    "tr",
    "uk",
    "ru",
    "pl",
    "ro",
    "bg",
    "sq",
    "so",
    "ti",
    "fr",
    "es",
)
SIGN_LANGUAGE = "gsg"  # ISO 639-3: Deutsche Gebärdensprache
MAX_TAGS = 10
MAX_TAG_LENGTH = 40
_TAG_LIKE = re.compile(r"<[A-Za-z!/?]")
_PHONE = re.compile(r"[0-9+() /.\-]{3,50}")
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y")

WEEKDAYS = (
    (0, _l("Monday")),
    (1, _l("Tuesday")),
    (2, _l("Wednesday")),
    (3, _l("Thursday")),
    (4, _l("Friday")),
    (5, _l("Saturday")),
    (6, _l("Sunday")),
)
MONTHS = (
    (1, _l("January")),
    (2, _l("February")),
    (3, _l("March")),
    (4, _l("April")),
    (5, _l("May")),
    (6, _l("June")),
    (7, _l("July")),
    (8, _l("August")),
    (9, _l("September")),
    (10, _l("October")),
    (11, _l("November")),
    (12, _l("December")),
)
NTHS = (
    ("", _l("as on the first date")),
    ("1", _l("1st")),
    ("2", _l("2nd")),
    ("3", _l("3rd")),
    ("4", _l("4th")),
    ("-1", _l("last")),
)


def choices(pairs: Any) -> list[SelectChoice]:
    """Return (value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


def language_name(code: str, *, autonym: bool = True) -> str:
    """Return a language's name in the interface language, with its own name beside it."""
    if code == SIGN_LANGUAGE:
        return str(_l("German Sign Language"))
    return _language_name(code, str(get_locale() or "de"), autonym)


@lru_cache(maxsize=512)
def _language_name(code: str, ui: str, autonym: bool) -> str:
    try:
        name = Locale.parse(ui).languages.get(code, code)
        own = Locale.parse(code).display_name if autonym else None
    except (ValueError, UnknownLocaleError):
        return code
    if own and own.casefold() != name.casefold():
        return f"{name} ({own})"
    return name


def language_choices(*, sign_language: bool) -> list[tuple[str, str]]:
    """Return (code, name) pairs for the language fields."""
    codes = [*LANGUAGE_CODES, SIGN_LANGUAGE] if sign_language else list(LANGUAGE_CODES)
    return [(code, language_name(code)) for code in codes]


# ---------------------------------------------------------------- filters and validators


def clean_text(value: Any) -> str:
    """Strip surrounding space and any HTML tags (stored as text, shown escaped)."""
    if value is None:
        return ""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").strip()
    if _TAG_LIKE.search(text):
        text = html.unescape(nh3.clean(text, tags=set())).strip()
    return text


class SingleLine:
    """Refuse line breaks and control characters (the value may reach a mail header)."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if field.data and has_control_chars(str(field.data)):
            raise ValidationError(
                _l("Please write this on one line, without line breaks or control characters.")
            )


class PlainText:
    """Refuse control characters other than line breaks and tabs in a text area."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        value = str(field.data or "").replace("\n", "").replace("\t", "")
        if has_control_chars(value):
            raise ValidationError(_l("The text contains invisible control characters."))


class WebLink:
    """Accept only http and https links to another site."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        value = (field.data or "").strip()
        if not value:
            return
        scheme = value.split(":", 1)[0].strip().lower() if ":" in value else ""
        if scheme not in ("http", "https"):
            raise ValidationError(
                _l("Please enter a web address starting with https:// or http://.")
            )
        parts = urlsplit(value)
        if not parts.netloc or " " in value or "." not in (parts.hostname or ""):
            raise ValidationError(
                _l("This is not a complete web address, e.g. https://www.example.org.")
            )


class MailAddress:
    """Check an e-mail address the way the subscriber list does (no DNS lookups)."""

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not field.data:
            return
        try:
            field.data = normalise_address(str(field.data))
        except InvalidAddress as exc:
            raise ValidationError(exc.message) from None


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class MultiCheckboxField(SelectMultipleField):
    """Several checkboxes in a list (rendered as a fieldset by macros/forms.html)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        values = {str(v) for v, *_rest in self.iter_choices()}
        for value in self.data or []:
            if str(value) not in values:
                raise ValidationError(_l("Please choose only from the list."))


def _text(label: Any, *, max_length: int, required: Any = None, **kwargs: Any) -> StringField:
    validators: list[Any] = [DataRequired(required)] if required else [Optional()]
    validators += [
        Length(max=max_length, message=_l("Please use at most %(max)d characters.")),
        SingleLine(),
    ]
    return StringField(label, validators=validators, filters=[clean_text], **kwargs)


# ---------------------------------------------------------------- the item form


class ItemForm(FlaskForm):
    """What an item says; shared by the public form, the private link and the editors."""

    kind = RadioField(
        _l("What are you submitting?"),
        choices=choices(KIND_LABELS.items()),
        default=ItemKind.EVENT.value,
        validators=[InputRequired(_l("Please choose what you are submitting."))],
    )
    title = _text(_l("Title"), max_length=200, required=_l("Please enter a title."))
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
    tags = _text(_l("Keywords"), max_length=400)
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
        filters=[_strip],
        render_kw={"rows": 2},
    )

    visible_until = DateField(_l("Show until"), validators=[Optional()])

    place_name = _text(_l("Place"), max_length=200)
    place_address = _text(_l("Address"), max_length=300)
    accessibility_note = _text(_l("Accessibility"), max_length=500)
    organiser = _text(
        _l("Organiser"), max_length=200, required=_l("Please enter who organises this.")
    )
    contact_name = _text(_l("Contact person"), max_length=200)
    contact_email = EmailField(
        _l("Contact e-mail"),
        validators=[Optional(), Length(max=320), SingleLine(), MailAddress()],
        filters=[_strip],
    )
    contact_phone = TelField(
        _l("Contact phone"),
        validators=[Optional(), Length(max=50), SingleLine()],
        filters=[_strip],
    )
    link = URLField(
        _l("Web link"),
        validators=[Optional(), Length(max=1000), SingleLine(), WebLink()],
        filters=[_strip],
    )
    image = FileField(
        _l("Image (optional)"), render_kw={"accept": "image/jpeg,image/png,image/webp"}
    )
    image_alt = _text(_l("Image description"), max_length=300)

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
        is_event = self.kind.data == ItemKind.EVENT.value
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
        nth = int(self.repeat_nth.data) if self.repeat_nth.data else _nth_of(start_day)
        weekday = int(self.repeat_weekday.data) if self.repeat_weekday.data else start_day.weekday()
        return Recurrence(freq="monthly", nth=nth, weekday=weekday, **common)

    def _exception_dates(self) -> list[date] | None:
        found: list[date] = []
        for token in re.split(r"[\s,;]+", self.repeat_exceptions.data or ""):
            if not token:
                continue
            parsed = _parse_date(token)
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


def _nth_of(day: date) -> int:
    nth = (day.day - 1) // 7 + 1
    return -1 if nth == 5 else nth


def _parse_date(token: str) -> date | None:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(token, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    return None


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
        filters=[_strip],
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
    # The honeypot: hidden from people and screen readers, filled in by form robots.
    website = StringField(_l("Leave this field empty"), filters=[_strip])
    started = HiddenField()

    def validate_website(self, field: Field) -> None:
        if field.data:
            raise ValidationError(_l("Please leave this field empty."))


class ItemEditForm(ItemForm):
    """Editing through the private link or in the editor area."""

    remove_image = BooleanField(_l("Remove the image"))
    version = HiddenField()

    def _removing_image(self) -> bool:
        return bool(self.remove_image.data)


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
    q = StringField(_l("Search"), validators=[Optional(), Length(max=200)], filters=[_strip])
