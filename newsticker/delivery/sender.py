"""The sending loop: workers claim batches, send over pooled connections, record in batches.

One `IssueSender` runs `connections` workers (worker.py), each a thread with a relay
connection of its own from the pool. A worker does exactly what a worker on another host
does: claim a batch, send, record; so threads, processes and hosts can drain one issue
together.

A worker makes, sends and records its messages itself, one after the other. (An earlier
design handed every message to a second thread per connection so the connection never
idled; the handovers cost more CPU than the idle moments, and on a shared two-core
machine CPU is what the relay, the database and the sender compete for.)

Results are written in batches (every FLUSH_EVERY messages or FLUSH_SECONDS, and at once
after a failure). A full buffer is written by a recorder thread with a connection of its
own while the worker goes on sending: profiled with py-spy on a loaded PostgreSQL, the
workers' relay connections had idled two fifths of the time in the writes' round trips
and commits (a third in writing results, the rest in claims), and sending took half. So
the messages a crash can leave sent-but-unrecorded are at most two buffers per worker
(UNRECORDED_AT_MOST: the one being written and the one being filled). After a crash
their lease runs out and they go again, with the same Message-ID.

The marking transaction keeps synchronous_commit: with it off, a crash of the database
server would lose marks the workers took as written, of every worker and up to three
WAL-writer rounds, so an unbounded number of recipients would get the issue twice; the
promise is once, and two buffers per worker after a crash is the bound we keep.

The sender's transactions (claims, results, releases, finishing) are units of work
(`in_transaction`): each commits, then hands the mails it queued for the editors (a
report, a pause) to the app's dispatcher. (The pacer's slot reservations in budget.py
are bare transactions of their own: they never queue mail.)

Links in those mails and in the issue come from the app's `site_links`, the key ring that
signs the personal links from `site_keyring`: no request context is ever faked.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from flask import Flask, current_app, has_app_context
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from newsticker.config import Settings
from newsticker.core.db import db, utcnow, write_intent
from newsticker.core.errors import UserError
from newsticker.core.mail import SmtpTransport
from newsticker.core.site import site_keyring, site_links
from newsticker.core.unit_of_work import app_dispatcher, unit_of_work
from newsticker.delivery import services
from newsticker.delivery.mails import EditorMails
from newsticker.delivery.messages import IssueMessages, audience_mailto
from newsticker.delivery.smtp import CONNECT_BACKOFF, SmtpPool
from newsticker.delivery.worker import (
    FLUSH_EVERY,
    FLUSH_SECONDS,
    UNRECORDED_AT_MOST,
    SendRun,
    Worker,
)
from newsticker.issues.models import Issue
from newsticker.issues.services import due_issues

__all__ = [
    "FLUSH_EVERY",
    "FLUSH_SECONDS",
    "UNRECORDED_AT_MOST",
    "DueRun",
    "IssueMessages",
    "IssueSender",
    "SendRun",
    "WorkerRun",
    "audience_mailto",
    "run_sender_worker",
    "send_due_issues",
    "start_due_issues",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")
ProgressCallback = Callable[[services.Progress], None]


class IssueSender:
    """Drain one issue with a few worker threads."""

    def __init__(
        self,
        app: Flask,
        settings: Settings,
        *,
        connections: int | None = None,
        transport: SmtpTransport | None = None,
        connect_backoff: tuple[float, float] = CONNECT_BACKOFF,
        stop: threading.Event | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        self.connections = connections or settings.delivery.connections
        self.transport = transport or SmtpTransport(settings.smtp)
        self.connect_backoff = connect_backoff
        self.stop = stop or threading.Event()
        self.lock = threading.Lock()
        self._errors: list[BaseException] = []
        # Workers waiting for leases wake when another worker of this process ends a batch.
        self.batch_done = threading.Condition()
        self.links = site_links(app)
        self.keyring = site_keyring(app)
        self.notify: services.Notifier = EditorMails(self.links)
        self.dispatch = app_dispatcher(app)
        with app.app_context():
            self._factory = db.session_factory
            self._engine = db.engine

    @property
    def factory(self) -> sessionmaker[Session]:
        """Return the app's session factory (every transaction of the sender is its own)."""
        return self._factory

    @property
    def engine(self) -> Engine:
        """Return the app's engine."""
        return self._engine

    def drain(
        self,
        issue_id: int,
        *,
        wait: bool,
        on_progress: ProgressCallback | None = None,
        progress_every: float = 0.5,
    ) -> SendRun:
        """Send the issue's pending records until none is claimable (or, with wait, left).

        With wait, retries and leases of dead workers are waited for, and it returns only
        when the issue is finished, paused or cancelled (or stop is set).
        """
        run = SendRun()
        with self.app.app_context(), self.factory() as session:
            issue = session.get(Issue, issue_id)
            if issue is None:
                raise LookupError(f"issue {issue_id} does not exist")
            messages = IssueMessages(session, issue, self.settings, self.keyring, self.links)
            slugs = services.publication_slugs(self.settings, issue)
        pool = SmtpPool(self.transport, self.connections, connect_backoff=self.connect_backoff)
        workers = [
            Worker(self, index, issue_id, messages, slugs, run, wait=wait)
            for index in range(self.connections)
        ]
        threads = [
            threading.Thread(target=self._run_worker, args=(w, pool), name=f"sender-{w.index}")
            for w in workers
        ]
        try:
            for thread in threads:
                thread.start()
            while any(thread.is_alive() for thread in threads):
                for thread in threads:
                    thread.join(timeout=progress_every / len(threads))
                if on_progress is not None:
                    on_progress(self.progress(issue_id))
        except BaseException:
            self.stop.set()
            for thread in threads:
                thread.join()
            raise
        finally:
            pool.close()
        if self._errors:
            raise self._errors[0]
        run.finished = self.finish(issue_id)
        with self.factory() as session:
            run.state = services.send_state(session, issue_id)
        if on_progress is not None:
            on_progress(self.progress(issue_id))
        return run

    def _run_worker(self, worker: Worker, pool: SmtpPool) -> None:
        try:
            with self.app.app_context(), pool.session() as relay:
                worker.loop(relay)
        except BaseException as exc:
            logger.exception("sender worker %s stopped", worker.owner)
            with self.lock:
                self._errors.append(exc)
            self.stop.set()

    def progress(self, issue_id: int) -> services.Progress:
        """Return the issue's progress (from the database: every worker's share counts)."""
        with self.factory() as session:
            return services.progress(session, issue_id, now=utcnow())

    def finish(self, issue_id: int) -> bool:
        """Mark the issue sent and mail the report if nothing is pending."""
        return self.in_transaction(
            lambda session: services.finish_if_done(
                session, issue_id, now=utcnow(), notify=self.notify
            )
        )

    def in_transaction(
        self, work: Callable[[Session], T], factory: sessionmaker[Session] | None = None
    ) -> T:
        """Run work(session) in a unit of work of its own: commit, then send the mail it queued.

        A worker passes the factory of its own connection; others get the pool's. Every
        such transaction writes, and it begins as a writer: on SQLite, one that read
        first (finishing reads what is pending) could not write after another worker
        process committed meanwhile ("database is locked", see core.db.write_intent).
        """
        with (
            write_intent(),
            self._app_context(),
            (factory or self.factory)() as session,
            unit_of_work(session, self.dispatch),
        ):
            return work(session)

    def _app_context(self) -> AbstractContextManager[Any]:
        # Mails to the editors render this app's templates: its context must be current.
        if has_app_context() and current_app._get_current_object() is self.app:  # type: ignore[attr-defined]
            return nullcontext()
        return self.app.app_context()


