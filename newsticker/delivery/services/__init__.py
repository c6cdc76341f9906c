"""Sending an issue: delivery records, claims with leases, results, pause, resume, cancel.

The life of a send:

1. `start_issue` (one transaction): the report row, the frozen rendering, and one record
   per recipient (the confirmed subscribers at that moment, each once).
2. Workers, each in transactions of its own: `claim_batch` leases a batch of due records
   (FOR UPDATE SKIP LOCKED on PostgreSQL; on SQLite the claim is a single
   UPDATE … RETURNING that opens its transaction, so it holds the one write lock from its
   first read on), `skip_unsubscribed` drops who left since, the messages go out, and
   `record_results` writes the outcomes of many messages in one transaction.
3. A lease that runs out (a worker died) makes its records claimable again.
4. When no record is pending, `finish_if_done` marks the issue sent and mails the report.

Services flush, never commit: the worker (or command, or job) owns each transaction.
Mails to the editors go through the `Notifier` the caller passes in.

A module per concern; this one re-exports the names the rest of the code imports:
`reports` (the report row, the notifier), `starting` (start, hold, send or queue),
`claims` (leases), `results` (outcomes, the failure run), `control` (pause, resume,
cancel, finish), `progress` (counts, rate, reports, purging records).
"""

from __future__ import annotations

from newsticker.delivery.models import CANCELLABLE_STATES, FINAL_STATES
from newsticker.delivery.services.claims import Claimed, claim_batch, release, skip_unsubscribed
from newsticker.delivery.services.control import (
    cancel_sending,
    finish_if_done,
    pause_issue,
    resume_issue,
)
from newsticker.delivery.services.progress import (
    RATE_WINDOW,
    REPORT_REASONS,
    Progress,
    failed_deliveries,
    failure_reasons,
    fill_report,
    has_pending,
    next_due,
    progress,
    purge_records,
    recent_reports,
    sending_issue_ids,
    status_counts,
)
from newsticker.delivery.services.reports import (
    DeliveryError,
    Notifier,
    add_event,
    event_codes,
    get_report,
    send_state,
)
from newsticker.delivery.services.results import (
    MAX_BACKOFF,
    Outcome,
    Recorded,
    backoff,
    record_results,
)
from newsticker.delivery.services.starting import (
    INSERT_CHUNK,
    MISFIRE_TOLERANCE,
    SendDecision,
    SendOrQueue,
    create_records,
    forget_stale_hold,
    hold_issue,
    publication_slugs,
    send_or_queue,
    start_issue,
)

__all__ = [
    "CANCELLABLE_STATES",
    "FINAL_STATES",
    "INSERT_CHUNK",
    "MAX_BACKOFF",
    "MISFIRE_TOLERANCE",
    "RATE_WINDOW",
    "REPORT_REASONS",
    "Claimed",
    "DeliveryError",
    "Notifier",
    "Outcome",
    "Progress",
    "Recorded",
    "SendDecision",
    "SendOrQueue",
    "add_event",
    "backoff",
    "cancel_sending",
    "claim_batch",
    "create_records",
    "event_codes",
    "failed_deliveries",
    "failure_reasons",
    "fill_report",
    "finish_if_done",
    "forget_stale_hold",
    "get_report",
    "has_pending",
    "hold_issue",
    "next_due",
    "pause_issue",
    "progress",
    "publication_slugs",
    "purge_records",
    "recent_reports",
    "record_results",
    "release",
    "resume_issue",
    "send_or_queue",
    "send_state",
    "sending_issue_ids",
    "skip_unsubscribed",
    "start_issue",
    "status_counts",
]
