"""Choices of the date and repeat fields, and reading dates as people write them."""

from __future__ import annotations

from datetime import date, datetime

from newsticker.core.i18n import lazy_gettext as _l

# Ways people write a date (ISO first: what a browser's date field sends).
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y")

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


def nth_of(day: date) -> int:
    """Return which weekday of its month a day is (1 to 4, or -1 for the last)."""
    nth = (day.day - 1) // 7 + 1
    return -1 if nth == 5 else nth


def parse_date(token: str) -> date | None:
    """Return the date a person wrote (24.12.2027, 24.12.27 or 2027-12-24), or None."""
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(token, fmt).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    return None
