"""Acting on the mail in the bounce mailbox: one run, each message once, none able to stop it.

A run (`BounceRun`) is one reading of a Maildir or IMAP folder. Each message is
classified (subscribers.bounces) and acted on inside a savepoint: a bounce is counted, a
complaint takes the address off every list, an unsubscribe mail ends what it names;
delay warnings, delivery reports and auto-replies are only counted. Whatever goes wrong
with one message (it cannot be parsed, or acting on it fails) rolls back that message
alone and sends it to the quarantine, with the reason in the log and the run's report.

The digest of every message handled is kept (`ReturnedMessage`), in the same savepoint as
its effects: the mailbox side moves a message only after the commit, so a crash in
between leaves it in the inbox, and the next run recognises it and only moves it. No
message counts twice; none is lost.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from newsticker.core.tokens import KeyRing
from subscribers.bounces import (
    Classification,
    Finding,
    MessageKind,
    PoisonMessage,
    Verp,
    classify,
)
from subscribers.models import BounceEvent, BounceRun, ReturnedMessage, Subscriber
from subscribers.services.bounces import (
    BouncePolicy,
    record_bounce,
    record_complaint,
    record_unsubscribe_mail,
)
from subscribers.services.links import verp_subscriber_id
from subscribers.services.lookups import find_subscriber, get_subscriber

logger = logging.getLogger(__name__)

MAX_QUARANTINE_NOTES = 200


class Disposition(StrEnum):
    """Where a message goes in the mailbox after the commit."""

    DONE = "done"  # read: into cur/ with the Seen flag, or flagged \\Seen
    LEFT = "left"  # a person's mail: moved out of the way, but left unread
    QUARANTINE = "quarantine"


@dataclass(frozen=True)
class Outcome:
    """What handling one message did, and what the mailbox should do with it."""

    disposition: Disposition
    kind: str
    reason: str = ""


@dataclass(frozen=True)
class ReturnSettings:
    """What a run needs to know: thresholds, the VERP return path, the unsubscribe address."""

    policy: BouncePolicy = field(default_factory=BouncePolicy)
    return_path: str = ""
    unsubscribe_address: str = ""
    publications: tuple[str, ...] = ()


def start_run(session: Session, *, source: str, trigger: str, now: datetime) -> BounceRun:
    """Open the record of one reading of a mailbox."""
    run = BounceRun(source=source[:300], trigger=trigger[:20], started_at=now, counts={})
    session.add(run)
    session.flush()
    return run


def finish_run(session: Session, run: BounceRun, *, now: datetime) -> None:
    """Close the record of a run."""
    run.finished_at = now
    session.flush()


def _count(run: BounceRun, *names: str) -> None:
    counts = dict(run.counts or {})
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    run.counts = counts  # a new dict: JSON columns notice reassignment, not mutation


def handle_message(
    session: Session,
    run: BounceRun,
    raw: bytes,
    *,
    name: str,
    keyring: KeyRing,
    salts: Sequence[bytes],
    settings: ReturnSettings,
    now: datetime,
) -> Outcome:
    """Classify one message of the mailbox and act on it; never raises for the message."""
    digest = hashlib.sha256(raw).hexdigest()
    _count(run, "read")
    if session.scalar(select(ReturnedMessage.id).where(ReturnedMessage.digest == digest)):
        # Counted by a run whose move did not happen (a crash after its commit).
        _count(run, "already_counted")
        return Outcome(Disposition.DONE, "already_counted")
    try:
        with session.begin_nested():
            outcome = _handle(session, run, raw, keyring, salts, settings, now)
            session.add(
                ReturnedMessage(digest=digest, kind=outcome.kind, run_id=run.id, processed_at=now)
            )
            session.flush()
    except PoisonMessage as exc:
        outcome = _quarantine(session, run, digest, name, exc.reason, now)
    except Exception as exc:
        # Acting on this message failed (a bug, a value the database refuses): its
        # savepoint is rolled back, the run goes on.
        logger.exception("bounce mailbox: message %s could not be handled", name)
        outcome = _quarantine(
            session, run, digest, name, f"could not be handled: {type(exc).__name__}", now
        )
    if outcome.disposition != Disposition.QUARANTINE:
        _count(run, outcome.kind)
    return outcome


def _quarantine(
    session: Session, run: BounceRun, digest: str, name: str, reason: str, now: datetime
) -> Outcome:
    logger.warning("bounce mailbox: %s quarantined: %s", name, reason)
    _count(run, "quarantined")
    notes = list(run.quarantined or [])
    if len(notes) < MAX_QUARANTINE_NOTES:
        notes.append({"message": name[:200], "reason": reason[:300]})
        run.quarantined = notes
    with session.begin_nested():
        session.add(ReturnedMessage(digest=digest, kind="poison", run_id=run.id, processed_at=now))
    return Outcome(Disposition.QUARANTINE, "poison", reason)


def _handle(
    session: Session,
    run: BounceRun,
    raw: bytes,
    keyring: KeyRing,
    salts: Sequence[bytes],
    settings: ReturnSettings,
    now: datetime,
) -> Outcome:
    verp = Verp.from_return_path(settings.return_path)
    result = classify(raw, verp=verp, unsubscribe_address=settings.unsubscribe_address)
    if result.kind == MessageKind.BOUNCE:
        _apply_bounce(session, run, result, keyring, settings.policy, now)
    elif result.kind == MessageKind.COMPLAINT:
        _apply_complaint(session, run, result, keyring, salts, now)
    elif result.kind == MessageKind.UNSUBSCRIBE:
        if not result.authenticated:
            _count(run, "unverified")
            return Outcome(Disposition.LEFT, "unverified", "DMARC check failed")
        _apply_unsubscribe(session, run, result, settings.publications, now)
    elif result.kind == MessageKind.OTHER:
        return Outcome(Disposition.LEFT, str(result.kind))
    return Outcome(Disposition.DONE, str(result.kind))


def _targets(
    session: Session, result: Classification, keyring: KeyRing
) -> list[tuple[Subscriber, Finding]]:
    """Return the subscriber each finding is about: the VERP token's first, else by address."""
    if result.verp_token:
        subscriber_id = verp_subscriber_id(keyring, result.verp_token)
        subscriber = get_subscriber(session, subscriber_id) if subscriber_id else None
        if subscriber is not None and result.findings:
            own = [
                f
                for f in result.findings
                if f.address and f.address.casefold() == subscriber.email.casefold()
            ]
            return [(subscriber, (own or list(result.findings))[0])]
    pairs: list[tuple[Subscriber, Finding]] = []
    seen: set[int] = set()
    for finding in result.findings:
        found = find_subscriber(session, finding.address) if finding.address else None
        if found is not None and found.id not in seen:
            seen.add(found.id)
            pairs.append((found, finding))
    return pairs


