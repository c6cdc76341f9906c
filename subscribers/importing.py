"""Import a list of subscribers from CSV, fast enough for 100,000 rows.

An import reads and checks every row first (subscribers.csvio), loads what the database
knows about the addresses in one query, and then writes in batches: no row-by-row ORM.
Rows are imported as confirmed subscriptions with the consent note recorded per row.
An upload in the editor area is kept as a preview until an editor imports or discards
it. Exporting lives in subscribers.exporting (re-exported here for older callers).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from newsticker.core.audit import Actor, record_event
from newsticker.core.i18n import lazy_gettext as _l
from subscribers.addresses import suppression_hash
from subscribers.bulk import insert_rows
from subscribers.csvcheck import AcceptedRow, ImportRow, ReportLine, classify_rows
from subscribers.csvio import ImportParse, read_import
from subscribers.exporting import EXPORT_HEADER, export_csv, export_rows
from subscribers.models import (
    ConsentAction,
    ConsentEvent,
    ImportStatus,
    Subscriber,
    SubscriberImport,
    Subscription,
    SubscriptionStatus,
    Suppression,
)

__all__ = [
    "EXPORT_HEADER",
    "ImportPlan",
    "ImportResult",
    "discard_preview",
    "export_csv",
    "export_rows",
    "get_import",
    "import_subscribers",
    "plan_import",
    "report_rows",
    "run_import",
    "save_preview",
]

logger = logging.getLogger(__name__)

BATCH_SIZE = 2000
_BLOCKED = _l("This address is blocked by the editors and is not imported.")

# (phase, done, total): phase is "check" while rows are checked, "save" while written.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class _Known:
    subscriber_id: int
    subscription_id: int | None
    status: SubscriptionStatus | None
    blocked: bool


@dataclass
class ImportPlan:
    """A checked import file: the rows to write and the rows to report."""

    parse: ImportParse
    accepted: list[AcceptedRow]
    report: list[ReportLine]
    known: dict[str, _Known]

    @property
    def rows_total(self) -> int:
        """Return the number of data rows in the file."""
        return len(self.parse.rows)

    @property
    def unchanged(self) -> int:
        """Return how many rows are already subscribed."""
        return sum(1 for line in self.report if line.kind == "unchanged")

    @property
    def problems(self) -> list[ReportLine]:
        """Return the rows that are not imported for a reason the office should see."""
        return [line for line in self.report if line.kind != "unchanged"]


@dataclass
class ImportResult:
    """What an import did."""

    rows_total: int = 0
    imported: int = 0
    unchanged: int = 0
    problems: list[ReportLine] = field(default_factory=list)
    record_id: int | None = None

    @property
    def rejected(self) -> int:
        """Return how many rows were not imported because of a problem."""
        return len(self.problems)


def _counting(rows: Sequence[ImportRow], progress: Progress | None) -> Iterator[ImportRow]:
    total = len(rows)
    for number, row in enumerate(rows, 1):
        yield row
        if progress is not None and (number % 1000 == 0 or number == total):
            progress("check", number, total)


def _known_subscribers(session: Session, publication: str) -> dict[str, _Known]:
    """Load every subscriber's key with its status for this publication, in one query."""
    query = (
        select(
            Subscriber.email_key,
            Subscriber.id,
            Subscription.id,
            Subscription.status,
            Subscriber.blocked_at,
        )
        .outerjoin(
            Subscription,
            (Subscription.subscriber_id == Subscriber.id)
            & (Subscription.publication == publication),
        )
        .execution_options(yield_per=10_000)
    )
    return {
        key: _Known(subscriber_id, subscription_id, status, blocked_at is not None)
        for key, subscriber_id, subscription_id, status, blocked_at in session.execute(query)
    }


def plan_import(
    session: Session,
    data: bytes,
    *,
    publication: str,
    salts: Sequence[bytes],
    progress: Progress | None = None,
) -> ImportPlan:
    """Read and check an import file against the database, changing nothing.

    Raises csvio.ImportFileError when the file as a whole cannot be read.
    """
    if not salts:
        raise ValueError("an import needs the suppression-list salts")
    parse = read_import(data)
    known = _known_subscribers(session, publication)
    suppressed = set(session.scalars(select(Suppression.digest)))
    existing = {key: k.status for key, k in known.items() if k.status is not None}
    accepted, report = classify_rows(
        _counting(parse.rows, progress),
        existing_keys=existing,
        suppressed_hashes=suppressed,
        salt=salts[0],
    )
    kept: list[AcceptedRow] = []
    for row in accepted:
        entry = known.get(row.key)
        if entry is not None and entry.blocked:
            report.append(ReportLine(row.row_number, row.email, _BLOCKED, "suppressed"))
        elif suppressed and any(suppression_hash(row.email, s) in suppressed for s in salts[1:]):
            # Erased while an older secret key was in use.
            line = _suppressed_line(row)
            report.append(line)
        else:
            kept.append(row)
    report.sort(key=lambda line: line.row_number)
    return ImportPlan(parse=parse, accepted=kept, report=report, known=known)


def _suppressed_line(row: AcceptedRow) -> ReportLine:
    reason = _l(
        "This address was erased at the subscriber's request and must not be imported again."
    )
    return ReportLine(row.row_number, row.email, reason, "suppressed")


def report_rows(lines: Iterable[ReportLine]) -> list[list[Any]]:
    """Return report lines as JSON-ready rows, reasons in the current language."""
    return [[line.row_number, line.value, line.kind, str(line.reason)] for line in lines]


