"""What delivery and the scheduler call: recipients, personal links, purging, the demo."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from newsticker import jobs
from newsticker.core.db import utcnow
from newsticker.core.site import site_keyring
from newsticker.scheduling import in_unit_of_work, registered_jobs
from subscribers import services
from subscribers.demo import load_demo_subscribers
from subscribers.models import Confirmation, ConsentEvent, Subscriber, Subscription
from tests.factories import (
    confirm_token_from,
    last_mail,
    make_subscriber,
)


def test_recipient_rows_deduplicate_and_leave_out_who_must_not_get_mail(db):
    both = make_subscriber(db, "beide@example.org", publications=("ticker", "newsletter"), name="B")
    news = make_subscriber(db, "news@example.org", publications=("newsletter",), language="en")
    ticker = make_subscriber(db, "ticker@example.org", publications=("ticker",))
    make_subscriber(db, "wartet@example.org", publications=("ticker",), status="pending")
    make_subscriber(db, "weg@example.org", publications=("ticker",), status="unsubscribed")
    make_subscriber(db, "prallt@example.org", publications=("ticker",), status="bounced")
    make_subscriber(db, "gesperrt@example.org", publications=("ticker",), blocked=True)

    rows = list(services.recipient_rows(db, ["newsletter", "ticker"], batch_size=2))
    assert rows == [
        services.Recipient(both.id, "beide@example.org", "B", "de", "newsletter"),
        services.Recipient(news.id, "news@example.org", "", "en", "newsletter"),
        services.Recipient(ticker.id, "ticker@example.org", "", "de", "ticker"),
    ]
    assert rows[0].address == rows[0][1]
    assert [r.publication for r in services.recipient_rows(db, ["ticker", "newsletter"])] == [
        "ticker",
        "newsletter",
        "ticker",
    ]
    assert services.count_recipients(db, ["newsletter", "ticker"]) == 3
    everyone = db.scalars(select(Subscriber.id)).all()
    assert services.receiving_subscriber_ids(db, ["ticker"], everyone) == {both.id, ticker.id}
    assert services.receiving_subscriber_ids(db, ["ticker"], []) == set()
    assert list(services.recipient_rows(db, [])) == []
    assert [r.address for r in services.recipient_rows(db, ["ticker"])] == [
        "beide@example.org",
        "ticker@example.org",
    ]


def test_personal_links_of_a_recipient_unsubscribe_that_publication(app, client, db):
    subscriber = make_subscriber(db, "link@example.org", publications=("ticker", "newsletter"))
    db.commit()
    with app.test_request_context():
        ring = site_keyring()
    (recipient,) = services.recipient_rows(db, ["newsletter", "ticker"])
    prefixes = services.LinkPrefixes("https://news.example.org/abmelden/", "")
    links = services.personal_links(ring, prefixes, recipient.subscriber_id, recipient.publication)
    assert links["unsubscribe"].startswith("https://news.example.org/abmelden/")
    path = links["unsubscribe"].removeprefix("https://news.example.org")
    response = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.expire_all()
    assert {s.publication: s.status for s in db.get(Subscriber, subscriber.id).subscriptions} == {
        "newsletter": "unsubscribed",
        "ticker": "confirmed",
    }


def test_purge_deletes_stale_sign_ups_with_their_ip_and_keeps_proof(app, client, db):
    app.config["WTF_CSRF_ENABLED"] = False
    form = {"email": "alt@example.org", "publications": ["ticker"], "language": "de"}
    client.post("/abonnieren", data=form)
    client.post("/abonnieren", data={**form, "email": "bestaetigt@example.org"})
    db.expire_all()
    client.post(f"/bestaetigen/{confirm_token_from(last_mail(db).text)}")
    confirmed = make_subscriber(db, "treu@example.org", publications=("ticker",))
    db.commit()
    # Eight days later the confirmed person also asks for the newsletter and never confirms.
    db.expire_all()
    eight_days_ago = utcnow() - timedelta(days=8)
    for table in (Subscriber, Subscription, Confirmation):
        for row in db.scalars(select(table)):
            for column in ("created_at", "used_at"):
                if getattr(row, column, None) is not None:
                    setattr(row, column, eight_days_ago)
    db.commit()
    client.post(
        "/abonnieren", data={**form, "email": "treu@example.org", "publications": ["newsletter"]}
    )
    stale = db.scalars(select(Subscription).where(Subscription.publication == "newsletter")).one()
    stale.created_at = eight_days_ago
    db.scalars(
        select(Confirmation).where(Confirmation.subscriber_id == confirmed.id)
    ).one().created_at = eight_days_ago
    db.commit()

    run = in_unit_of_work(app, jobs.purge_pending_signups)()
    assert (run.subscribers, run.subscriptions) == (1, 2)
    db.expire_all()
    assert sorted(db.scalars(select(Subscriber.email))) == [
        "bestaetigt@example.org",
        "treu@example.org",
    ]
    assert db.scalars(select(ConsentEvent.ip).where(ConsentEvent.action == "requested")).all() == [
        "127.0.0.1"
    ]  # only the confirmed sign-up keeps its request line (its proof)
    assert db.scalar(select(func.count()).select_from(Confirmation)) == 0
    again = in_unit_of_work(app, jobs.purge_pending_signups)()
    assert (again.subscribers, again.subscriptions, again.confirmations) == (0, 0, 0)


def test_scheduler_knows_the_subscriber_jobs(app):
    settings = app.config["NEWSTICKER_SETTINGS"]
    ids = {job["id"]: job["func"] for job in registered_jobs(settings)}
    assert ids["purge-pending-signups"] == "purge_pending_signups"
    assert ids["process-bounces"] == "process_bounces"
    assert callable(jobs.purge_pending_signups) and callable(jobs.process_bounces)


def test_jobs_are_safe_without_a_bounce_source(app):
    assert in_unit_of_work(app, jobs.process_bounces)() == []  # no Maildir, no IMAP


def test_demo_subscribers_are_idempotent(app, db):
    settings = app.config["NEWSTICKER_SETTINGS"]
    assert load_demo_subscribers(db, settings) == ("subscribers", 10)
    assert load_demo_subscribers(db, settings) == ("subscribers", 0)
    assert services.count_recipients(db, ["ticker"]) == 7
    assert services.count_recipients(db, ["newsletter"]) == 5