def _apply_bounce(
    session: Session,
    run: BounceRun,
    result: Classification,
    keyring: KeyRing,
    policy: BouncePolicy,
    now: datetime,
) -> None:
    targets = _targets(session, result, keyring)
    if not targets:
        _count(run, "unknown")
    for subscriber, finding in targets:
        outcome = record_bounce(
            session,
            subscriber.id,
            kind=finding.kind,
            reason=finding.diagnostic,
            status=finding.status,
            reason_code=str(finding.reason),
            source="report",
            run_id=run.id,
            now=now,
            policy=policy,
        )
        if outcome is None:
            continue
        _count(run, str(finding.kind))
        if outcome.marked_bounced:
            _count(run, "removed")


def _apply_complaint(
    session: Session,
    run: BounceRun,
    result: Classification,
    keyring: KeyRing,
    salts: Sequence[bytes],
    now: datetime,
) -> None:
    targets = _targets(session, result, keyring)
    if not targets:
        _count(run, "unknown")
    for subscriber, _finding in targets:
        detail = f"spam complaint ({result.note})" if result.note else "spam complaint"
        ended = record_complaint(
            session, subscriber, detail=detail, salts=salts, now=now, run_id=run.id
        )
        if ended:
            _count(run, "removed")


def _apply_unsubscribe(
    session: Session,
    run: BounceRun,
    result: Classification,
    publications: Sequence[str],
    now: datetime,
) -> None:
    finding = result.findings[0]
    subscriber = find_subscriber(session, finding.address) if finding.address else None
    if subscriber is None:
        _count(run, "unknown")
        return
    named = [p for p in publications if p == result.list_word]
    ended = record_unsubscribe_mail(
        session,
        subscriber,
        named or None,
        detail=f"unsubscribe mail ({result.list_word or 'all lists'})",
        now=now,
        run_id=run.id,
    )
    if ended:
        _count(run, "removed")


def purge_bounce_runs(session: Session, *, now: datetime, days: int) -> int:
    """Delete run reports and message digests older than `days`; return how many runs."""
    cutoff = now - timedelta(days=days)
    session.execute(delete(ReturnedMessage).where(ReturnedMessage.processed_at < cutoff))
    result = session.execute(delete(BounceRun).where(BounceRun.started_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def recent_runs(session: Session, *, limit: int = 50) -> list[BounceRun]:
    """Return the newest runs first."""
    return list(
        session.scalars(select(BounceRun).order_by(BounceRun.started_at.desc()).limit(limit))
    )


def removed_in_run(session: Session, run: BounceRun) -> list[tuple[Subscriber, BounceEvent]]:
    """Return who this run took off the list, with the event that did it."""
    rows = session.execute(
        select(Subscriber, BounceEvent)
        .join(BounceEvent, BounceEvent.subscriber_id == Subscriber.id)
        .where(BounceEvent.run_id == run.id, BounceEvent.removed.is_(True))
        .order_by(Subscriber.email)
    )
    return [(subscriber, event) for subscriber, event in rows]
