"""The report row of a send: reading it, its log of events, and who is told about it.

One `DeliveryReport` per issue holds where its sending stands (`SendState`), the
failure run, the counts kept after the per-recipient records are gone, and a log of
what happened. Turns that need a person (failures paused it, it missed its time, it
ended) are told to a `Notifier`, passed in by the caller: the editors' mails live
above the services (newsticker.delivery.mails), so the services never import them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from newsticker.core.errors import UserError
from newsticker.delivery.models import DeliveryReport, SendState


class DeliveryError(UserError):
    """A delivery action that is not possible now, with a message for the editor."""


class Notifier(Protocol):
    """Who hears of the turns of a send that need a person (mails queued in the transaction)."""

    def paused(self, session: Session, report: DeliveryReport) -> object:
        """Tell that failures paused the send, and how to go on."""
        ...

    def held(self, session: Session, report: DeliveryReport) -> object:
        """Tell that the issue missed its time and waits for a decision."""
        ...

    def ended(self, session: Session, report: DeliveryReport) -> object:
        """Send the report of a send that finished or was cancelled."""
        ...


def get_report(session: Session, issue_id: int) -> DeliveryReport | None:
    """Return the sending state and report of an issue, if its sending began."""
    return session.scalars(
        select(DeliveryReport).where(DeliveryReport.issue_id == issue_id)
    ).first()


def send_state(session: Session, issue_id: int) -> SendState | None:
    """Return the sending state of an issue (None before it started)."""
    return session.scalar(select(DeliveryReport.state).where(DeliveryReport.issue_id == issue_id))


def add_event(report: DeliveryReport, now: datetime, code: str, **params: str | int) -> None:
    """Add a line to the report's log: what happened (a code) and its values.

    The log stores codes, not sentences, so each reader sees it in their own language
    (newsticker.delivery.log); lines from before are [time, text] and shown as they are.
    """
    # A new list, so the JSON column is seen as changed.
    report.events = [*(report.events or []), [now.isoformat(), code, params]]
    report.updated_at = now


def event_codes(report: DeliveryReport) -> list[str]:
    """Return the codes of the report's log lines, oldest first (old text lines as text)."""
    return [str(event[1]) for event in report.events or []]


def minutes_text(delta: timedelta) -> str:
    """Return a delay as "12 min" or, from two hours on, "3 h 5 min"."""
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60} min"
