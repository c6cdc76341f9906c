"""Real sender processes: killed mid-send and restarted; two of them on one issue."""

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter

from sqlalchemy import func, select

from newsticker.delivery.models import Delivery
from newsticker.delivery.sender import UNRECORDED_AT_MOST
from tests.conftest import fresh_database
from tests.factories import (
    Relay,
    config_app,
    in_transaction,
    scheduled_issue,
    seed_subscribers,
    write_config,
)
from tests.waiting import wait_until

RECIPIENTS = 2000
KILLS = 10
CONNECTIONS = 2
# A message can be sent but not yet recorded for at most one flush interval (plus the
# time the flush takes on a busy machine): a duplicate's first copy must be that young.
IN_FLIGHT_SECONDS = 2.0


def sender(config, issue_id):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from newsticker.cli import main; raise SystemExit(main())",
            "--config",
            str(config),
            "send-issue",
            str(issue_id),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def seed(config, count):
    app = config_app(config)
    ids = in_transaction(app, lambda s: seed_subscribers(s, count))
    issue_id = in_transaction(app, lambda s: scheduled_issue(s).id)
    return app, issue_id, {f"leser{i}@example.org" for i in ids}


def sent_count(app, issue_id):
    return in_transaction(
        app,
        lambda s: s.scalar(
            select(func.count()).where(Delivery.issue_id == issue_id, Delivery.status == "sent")
        ),
    )


def test_killed_ten_times_every_recipient_gets_it_duplicates_only_in_flight(tmp_path):
    rng = random.Random(6)
    with Relay() as relay:
        url = fresh_database(tmp_path)
        config = write_config(
            tmp_path,
            url,
            relay.port,
            connections=CONNECTIONS,
            batch_size=50,
            lease_seconds=10,
            messages_per_second=250.0,  # so that ten kills fall into one send
        )
        app, issue_id, addresses = seed(config, RECIPIENTS)
        kills: list[float] = []
        for _ in range(KILLS):
            proc = sender(config, issue_id)
            before = len(relay.received)
            if rng.random() < 0.5:
                # At a random moment: in start-up, record creation or sending.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=rng.uniform(0.3, 2.8))
            else:
                # While messages go out: after a random number of them.
                wanted = before + rng.randint(1, 150)
                # (The lambda is called at once, within this round of the loop.)
                wait_until(
                    lambda: len(relay.received) >= wanted or proc.poll() is not None,  # noqa: B023
                    timeout=60,
                    interval=0.002,
                    what=f"{wanted - before} more messages at the relay",
                )
            if proc.poll() is not None:
                break  # it finished before we could kill it
            proc.send_signal(signal.SIGKILL)
            kills.append(time.time())
            proc.communicate()
        final = sender(config, issue_id)
        output, _ = final.communicate(timeout=120)
    assert final.returncode == 0, output
    assert len(kills) >= KILLS - 2, "the send finished before most kills"
    received = Counter(r.rcpt for r in relay.received if r.rcpt in addresses)
    assert set(received) == addresses
    duplicates = {rcpt: n for rcpt, n in received.items() if n > 1}
    copies: dict[str, list[float]] = {}
    for r in relay.received:
        copies.setdefault(r.rcpt, []).append(r.at)
    for rcpt in duplicates:
        # Every copy but the last went out just before a kill, unrecorded (the relay may
        # finish reading one a moment after the sender died).
        for seen in sorted(copies[rcpt])[:-1]:
            assert any(kill - IN_FLIGHT_SECONDS <= seen <= kill + 0.5 for kill in kills), (
                f"{rcpt} was sent again but was not in flight at a kill"
            )
    # At most one unwritten buffer per worker (the message on the wire included).
    assert sum(n - 1 for n in duplicates.values()) <= len(kills) * CONNECTIONS * UNRECORDED_AT_MOST
    assert sent_count(app, issue_id) == RECIPIENTS
    assert "sent 2000, failed 0" in output


def test_two_workers_drain_one_issue_and_nobody_gets_two(tmp_path):
    with Relay() as relay:
        url = fresh_database(tmp_path)
        # Slow enough that both processes are surely sending at the same time.
        config = write_config(
            tmp_path, url, relay.port, connections=2, batch_size=25, messages_per_second=600.0
        )
        _app, issue_id, addresses = seed(config, 1500)
        procs = [sender(config, issue_id) for _ in range(2)]
        outputs = [proc.communicate(timeout=120)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    received = Counter(r.rcpt for r in relay.received if r.rcpt in addresses)
    assert set(received) == addresses
    assert max(received.values()) == 1
    # Both took part.
    by_process = [int(out.split("by this process: sent ")[1].split(",")[0]) for out in outputs]
    assert sum(by_process) == 1500 and min(by_process) > 0, outputs
