"""The sending engine's lease rules, step by step with explicit times and owners.

A worker leases a batch of records (`claim_batch`), sends, writes the outcomes
(`record_results`) and gives back what it did not send (`release`). A lease that runs out
(the worker died or stalled) lets another worker claim the records again. These tests hold
the rules that keep that safe:

a. a re-claim after an expired lease never hands out a record whose result was written;
b. a worker whose lease ran out cannot undo the new holder's lease (not with a retry, not
   with a release), so a third worker cannot take the record while the second sends it;
c. a worker that stops early gives its unsent records back at once, instead of leaving
   them to wait for the lease to run out.

No sleeping: every step names its `now`; the sender test stops on an event from the relay.
"""

from datetime import timedelta

import pytest
from sqlalchemy import select

from newsticker.core.db import utcnow
from newsticker.core.site import app_settings, site_links
from newsticker.delivery import services
from newsticker.delivery.mails import EditorMails
from newsticker.delivery.models import Delivery, DeliveryStatus
from newsticker.delivery.sender import IssueSender
from tests.factories import Relay, committed_app, in_transaction, scheduled_issue, seed_subscribers

LEASE = 60  # seconds
T0 = utcnow().replace(microsecond=0)


def at(seconds: float):
    """Return the moment `seconds` after T0."""
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def settings_overrides():
    # Retries are due at once, so a wrongly released record would be claimable at once.
    return {"delivery.retry_attempts": 5, "delivery.retry_delay_seconds": 0.0}


@pytest.fixture
def issue(app, db):
    """Return an issue started at T0 with five recipients."""
    seed_subscribers(db, 5)
    issue = scheduled_issue(db, send_at=at(-1))
    assert (
        services.start_issue(
            db, issue.id, now=T0, settings=app_settings(app), links=site_links(app)
        )
        is not None
    )
    return issue


def claim(db, issue, owner, now):
    return services.claim_batch(db, issue.id, owner=owner, limit=100, now=now, lease_seconds=LEASE)


def record(app, db, issue, owner, now, outcomes):
    return services.record_results(
        db,
        issue.id,
        outcomes,
        owner=owner,
        now=now,
        settings=app_settings(app),
        notify=EditorMails(site_links(app)),
    )


def outcome(row, kind, reply):
    return services.Outcome(row.id, row.subscriber_id, kind, reply, row.attempts)


def take_over(db, issue):
    """Let worker-a claim every record and stall past its lease, then worker-b claim them.

    Returns one of the records as worker-a knows it.
    """
    rows = claim(db, issue, "worker-a", T0)
    again = claim(db, issue, "worker-b", at(LEASE + 1))
    assert sorted(c.id for c in again) == sorted(c.id for c in rows)
    return rows[0]


def stored(db, row_id) -> Delivery:
    db.expire_all()
    return db.get(Delivery, row_id)


# ---------------------------------------------------------------- a. recorded means done


def test_a_reclaim_after_an_expired_lease_skips_every_recorded_result(app, db, issue):
    rows = claim(db, issue, "worker-a", T0)
    assert len(rows) == 5
    sent, failed, unsent = rows[:2], rows[2], rows[3:]
    record(
        app,
        db,
        issue,
        "worker-a",
        at(5),
        [
            outcome(sent[0], "sent", "250 ok"),
            outcome(sent[1], "sent", "250 ok"),
            outcome(failed, "failed", "550 5.1.1 no such user"),
        ],
    )
    # worker-a dies with two records unsent; its lease runs out.
    assert claim(db, issue, "worker-b", at(LEASE - 1)) == []
    again = claim(db, issue, "worker-b", at(LEASE + 1))
    assert sorted(c.id for c in again) == sorted(c.id for c in unsent)


def test_a_result_written_after_the_lease_moved_on_still_keeps_the_record_from_a_third_claim(
    app, db, issue
):
    row = take_over(db, issue)
    # worker-a wakes up: its message to the first did go out, and it says so.
    record(app, db, issue, "worker-a", at(LEASE + 2), [outcome(row, "sent", "250 ok")])
    # worker-b dies before it writes anything. Whoever claims next must not send again.
    later = claim(db, issue, "worker-c", at(3 * LEASE))
    assert row.id not in {c.id for c in later}
    assert stored(db, row.id).status == DeliveryStatus.SENT


