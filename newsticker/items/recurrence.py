"""Recurrence rules for events: validation, expansion, iCal export and description.

A rule is expanded in the local wall-clock time of the city's time zone, so an event
at 18:30 stays at 18:30 on both sides of a DST change. The stored start of an event
is always its first date: `validate` refuses a start the rule would not produce,
because RFC 5545 leaves such a DTSTART undefined and the iCal feed must agree with
the web pages.

COUNT follows RFC 5545 as well: excepted dates still use up the count, exactly as a
calendar client reading RRULE + EXDATE counts them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, get_day_names, get_month_names
from babel.lists import format_list
from dateutil.relativedelta import relativedelta
from dateutil.rrule import MONTHLY, WEEKLY, rrule, weekday

from newsticker.core.errors import UserError
from newsticker.core.i18n import LANGUAGES
from newsticker.core.i18n import lazy_gettext as _l
from newsticker.items import rule_words

__all__ = [
    "MAX_COUNT",
    "MAX_INTERVAL",
    "MAX_SPAN_YEARS",
    "Freq",
    "Recurrence",
    "RecurrenceError",
    "SeriesDate",
    "dates_counted",
    "describe",
    "exdates",
    "occurrences",
    "series_dates",
    "to_rrule",
    "validate",
]

Freq = Literal["weekly", "monthly"]

MAX_COUNT = 500
MAX_INTERVAL = 52
MAX_SPAN_YEARS = 5

_FREQS: tuple[Freq, ...] = ("weekly", "monthly")
_NTHS = (1, 2, 3, 4, -1)
_DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_FIELDS = frozenset(
    {
        "freq",
        "interval",
        "weekdays",
        "nth",
        "weekday",
        "months",
        "until",
        "count",
        "exceptions",
    }
)


class RecurrenceError(UserError):
    """A recurrence rule that cannot be stored, expanded or exported."""


@dataclass(frozen=True)
class Recurrence:
    """How an event repeats after its first date.

    weekly: on `weekdays` (0 = Monday; empty = the weekday of the start) every
    `interval` weeks. monthly: on the `nth` (1..4, -1 = last) `weekday` of every
    `interval`-th month. Both may be limited to `months` (1..12, empty = all).
    Exactly one of `until` (a local date, inclusive) and `count` ends the rule.
    `exceptions` are local dates to skip.
    """

    freq: Freq
    interval: int = 1
    weekdays: tuple[int, ...] = ()
    nth: int | None = None
    weekday: int | None = None
    months: tuple[int, ...] = ()
    until: date | None = None
    count: int | None = None
    exceptions: tuple[date, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict of the rule, dates as ISO strings."""
        return {
            "freq": self.freq,
            "interval": self.interval,
            "weekdays": list(self.weekdays),
            "nth": self.nth,
            "weekday": self.weekday,
            "months": list(self.months),
            "until": self.until.isoformat() if self.until is not None else None,
            "count": self.count,
            "exceptions": [d.isoformat() for d in self.exceptions],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Recurrence:
        """Build a rule from `to_dict` output, raising RecurrenceError if malformed."""
        if not isinstance(data, Mapping):
            raise RecurrenceError(_l("The recurrence rule is malformed."))
        unknown = sorted(str(key) for key in data if key not in _FIELDS)
        if unknown:
            raise RecurrenceError(
                _l("Unknown recurrence field: %(field)s.", field=", ".join(unknown))
            )
        freq = data.get("freq")
        if freq not in _FREQS:
            raise RecurrenceError(_l("Choose whether the event repeats weekly or monthly."))
        until = data.get("until")
        rule = cls(
            freq=cast(Freq, freq),
            interval=_int_field(data, "interval", default=1),
            weekdays=_int_list_field(data, "weekdays"),
            nth=_optional_int_field(data, "nth"),
            weekday=_optional_int_field(data, "weekday"),
            months=_int_list_field(data, "months"),
            until=_parse_date(until, "until") if until is not None else None,
            count=_optional_int_field(data, "count"),
            exceptions=tuple(
                _parse_date(value, "exceptions") for value in _list_field(data, "exceptions")
            ),
        )
        _check_fields(rule)
        return rule


def validate(rule: Recurrence, start: datetime, tz: ZoneInfo | None = None) -> None:
    """Raise RecurrenceError with a user-facing message if `rule` is unusable from `start`.

    `start` is the first date: naive means local wall-clock time; aware is
    converted to `tz`, which is then required.
    """
    _check_fields(rule)
    local_start = _local_naive(start, tz)
    first_day = local_start.date()
    if rule.until is not None and rule.until < first_day:
        raise RecurrenceError(_l("The end date must not be before the first date."))
    limit = first_day + relativedelta(years=MAX_SPAN_YEARS)
    if rule.until is not None and rule.until > limit:
        raise RecurrenceError(
            _l("The dates must not span more than %(years)d years.", years=MAX_SPAN_YEARS)
        )
    days: list[date] = []
    for occurrence in _expand(rule, local_start):
        if occurrence.date() > limit:
            raise RecurrenceError(
                _l("The dates must not span more than %(years)d years.", years=MAX_SPAN_YEARS)
            )
        days.append(occurrence.date())
    if not days or days[0] != first_day:
        raise RecurrenceError(
            _l(
                "The first date does not follow the rule: choose a first date that is "
                "one of the recurring dates."
            )
        )
    day_set = set(days)
    for excepted in sorted(set(rule.exceptions)):
        if excepted not in day_set:
            raise RecurrenceError(
                _l(
                    "%(date)s is not one of the recurring dates, so it cannot be left out.",
                    date=excepted.isoformat(),
                )
            )
    if not day_set - set(rule.exceptions):
        raise RecurrenceError(_l("The rule yields no date at all: every date is left out."))


def occurrences(
    start: datetime,
    end: datetime | None,
    rule: Recurrence | None,
    *,
    tz: ZoneInfo,
    window_start: datetime,
    window_end: datetime,
) -> list[tuple[datetime, datetime | None]]:
    """Return the (start, end) pairs in UTC of the occurrences overlapping the window.

    The window is half-open, [window_start, window_end). An occurrence overlaps if
    it starts before the window ends and ends after it starts; one without an end
    (or with end == start) overlaps if it starts inside the window. The duration
    is kept in local wall-clock time, so midnight..midnight stays a whole day.
    """
    for name, value in (
        ("start", start),
        ("end", end),
        ("window_start", window_start),
        ("window_end", window_end),
    ):
        if value is not None and value.utcoffset() is None:
            raise ValueError(f"{name} must be an aware datetime")
    if end is not None and end < start:
        raise ValueError("end must not be before start")
    if rule is None:
        if _overlaps(start, end, window_start, window_end):
            return [(start.astimezone(UTC), end.astimezone(UTC) if end is not None else None)]
        return []
    _check_fields(rule)
    local_start = _local_naive(start, tz)
    duration = _local_naive(end, tz) - local_start if end is not None else None
    skipped = set(rule.exceptions)
    found: list[tuple[datetime, datetime | None]] = []
    for occurrence in _expand(rule, local_start):
        occ_start = _to_utc(occurrence, tz)
        if occ_start >= window_end:
            break
        if occurrence.date() in skipped:
            continue
        occ_end = _to_utc(occurrence + duration, tz) if duration is not None else None
        if _overlaps(occ_start, occ_end, window_start, window_end):
            found.append((occ_start, occ_end))
    return found


@dataclass(frozen=True)
class SeriesDate:
    """One date of a series in UTC, and whether it is left out (cancelled)."""

    starts_at: datetime
    ends_at: datetime | None
    cancelled: bool = False


def series_dates(
    start: datetime,
    end: datetime | None,
    rule: Recurrence,
    *,
    tz: ZoneInfo,
    window_start: datetime,
    window_end: datetime,
    first_only: bool = False,
) -> list[SeriesDate]:
    """Return the rule's dates overlapping the window, cancelled (excepted) ones marked.

    Like `occurrences`, but an excepted date is kept with `cancelled=True`, so a page
    can say that it does not take place rather than silently skip it. With
    `first_only`, the dates stop at the first one that takes place.
    """
    if start.utcoffset() is None or window_start.utcoffset() is None:
        raise ValueError("start and the window must be aware datetimes")
    _check_fields(rule)
    local_start = _local_naive(start, tz)
    duration = _local_naive(end, tz) - local_start if end is not None else None
    # Dates ending well before the window are passed over without converting them (a
    # day's margin covers any UTC offset).
    before = window_start.astimezone(tz).replace(tzinfo=None) - timedelta(days=1)
    before -= duration or timedelta(0)
    skipped = set(rule.exceptions)
    found: list[SeriesDate] = []
    for occurrence in _expand(rule, local_start):
        if occurrence < before:
            continue
        occ_start = _to_utc(occurrence, tz)
        if occ_start >= window_end:
            break
        occ_end = _to_utc(occurrence + duration, tz) if duration is not None else None
        if _overlaps(occ_start, occ_end, window_start, window_end):
            cancelled = occurrence.date() in skipped
            found.append(SeriesDate(occ_start, occ_end, cancelled))
            if first_only and not cancelled:
                break
    return found


def dates_counted(rule: Recurrence, start: date | None) -> int | None:
    """Return how many dates a COUNT rule really has: its count less the cancelled ones.

    None for a rule ended by a date. Without `start`, every exception is taken to be
    one of the rule's dates (which `validate` guarantees for a stored rule).
    """
    if rule.count is None:
        return None
    skipped = set(rule.exceptions)
    if start is None:
        return max(rule.count - len(skipped), 0)
    produced = {day.date() for day in _expand(rule, datetime.combine(start, time()))}
    return max(rule.count - len(skipped & produced), 0)


def to_rrule(rule: Recurrence, *, tz: ZoneInfo | None = None) -> dict[str, Any]:
    """Return the rule as a dict for `icalendar.vRecur`, without the exceptions.

    With `tz`, UNTIL is the end of the until day in `tz`, as a UTC datetime, which
    RFC 5545 requires when DTSTART is a date-time with TZID; without it, UNTIL is a
    plain date, for all-day events written with a DATE DTSTART.
    """
    _check_fields(rule)
    result: dict[str, Any] = {"FREQ": rule.freq.upper()}
    if rule.interval != 1:
        result["INTERVAL"] = rule.interval
    if rule.freq == "weekly":
        if rule.weekdays:
            result["BYDAY"] = [_DAY_CODES[day] for day in sorted(set(rule.weekdays))]
    else:
        result["BYDAY"] = f"{rule.nth}{_DAY_CODES[cast(int, rule.weekday)]}"
    if rule.months:
        result["BYMONTH"] = sorted(set(rule.months))
    if rule.count is not None:
        result["COUNT"] = rule.count
    if rule.until is not None:
        if tz is None:
            result["UNTIL"] = rule.until
        else:
            last_second = datetime.combine(rule.until, time(23, 59, 59), tzinfo=tz)
            result["UNTIL"] = last_second.astimezone(UTC)
    return result


def exdates(rule: Recurrence, start: datetime, tz: ZoneInfo) -> list[datetime]:
    """Return the EXDATE values of the rule as datetimes in `tz`, sorted.

    Each carries the first date's local time of day, so it matches the instance a
    calendar client computes from DTSTART;TZID. Exceptions the rule never produces
    are left out.
    """
    _check_fields(rule)
    local_start = _local_naive(start, tz)
    skipped = set(rule.exceptions)
    return [
        occurrence.replace(tzinfo=tz)
        for occurrence in _expand(rule, local_start)
        if occurrence.date() in skipped
    ]


def describe(
    rule: Recurrence,
    locale: str | Locale,
    *,
    start: date | None = None,
    with_end: bool = False,
) -> str:
    """Return a short description such as "every 2nd Tuesday in February and April".

    English and German have their own wording, the other interface languages take
    theirs from their catalogues (rule_words); an unknown language reads English.
    `start` names the weekday of a weekly rule without weekdays; `with_end` appends
    the until date or count.
    """
    try:
        language = Locale.parse(locale, sep="-" if "-" in str(locale) else "_").language
    except (ValueError, UnknownLocaleError):
        language = "en"
    lang = language if language in LANGUAGES else "en"
    names = Locale.parse(lang)
    day_names = get_day_names("wide", locale=names)
    month_names = get_month_names("wide", locale=names)

    weekdays = sorted(set(rule.weekdays))
    if not weekdays and rule.freq == "weekly" and start is not None:
        weekdays = [start.weekday()]
    days = format_list([day_names[d] for d in weekdays], locale=names) if weekdays else ""
    months = format_list([month_names[m] for m in sorted(set(rule.months))], locale=names)

    if lang == "de":
        text = _describe_de(rule, days, day_names, months)
    elif lang == "en":
        text = _describe_en(rule, days, day_names, months)
    else:
        return _describe_words(rule, lang, names, days, day_names, start, with_end)
    if with_end:
        if rule.until is not None:
            until = format_date(rule.until, "long", locale=names)
            text += f", bis zum {until}" if lang == "de" else f", until {until}"
        elif rule.count is not None:
            # "6-mal" counts the dates that take place: cancelled ones are left out.
            text += ", " + _times(cast(int, dates_counted(rule, start)), lang)
    return text


def _describe_en(rule: Recurrence, days: str, day_names: Mapping[int, str], months: str) -> str:
    in_months = f" in {months}" if rule.months else ""
    if rule.freq == "weekly":
        if rule.interval == 1:
            return (f"every {days}" if days else "every week") + in_months
        text = f"every {rule.interval} weeks"
        return text + (f" on {days}" if days else "") + in_months
    day = f"{_ordinal_en(cast(int, rule.nth))} {day_names[cast(int, rule.weekday)]}"
    if rule.interval == 1:
        return f"every {day}" + (in_months or " of the month")
    return f"every {rule.interval} months on the {day}{in_months}"


def _describe_de(rule: Recurrence, days: str, day_names: Mapping[int, str], months: str) -> str:
    in_months = f" im {months}" if rule.months else ""
    if rule.freq == "weekly":
        if rule.interval == 1:
            return (f"jeden {days}" if days else "jede Woche") + in_months
        text = f"alle {rule.interval} Wochen"
        return text + (f" am {days}" if days else "") + in_months
    nth = "letzten" if rule.nth == -1 else f"{rule.nth}."
    day = f"{nth} {day_names[cast(int, rule.weekday)]}"
    if rule.interval == 1:
        return f"jeden {day}" + (in_months or " im Monat")
    return f"alle {rule.interval} Monate am {day}{in_months}"


def _describe_words(
    rule: Recurrence,
    lang: str,
    names: Locale,
    days: str,
    day_names: Mapping[int, str],
    start: date | None,
    with_end: bool,
) -> str:
    if rule.freq == "weekly":
        text = rule_words.weekly(lang, rule.interval, days)
    else:
        day = day_names[cast(int, rule.weekday)]
        text = rule_words.monthly(lang, rule.interval, cast(int, rule.nth), day)
    if rule.months:
        # Named on their own, not inside a date: the stand-alone forms (Ukrainian
        # "березень", not the genitive "березня" of "1 березня").
        alone = get_month_names("wide", context="stand-alone", locale=names)
        text = rule_words.in_months(
            lang, text, format_list([alone[m] for m in sorted(set(rule.months))], locale=names)
        )
    if with_end and rule.until is not None:
        text = rule_words.until(lang, text, format_date(rule.until, "long", locale=names))
    elif with_end and rule.count is not None:
        text = rule_words.times(lang, text, cast(int, dates_counted(rule, start)))
    return text


def _ordinal_en(nth: int) -> str:
    return {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", -1: "last"}[nth]


def _times(count: int, lang: str) -> str:
    if lang == "de":
        return "einmal" if count == 1 else f"{count}-mal"
    return "once" if count == 1 else f"{count} times"


def _check_fields(rule: Recurrence) -> None:
    """Raise RecurrenceError for field values no start date could make valid."""
    if rule.freq not in _FREQS:
        raise RecurrenceError(_l("Choose whether the event repeats weekly or monthly."))
    if rule.until is None and rule.count is None:
        raise RecurrenceError(_l("The recurrence must end: give an end date or a number of dates."))
    if rule.until is not None and rule.count is not None:
        raise RecurrenceError(_l("Give either an end date or a number of dates, not both."))
    if rule.count is not None and not (_is_int(rule.count) and 1 <= rule.count <= MAX_COUNT):
        raise RecurrenceError(
            _l("The number of dates must be between 1 and %(max)d.", max=MAX_COUNT)
        )
    if rule.until is not None and not _is_date(rule.until):
        raise RecurrenceError(_l("The end date is not a valid date."))
    if not (_is_int(rule.interval) and 1 <= rule.interval <= MAX_INTERVAL):
        raise RecurrenceError(_l("The interval must be between 1 and %(max)d.", max=MAX_INTERVAL))
    if not all(_is_int(day) and 0 <= day <= 6 for day in rule.weekdays):
        raise RecurrenceError(_l("Choose weekdays from Monday to Sunday."))
    if not all(_is_int(month) and 1 <= month <= 12 for month in rule.months):
        raise RecurrenceError(_l("Choose months from January to December."))
    if not all(_is_date(day) for day in rule.exceptions):
        raise RecurrenceError(_l("A date to leave out is not a valid date."))
    if rule.freq == "weekly":
        if rule.nth is not None or rule.weekday is not None:
            raise RecurrenceError(_l("A weekly rule takes weekdays, not a position in the month."))
        return
    if rule.weekdays:
        raise RecurrenceError(_l("A monthly rule takes one weekday and its position in the month."))
    if rule.nth is None or rule.weekday is None:
        raise RecurrenceError(
            _l("Choose which weekday of the month the event falls on, e.g. the 2nd Tuesday.")
        )
    if not _is_int(rule.nth) or rule.nth not in _NTHS:
        raise RecurrenceError(_l("The position in the month must be 1st to 4th or last."))
    if not (_is_int(rule.weekday) and 0 <= rule.weekday <= 6):
        raise RecurrenceError(_l("Choose weekdays from Monday to Sunday."))


def _expand(rule: Recurrence, local_start: datetime) -> Iterator[datetime]:
    """Yield the rule's naive local datetimes, exceptions included, in order."""
    if rule.freq == "weekly":
        byweekday: Any = tuple(sorted(set(rule.weekdays))) or (local_start.weekday(),)
        freq = WEEKLY
    else:
        byweekday = weekday(cast(int, rule.weekday), cast(int, rule.nth))
        freq = MONTHLY
    until = datetime.combine(rule.until, time.max) if rule.until is not None else None
    recurrence = rrule(
        freq,
        dtstart=local_start,
        interval=rule.interval,
        # Monday as week start, as in RFC 5545 and Germany, whatever the process locale.
        wkst=0,
        count=rule.count,
        until=until,
        bymonth=tuple(sorted(set(rule.months))) or None,
        byweekday=byweekday,
    )
    return cast(Iterator[datetime], iter(recurrence))


def _local_naive(value: datetime, tz: ZoneInfo | None) -> datetime:
    if value.utcoffset() is None:
        return value
    if tz is None:
        raise ValueError("tz is required for an aware datetime")
    return value.astimezone(tz).replace(tzinfo=None)


def _to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    # fold=0 takes the earlier reading of an ambiguous autumn time and moves a time
    # that does not exist in spring forward by the hour the clocks skip.
    return local.replace(tzinfo=tz).astimezone(UTC)


def _overlaps(
    start: datetime, end: datetime | None, window_start: datetime, window_end: datetime
) -> bool:
    if end is None or end <= start:
        return window_start <= start < window_end
    return start < window_end and end > window_start


def _is_int(value: object) -> bool:
    # bool is an int subclass, and True must not count as "1 week".
    return isinstance(value, int) and not isinstance(value, bool)


def _is_date(value: object) -> bool:
    return isinstance(value, date) and not isinstance(value, datetime)


def _int_field(data: Mapping[str, Any], key: str, *, default: int) -> int:
    value = data.get(key, default)
    if not _is_int(value):
        raise RecurrenceError(_l("Invalid value for %(field)s.", field=key))
    return cast(int, value)


def _optional_int_field(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is not None and not _is_int(value):
        raise RecurrenceError(_l("Invalid value for %(field)s.", field=key))
    return cast("int | None", value)


def _list_field(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key, [])
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise RecurrenceError(_l("Invalid value for %(field)s.", field=key))
    return list(value)


def _int_list_field(data: Mapping[str, Any], key: str) -> tuple[int, ...]:
    values = _list_field(data, key)
    if not all(_is_int(value) for value in values):
        raise RecurrenceError(_l("Invalid value for %(field)s.", field=key))
    return tuple(values)


def _parse_date(value: Any, key: str) -> date:
    if not isinstance(value, str):
        raise RecurrenceError(_l("Invalid value for %(field)s.", field=key))
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RecurrenceError(_l("Invalid value for %(field)s.", field=key)) from None