# ---------------------------------------------------------------- starting due issues


@dataclass
class DueRun:
    """What one look for due issues did."""

    started: list[int]
    held: list[int]
    drained: dict[int, SendRun]


def start_due_issues(
    app: Flask, settings: Settings, *, now: datetime
) -> tuple[list[int], list[int]]:
    """Start every scheduled issue whose time has come; hold those far past their time.

    Returns (started ids, held ids). Safe to run twice and from two places at once.
    """
    sender = IssueSender(app, settings)
    with sender.factory() as session:
        due = [(issue.id, issue.scheduled_at) for issue in due_issues(session, now=now)]
    started: list[int] = []
    held: list[int] = []
    grace = timedelta(seconds=settings.schedule.misfire_grace_seconds)
    for issue_id, scheduled_at in due:
        sender.in_transaction(partial(_forget_stale_hold, issue_id=issue_id))
        late = now - scheduled_at if scheduled_at else timedelta(0)
        if late > grace:
            hold = partial(_hold, issue_id=issue_id, now=now, late=late, notify=sender.notify)
            if sender.in_transaction(hold):
                held.append(issue_id)
            continue
        start = partial(
            services.start_issue, issue_id=issue_id, now=now, settings=settings, links=sender.links
        )
        try:
            report = sender.in_transaction(start)
        except UserError as exc:
            logger.error("issue %s cannot be sent: %s", issue_id, exc)
            continue
        if report is not None:
            started.append(issue_id)
    return started, held


