"""The sending loop: workers claim batches, send over pooled connections, record in batches.

One `IssueSender` runs `connections` workers, each a thread with a relay connection of its
own from the pool. A worker does exactly what a worker on another host does: claim a
batch, send, record; so threads, processes and hosts can drain one issue together.

A worker makes, sends and records its messages itself, one after the other. (An earlier
design handed every message to a second thread per connection so the connection never
idled; the handovers cost more CPU than the idle moments, and on a shared two-core
machine CPU is what the relay, the database and the sender compete for.)

Results are written in batches (every FLUSH_EVERY messages or FLUSH_SECONDS, and at once
after a failure), so the messages a crash can leave sent-but-unrecorded are at most one
buffer per worker. After a crash their lease runs out and they go again, with the same
Message-ID.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from flask import Flask, current_app, has_request_context
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from newsticker.config import Settings
from newsticker.core.db import db, utcnow
from newsticker.core.errors import UserError
from newsticker.core.mail import (
    MailError,
    PermanentMailError,
    SmtpTransport,
    TemporaryMailError,
)
from newsticker.core.mailqueue import send_queued_mail, take_pending_ids
from newsticker.core.site import site_keyring, site_links
from newsticker.core.tokens import KeyRing
from newsticker.delivery import audience, services
from newsticker.delivery.budget import Pacer
from newsticker.delivery.compose import (
    Composed,
    DkimKey,
    MessageTemplate,
    PersonalValues,
    envelope_sender,
    list_headers,
    list_unsubscribe_header,
    make_template,
)
from newsticker.delivery.models import SendState
from newsticker.delivery.smtp import CONNECT_BACKOFF, RelaySession, SmtpPool
from newsticker.issues.models import Issue

logger = logging.getLogger(__name__)

FLUSH_EVERY = 20
FLUSH_SECONDS = 0.2
# A worker stops sending from its batch when this share of the lease has passed.
LEASE_SHARE = 0.8
# Longest nap of a worker that waits for retries or leases to become due.
MAX_NAP = 2.0


@dataclass
class SendRun:
    """What a send did in this process."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    state: str | None = None
    finished: bool = False

    def add(self, sent: int = 0, retried: int = 0, failed: int = 0, skipped: int = 0) -> None:
        """Add counts (callers hold the sender's lock)."""
        self.sent += sent
        self.retried += retried
        self.failed += failed
        self.skipped += skipped


class IssueMessages:
    """The issue's message templates per language, made once per sender."""

    def __init__(
        self, session: Session, issue: Issue, settings: Settings, keyring: KeyRing
    ) -> None:
        from newsticker.issues.rendering import MAIL_LANGUAGES, prepare_issue

        publication = settings.publication(issue.publication)
        headers = list_headers(
            settings,
            issue_id=issue.id,
            publication_slug=issue.publication,
            publication_name=publication.name if publication else issue.publication,
        )
        dkim = DkimKey.from_settings(settings)
        self.templates: dict[str, MessageTemplate] = {
            language: make_template(prepare_issue(session, issue, language), headers, dkim=dkim)
            for language in MAIL_LANGUAGES
        }
        self.default_language = settings.site.default_language
        self.keyring = keyring
        self.link_prefixes = audience.link_prefixes(site_links())
        self.sender = settings.mail.sender
        self.return_path = settings.mail.return_path
        self.mailto = audience_mailto(settings)
        # Without a VERP placeholder the envelope sender is the same for everyone.
        self.fixed_envelope = (
            ""
            if "{token}" in self.return_path
            else envelope_sender(self.return_path, self.sender, lambda: "")
        )

    def compose(self, claimed: services.Claimed) -> Composed:
        """Return the message for one claimed record: two signed links and a join."""
        template = self.templates.get(claimed.language) or self.templates[self.default_language]
        links = audience.links(
            self.keyring, self.link_prefixes, claimed.subscriber_id, claimed.publication
        )
        envelope = self.fixed_envelope or envelope_sender(
            self.return_path,
            self.sender,
            lambda: audience.verp_token(self.keyring, claimed.subscriber_id),
        )
        return template.compose(
            address=claimed.address,
            name=claimed.name,
            message_id=claimed.message_id,
            personal=PersonalValues(links["unsubscribe"], links["preferences"], envelope),
            list_unsubscribe=list_unsubscribe_header(
                links["unsubscribe"], self.mailto, claimed.publication
            ),
        )


