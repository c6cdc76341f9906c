"""Results: what the relay said to many messages, written at once; the failure run.

A worker writes the outcomes of a buffer of messages in one transaction. The statements
are Core statements of constant shape, compiled once and each run as one executemany;
on PostgreSQL a batch of sent records is one UPDATE over two unnested arrays (an
executemany costs a statement per row there). A retry is written only while the lease
is still the worker's: after it ran out, another worker owns the attempt.

Failures in a row, across all workers, make the failure run of the report; at the
configured threshold the send pauses by itself and the editors are told.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import BigInteger, Table, Text, bindparam, func, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from newsticker.config import Settings
from newsticker.delivery import audience
from newsticker.delivery.models import Delivery, DeliveryReport, DeliveryStatus, SendState
from newsticker.delivery.services.control import pause_issue
from newsticker.delivery.services.reports import Notifier

MAX_BACKOFF = timedelta(hours=6)


@dataclass(frozen=True)
class Outcome:
    """What the relay said to one message."""

    delivery_id: int
    subscriber_id: int
    kind: Literal["sent", "retry", "failed"]
    reply: str
    attempts: int  # attempts before this one


@dataclass
class Recorded:
    """What a batch of results changed."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    state: SendState = SendState.SENDING
    paused_now: bool = False


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """Return the wait before the next attempt after `attempts` failed ones."""
    seconds = base_seconds * 2 ** max(attempts - 1, 0)
    return min(timedelta(seconds=seconds), MAX_BACKOFF)


# ---------------------------------------------------------------- the statements

_TABLE = cast(Table, Delivery.__table__)
_BY_ID = _TABLE.c.id == bindparam("b_id")
_DONE_WITH_LEASE = {
    "attempts": _TABLE.c.attempts + 1,
    "lease_until": None,
    "lease_owner": None,
    "result": bindparam("b_result"),
}
_MARK_SENT = (
    update(_TABLE)
    .where(_BY_ID)
    .values(status=DeliveryStatus.SENT, sent_at=bindparam("b_now"), **_DONE_WITH_LEASE)
)
# PostgreSQL: a batch of sent records in one statement (an executemany costs a statement
# per row); the ids and replies come as two arrays, unnested side by side.
_SENT_ROWS = (
    func.unnest(
        bindparam("b_ids", type_=postgresql.ARRAY(BigInteger)),
        bindparam("b_results", type_=postgresql.ARRAY(Text)),
    )
    .table_valued("id", "result")
    .render_derived(name="sent")
)
_MARK_SENT_ARRAYS = (
    update(_TABLE)
    .where(_TABLE.c.id == _SENT_ROWS.c.id)
    .values(
        status=DeliveryStatus.SENT,
        sent_at=bindparam("b_now"),
        attempts=_TABLE.c.attempts + 1,
        lease_until=None,
        lease_owner=None,
        result=_SENT_ROWS.c.result,
    )
)
_MARK_FAILED = update(_TABLE).where(_BY_ID).values(status=DeliveryStatus.FAILED, **_DONE_WITH_LEASE)
# Only while the lease is ours: after it ran out, another worker owns the attempt.
_MARK_RETRY = (
    update(_TABLE)
    .where(
        _BY_ID,
        _TABLE.c.lease_owner == bindparam("b_owner"),
        _TABLE.c.status == DeliveryStatus.PENDING,
    )
    .values(next_attempt_at=bindparam("b_next"), **_DONE_WITH_LEASE)
)

_REPORT = cast(Table, DeliveryReport.__table__)
_RUN_AND_STATE = select(_REPORT.c.failure_run, _REPORT.c.state).where(
    _REPORT.c.issue_id == bindparam("b_issue")
)
_SET_RUN = (
    update(_REPORT)
    .where(_REPORT.c.issue_id == bindparam("b_issue"))
    .values(failure_run=bindparam("b_run"))
    .returning(_REPORT.c.failure_run, _REPORT.c.state)
)
_ADD_TO_RUN = (
    update(_REPORT)
    .where(_REPORT.c.issue_id == bindparam("b_issue"))
    .values(failure_run=_REPORT.c.failure_run + bindparam("b_run"))
    .returning(_REPORT.c.failure_run, _REPORT.c.state)
)