def save_preview(
    session: Session,
    plan: ImportPlan,
    data: bytes,
    *,
    publication: str,
    consent_note: str,
    actor: str,
    filename: str,
    now: datetime,
) -> SubscriberImport:
    """Keep a checked upload and its report until an editor confirms or drops the import."""
    record = SubscriberImport(
        created_at=now,
        actor=actor,
        channel="web",
        filename=filename[:255],
        publication=publication,
        consent_note=consent_note,
        status=ImportStatus.PREVIEW,
        data=data,
        rows_total=plan.rows_total,
        imported=len(plan.accepted),
        unchanged=plan.unchanged,
        rejected=len(plan.problems),
        report=report_rows(plan.problems),
    )
    session.add(record)
    session.flush()
    return record


def get_import(session: Session, import_id: int) -> SubscriberImport | None:
    """Return an import (a kept preview or a finished one), or None."""
    return session.get(SubscriberImport, import_id)


def discard_preview(session: Session, record: SubscriberImport) -> bool:
    """Drop a kept upload that was not imported; False when it was imported already."""
    if record.status != ImportStatus.PREVIEW:
        return False
    session.delete(record)
    session.flush()
    return True


def run_import(
    session: Session,
    plan: ImportPlan,
    *,
    publication: str,
    consent_note: str,
    actor: str,
    channel: str,
    filename: str,
    now: datetime,
    record: SubscriberImport | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
    who: Actor | None = None,
) -> ImportResult:
    """Write a checked import as confirmed subscriptions, in batches, and record it."""
    note = consent_note.strip()
    if not note:
        raise ValueError("an import needs a consent note")
    if record is None:
        record = SubscriberImport(
            created_at=now, actor=actor, channel=channel, filename=filename[:255],
            publication=publication, consent_note=note,
        )  # fmt: skip
        session.add(record)
        session.flush()
    subscribers = cast(Table, Subscriber.__table__)
    subscriptions = cast(Table, Subscription.__table__)
    events = cast(Table, ConsentEvent.__table__)
    total = len(plan.accepted)
    done = 0
    for start in range(0, total, batch_size):
        batch = plan.accepted[start : start + batch_size]
        new_rows = [row for row in batch if row.key not in plan.known]
        ids: dict[str, int] = {}
        if new_rows:
            insert_rows(
                session,
                subscribers,
                [
                    {
                        "email": row.email,
                        "email_key": row.key,
                        "name": row.name,
                        "language": row.language,
                        "created_at": now,
                        "updated_at": now,
                        "blocked_note": "",
                    }
                    for row in new_rows
                ],
            )
            keys = [row.key for row in new_rows]
            query = select(subscribers.c.email_key, subscribers.c.id).where(
                subscribers.c.email_key.in_(keys)
            )
            ids = {key: subscriber_id for key, subscriber_id in session.execute(query)}
        to_insert: list[dict[str, Any]] = []
        to_update: list[dict[str, Any]] = []
        for row in batch:
            entry = plan.known.get(row.key)
            subscriber_id = ids[row.key] if entry is None else entry.subscriber_id
            ids[row.key] = subscriber_id
            if entry is not None and entry.subscription_id is not None:
                to_update.append({"sid": entry.subscription_id})
            else:
                to_insert.append(
                    {
                        "subscriber_id": subscriber_id,
                        "publication": publication,
                        "status": SubscriptionStatus.CONFIRMED,
                        "created_at": now,
                        "updated_at": now,
                        "confirmed_at": now,
                    }
                )
        if to_insert:
            insert_rows(session, subscriptions, to_insert)
        if to_update:
            session.execute(
                update(subscriptions)
                .where(subscriptions.c.id == bindparam("sid"))
                .values(
                    status=SubscriptionStatus.CONFIRMED,
                    confirmed_at=now,
                    updated_at=now,
                    unsubscribed_at=None,
                    bounced_at=None,
                ),
                to_update,
            )
        insert_rows(
            session,
            events,
            [
                {
                    "subscriber_id": ids[row.key],
                    "publication": publication,
                    "action": ConsentAction.IMPORTED,
                    "occurred_at": now,
                    "channel": "import",
                    "form_url": "",
                    "consent_text_version": "",
                    "consent_language": "",
                    "message_id": "",
                    "actor": actor,
                    "note": note,
                    "detail": f"{filename}:{row.row_number}"[:500],
                }
                for row in batch
            ],
        )
        done += len(batch)
        if progress is not None:
            progress("save", done, total)
    problems = plan.problems
    record.status = ImportStatus.DONE
    record.data = None
    record.finished_at = now
    record.rows_total = plan.rows_total
    record.imported = total
    record.unchanged = plan.unchanged
    record.rejected = len(problems)
    record.report = report_rows(problems)
    session.flush()
    record_event(
        session,
        "subscriber.imported",
        actor=who or Actor.system(actor or "cli"),
        now=now,
        subject=("subscriber_import", record.id),
        summary=f"{total} imported into {publication} ({filename[:100]})",
        details={
            "publication": publication,
            "imported": total,
            "unchanged": plan.unchanged,
            "rejected": len(problems),
            "channel": channel,
        },
    )
    # Rows were written past the ORM; nothing it holds may be trusted as current.
    session.expire_all()
    return ImportResult(
        rows_total=plan.rows_total,
        imported=total,
        unchanged=plan.unchanged,
        problems=problems,
        record_id=record.id,
    )


def import_subscribers(
    session: Session,
    data: bytes,
    *,
    publication: str,
    consent_note: str,
    actor: str,
    salts: Sequence[bytes],
    now: datetime,
    filename: str = "",
    channel: str = "cli",
    progress: Progress | None = None,
) -> ImportResult:
    """Check and import a CSV file in one go (what the command line does)."""
    plan = plan_import(session, data, publication=publication, salts=salts, progress=progress)
    return run_import(
        session,
        plan,
        publication=publication,
        consent_note=consent_note,
        actor=actor,
        channel=channel,
        filename=filename,
        now=now,
        progress=progress,
    )
