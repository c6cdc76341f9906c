"""Sending against a real SMTP server on loopback that misbehaves: every recipient once."""

import re
from collections import Counter

import pytest
from sqlalchemy import func, select

from newsticker.core.db import utcnow
from newsticker.core.mailqueue import QueuedMail
from newsticker.core.site import site_links
from newsticker.delivery import services
from newsticker.delivery.models import Delivery
from newsticker.delivery.sender import IssueSender
from subscribers.models import Subscription
from tests.conftest import free_port
from tests.factories import (
    Behaviour,
    Relay,
    committed_app,
    in_transaction,
    make_user,
    scheduled_issue,
    seed_subscribers,
)

EDITOR = "redaktion@example.org"


def prepare(tmp_path, count, port, **overrides):
    """Return (app, issue id, addresses) of a started issue with `count` recipients."""
    app = committed_app(tmp_path, **{"smtp.port": port, **overrides})
    settings = app.config["NEWSTICKER_SETTINGS"]

    def seed(session):
        make_user(session, EDITOR)
        ids = seed_subscribers(session, count)
        return scheduled_issue(session).id, [f"leser{i}@example.org" for i in ids]

    issue_id, addresses = in_transaction(app, seed)
    in_transaction(
        app,
        lambda s: services.start_issue(
            s, issue_id, now=utcnow(), settings=settings, links=site_links(app)
        ),
    )
    return app, issue_id, addresses


def drain(app, issue_id, **kwargs):
    sender = IssueSender(app, app.config["NEWSTICKER_SETTINGS"], connect_backoff=(0, 0), **kwargs)
    return sender.drain(issue_id, wait=True)


def issue_mails(relay):
    return [r for r in relay.received if r.message["List-Id"]]


def statuses(app, issue_id):
    return in_transaction(
        app,
        lambda s: dict(
            s.execute(
                select(Delivery.status, func.count())
                .where(Delivery.issue_id == issue_id)
                .group_by(Delivery.status)
            ).all()
        ),
    )


def test_every_recipient_gets_one_well_formed_mail(tmp_path):
    with Relay() as relay:
        app, issue_id, addresses = prepare(
            tmp_path,
            40,
            relay.port,
            **{"mail.return_path": "bounces+{token}@flensburg.example", "delivery.connections": 3},
        )
        run = drain(app, issue_id)
    assert run.state == "finished"
    mails = issue_mails(relay)
    assert Counter(m.rcpt for m in mails) == Counter(addresses)
    first = next(m for m in mails if m.rcpt == addresses[0])
    msg = first.message
    assert first.mail_from.startswith("bounces+") and first.mail_from.endswith("@flensburg.example")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "http://localhost/" in str(msg["List-Unsubscribe"]) and "mailto:" in str(
        msg["List-Unsubscribe"]
    )
    assert msg["Message-ID"] == in_transaction(
        app,
        lambda s: s.scalar(select(Delivery.message_id).where(Delivery.address == addresses[0])),
    )
    unsubscribe_url = str(msg["List-Unsubscribe"]).split("<", 1)[1].split(">", 1)[0]
    assert unsubscribe_url in msg.get_body(("html",)).get_content()
    # The report went to the editors after the last message.
    report = [r for r in relay.received if r.rcpt == EDITOR]
    assert len(report) == 1 and "40" in report[0].message.get_body(("plain",)).get_content()


