"""The content of an item as forms and imports give it, and the rules across its fields.

Each field is checked by its form; what needs several fields at once (dates against the
kind, the end against the start, a rule against its first date, an image against its
description) is checked here, so every way into the system applies the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from newsticker.core.i18n import lazy_gettext as _l
from newsticker.items.models import FIELDS_OF_ACTION, Item, ItemKind
from newsticker.items.recurrence import Recurrence, RecurrenceError, validate
from newsticker.items.services.derived import last_end

# How far ahead an event may start, and how long one occurrence may last.
MAX_YEARS_AHEAD = 2
MAX_EVENT_DAYS = 90
# Announcements without an end date stay this long.
DEFAULT_VISIBLE_DAYS = 56


@dataclass
class ItemData:
    """The content of an item as a form or an import gives it (already cleaned).

    `kind` is what was given (an ItemKind value if all is well); `check_item_data`
    refuses anything else.
    """

    kind: str
    title: str
    summary: str
    organiser: str
    description: str = ""
    field_of_action: str = "general"
    tags: list[str] = field(default_factory=list)
    event_languages: list[str] = field(default_factory=list)
    content_language: str = "de"
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    all_day: bool = False
    recurrence: Recurrence | None = None
    visible_until: date | None = None
    place_name: str = ""
    place_address: str = ""
    accessibility_note: str = ""
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    link: str = ""
    image_alt: str = ""


def check_item_data(
    data: ItemData, *, tz: ZoneInfo, now: datetime, has_image: bool = False
) -> dict[str, Any]:
    """Return messages for rules across fields, keyed by field name (empty when fine)."""
    errors: dict[str, Any] = {}
    today = now.astimezone(tz).date()
    if data.kind not in set(ItemKind):
        errors["kind"] = _l("Please choose what you are submitting.")
    if data.field_of_action not in FIELDS_OF_ACTION:
        errors["field_of_action"] = _l("Please choose a field of action.")
    if has_image and not data.image_alt.strip():
        errors["image_alt"] = _l(
            "Please describe the image in a few words for people who cannot see it."
        )
    if data.kind == ItemKind.EVENT:
        errors.update(_check_event_dates(data, tz=tz, now=now))
    elif data.visible_until is not None:
        if data.visible_until < today:
            errors["visible_until"] = _l("This date is in the past. Please choose a later date.")
        elif data.visible_until > today + relativedelta(years=MAX_YEARS_AHEAD):
            errors["visible_until"] = _l(
                "This date is more than %(years)d years ahead. Please choose an earlier date.",
                years=MAX_YEARS_AHEAD,
            )
    return errors


def _check_event_dates(data: ItemData, *, tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    start, end = data.starts_at, data.ends_at
    if start is None:
        return {"start_date": _l("Please enter the date of the event.")}
    if start > now + relativedelta(years=MAX_YEARS_AHEAD):
        errors["start_date"] = _l(
            "The event starts more than %(years)d years from now. We only publish events "
            "up to %(years)d years ahead.",
            years=MAX_YEARS_AHEAD,
        )
    if end is not None and end < start:
        errors["end_date"] = _l("The end must not be before the start.")
        return errors
    if end is not None and end - start > timedelta(days=MAX_EVENT_DAYS):
        errors["end_date"] = _l(
            "An event may last at most %(days)d days. For a longer offer, submit an "
            "announcement instead.",
            days=MAX_EVENT_DAYS,
        )
        return errors
    if data.recurrence is not None:
        try:
            validate(data.recurrence, start, tz)
        except RecurrenceError as exc:
            errors["repeat"] = exc.message
            return errors
    if errors:
        return errors
    probe = Item(starts_at=start, ends_at=end, recurrence=rule_dict(data.recurrence))
    last = last_end(probe, tz)
    if last is not None and last < now:
        errors["start_date"] = _l(
            "This date is in the past. We only publish events that are still to come."
        )
    return errors


def rule_dict(rule: Recurrence | None) -> dict[str, Any] | None:
    """Return a rule as it is stored (JSON), or None."""
    return rule.to_dict() if rule is not None else None


def item_values(data: ItemData, tz: ZoneInfo, now: datetime) -> dict[str, Any]:
    """Return the column values checked data stands for (events keep dates, others a span)."""
    values: dict[str, Any] = {f.name: getattr(data, f.name) for f in fields(ItemData)}
    values["kind"] = ItemKind(data.kind)
    values["recurrence"] = rule_dict(data.recurrence)
    values["tags"] = list(dict.fromkeys(data.tags))
    values["event_languages"] = list(dict.fromkeys(data.event_languages))
    if values["kind"] == ItemKind.EVENT:
        values["visible_until"] = None
    else:
        values["starts_at"] = values["ends_at"] = values["recurrence"] = None
        values["all_day"] = False
        if values["visible_until"] is None:
            values["visible_until"] = now.astimezone(tz).date() + timedelta(
                days=DEFAULT_VISIBLE_DAYS
            )
    return values
