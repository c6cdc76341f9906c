"""The scheduler process: one leader runs the jobs of newsticker.jobs on their schedules."""

from __future__ import annotations

import fcntl
import logging
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_MISSED
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Connection

from newsticker.config import ConfigError, Settings, load_settings
from newsticker.core.unit_of_work import app_unit_of_work

logger = logging.getLogger(__name__)

# Any constant shared by all Newsticker schedulers of one database.
ADVISORY_LOCK_KEY = 0x4E5354_4B52  # "NSTKR"
LOCK_RETRY_SECONDS = 15


class LeaderLock:
    """Hold the one scheduler lock of a database for the life of the process.

    PostgreSQL: a session-level advisory lock on a connection kept open. SQLite: an
    exclusive file lock next to the database file (SQLite is one host by design).
    """

    def __init__(self, settings: Settings, engine: Any) -> None:
        self.settings = settings
        self.engine = engine
        self._conn: Connection | None = None
        self._file: Any = None

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it; return whether we lead now."""
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect()
            got = conn.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            ).scalar()
            conn.commit()
            if got:
                self._conn = conn
                return True
            conn.close()
            return False
        path = Path(self.engine.url.database or "newsticker.db").with_suffix(".scheduler.lock")
        handle = path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    def wait(
        self, stop: Callable[[], bool] = lambda: False, retry_seconds: float = LOCK_RETRY_SECONDS
    ) -> bool:
        """Block until we lead (or stop() says to give up); log that we wait."""
        announced = False
        while not stop():
            if self.try_acquire():
                logger.info("scheduler: this process leads")
                return True
            if not announced:
                logger.warning(
                    "scheduler: another scheduler leads on this database; waiting to take over"
                )
                announced = True
            time.sleep(retry_seconds)
        return False

    def release(self) -> None:
        """Give the lock up."""
        if self._conn is not None:
            # The pool keeps the connection (and a session-level lock) alive: unlock first.
            self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
            self._conn.commit()
            self._conn.close()
            self._conn = None
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def in_unit_of_work(app: Flask, func: Callable[[], Any]) -> Callable[[], Any]:
    """Wrap a job so it runs in one unit of work: commit when it returns, then send mail."""

    def run() -> Any:
        with app_unit_of_work(app):
            return func()

    run.__name__ = getattr(func, "__name__", "job")
    return run


def build_scheduler(app: Flask) -> BlockingScheduler:
    """Create the scheduler with the app's database as job store and register the jobs."""
    from newsticker.core.db import db

    settings: Settings = app.config["NEWSTICKER_SETTINGS"]
    scheduler = BlockingScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=db.engine, tablename="scheduler_jobs")},
        timezone=settings.tz,
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": settings.schedule.misfire_grace_seconds,
        },
    )
    scheduler.add_listener(_log_missed_run, EVENT_JOB_MISSED)
    for job in registered_jobs(settings):
        scheduler.add_job(
            "newsticker.scheduling:run_job",
            trigger=job["trigger"],
            args=[job["func"]],
            id=job["id"],
            name=job["id"],
            replace_existing=True,
            **job.get("trigger_args", {}),
        )
    return scheduler


def _log_missed_run(event: Any) -> None:
    # Beyond the grace time a run is skipped (coalesced into the next one): say so.
    logger.warning(
        "scheduler: job %s missed its run at %s (misfire)", event.job_id, event.scheduled_run_time
    )


