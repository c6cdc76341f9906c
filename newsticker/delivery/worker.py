"""One worker thread of a sender: claim a batch, send it, record the results, again.

A worker does exactly what a worker on another host does, so threads, processes and
hosts can drain one issue together. It keeps one database connection for its many
short transactions (a batch of results costs no pool checkout and liveness ping), and
writes results in batches: every FLUSH_EVERY messages or FLUSH_SECONDS, and at once
after a failure (the failure run must stop a broken send before it burns through the
list). A full buffer is written by the worker's `Recorder`, on a thread and connection
of its own, while the worker sends on; so at most UNRECORDED_AT_MOST messages of a worker
are sent but not yet recorded (what a crash can make go twice). What it shares with the
other workers of its process comes from its `Crew`.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from newsticker.config import Settings
from newsticker.core.db import utcnow
from newsticker.core.mail import MailError, PermanentMailError, TemporaryMailError
from newsticker.delivery import services
from newsticker.delivery.budget import Pacer
from newsticker.delivery.compose import Composed
from newsticker.delivery.messages import IssueMessages
from newsticker.delivery.models import SendState
from newsticker.delivery.smtp import RelaySession

logger = logging.getLogger(__name__)

FLUSH_EVERY = 20
FLUSH_SECONDS = 0.2
# The buffer being written, the one being filled, and the message on the wire.
UNRECORDED_AT_MOST = 2 * FLUSH_EVERY + 1
# A worker stops sending from its batch when this share of the lease has passed.
LEASE_SHARE = 0.8
# Longest nap of a worker that waits for retries or leases to become due.
MAX_NAP = 2.0

T = TypeVar("T")


@dataclass
class SendRun:
    """What a send did in this process."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    state: SendState | None = None
    finished: bool = False

    def add(self, sent: int = 0, retried: int = 0, failed: int = 0, skipped: int = 0) -> None:
        """Add counts (callers hold the crew's lock)."""
        self.sent += sent
        self.retried += retried
        self.failed += failed
        self.skipped += skipped


class Crew(Protocol):
    """What the workers of one process share (an IssueSender)."""

    settings: Settings
    stop: threading.Event
    lock: threading.Lock
    batch_done: threading.Condition
    notify: services.Notifier

    @property
    def engine(self) -> Engine:
        """Return the engine the workers open their connections on."""
        ...

    def in_transaction(
        self, work: Callable[[Session], T], factory: sessionmaker[Session] | None = None
    ) -> T:
        """Run work(session) in a unit of work of its own."""
        ...


def worker_name(index: int) -> str:
    """Return a lease owner unique across hosts, processes and restarts."""
    host = socket.gethostname()[:16]
    return f"{host}:{os.getpid()}:{index}:{secrets.token_hex(3)}"[:40]


