"""An item's history as editors read it: in their language and local time, with names.

The audit rows store plain words ("approved", "editor", field names, ISO dates) so they
stay readable in the database and in exports; this module turns them into the
reader's language. A word it does not know is shown as stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import format_date, format_datetime
from flask_babel import gettext as _

from newsticker.items.models import (
    AUDIT_ACTION_LABELS,
    AUDIT_ACTOR_LABELS,
    AUDIT_FIELD_LABELS,
    FIELDS_OF_ACTION,
    KIND_LABELS,
    ItemAudit,
)

NOTHING = "–"


@dataclass(frozen=True)
class Change:
    """One changed field: its label and its old and new value as text."""

    label: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryRow:
    """One line of the history."""

    at: datetime
    who: str
    what: str
    note: str
    changes: list[Change] = field(default_factory=list)


def _value_text(name: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return NOTHING
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if name == "kind":
        return str(KIND_LABELS.get(value, value))
    if name == "field_of_action":
        return str(FIELDS_OF_ACTION.get(value, value))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, str) and name.endswith(("_at", "_until")):
        return _date_text(value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def _date_text(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None and len(value) == 10:
        return str(format_date(date.fromisoformat(value), "medium"))
    return str(format_datetime(moment, "short"))


def _who(entry: ItemAudit, names: dict[int, str]) -> str:
    if entry.user_id is not None and entry.user_id in names:
        return names[entry.user_id]
    return str(AUDIT_ACTOR_LABELS.get(entry.actor, entry.actor))


def history_rows(entries: list[ItemAudit], names: dict[int, str]) -> list[HistoryRow]:
    """Return the audit entries, newest first, as the current reader reads them."""
    return [
        HistoryRow(
            at=entry.at,
            who=_who(entry, names),
            what=str(AUDIT_ACTION_LABELS.get(entry.action, entry.action)),
            note=entry.note,
            changes=[
                Change(
                    label=str(AUDIT_FIELD_LABELS.get(name, name)),
                    old=_value_text(name, change[0]),
                    new=_value_text(name, change[1]),
                )
                for name, change in (entry.changes or {}).items()
            ],
        )
        for entry in reversed(entries)
    ]