def audience_mailto(settings: Settings) -> str:
    """Return the address of List-Unsubscribe's mailto: the bounce mailbox's, else reply-to.

    bounces.unsubscribe_address is read with the returned mail, so a mail to it
    unsubscribes its sender (subscribers.bounces.requests).
    """
    from email.utils import parseaddr

    if settings.bounces.unsubscribe_address:
        return settings.bounces.unsubscribe_address
    return parseaddr(settings.mail.reply_to)[1] or parseaddr(settings.mail.sender)[1]


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
        self._lock = threading.Lock()
        self._errors: list[BaseException] = []
        # Workers waiting for leases wake when another worker of this process ends a batch.
        self.batch_done = threading.Condition()

    @property
    def factory(self) -> sessionmaker[Session]:
        """Return the app's session factory (every transaction of the sender is its own)."""
        with self.app.app_context():
            return db.session_factory

    @property
    def engine(self) -> Engine:
        """Return the app's engine."""
        with self.app.app_context():
            return db.engine

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
        factory = self.factory
        run = SendRun()
        with self.app.app_context(), self._request_context(), factory() as session:
            issue = session.get(Issue, issue_id)
            if issue is None:
                raise LookupError(f"issue {issue_id} does not exist")
            messages = IssueMessages(session, issue, self.settings, _keyring(self.app))
            slugs = services.publication_slugs(self.settings, issue)
        pool = SmtpPool(self.transport, self.connections, connect_backoff=self.connect_backoff)
        workers = [
            _Worker(self, index, issue_id, messages, slugs, run, wait=wait)
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
        with factory() as session:
            run.state = services.send_state(session, issue_id)
        if on_progress is not None:
            on_progress(self.progress(issue_id))
        return run

    def _run_worker(self, worker: _Worker, pool: SmtpPool) -> None:
        try:
            with self.app.app_context(), self._request_context(), pool.session() as relay:
                worker.loop(relay)
        except BaseException as exc:
            logger.exception("sender worker %s stopped", worker.owner)
            with self._lock:
                self._errors.append(exc)
            self.stop.set()

    def _request_context(self) -> Any:
        # Mails to the editors render links with url_for, which needs a request context.
        return self.app.test_request_context(base_url=self.settings.site.base_url)

    def progress(self, issue_id: int) -> services.Progress:
        """Return the issue's progress (from the database: every worker's share counts)."""
        with self.factory() as session:
            return services.progress(session, issue_id, now=utcnow())

    def finish(self, issue_id: int) -> bool:
        """Mark the issue sent and mail the report if nothing is pending."""
        return bool(
            self.in_transaction(
                lambda session: services.finish_if_done(session, issue_id, now=utcnow())
            )
        )

    def in_transaction(
        self, work: Callable[[Session], Any], factory: sessionmaker[Session] | None = None
    ) -> Any:
        """Run work(session) in a transaction of its own; send the mails it queued after it.

        A worker passes the factory of its own connection; others get the pool's.
        """
        if not (has_request_context() and current_app._get_current_object() is self.app):  # type: ignore[attr-defined]
            with self.app.app_context(), self._request_context():
                return self.in_transaction(work, factory)
        factory = factory or db.session_factory
        with factory() as session:
            with session.begin():
                result = work(session)
            ids = take_pending_ids(session)
        if ids:
            send_queued_mail(factory, SmtpTransport(self.settings.smtp), ids=ids)
        return result


def _keyring(app: Flask) -> KeyRing:
    return site_keyring(app)


def _owner(index: int) -> str:
    host = socket.gethostname()[:16]
    return f"{host}:{os.getpid()}:{index}:{secrets.token_hex(3)}"[:40]


class _Worker:
    """One thread's claim, send and record loop."""

    def __init__(
        self,
        sender: IssueSender,
        index: int,
        issue_id: int,
        messages: IssueMessages,
        slugs: Sequence[str],
        run: SendRun,
        *,
        wait: bool,
    ) -> None:
        self.sender = sender
        self.index = index
        self.issue_id = issue_id
        self.messages = messages
        self.slugs = list(slugs)
        self.run = run
        self.wait = wait
        self.owner = _owner(index)
        delivery = sender.settings.delivery
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

    @property
    def stopping(self) -> bool:
        return self.sender.stop.is_set()

    def loop(self, relay: RelaySession) -> None:
        """Claim and send batches until nothing is left to claim (or to wait for).

        The worker keeps one database connection for its many short transactions, so a
        batch of results costs no pool checkout and liveness ping.
        """
        with self.sender.engine.connect() as connection:
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
            if state != SendState.SENDING.value or not self.wait:
                return
            with self.factory() as session:
                if not services.has_pending(session, self.issue_id):
                    return
                due = services.next_due(session, self.issue_id, now=utcnow())
            self._nap((due - utcnow()).total_seconds() if due else MAX_NAP)

    def _nap(self, seconds: float) -> None:
        if self.stopping:
            return
        with self.sender.batch_done:
            self.sender.batch_done.wait(min(max(seconds, 0.05), MAX_NAP))

    def _claim(self) -> tuple[list[services.Claimed], str | None]:
        now = utcnow()
        with self.factory() as session, session.begin():
            claimed = services.claim_batch(
                session,
                self.issue_id,
                owner=self.owner,
                limit=self.batch,
                now=now,
                lease_seconds=self.lease,
            )
            kept = services.skip_unsubscribed(session, claimed, self.slugs, now=now)
            state = services.send_state(session, self.issue_id)
        skipped = len(claimed) - len(kept)
        if skipped:
            with self.sender._lock:
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
                # A failure is written at once: the failure run must stop a broken send
                # before it burns through the list.
                if (
                    outcome.kind != "sent"
                    or len(buffer) >= FLUSH_EVERY
                    or time.monotonic() - last_flush >= FLUSH_SECONDS
                ):
                    recorded = self._flush(buffer)
                    buffer = []
                    last_flush = time.monotonic()
                    if recorded.state != SendState.SENDING.value:
                        break
        finally:
            if buffer:
                self._flush(buffer)
            rest = [row.id for row in claimed[done:]]
            if rest:
                self.sender.in_transaction(
                    lambda session: services.release(session, rest, owner=self.owner, now=utcnow()),
                    self.factory,
                )
            with self.sender.batch_done:
                self.sender.batch_done.notify_all()
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

    def _flush(self, outcomes: list[services.Outcome]) -> services.Recorded:
        settings = self.sender.settings
        recorded: services.Recorded = self.sender.in_transaction(
            lambda session: services.record_results(
                session,
                self.issue_id,
                outcomes,
                owner=self.owner,
                now=utcnow(),
                settings=settings,
            ),
            self.factory,
        )
        with self.sender._lock:
            self.run.add(sent=recorded.sent, retried=recorded.retried, failed=recorded.failed)
        return recorded


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
    from newsticker.issues.services import due_issues

    sender = IssueSender(app, settings)
    with app.app_context(), sender._request_context():
        with sender.factory() as session:
            due = [(issue.id, issue.scheduled_at) for issue in due_issues(session, now=now)]
        started: list[int] = []
        held: list[int] = []
        grace = timedelta(seconds=settings.schedule.misfire_grace_seconds)
        for issue_id, scheduled_at in due:
            sender.in_transaction(partial(_forget_stale_hold, issue_id=issue_id))
            late = now - scheduled_at if scheduled_at else timedelta(0)
            if late > grace:
                if sender.in_transaction(partial(_hold, issue_id=issue_id, now=now, late=late)):
                    held.append(issue_id)
                continue
            start = partial(services.start_issue, issue_id=issue_id, now=now, settings=settings)
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


def _hold(session: Session, issue_id: int, now: datetime, late: timedelta) -> bool:
    from newsticker.delivery.mails import queue_held_notice

    report = services.hold_issue(session, issue_id, now=now, late=late)
    if report is None:
        return False
    queue_held_notice(session, report)
    logger.warning("issue %s held: it is %s past its time", issue_id, late)
    return True


def send_due_issues(app: Flask, settings: Settings, *, now: datetime | None = None) -> DueRun:
    """Start due issues, then send what is claimable now of every issue that is sending."""
    now = now or utcnow()
    started, held = start_due_issues(app, settings, now=now)
    drained: dict[int, SendRun] = {}
    with IssueSender(app, settings).factory() as session:
        sending = services.sending_issue_ids(session)
    for issue_id in sending:
        drained[issue_id] = IssueSender(app, settings).drain(issue_id, wait=False)
    return DueRun(started=started, held=held, drained=drained)