class Worker:
    """One thread's claim, send and record loop."""

    def __init__(
        self,
        crew: Crew,
        index: int,
        issue_id: int,
        messages: IssueMessages,
        slugs: Sequence[str],
        run: SendRun,
        *,
        wait: bool,
    ) -> None:
        self.crew = crew
        self.index = index
        self.issue_id = issue_id
        self.messages = messages
        self.slugs = list(slugs)
        self.run = run
        self.wait = wait
        self.owner = worker_name(index)
        delivery = crew.settings.delivery
        self.lease = float(delivery.lease_seconds)
        # A batch must go out well within its lease, even at the slowest allowed rate.
        self.batch = max(
            1, min(delivery.batch_size, int(delivery.messages_per_second * self.lease / 2))
        )
        self.per_second = delivery.messages_per_second
        self.per_hour = delivery.messages_per_hour
        # Both are bound to the worker's own connection when loop() opens it.
        self.factory: sessionmaker[Session]
        self.pacer: Pacer
        self.recorder: Recorder

    @property
    def stopping(self) -> bool:
        """Return whether the crew was told to stop."""
        return self.crew.stop.is_set()

    def loop(self, relay: RelaySession) -> None:
        """Claim and send batches until nothing is left to claim (or to wait for)."""
        with self.crew.engine.connect() as connection, Recorder(self) as recorder:
            self.recorder = recorder
            self.factory = sessionmaker(bind=connection, expire_on_commit=False)
            self.pacer = Pacer(self.factory, per_second=self.per_second, per_hour=self.per_hour)
            self._loop(relay)

    def _loop(self, relay: RelaySession) -> None:
        while not self.stopping:
            claimed, state = self._claim()
            if claimed:
                if not self._send(claimed, relay):
                    if not self.wait:
                        return
                    self._nap(self.pacer.exhausted_until - time.time())
                continue
            if state != SendState.SENDING or not self.wait:
                return
            with self.factory() as session:
                if not services.has_pending(session, self.issue_id):
                    return
                due = services.next_due(session, self.issue_id, now=utcnow())
            self._nap((due - utcnow()).total_seconds() if due else MAX_NAP)

    def _nap(self, seconds: float) -> None:
        if self.stopping:
            return
        with self.crew.batch_done:
            self.crew.batch_done.wait(min(max(seconds, 0.05), MAX_NAP))

    def _claim(self) -> tuple[list[services.Claimed], SendState | None]:
        now = utcnow()

        def claim(session: Session) -> tuple[int, list[services.Claimed], SendState | None]:
            claimed = services.claim_batch(
                session,
                self.issue_id,
                owner=self.owner,
                limit=self.batch,
                now=now,
                lease_seconds=self.lease,
            )
            kept = services.skip_unsubscribed(session, claimed, self.slugs, now=now)
            return len(claimed) - len(kept), kept, services.send_state(session, self.issue_id)

        skipped, kept, state = self.crew.in_transaction(claim, self.factory)
        if skipped:
            with self.crew.lock:
                self.run.add(skipped=skipped)
        return kept, state

    def _send(self, claimed: list[services.Claimed], relay: RelaySession) -> bool:
        """Send a claimed batch; False when the hourly budget ran out before its end."""
        deadline = time.time() + self.lease * LEASE_SHARE
        buffer: list[services.Outcome] = []
        last_flush = time.monotonic()
        done = 0  # rows tried: the rest is given back at the end
        budget_left = True
        try:
            for row in claimed:
                if self.stopping or time.time() > deadline:
                    break
                if not self.pacer.acquire(wanted=len(claimed) - done, deadline=deadline):
                    budget_left = False
                    break
                outcome = self._deliver(relay, row, self.messages.compose(row))
                done += 1
                buffer.append(outcome)
                recorded: services.Recorded | None = None
                if outcome.kind != "sent":
                    # A failure is written at once: the failure run must stop a broken
                    # send before it burns through the list.
                    self.recorder.wait()
                    recorded = self._record(buffer, self.factory)
                elif len(buffer) < FLUSH_EVERY and time.monotonic() - last_flush < FLUSH_SECONDS:
                    continue
                else:
                    # Written while the next messages go out; what the one before found.
                    recorded = self.recorder.hand_over(buffer)
                buffer = []
                last_flush = time.monotonic()
                if recorded is not None and recorded.state != SendState.SENDING:
                    break
        finally:
            if buffer:
                self.recorder.hand_over(buffer)
            # Everything sent is recorded before the rest is given back or more is claimed.
            self.recorder.wait()
            rest = [row.id for row in claimed[done:]]
            if rest:
                self.crew.in_transaction(
                    lambda session: services.release(session, rest, owner=self.owner, now=utcnow()),
                    self.factory,
                )
            with self.crew.batch_done:
                self.crew.batch_done.notify_all()
        return budget_left

    def _deliver(
        self, relay: RelaySession, row: services.Claimed, message: Composed
    ) -> services.Outcome:
        """Send one message; return what became of it (the relay's reply, classified)."""
        kind: Any
        try:
            reply = relay.send(message)
            kind = "sent"
        except TemporaryMailError as exc:
            reply, kind = str(exc), "retry"
        except PermanentMailError as exc:
            reply, kind = str(exc), "failed"
        except MailError as exc:  # anything else the relay says is not worth a retry
            reply, kind = str(exc), "failed"
        if kind != "sent":
            logger.info("issue %s to record %s: %s", self.issue_id, row.id, reply)
        return services.Outcome(row.id, row.subscriber_id, kind, reply, row.attempts)

    def _record(
        self, outcomes: list[services.Outcome], factory: sessionmaker[Session]
    ) -> services.Recorded:
        """Write the outcomes of a buffer in one transaction (on the given connection)."""
        crew = self.crew
        recorded = crew.in_transaction(
            lambda session: services.record_results(
                session,
                self.issue_id,
                outcomes,
                owner=self.owner,
                now=utcnow(),
                settings=crew.settings,
                notify=crew.notify,
            ),
            factory,
        )
        with crew.lock:
            self.run.add(sent=recorded.sent, retried=recorded.retried, failed=recorded.failed)
        return recorded


class Recorder:
    """Writes a worker's buffers of results on a thread and connection of its own.

    The worker hands a full buffer over and goes on sending while it is written: its relay
    connection no longer idles through the database's round trips and commit (on a busy
    PostgreSQL these were two fifths of a worker's time). Before it hands over the next
    buffer it waits for the one before, so one buffer at most is in flight, and it learns
    from that one's result whether the send was paused meanwhile.

    On SQLite it writes at once on the worker's own connection instead: a commit there is
    no round trip to a server, and a second writer would only queue for the one lock.
    """

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"recorder-{worker.index}"
        )
        self._pending: Future[services.Recorded] | None = None
        self.overlapping = worker.crew.engine.dialect.name != "sqlite"
        self._connection: Connection | None = None
        self._factory: sessionmaker[Session] | None = None

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._executor.submit(self._close).result()
        finally:
            self._executor.shutdown(wait=True)

    def hand_over(self, outcomes: list[services.Outcome]) -> services.Recorded | None:
        """Start writing a buffer; return what the buffer before it changed (if any)."""
        before = self.wait()
        if not self.overlapping:
            return self.worker._record(outcomes, self.worker.factory)
        self._pending = self._executor.submit(self._write, outcomes)
        return before

    def wait(self) -> services.Recorded | None:
        """Wait until the buffer in flight is written; return what it changed (if any)."""
        pending, self._pending = self._pending, None
        return pending.result() if pending is not None else None

    def _write(self, outcomes: list[services.Outcome]) -> services.Recorded:
        # Runs on the recorder's thread, which alone uses this connection.
        if self._factory is None:
            self._connection = self.worker.crew.engine.connect()
            self._factory = sessionmaker(bind=self._connection, expire_on_commit=False)
        return self.worker._record(outcomes, self._factory)

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