# ---------------------------------------------------------------- b. the new holder's lease


def test_an_expired_workers_retry_leaves_the_new_holders_lease_alone(app, db, issue):
    row = take_over(db, issue)
    held = stored(db, row.id)
    before = (held.lease_owner, held.lease_until, held.next_attempt_at, held.attempts)

    # worker-a's late answer is a 4xx: on its own lease that would schedule a retry.
    record(app, db, issue, "worker-a", at(LEASE + 2), [outcome(row, "retry", "451 4.3.0 busy")])

    after = stored(db, row.id)
    assert (after.lease_owner, after.lease_until, after.next_attempt_at, after.attempts) == before
    assert after.lease_owner == "worker-b"
    assert after.status == DeliveryStatus.PENDING and after.result == ""
    # So nobody else can claim it while worker-b sends it.
    assert claim(db, issue, "worker-c", at(LEASE + 3)) == []


def test_an_expired_workers_release_leaves_the_new_holders_lease_alone(db, issue):
    row = take_over(db, issue)

    # worker-a stops and gives back what it thinks it still holds.
    assert services.release(db, [row.id], owner="worker-a", now=at(LEASE + 2)) == 0

    assert stored(db, row.id).lease_owner == "worker-b"
    assert claim(db, issue, "worker-c", at(LEASE + 3)) == []


# ---------------------------------------------------------------- c. giving back early


def test_released_records_are_claimable_at_once_not_when_the_lease_ends(app, db, issue):
    rows = claim(db, issue, "worker-a", T0)
    record(app, db, issue, "worker-a", at(2), [outcome(r, "sent", "250 ok") for r in rows[:2]])
    unsent = [r.id for r in rows[2:]]

    assert services.release(db, unsent, owner="worker-a", now=at(3)) == 3

    for row_id in unsent:
        record_ = stored(db, row_id)
        assert (record_.lease_owner, record_.lease_until, record_.attempts) == (None, None, 0)
    again = claim(db, issue, "worker-b", at(3))  # long before the lease would have run out
    assert sorted(c.id for c in again) == unsent


@pytest.mark.parametrize("stop", ["stop-event", "hourly-budget"])
def test_a_sender_that_stops_early_gives_back_the_rest_of_its_batch(tmp_path, stop):
    with Relay() as relay:
        overrides = {
            "smtp.port": relay.port,
            "delivery.connections": 1,
            "delivery.batch_size": 10,
            "delivery.lease_seconds": 300,
        }
        if stop == "hourly-budget":
            overrides["delivery.messages_per_hour"] = 3
        app = committed_app(tmp_path, **overrides)
        settings = app_settings(app)
        in_transaction(app, lambda s: seed_subscribers(s, 10))
        issue_id = in_transaction(app, lambda s: scheduled_issue(s).id)
        in_transaction(
            app,
            lambda s: services.start_issue(
                s, issue_id, now=utcnow(), settings=settings, links=site_links(app)
            ),
        )
        sender = IssueSender(app, settings, connect_backoff=(0, 0))
        if stop == "stop-event":
            # Shut down (Ctrl+C, SIGTERM) while the third message is on the wire.
            relay.behaviour.on_data = lambda n: sender.stop.set() if n == 3 else None
        run = sender.drain(issue_id, wait=False)

    assert run.sent == 3 and len(relay.received) == 3
    rows = in_transaction(
        app,
        lambda s: [
            (r.status, r.lease_owner, r.lease_until, r.attempts)
            for r in s.scalars(select(Delivery).where(Delivery.issue_id == issue_id))
        ],
    )
    assert sorted(r[0] for r in rows) == ["pending"] * 7 + ["sent"] * 3
    assert {r[1:] for r in rows if r[0] == "pending"} == {(None, None, 0)}
    # Given back, not left leased: another worker takes them now, not in five minutes.
    claimed = in_transaction(
        app,
        lambda s: services.claim_batch(
            s, issue_id, owner="next-worker", limit=100, now=utcnow(), lease_seconds=300
        ),
    )
    assert len(claimed) == 7
