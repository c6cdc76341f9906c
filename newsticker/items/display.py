"""How dates, languages and rules of items read on pages, in feeds and in mails."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_interval, format_skeleton, format_time
from flask_babel import get_locale, gettext

from newsticker.items.languages import language_name
from newsticker.items.models import Item
from newsticker.items.recurrence import SeriesDate, describe
from newsticker.items.services import item_recurrence


def _locale() -> str:
    return str(get_locale() or "de")


def day_heading(day: date) -> str:
    """Return a day as a heading, e.g. "Dienstag, 9. Februar 2027"."""
    return format_date(day, "full", locale=_locale())


def when_text(
    start: datetime, end: datetime | None, all_day: bool, tz: ZoneInfo, *, with_date: bool = True
) -> str:
    """Return a date range as people read it, e.g. "Di., 9. Feb. 2027, 18:30–20:30".

    Without the date (under a day heading), a range within one day shows its times only.
    """
    locale = _locale()
    local_start = start.astimezone(tz)
    first = format_skeleton("yMMMEd", local_start.date(), locale=locale)
    if all_day:
        last_day = (end.astimezone(tz) - timedelta(days=1)).date() if end else local_start.date()
        if last_day <= local_start.date():
            return first if with_date else gettext("all day")
        return format_interval(local_start.date(), last_day, "yMMMEd", locale=locale)
    begin = format_time(local_start, "short", locale=locale)
    if end is None or end <= start:
        return f"{first}, {begin}" if with_date else begin
    local_end = end.astimezone(tz)
    finish = format_time(local_end, "short", locale=locale)
    if local_end.date() == local_start.date():
        return f"{first}, {begin}–{finish}" if with_date else f"{begin}–{finish}"
    last = format_skeleton("yMMMEd", local_end.date(), locale=locale)
    return f"{first}, {begin} – {last}, {finish}"


def item_when(item: Item, tz: ZoneInfo) -> str:
    """Return when an item takes place (its first date and its rule), or ""."""
    if item.starts_at is None:
        return ""
    text = when_text(item.starts_at, item.ends_at, item.all_day, tz)
    rule = item_recurrence(item)
    if rule is None:
        return text
    start_day = item.starts_at.astimezone(tz).date()
    return f"{text}; {describe(rule, _locale(), start=start_day, with_end=True)}"


def rule_text(item: Item, tz: ZoneInfo) -> str:
    """Return the item's recurrence in words, or ""."""
    rule = item_recurrence(item)
    if rule is None or item.starts_at is None:
        return ""
    start_day = item.starts_at.astimezone(tz).date()
    return describe(rule, _locale(), start=start_day, with_end=True)


def languages_text(codes: list[str]) -> str:
    """Return language names, comma-separated, in the interface language."""
    return ", ".join(language_name(code, autonym=False) for code in codes)


def clock_text(start: time, end: time | None, locale: str | None = None) -> str:
    """Return a time of day or a range as people say it: "16–18 Uhr", "4 – 6 PM", "18:30"."""
    locale = locale or _locale()
    english = locale.split("_")[0].split("-")[0] == "en"
    on_the_hour = start.minute == 0 and (end is None or end.minute == 0)
    skeleton = ("h" if english else "H") + ("" if on_the_hour else "m")
    if end is None or end == start:
        if on_the_hour and not english:
            return format_skeleton("Hm", start, locale=locale)
        return format_skeleton(skeleton, start, locale=locale)
    return format_interval(start, end, skeleton, locale=locale)


def series_text(item: Item, tz: ZoneInfo) -> str:
    """Return a series as its rule in words and its time, e.g. "jeden Mittwoch, 16–18 Uhr".

    "" for an item that does not repeat.
    """
    rule = item_recurrence(item)
    if rule is None or item.starts_at is None:
        return ""
    local_start = item.starts_at.astimezone(tz)
    text = describe(rule, _locale(), start=local_start.date())
    if item.all_day:
        return text
    end = None
    if item.ends_at is not None:
        local_end = item.ends_at.astimezone(tz)
        if local_end.date() == local_start.date():
            end = local_end.time()
    return f"{text}, {clock_text(local_start.time(), end)}"


def short_date(day: datetime | date, tz: ZoneInfo | None = None) -> str:
    """Return a date for a list of dates, e.g. "Mi., 16. Dez." / "Wed, Dec 16"."""
    if isinstance(day, datetime):
        day = day.astimezone(tz).date() if tz is not None else day.date()
    return format_skeleton("MMMEd", day, locale=_locale())


def dates_texts(dates: list[SeriesDate], tz: ZoneInfo) -> list[tuple[str, bool]]:
    """Return (date text, cancelled) for each date of a series."""
    return [(short_date(d.starts_at, tz), d.cancelled) for d in dates]