def _forget_stale_hold(session: Session, issue_id: int) -> bool:
    issue = session.get(Issue, issue_id)
    return issue is not None and services.forget_stale_hold(session, issue)


def _hold(
    session: Session, issue_id: int, now: datetime, late: timedelta, notify: services.Notifier
) -> bool:
    if services.hold_issue(session, issue_id, now=now, late=late, notify=notify) is None:
        return False
    logger.warning("issue %s held: it is %s past its time", issue_id, late)
    return True


def send_due_issues(app: Flask, settings: Settings, *, now: datetime | None = None) -> DueRun:
    """Start due issues, then send what is claimable now of every issue that is sending.

    With delivery.scheduler_sends off, the scheduler only starts (and holds) sends and
    leaves the sending to `newsticker worker` processes.
    """
    now = now or utcnow()
    started, held = start_due_issues(app, settings, now=now)
    drained: dict[int, SendRun] = {}
    if not settings.delivery.scheduler_sends:
        return DueRun(started=started, held=held, drained=drained)
    with IssueSender(app, settings).factory() as session:
        sending = services.sending_issue_ids(session)
    for issue_id in sending:
        drained[issue_id] = IssueSender(app, settings).drain(issue_id, wait=False)
    return DueRun(started=started, held=held, drained=drained)


# ---------------------------------------------------------------- the worker process


@dataclass
class WorkerRun:
    """What one `newsticker worker` process did before it stopped."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    skipped: int = 0
    drains: int = 0


def run_sender_worker(
    app: Flask,
    settings: Settings,
    *,
    stop: threading.Event,
    poll_seconds: float = 2.0,
    connections: int | None = None,
    transport: SmtpTransport | None = None,
    on_drain: Callable[[int, SendRun], None] | None = None,
) -> WorkerRun:
    """Join every issue being sent and drain it, until stop is set.

    A worker never starts a send (the scheduler, the single leader, does); it claims
    batches of whatever is sending, exactly like the scheduler's and send-issue's
    workers, so any number of these on any number of hosts share one issue. When stop is
    set, each thread stops after the message it is sending, records what it sent and
    gives back the rest of its claimed batch (worker.Worker._send), so another worker
    takes it at once instead of after the lease. Nothing claimable: it naps poll_seconds.
    """
    total = WorkerRun()
    factory = IssueSender(app, settings).factory
    while not stop.is_set():
        with factory() as session:
            sending = services.sending_issue_ids(session)
        drained_any = False
        for issue_id in sending:
            if stop.is_set():
                break
            sender = IssueSender(
                app, settings, connections=connections, transport=transport, stop=stop
            )
            run = sender.drain(issue_id, wait=False)
            total.drains += 1
            total.sent += run.sent
            total.failed += run.failed
            total.retried += run.retried
            total.skipped += run.skipped
            drained_any = drained_any or bool(run.sent or run.failed or run.retried)
            if on_drain is not None:
                on_drain(issue_id, run)
        if not drained_any:
            stop.wait(poll_seconds)
    return total