def test_a_relay_that_refuses_connections_pauses_the_issue_then_resume_finishes(tmp_path):
    port = free_port()  # nothing listens here yet
    app, issue_id, addresses = prepare(
        tmp_path, 30, port, **{"delivery.failure_pause_threshold": 5}
    )
    run = drain(app, issue_id)
    assert run.state == "paused"
    state = statuses(app, issue_id)
    assert state == {"pending": 30}  # nobody failed for good: five got one attempt each
    report = in_transaction(app, lambda s: services.get_report(s, issue_id))
    # Each connection may have had a message or two in hand when the run reached five.
    assert re.match(r"([5-9]) failures in a row", report.pause_reason), report.pause_reason
    assert "cannot connect" in report.pause_reason
    # The editors' notice waits in the mail queue until the relay is back.
    assert in_transaction(
        app,
        lambda s: s.scalar(select(func.count()).where(QueuedMail.purpose == "delivery_paused")),
    )
    with Relay(port=port) as relay:
        assert in_transaction(app, lambda s: services.resume_issue(s, issue_id, now=utcnow()))
        run = drain(app, issue_id)
    assert run.state == "finished"
    assert Counter(m.rcpt for m in issue_mails(relay)) == Counter(addresses)


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-by-one"])
def test_421_and_451_mid_batch_are_retried_and_nobody_gets_two(tmp_path, pipelining):
    behaviour = Behaviour(data_replies={5: "451 4.3.0 local error", 9: "421 4.7.0 closing"})
    with Relay(behaviour=behaviour, pipelining=pipelining) as relay:
        app, issue_id, addresses = prepare(tmp_path, 25, relay.port, **{"delivery.connections": 1})
        run = drain(app, issue_id)
    assert run.state == "finished"
    assert Counter(m.rcpt for m in issue_mails(relay)) == Counter(addresses)
    attempts = in_transaction(
        app,
        lambda s: sorted(s.scalars(select(Delivery.attempts).where(Delivery.issue_id == issue_id))),
    )
    # The 451 one went again later; the 421 one at once on a new connection.
    assert attempts.count(2) == 1 and attempts.count(1) == 24


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-by-one"])
def test_550_for_some_recipients_fails_them_and_marks_them_bounced(tmp_path, pipelining):
    with Relay(pipelining=pipelining) as relay:
        app, issue_id, addresses = prepare(tmp_path, 12, relay.port)
        refused = addresses[3:5]
        relay.behaviour.refuse_rcpt = {a: "550 5.1.1 no such user" for a in refused}
        run = drain(app, issue_id)
    assert run.state == "finished"
    assert Counter(m.rcpt for m in issue_mails(relay)) == Counter(set(addresses) - set(refused))
    assert statuses(app, issue_id) == {"sent": 10, "failed": 2}
    bounced = in_transaction(
        app,
        lambda s: s.scalar(select(func.count()).where(Subscription.status == "bounced")),
    )
    assert bounced == 2
    report = in_transaction(app, lambda s: services.get_report(s, issue_id))
    assert report.failed == 2 and "550 5.1.1 no such user" in report.failure_reasons[0][0]


def test_a_relay_closing_after_k_messages_gets_new_connections(tmp_path):
    with Relay(behaviour=Behaviour(close_after=7)) as relay:
        app, issue_id, addresses = prepare(tmp_path, 30, relay.port, **{"delivery.connections": 2})
        run = drain(app, issue_id)
    assert run.state == "finished"
    assert Counter(m.rcpt for m in issue_mails(relay)) == Counter(addresses)
    assert statuses(app, issue_id) == {"sent": 30}


def test_a_hanging_relay_times_out_and_the_send_goes_on(tmp_path):
    behaviour = Behaviour(hang_on={4}, hang_seconds=4)
    with Relay(behaviour=behaviour) as relay:
        app, issue_id, addresses = prepare(
            tmp_path, 10, relay.port, **{"smtp.timeout": 1, "delivery.connections": 1}
        )
        run = drain(app, issue_id)
    assert run.state == "finished"
    received = Counter(m.rcpt for m in issue_mails(relay))
    assert set(received) == set(addresses)
    assert sum(received.values()) == 10  # the hung message was never accepted


def test_who_unsubscribes_during_the_send_gets_nothing_once_not_yet_claimed(tmp_path):
    from subscribers import services as subscriber_services

    with Relay() as relay:
        app, issue_id, addresses = prepare(
            tmp_path, 30, relay.port, **{"delivery.connections": 1, "delivery.batch_size": 5}
        )
        leaver = addresses[-1]
        subscriber_id = int(leaver.removeprefix("leser").split("@")[0])

        def unsubscribe_on_first(number):
            if number == 1:  # the first batch of five is out; the leaver's is far off
                in_transaction(
                    app,
                    lambda s: subscriber_services.unsubscribe(
                        s, subscriber_id, "ticker", channel="one-click", now=utcnow()
                    ),
                )

        relay.behaviour.on_data = unsubscribe_on_first
        run = drain(app, issue_id)
    assert run.state == "finished"
    received = Counter(m.rcpt for m in issue_mails(relay))
    assert leaver not in received
    assert received == Counter(a for a in addresses if a != leaver)
    assert statuses(app, issue_id) == {"sent": 29, "skipped": 1}
