"""Plain functions the scheduler runs; each opens its services and returns what it did.

Every job runs inside an app context, is idempotent and is safe to run twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from newsticker.config import get_settings
from newsticker.core.db import db, utcnow
from newsticker.core.mail import SmtpTransport
from newsticker.core.mailqueue import QueueRun, purge_old_mail, send_queued_mail
from newsticker.items.services import ExpiryRun

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


def purge_mail_queue() -> int:
    """Delete sent and failed transactional mails past the retention period."""
    settings = get_settings()
    cutoff = utcnow() - timedelta(days=settings.retention.mail_queue_days)
    count = purge_old_mail(db.session, cutoff)
    db.session.commit()
    return count


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
    db.session.commit()
    if run.expired or run.purged or run.anonymised:
        logger.info(
            "items: expired %s, purged %s, anonymised %s", run.expired, run.purged, run.anonymised
        )
    return run
