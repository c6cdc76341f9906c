"""A send's log as editors read it: in their language and local time, with names.

`services.add_event` stores a code and its values ([time, code, {values}]); this
module words each line for the reader. Lines written before codes were stored are
[time, text] and are shown as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import format_timedelta
from flask_babel import gettext as _


@dataclass(frozen=True)
class LogLine:
    """One line of the log: when, and what happened in words."""

    at: datetime
    text: str


def _delay(minutes: Any) -> str:
    return str(format_timedelta(timedelta(minutes=int(minutes)), threshold=2, add_direction=False))


def _who(actor: str, names: dict[str, str]) -> str:
    if actor == "cli":
        return str(_("the command line"))
    if actor == "scheduler":
        return str(_("the scheduler"))
    return names.get(actor, actor)


def _words(code: str, values: dict[str, Any], names: dict[str, str]) -> str:
    actor = str(values.get("actor") or "")
    name = _who(actor, names) if actor else ""
    if code == "started":
        recipients = int(values.get("recipients", 0))
        if name:
            return str(_("Started by %(name)s for %(num)d recipients.", name=name, num=recipients))
        return str(_("Started for %(num)d recipients.", num=recipients))
    if code == "misfire":
        return str(
            _(
                "Started %(delay)s after its scheduled time (the scheduler was not running).",
                delay=_delay(values.get("minutes", 0)),
            )
        )
    if code == "held":
        return str(
            _(
                "Held: the scheduler found it %(delay)s after its time.",
                delay=_delay(values.get("minutes", 0)),
            )
        )
    if code == "sent_on_request":
        return str(_("Sent at the request of %(name)s.", name=name or _("an editor")))
    if code == "paused":
        if name:
            return str(_("Paused by %(name)s.", name=name))
        return str(_("Paused: %(reason)s", reason=str(values.get("reason", ""))))
    if code == "resumed":
        return str(_("Resumed by %(name)s.", name=name)) if name else str(_("Resumed."))
    if code == "cancelled":
        return str(_("Cancelled by %(name)s.", name=name)) if name else str(_("Cancelled."))
    if code == "finished":
        return str(_("Finished."))
    return code


def log_actors(events: list[list[Any]]) -> set[str]:
    """Return the login addresses a log names (to look up their names)."""
    return {
        str(event[2].get("actor"))
        for event in events
        if len(event) > 2 and isinstance(event[2], dict) and event[2].get("actor")
    }


def log_lines(events: list[list[Any]], names: dict[str, str]) -> list[LogLine]:
    """Return the log, oldest first, worded for the current reader."""
    lines = []
    for event in events:
        at = datetime.fromisoformat(str(event[0]))
        if len(event) > 2 and isinstance(event[2], dict):
            lines.append(LogLine(at, _words(str(event[1]), event[2], names)))
        else:
            lines.append(LogLine(at, str(event[1])))
    return lines