# ---------------------------------------------------------------- recording


def record_results(
    session: Session,
    issue_id: int,
    outcomes: Sequence[Outcome],
    *,
    owner: str,
    now: datetime,
    settings: Settings,
    notify: Notifier,
) -> Recorded:
    """Write the outcomes of many messages at once; pause the issue after too many failures.

    When failures pause it, `notify` tells the editors (in this transaction).
    """
    delivery = settings.delivery
    done = Recorded()
    sent_rows: list[dict[str, Any]] = []
    retry_rows: list[dict[str, Any]] = []
    failed_rows: list[dict[str, Any]] = []
    refused: list[Outcome] = []
    for outcome in outcomes:
        attempts = outcome.attempts + 1
        row: dict[str, Any] = {"b_id": outcome.delivery_id, "b_result": outcome.reply[:1000]}
        if outcome.kind == "sent":
            sent_rows.append(row)
        elif outcome.kind == "retry" and attempts < delivery.retry_attempts:
            wait = backoff(attempts, delivery.retry_delay_seconds)
            retry_rows.append({**row, "b_next": now + wait})
        else:
            failed_rows.append(row)
            if outcome.kind == "failed":
                refused.append(outcome)
    # A record erased meanwhile with its subscriber simply matches no row.
    if sent_rows and session.get_bind().dialect.name == "postgresql":
        session.execute(
            _MARK_SENT_ARRAYS,
            {
                "b_ids": [row["b_id"] for row in sent_rows],
                "b_results": [row["b_result"] for row in sent_rows],
                "b_now": now,
            },
        )
    elif sent_rows:
        session.execute(_MARK_SENT, [{**row, "b_now": now} for row in sent_rows])
    if retry_rows:
        session.execute(_MARK_RETRY, [{**row, "b_owner": owner} for row in retry_rows])
    if failed_rows:
        session.execute(_MARK_FAILED, failed_rows)
    for outcome in refused:
        audience.record_refusal(
            session, outcome.subscriber_id, outcome.reply, now=now, settings=settings
        )
    done.sent, done.retried, done.failed = len(sent_rows), len(retry_rows), len(failed_rows)
    _update_failure_run(
        session, issue_id, outcomes, now=now, settings=settings, done=done, notify=notify
    )
    return done


def _update_failure_run(
    session: Session,
    issue_id: int,
    outcomes: Sequence[Outcome],
    *,
    now: datetime,
    settings: Settings,
    done: Recorded,
    notify: Notifier,
) -> None:
    if not outcomes:
        return
    failures = sum(1 for o in outcomes if o.kind != "sent")
    if failures == 0:
        # The common case reads instead of writing: workers do not queue for the row lock.
        row = session.execute(_RUN_AND_STATE, {"b_issue": issue_id}).first()
        if row is not None and row.failure_run:
            row = session.execute(_SET_RUN, {"b_issue": issue_id, "b_run": 0}).first()
    elif failures < len(outcomes):
        trailing = 0
        for outcome in reversed(outcomes):
            if outcome.kind == "sent":
                break
            trailing += 1
        row = session.execute(_SET_RUN, {"b_issue": issue_id, "b_run": trailing}).first()
    else:
        row = session.execute(_ADD_TO_RUN, {"b_issue": issue_id, "b_run": failures}).first()
    if row is None:
        return
    failure_run, state = int(row.failure_run), SendState(row.state)
    done.state = state
    threshold = settings.delivery.failure_pause_threshold
    if failure_run >= threshold and state == SendState.SENDING:
        last = next((o.reply for o in reversed(outcomes) if o.kind != "sent"), "")
        reason = f"{failure_run} failures in a row; the last: {last}"[:1000]
        if pause_issue(session, issue_id, reason=reason, now=now, notify=notify):
            done.state = SendState.PAUSED
            done.paused_now = True
