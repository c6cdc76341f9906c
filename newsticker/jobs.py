"""Plain functions the scheduler runs; each calls its services and returns what it did.

Every job runs in one unit of work that `newsticker.scheduling` owns: a job only
flushes, the scheduler commits when it returns (rolls back when it raises) and then
sends the mail it queued. Jobs are idempotent and safe to run twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from newsticker.config import get_settings
from newsticker.core.db import db, utcnow
from newsticker.core.mail import SmtpTransport
from newsticker.core.mailqueue import QueueRun, purge_old_mail, send_queued_mail
from newsticker.core.webhooks import WebhookRun, deliver_due_webhooks
from newsticker.items.services import ExpiryRun
from newsticker.items.services.occurrences import OccurrenceRun
from newsticker.translators.services import expire_requests
from subscribers.services import BounceRun, PurgeRun

logger = logging.getLogger(__name__)


def send_mail_queue() -> QueueRun:
    """Send or retry the transactional mails that are due."""
    settings = get_settings()
    run = send_queued_mail(
        db.session_factory,
        SmtpTransport(settings.smtp),
        max_attempts=settings.mail.max_attempts,
    )
    if run.sent or run.failed or run.retried:
        logger.info("mail queue: sent %s, retry %s, failed %s", run.sent, run.retried, run.failed)
    return run


def deliver_webhooks() -> WebhookRun:
    """Send or retry the webhook deliveries that are due."""
    settings = get_settings().webhooks
    run = deliver_due_webhooks(
        db.session_factory,
        max_attempts=settings.max_attempts,
        retry_base_seconds=settings.retry_base_seconds,
        timeout=settings.timeout_seconds,
    )
    if run.delivered or run.failed or run.retried:
        logger.info(
            "webhooks: delivered %s, retry %s, failed %s", run.delivered, run.retried, run.failed
        )
    return run


def purge_mail_queue() -> int:
    """Delete sent and failed transactional mails past the retention period."""
    settings = get_settings()
    cutoff = utcnow() - timedelta(days=settings.retention.mail_queue_days)
    return purge_old_mail(db.session, cutoff)


def purge_delivery_records() -> int:
    """Delete the per-recipient records of sends that ended before the retention period."""
    from newsticker.delivery.services import purge_records

    settings = get_settings()
    cutoff = utcnow() - timedelta(days=settings.retention.delivery_record_days)
    count = purge_records(db.session, before=cutoff)
    if count:
        logger.info("delivery: deleted %s records of sends that ended before %s", count, cutoff)
    return count


def purge_audit_events() -> int:
    """Delete audit entries past the retention period."""
    from newsticker.core.audit import purge_audit_events as purge

    cutoff = utcnow() - timedelta(days=get_settings().retention.audit_days)
    return purge(db.session, before=cutoff)


def expire_items() -> ExpiryRun:
    """Retire ended items, delete old unpublished ones and forget old submitters."""
    from newsticker.items.images import upload_dir
    from newsticker.items.services import current_time
    from newsticker.items.services import expire_items as expire

    settings = get_settings()
    run = expire(
        db.session,
        now=current_time(),
        retention_days=settings.retention.rejected_item_days,
        upload_dir=upload_dir(),
    )
    if run.expired or run.purged or run.anonymised:
        logger.info(
            "items: expired %s, purged %s, anonymised %s", run.expired, run.purged, run.anonymised
        )
    return run


def extend_occurrences() -> OccurrenceRun:
    """Expand the live series up to the horizon from today; delete the dates that are over."""
    from newsticker.items.services import current_time, occurrences

    run = occurrences.extend_horizon(db.session, tz=get_settings().tz, now=current_time())
    logger.info(
        "occurrences: %s dates of %s series, %s past dates deleted",
        run.dates,
        run.items,
        run.deleted,
    )
    return run


def purge_pending_signups() -> PurgeRun:
    """Delete sign-ups that were not confirmed in time, with their IP addresses."""
    from subscribers.services import purge_pending_signups as purge

    run = purge(db.session, now=utcnow(), days=get_settings().retention.pending_signup_days)
    if run.confirmations or run.subscriptions or run.subscribers:
        logger.info(
            "sign-ups: purged %s links, %s subscriptions, %s subscribers",
            run.confirmations,
            run.subscriptions,
            run.subscribers,
        )
    return run


def process_bounces() -> list[BounceRun]:
    """Handle the returned mails in the configured Maildir and IMAP folder (if any).

    One message never stops the job: what cannot be read is quarantined and the run goes
    on. Batches are committed as they are done, so their messages move out of the inbox.
    """
    from pathlib import Path

    from flask import current_app

    from newsticker.core.site import site_keyring
    from newsticker.core.unit_of_work import app_dispatcher, commit
    from subscribers.mailboxes import RunContext, process_imap, process_maildir
    from subscribers.site import site_salts

    settings = get_settings()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    session = db.session
    context = RunContext(
        settings=settings,
        keyring=site_keyring(),
        salts=site_salts(),
        trigger="scheduler",
        commit=lambda: commit(session, app_dispatcher(app)),
    )
    runs: list[BounceRun] = []
    # A mailbox that cannot be read raises: the scheduler rolls back and logs it, and
    # the next run tries again.
    if settings.schedule.bounce_maildir:
        runs.append(process_maildir(session, Path(settings.schedule.bounce_maildir), context))
    if settings.bounces.imap_host:
        runs.append(process_imap(session, context))
    return runs


def purge_consent_proofs() -> int:
    """Delete consent proofs kept long enough, and old reports of bounce mailbox runs."""
    from subscribers.services import purge_bounce_runs, purge_consent_proofs

    settings = get_settings()
    now = utcnow()
    proofs = purge_consent_proofs(db.session, now=now, years=settings.retention.consent_proof_years)
    runs = purge_bounce_runs(db.session, now=now, days=settings.retention.bounce_run_days)
    if proofs or runs:
        logger.info("retention: deleted %s consent proofs and %s bounce run reports", proofs, runs)
    return proofs


def send_due_issues() -> Any:
    """Start the scheduled issues that are due and send what is claimable of every send."""
    from flask import current_app

    from newsticker.delivery.sender import send_due_issues as send_due

    run = send_due(current_app._get_current_object(), get_settings())  # type: ignore[attr-defined]
    for issue_id, sent in run.drained.items():
        if sent.sent or sent.failed or sent.retried:
            logger.info(
                "issue %s: sent %s, to retry %s, failed %s",
                issue_id,
                sent.sent,
                sent.retried,
                sent.failed,
            )
    return run


def prepare_weekly_draft() -> list[int]:
    """Build the next draft of every weekly publication and tell the editors it is ready."""
    from newsticker.delivery.mails import queue_draft_notice
    from newsticker.issues.services import draft_issue

    settings = get_settings()
    session = db.session
    ready: list[int] = []
    for publication in settings.publications:
        if publication.cadence != "weekly":
            continue
        result = draft_issue(session, settings, publication.slug, now=utcnow())
        # Run twice, the second run adds nothing and mails nobody.
        if result.created or result.added:
            queue_draft_notice(session, result.issue, template="delivery_draft_ready")
            ready.append(result.issue.id)
    return ready


def remind_editors_of_draft() -> list[int]:
    """Remind the editors when an issue planned for tomorrow is still a draft."""
    from newsticker.core.mailqueue import count_recent
    from newsticker.delivery.mails import editors, queue_draft_notice
    from newsticker.issues.services import open_draft

    settings = get_settings()
    session = db.session
    now = utcnow()
    tomorrow = (now.astimezone(settings.tz) + timedelta(days=1)).date()
    reminded: list[int] = []
    for publication in settings.publications:
        draft = open_draft(session, publication.slug)
        if draft is None or draft.window_start is None:
            continue
        if draft.window_start.astimezone(settings.tz).date() != tomorrow:
            continue
        addresses = [address for address, _lang in editors(session)]
        already = any(
            count_recent(
                session,
                to=address,
                purpose="delivery_draft_reminder",
                since=now - timedelta(hours=20),
            )
            for address in addresses
        )
        if already:
            continue
        queue_draft_notice(session, draft, template="delivery_draft_reminder")
        reminded.append(draft.id)
    return reminded


def expire_translation_requests() -> int:
    """Close the translation requests whose link ran out unanswered."""
    return expire_requests(db.session, now=utcnow())