def registered_jobs(settings: Settings) -> list[dict[str, Any]]:
    """Return the jobs and their schedules, from the settings."""
    schedule = settings.schedule
    poll = schedule.poll_seconds
    return [
        {
            "id": "send-mail-queue",
            "func": "send_mail_queue",
            "trigger": "interval",
            "trigger_args": {"seconds": poll},
        },
        {
            "id": "deliver-webhooks",
            "func": "deliver_webhooks",
            "trigger": "interval",
            "trigger_args": {"seconds": settings.webhooks.poll_seconds},
        },
        {
            "id": "purge-mail-queue",
            "func": "purge_mail_queue",
            "trigger": "cron",
            "trigger_args": {"hour": 3, "minute": 15},
        },
        {
            "id": "purge-delivery-records",
            "func": "purge_delivery_records",
            "trigger": "cron",
            "trigger_args": {"hour": 3, "minute": 45},
        },
        {
            "id": "purge-audit-events",
            "func": "purge_audit_events",
            "trigger": "cron",
            "trigger_args": {"hour": 4, "minute": 0},
        },
        {
            "id": "expire-items",
            "func": "expire_items",
            "trigger": "interval",
            "trigger_args": {"minutes": 15},
        },
        {
            # Series are expanded ahead only so far: each night moves the horizon a day.
            "id": "extend-occurrences",
            "func": "extend_occurrences",
            "trigger": "cron",
            "trigger_args": {"hour": 2, "minute": 30},
        },
        {
            "id": "expire-translation-requests",
            "func": "expire_translation_requests",
            "trigger": "interval",
            "trigger_args": {"minutes": 15},
        },
        {
            "id": "purge-pending-signups",
            "func": "purge_pending_signups",
            "trigger": "cron",
            "trigger_args": {"hour": 3, "minute": 30},
        },
        {
            "id": "purge-consent-proofs",
            "func": "purge_consent_proofs",
            "trigger": "cron",
            "trigger_args": {"hour": 4, "minute": 15},
        },
        {
            "id": "process-bounces",
            "func": "process_bounces",
            "trigger": "interval",
            "trigger_args": {"minutes": 5},
        },
        {
            # Due issues are found by polling, so a scheduler that was down sends them when
            # it is back (the lateness is recorded in the report as a misfire).
            "id": "send-due-issues",
            "func": "send_due_issues",
            "trigger": "interval",
            "trigger_args": {"seconds": poll},
        },
        {
            "id": "prepare-weekly-draft",
            "func": "prepare_weekly_draft",
            "trigger": "cron",
            "trigger_args": {
                "day_of_week": schedule.draft_weekday,
                "hour": schedule.draft_time.hour,
                "minute": schedule.draft_time.minute,
            },
        },
        {
            "id": "remind-editors-of-draft",
            "func": "remind_editors_of_draft",
            "trigger": "cron",
            "trigger_args": {
                "hour": schedule.reminder_time.hour,
                "minute": schedule.reminder_time.minute,
            },
        },
    ]


_APP: Flask | None = None


def run_job(name: str) -> Any:
    """Run one function of newsticker.jobs by name (what the job store keeps is this name)."""
    from newsticker import jobs

    if _APP is None:
        raise RuntimeError("scheduler app not initialised")
    func = getattr(jobs, name)
    return in_unit_of_work(_APP, func)()


def main(argv: list[str] | None = None) -> int:
    """Run the scheduler until stopped; wait while another scheduler leads."""
    global _APP
    from newsticker import create_app
    from newsticker.core.db import db

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
    try:
        settings = load_settings()
        _APP = create_app(settings)
        if __name__ == "__main__":
            # Run as `python -m newsticker.scheduling`: the job store calls run_job in the
            # importable module, which is a second copy of this one.
            import newsticker.scheduling as importable

            importable._APP = _APP
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    stopping = False

    def _stop(*_args: Any) -> None:
        nonlocal stopping
        stopping = True
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _stop)
    with _APP.app_context():
        engine = db.engine
    lock = LeaderLock(settings, engine)
    try:
        if not lock.wait(lambda: stopping):
            return 0
        with _APP.app_context():
            scheduler = build_scheduler(_APP)
        logger.info(
            "scheduler: %d jobs, time zone %s", len(scheduler.get_jobs()), settings.site.timezone
        )
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        logger.info("scheduler: stopping")
    finally:
        lock.release()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
