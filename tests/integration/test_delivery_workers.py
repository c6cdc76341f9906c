"""`newsticker worker` processes and the scheduler drain one issue together.

Three workers and a scheduler (which only starts the send: delivery.scheduler_sends is
off) send a few thousand recipients to the mail catcher; one worker is killed with
SIGKILL midway and a fourth is added, another is stopped with SIGTERM. Every recipient
is recorded as sent exactly once; at the catcher, a second copy can only be a message the
killed worker had sent but not yet recorded (at most one buffer per connection).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from email.utils import parseaddr
from pathlib import Path

from sqlalchemy import func, select

from newsticker.core.catcher import MailCatcher, read_caught
from newsticker.core.db import utcnow
from newsticker.delivery.models import Delivery, DeliveryReport, DeliveryStatus, SendState
from newsticker.delivery.sender import UNRECORDED_AT_MOST
from tests.conftest import free_port, fresh_database
from tests.factories import config_app, in_transaction, scheduled_issue, seed_subscribers
from tests.factories import write_config as delivery_config
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = 3000
CONNECTIONS = 2


def spawn(config: Path, *args: str) -> subprocess.Popen[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONUNBUFFERED": "1",
        "NEWSTICKER_CONFIG": str(config),
    }
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def worker(config: Path) -> subprocess.Popen[str]:
    code = "from newsticker.cli import main; raise SystemExit(main())"
    return spawn(config, "-c", code, "--config", str(config), "worker", "--poll-seconds", "0.5")


def caught(maildir: Path) -> int:
    new = maildir / "new"
    return len(os.listdir(new)) if new.is_dir() else 0


def held_by(app, pid: int) -> int:
    """Count records still leased by a process (by the pid in its lease owner)."""
    return in_transaction(
        app,
        lambda s: s.scalar(
            select(func.count()).where(
                Delivery.lease_owner.like(f"%:{pid}:%"),
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.lease_until > utcnow(),
            )
        ),
    )


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGTERM)
    text, _ = proc.communicate(timeout=60)
    return text or ""


def test_workers_and_a_scheduler_drain_one_issue_while_workers_die_and_join(tmp_path):
    maildir = tmp_path / "caught"
    catcher = MailCatcher(maildir, "127.0.0.1", free_port()).start()
    procs: list[subprocess.Popen[str]] = []
    try:
        url = fresh_database(tmp_path)
        config = delivery_config(
            tmp_path,
            url,
            catcher.port,
            connections=CONNECTIONS,
            batch_size=40,
            lease_seconds=10,
            messages_per_second=250.0,  # so that the kill and the join fall into the send
            extra="scheduler_sends = false\n[schedule]\npoll_seconds = 5\n",
        )
        app = config_app(config)
        ids = in_transaction(app, lambda s: seed_subscribers(s, RECIPIENTS))
        addresses = {f"leser{i}@example.org" for i in ids}
        issue_id = in_transaction(app, lambda s: scheduled_issue(s).id)

        scheduler = spawn(config, "scheduler.py")
        first, second, third = worker(config), worker(config), worker(config)
        procs += [scheduler, first, second, third]

        wait_until(lambda: caught(maildir) >= 600, timeout=120, what="600 messages caught")
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
        fourth = worker(config)
        procs.append(fourth)

        wait_until(lambda: caught(maildir) >= 1800, timeout=120, what="1800 messages caught")
        second_output = stop(second)
        assert second.returncode == 0, second_output
        assert "worker stopped: sent " in second_output
        # It gave back what it had claimed: nobody waits for its leases to run out.
        assert held_by(app, second.pid) == 0

        def finished() -> bool:
            return in_transaction(
                app,
                lambda s: (
                    s.scalar(
                        select(DeliveryReport.state).where(DeliveryReport.issue_id == issue_id)
                    )
                    == SendState.FINISHED
                ),
            )

        wait_until(finished, timeout=240, interval=0.5, what="the issue finished")
        outputs = {name: stop(proc) for name, proc in (("third", third), ("fourth", fourth))}
        assert third.returncode == 0 and fourth.returncode == 0, outputs
        scheduler_output = stop(scheduler)
        assert scheduler.returncode == 0, scheduler_output
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        catcher.stop()

    # The database: every recipient sent, exactly once.
    rows = in_transaction(
        app,
        lambda s: s.execute(
            select(Delivery.address, Delivery.status).where(Delivery.issue_id == issue_id)
        ).all(),
    )
    assert len(rows) == RECIPIENTS
    assert {address for address, _ in rows} == addresses
    assert Counter(status for _, status in rows) == {DeliveryStatus.SENT: RECIPIENTS}

    # The catcher: everybody got it; second copies only from the killed worker's last buffers.
    received = Counter(parseaddr(mail.to)[1] for mail in read_caught(maildir))
    assert set(received) == addresses
    extra = sum(n - 1 for n in received.values())
    assert extra <= CONNECTIONS * UNRECORDED_AT_MOST, f"{extra} second copies"
    # The added worker took part (the scheduler never sends with scheduler_sends off).
    sent_by_fourth = int(outputs["fourth"].split("worker stopped: sent ")[1].split(",")[0])
    assert sent_by_fourth > 0, outputs["fourth"]


def test_with_scheduler_sends_off_the_scheduler_only_starts_and_a_worker_sends(tmp_path):
    import threading

    from newsticker.delivery.sender import run_sender_worker, send_due_issues
    from tests.factories import Relay, committed_app

    with Relay() as relay:
        app = committed_app(
            tmp_path, **{"delivery.scheduler_sends": False, "smtp.port": relay.port}
        )
        settings = app.config["NEWSTICKER_SETTINGS"]
        in_transaction(app, lambda s: seed_subscribers(s, 30))
        issue_id = in_transaction(app, lambda s: scheduled_issue(s).id)

        due = send_due_issues(app, settings)
        assert due.started == [issue_id] and due.drained == {}
        assert relay.received == []  # started, not sent

        stop = threading.Event()

        def after_drain(drained_id: int, run) -> None:
            assert drained_id == issue_id
            if run.finished:
                stop.set()

        total = run_sender_worker(app, settings, stop=stop, poll_seconds=0.1, on_drain=after_drain)
    assert total.sent == 30 and total.failed == 0
    assert len(relay.received) == 30
