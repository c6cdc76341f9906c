"""Only one scheduler leads per database; a second one waits and says so."""

import logging
import subprocess
import sys
from collections import Counter

from newsticker.core.db import make_engine
from newsticker.delivery import services
from newsticker.delivery.models import SendState
from newsticker.scheduling import LeaderLock, build_scheduler, registered_jobs
from tests.conftest import fresh_database
from tests.factories import (
    Relay,
    config_app,
    in_transaction,
    scheduled_issue,
    seed_subscribers,
    write_config,
)
from tests.waiting import ProcessOutput, wait_until


def test_second_lock_waits_until_the_first_is_released(database_url, app):
    settings = app.config["NEWSTICKER_SETTINGS"]
    engine = make_engine(database_url)
    first, second = LeaderLock(settings, engine), LeaderLock(settings, engine)
    try:
        assert first.try_acquire()
        assert not second.try_acquire()
        first.release()
        assert second.try_acquire()
    finally:
        first.release()
        second.release()
        engine.dispose()


def test_waiting_scheduler_logs_that_it_waits(database_url, app, caplog):
    settings = app.config["NEWSTICKER_SETTINGS"]
    engine = make_engine(database_url)
    leader, follower = LeaderLock(settings, engine), LeaderLock(settings, engine)
    assert leader.try_acquire()
    calls = iter([False, True])
    with caplog.at_level(logging.WARNING):
        assert follower.wait(stop=lambda: next(calls), retry_seconds=0.01) is False
    assert "another scheduler leads on this database" in caplog.text
    leader.release()
    engine.dispose()


def test_jobs_come_from_settings_with_safe_defaults(app):
    settings = app.config["NEWSTICKER_SETTINGS"]
    ids = {job["id"] for job in registered_jobs(settings)}
    assert {"send-mail-queue", "purge-mail-queue"} <= ids


def test_scheduler_uses_app_database_and_local_time_zone(app):
    scheduler = build_scheduler(app)
    assert str(scheduler.timezone) == "Europe/Berlin"
    defaults = scheduler._job_defaults
    assert defaults["coalesce"] is True
    assert defaults["max_instances"] == 1
    assert defaults["misfire_grace_time"] == 3600


LEADS = "this process leads"
WAITS = "another scheduler leads"


def start_scheduler(config) -> ProcessOutput:
    """Start `python -m newsticker.scheduling` on a config file; collect what it prints."""
    env = {"NEWSTICKER_CONFIG": str(config), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "newsticker.scheduling"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return ProcessOutput(proc)


def stop_all(schedulers: list[ProcessOutput]) -> list[str]:
    """Terminate the schedulers; return what each printed."""
    for scheduler in schedulers:
        scheduler.proc.terminate()
    return [scheduler.finish(timeout=20) for scheduler in schedulers]


def test_two_scheduler_processes_one_leads(runner):
    schedulers = [start_scheduler(runner.config_file) for _ in range(2)]
    try:
        wait_until(
            lambda: all(LEADS in s.text or WAITS in s.text for s in schedulers),
            timeout=60,
            what="both schedulers to say whether they lead",
        )
    finally:
        outputs = stop_all(schedulers)
    leading = [out for out in outputs if LEADS in out]
    waiting = [out for out in outputs if WAITS in out]
    assert len(leading) == 1, outputs
    assert len(waiting) == 1, outputs


def test_two_schedulers_with_a_due_issue_send_it_once(tmp_path):
    with Relay() as relay:
        url = fresh_database(tmp_path)
        config = write_config(tmp_path, url, relay.port, extra="[schedule]\npoll_seconds = 5\n")
        app = config_app(config)
        in_transaction(app, lambda s: seed_subscribers(s, 20))
        issue_id = in_transaction(app, lambda s: scheduled_issue(s).id)
        schedulers = [start_scheduler(config) for _ in range(2)]
        try:
            # Finished means every record has its result: nothing more can go out.
            wait_until(
                lambda: (
                    in_transaction(app, lambda s: services.send_state(s, issue_id))
                    == SendState.FINISHED
                ),
                timeout=60,
                interval=0.2,
                what="the issue to be sent",
            )
        finally:
            outputs = stop_all(schedulers)
    assert sum(LEADS in out for out in outputs) == 1, outputs
    received = Counter(r.rcpt for r in relay.received)
    assert len(received) == 20 and set(received.values()) == {1}, outputs
