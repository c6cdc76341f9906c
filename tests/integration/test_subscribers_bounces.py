"""Bounces: the Maildir command, VERP, thresholds, complaints, unsubscribe mails, poison,
crash safety, putting an address back, and the calls delivery makes."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from newsticker import jobs
from newsticker.core.audit import Actor, AuditEvent
from newsticker.core.db import utcnow
from newsticker.scheduling import in_unit_of_work
from subscribers import mailboxes, services
from subscribers.addresses import suppression_hash
from subscribers.models import (
    BounceEvent,
    BounceRun,
    ConsentEvent,
    ReturnedMessage,
    Subscription,
    Suppression,
)
from subscribers.site import site_salts
from tests.factories import keyring, make_subscriber

SAMPLES = Path(__file__).resolve().parents[1] / "unit" / "bounce_samples"
ADDRESSES = (
    "inge.thomsen@example.net",  # postfix 5.1.1: hard
    "soeren.luethje@example.org",  # mailbox full: soft
    "ahmad.alhassan@example.com",  # 5.7.1 policy: soft
    "k.petersen@stadtwerke.example.com",  # Exchange Online 5.1.10: hard
    "hans.jensen@amt.example.com",  # legacy Exchange: hard
    "gunther.krueger@example.net",  # VERP, qmail: hard
)
RETURN_PATH = "bounces+{token}@newsticker.example.org"


def make_maildir(path: Path, extra: dict[str, bytes] | None = None) -> Path:
    for sub in ("new", "cur", "tmp"):
        (path / sub).mkdir(parents=True)
    for number, sample in enumerate(sorted(SAMPLES.glob("*.eml"))):
        shutil.copy(sample, path / "new" / f"{number}.{sample.stem}.host")
    for name, data in (extra or {}).items():
        (path / "new" / name).write_bytes(data)
    return path


POISON = {
    "90.empty.host": b"",
    "91.binary.host": bytes(range(256)) * 64,
    "92.header-bytes.host": b"From: a@example.org\r\nSubject: \xff\xfe\r\n\r\nx",
    "93.nested.host": b"From: a@example.org\r\nMIME-Version: 1.0\r\n"
    + b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(40))
    + b"Content-Type: text/plain\r\n\r\nx\r\n",
    "94.truncated.host": b"From: someone@example.org\r\nSubject: Hello\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="cut"\r\n\r\n--cut\r\nContent-Type: text/pl',
}  # fmt: skip


def test_process_bounces_command(runner, tmp_path):
    listing = tmp_path / "liste.csv"
    listing.write_text("email\n" + "\n".join(ADDRESSES) + "\n", encoding="utf-8")
    result = runner.invoke(
        "import-subscribers",
        str(listing),
        "--publication",
        "ticker",
        "--consent-note",
        "Testliste 2026",
    )
    assert result.exit_code == 0, result.output
    maildir = make_maildir(tmp_path / "bounces")

    result = runner.invoke("process-bounces", "--maildir", str(maildir))
    assert result.exit_code == 0, result.output
    assert "read 9, bounces 6, hard 4, soft 2" in result.output
    assert "auto-replies 2" in result.output and "delay warnings 1" in result.output
    assert "taken off the list 4, quarantined 0" in result.output
    engine = create_engine(runner.database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT s.email, sub.status FROM subscribers s JOIN subscriptions sub "
                "ON sub.subscriber_id = s.id"
            )
        ).all()
        logged = conn.execute(
            text("SELECT count(*) FROM consent_events WHERE action = 'bounced'")
        ).scalar()
    engine.dispose()
    assert dict(rows) == {
        "inge.thomsen@example.net": "bounced",
        "soeren.luethje@example.org": "confirmed",
        "ahmad.alhassan@example.com": "confirmed",
        "k.petersen@stadtwerke.example.com": "bounced",
        "hans.jensen@amt.example.com": "bounced",
        "gunther.krueger@example.net": "bounced",
    }
    assert logged == 4
    # Handled mails are moved to cur/ as read; a second run finds nothing new.
    assert list((maildir / "new").iterdir()) == []
    assert all(p.name.endswith(":2,S") for p in (maildir / "cur").iterdir())
    result = runner.invoke("process-bounces", "--maildir", str(maildir))
    assert "read 0" in result.output


def test_poison_messages_are_quarantined_and_the_rest_is_processed(runner, tmp_path):
    listing = tmp_path / "liste.csv"
    listing.write_text("email\n" + "\n".join(ADDRESSES) + "\n", encoding="utf-8")
    runner.invoke(
        "import-subscribers",
        str(listing),
        "--publication",
        "ticker",
        "--consent-note",
        "Liste 2026",
    )
    maildir = make_maildir(tmp_path / "bounces", POISON)

    result = runner.invoke("process-bounces", "--maildir", str(maildir))
    assert result.exit_code == 0, result.output
    assert "read 14, bounces 6, hard 4" in result.output
    assert "taken off the list 4, quarantined 5" in result.output
    for name, reason in [
        ("90.empty.host", "empty message"),
        ("91.binary.host", "binary data"),
        ("92.header-bytes.host", "invalid code points in the header"),
        ("93.nested.host", "MIME parts nested deeper than 20 levels"),
        ("94.truncated.host", "truncated or broken MIME structure"),
    ]:
        assert f"quarantined {name}: {reason}" in result.output
    quarantine = maildir / ".Quarantine"
    assert sorted(p.name for p in (quarantine / "new").iterdir()) == sorted(POISON)
    assert (quarantine / "maildirfolder").exists()
    assert list((maildir / "new").iterdir()) == []
    assert len(list((maildir / "cur").iterdir())) == 9


def test_process_bounces_needs_a_source(runner, tmp_path):
    assert runner.invoke("process-bounces").exit_code == 2
    result = runner.invoke("process-bounces", "--maildir", str(tmp_path))
    assert result.exit_code == 1
    assert "not a Maildir" in result.output


def context(app, **kwargs) -> mailboxes.RunContext:
    settings = app.config["NEWSTICKER_SETTINGS"]
    return mailboxes.RunContext(
        settings=settings, keyring=keyring(app), salts=site_salts(app), **kwargs
    )


def handle(app, db, *messages: bytes, **settings_values):
    run = services.start_run(db, source="test", trigger="test", now=utcnow())
    returns = services.ReturnSettings(**settings_values)
    outcomes = [
        services.handle_message(
            db,
            run,
            raw,
            name=f"m{index}",
            keyring=keyring(app),
            salts=site_salts(app),
            settings=returns,
            now=utcnow(),
        )
        for index, raw in enumerate(messages)
    ]
    return run, outcomes


def bounce_to_verp(token: str, recipient: str = "jemand@example.org") -> bytes:
    """Return the qmail sample, returned to a VERP address with this token."""
    sample = (SAMPLES / "verp_qmail_5_1_1.eml").read_bytes()
    return sample.replace(b"d8f3a1c09b7e4e21", token.encode()).replace(
        b"gunther.krueger@example.net", recipient.encode()
    )


def test_verp_token_identifies_the_subscriber(app, db):
    subscriber = make_subscriber(db, "verp@example.org")
    ring = keyring(app)
    token = services.verp_token(ring, subscriber.id)
    assert token == token.lower() and len(f"bounces+{token}") <= 64
    assert services.verp_subscriber_id(ring, token) == subscriber.id
    assert (
        services.verp_subscriber_id(ring, token[:-1] + ("0" if token[-1] != "0" else "1")) is None
    )
    assert services.verp_subscriber_id(ring, "nonsense") is None
    run, _ = handle(
        app, db, bounce_to_verp(token, "somebody.else@example.org"), return_path=RETURN_PATH
    )
    assert (run.counts["read"], run.counts["hard"], run.counts["removed"]) == (1, 1, 1)
    db.expire_all()
    assert {s.status for s in db.scalars(select(Subscription))} == {"bounced"}
    event = db.scalars(select(BounceEvent)).one()
    assert (event.kind, event.reason_code, event.run_id, event.removed) == (
        "hard",
        "user_unknown",
        run.id,
        True,
    )


def test_unknown_and_forged_bounces_change_nothing(app, db):
    make_subscriber(db, "bleibt@example.org")
    run, outcomes = handle(
        app,
        db,
        bounce_to_verp("999-0123456789abcdef", recipient="niemand@example.org"),
        b"\x00garbage",
        return_path=RETURN_PATH,
    )
    assert (run.counts["read"], run.counts["unknown"], run.counts["quarantined"]) == (2, 1, 1)
    assert [o.disposition for o in outcomes] == [
        services.Disposition.DONE,
        services.Disposition.QUARANTINE,
    ]
    assert db.scalars(select(Subscription.status)).all() == ["confirmed"]


def test_a_message_read_twice_counts_once(app, db):
    subscriber = make_subscriber(db, "weich@example.org")
    full = (
        (SAMPLES / "postfix_mailbox_full_4_2_2.eml")
        .read_bytes()
        .replace(b"soeren.luethje@example.org", b"weich@example.org")
    )
    run, outcomes = handle(app, db, full, full)
    assert [o.kind for o in outcomes] == ["bounce", "already_counted"]
    assert run.counts["soft"] == 1
    assert (
        len(db.scalars(select(BounceEvent).where(BounceEvent.subscriber_id == subscriber.id)).all())
        == 1
    )
    assert db.scalars(select(ReturnedMessage.kind)).all() == ["bounce"]


def test_a_failure_while_acting_on_one_message_rolls_back_that_message_alone(app, db, monkeypatch):
    make_subscriber(db, "inge.thomsen@example.net")
    make_subscriber(db, "soeren.luethje@example.org")
    from subscribers.services import returns

    calls = []
    real = returns.record_bounce

    def failing_once(*args, **kwargs):
        calls.append(kwargs.get("kind"))
        if len(calls) == 1:
            real(*args, **kwargs)  # writes, then fails: the savepoint must undo it
            raise RuntimeError("database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(returns, "record_bounce", failing_once)
    run, outcomes = handle(
        app,
        db,
        (SAMPLES / "postfix_hard_5_1_1.eml").read_bytes(),
        (SAMPLES / "postfix_mailbox_full_4_2_2.eml").read_bytes(),
    )
    assert [o.disposition for o in outcomes] == [
        services.Disposition.QUARANTINE,
        services.Disposition.DONE,
    ]
    assert "RuntimeError" in run.quarantined[0]["reason"]
    db.expire_all()
    assert db.scalars(select(BounceEvent.kind)).all() == ["soft"]
    assert sorted(db.scalars(select(Subscription.status))) == ["confirmed", "confirmed"]


POLICY = services.BouncePolicy(hard_threshold=1, soft_threshold=5, soft_window_days=30)


def test_hard_bounce_from_delivery_marks_at_once(db):
    subscriber = make_subscriber(db, "hart@example.org", publications=("ticker", "newsletter"))
    outcome = services.record_hard_bounce(
        db, subscriber.id, "550 5.1.1 User unknown", status="5.1.1", now=utcnow(), policy=POLICY
    )
    assert outcome == services.BounceOutcome(subscriber.id, "hard", True)
    db.expire_all()
    assert {s.status for s in db.scalars(select(Subscription))} == {"bounced"}
    events = db.scalars(select(ConsentEvent).where(ConsentEvent.action == "bounced")).all()
    assert sorted(e.publication for e in events) == ["newsletter", "ticker"]
    assert list(services.recipient_rows(db, ["ticker", "newsletter"])) == []


def test_soft_bounces_count_within_the_window(db):
    subscriber = make_subscriber(db, "weich@example.org")
    now = utcnow()
    old = services.record_soft_bounce(
        db, "WEICH@example.org", "452 4.2.2 full", now=now - timedelta(days=40), policy=POLICY
    )
    assert old is not None and not old.marked_bounced
    for day in range(3):
        outcome = services.record_soft_bounce(
            db, subscriber.id, "452 4.2.2 full", now=now - timedelta(days=day), policy=POLICY
        )
        assert outcome is not None and not outcome.marked_bounced
    outcome = services.record_soft_bounce(db, subscriber.id, "421 later", now=now, policy=POLICY)
    assert outcome is not None and not outcome.marked_bounced  # 4 in the window, 1 too old
    outcome = services.record_soft_bounce(db, subscriber.id, "421 later", now=now, policy=POLICY)
    assert outcome is not None and outcome.marked_bounced
    assert db.scalars(select(Subscription.status)).one() == "bounced"


def test_a_single_soft_bounce_never_removes_anybody(db):
    subscriber = make_subscriber(db, "einmal@example.org")
    strictest = services.BouncePolicy(hard_threshold=1, soft_threshold=2, soft_window_days=365)
    outcome = services.record_soft_bounce(
        db, subscriber.id, "552 full", now=utcnow(), policy=strictest
    )
    assert outcome is not None and not outcome.marked_bounced


def test_bounce_for_an_unknown_address(db):
    assert services.record_hard_bounce(db, "niemand@example.org", "x", now=utcnow()) is None
    assert services.record_hard_bounce(db, "kein address", "x", now=utcnow()) is None
    assert services.record_hard_bounce(db, 424242, "x", now=utcnow()) is None
    with pytest.raises(ValueError, match="hard"):
        services.record_bounce(db, 1, kind="medium", reason="", now=utcnow())
    with pytest.raises(ValueError, match="hard"):
        services.record_bounce(db, 1, kind="complaint", reason="", now=utcnow())


def test_confirming_again_forgets_old_bounces(app, db):
    subscriber = make_subscriber(db, "zurueck@example.org")
    services.record_hard_bounce(db, subscriber.id, "550", now=utcnow(), policy=POLICY)
    with app.test_request_context():
        services.update_preferences(
            db, subscriber, name="", language="de", publications=["ticker"],
            known_publications=["ticker", "newsletter"], ip=None, now=utcnow(),
            salts=site_salts(),
        )  # fmt: skip
    assert db.scalars(select(Subscription.status)).one() == "confirmed"
    assert db.scalars(select(BounceEvent)).all() == []


def complaint_for(address: str) -> bytes:
    return f"""\
From: fbl@provider.example
To: bounces@newsticker.example.org
Subject: Abuse report
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F"

--F
Content-Type: text/plain

A user marked a mail as spam.

--F
Content-Type: message/feedback-report

Feedback-Type: abuse
Version: 1
Original-Rcpt-To: {address}

--F--
""".encode()


def test_a_complaint_unsubscribes_from_every_list_and_suppresses(app, db):
    subscriber = make_subscriber(
        db, "beschwerde@example.org", publications=("ticker", "newsletter")
    )
    run, outcomes = handle(app, db, complaint_for("Beschwerde@example.org"))
    assert outcomes[0].kind == "complaint"
    assert (run.counts["complaint"], run.counts["removed"]) == (1, 1)
    db.expire_all()
    assert {s.status for s in subscriber.subscriptions} == {"unsubscribed"}
    logged = db.scalars(select(ConsentEvent).where(ConsentEvent.action == "complained")).all()
    assert sorted((e.publication, e.channel) for e in logged) == [
        ("newsletter", "complaint"),
        ("ticker", "complaint"),
    ]
    digest = suppression_hash("beschwerde@example.org", site_salts(app)[0])
    assert db.scalars(select(Suppression.digest)).all() == [digest]
    assert services.is_suppressed(db, "beschwerde@example.org", site_salts(app))
    event = db.scalars(select(BounceEvent)).one()
    assert (event.kind, event.removed) == ("complaint", True)


def unsubscribe_mail(
    sender: str, subject: str, to: str = "abmelden@newsticker.example.org", extra: str = ""
) -> bytes:
    return (
        f"From: {sender}\nTo: {to}\nSubject: {subject}\n{extra}"
        "Content-Type: text/plain\n\nThis mail was sent by a mail program.\n"
    ).encode()


def test_an_unsubscribe_mail_ends_the_list_it_names(app, db):
    subscriber = make_subscriber(db, "anna@example.org", publications=("ticker", "newsletter"))
    _run, outcomes = handle(
        app,
        db,
        unsubscribe_mail("Anna <anna@example.org>", "unsubscribe ticker"),
        unsubscribe_address="abmelden@newsticker.example.org",
        publications=("ticker", "newsletter"),
    )
    assert outcomes[0].kind == "unsubscribe"
    db.expire_all()
    assert {s.publication: s.status for s in subscriber.subscriptions} == {
        "newsletter": "confirmed",
        "ticker": "unsubscribed",
    }
    event = db.scalars(select(ConsentEvent).where(ConsentEvent.action == "withdrawn")).one()
    assert (event.publication, event.channel) == ("ticker", "mailto")


def test_an_unsubscribe_mail_naming_no_list_ends_all(app, db):
    subscriber = make_subscriber(db, "bernd@example.org", publications=("ticker", "newsletter"))
    handle(
        app,
        db,
        unsubscribe_mail("bernd@example.org", "Abmelden"),
        unsubscribe_address="abmelden@newsticker.example.org",
        publications=("ticker", "newsletter"),
    )
    db.expire_all()
    assert {s.status for s in subscriber.subscriptions} == {"unsubscribed"}


def test_other_mail_and_forged_unsubscribe_mail_are_left_alone(app, db):
    subscriber = make_subscriber(db, "carla@example.org")
    forged = unsubscribe_mail(
        "carla@example.org",
        "unsubscribe",
        extra="Authentication-Results: mx.newsticker.example.org; dmarc=fail\n",
    )
    question = unsubscribe_mail(
        "carla@example.org", "Frage zum Newsticker", to="bounces@newsticker.example.org"
    )
    _run, outcomes = handle(
        app, db, forged, question, unsubscribe_address="abmelden@newsticker.example.org"
    )
    assert [o.disposition for o in outcomes] == [services.Disposition.LEFT] * 2
    assert [o.kind for o in outcomes] == ["unverified", "other"]
    db.expire_all()
    assert {s.status for s in subscriber.subscriptions} == {"confirmed"}


def test_an_admin_puts_a_wrongly_removed_address_back(app, db):
    subscriber = make_subscriber(db, "zurueck@example.org", publications=("ticker", "newsletter"))
    services.record_hard_bounce(db, subscriber.id, "550 5.1.1", status="5.1.1", now=utcnow())
    subscriber.subscriptions[1].status = "unsubscribed"  # her own withdrawal stays
    db.flush()
    actor = Actor(label="admin@example.org", user_id=1, ip="192.0.2.1")
    back = services.reinstate_subscriber(
        db, subscriber, actor=actor, note="Postfach gibt es doch", now=utcnow()
    )
    assert back == ["newsletter"] or back == ["ticker"]
    db.expire_all()
    statuses = {s.publication: s.status for s in subscriber.subscriptions}
    assert sorted(statuses.values()) == ["confirmed", "unsubscribed"]
    assert db.scalars(select(BounceEvent.cleared_at)).one() is not None
    audit = db.scalars(select(AuditEvent).where(AuditEvent.action == "subscriber.reinstated")).one()
    assert (audit.actor, audit.subject_id) == ("admin@example.org", str(subscriber.id))
    logged = db.scalars(select(ConsentEvent).where(ConsentEvent.action == "reinstated")).one()
    assert (logged.actor, logged.note) == ("admin@example.org", "Postfach gibt es doch")
    # The cleared bounce no longer counts: one more soft bounce does not remove her.
    outcome = services.record_soft_bounce(
        db, subscriber.id, "452 full", now=utcnow(), policy=services.BouncePolicy(soft_threshold=2)
    )
    assert outcome is not None and not outcome.marked_bounced
    with pytest.raises(services.SubscriberError):
        services.reinstate_subscriber(db, subscriber, actor=actor, note="", now=utcnow())


class TestJob:
    @pytest.fixture
    def settings_overrides(self, tmp_path):
        return {"schedule.bounce_maildir": str(make_maildir(tmp_path / "box", POISON))}

    def test_scheduler_job_reads_the_configured_maildir_and_never_stops(self, app, db):
        make_subscriber(db, "inge.thomsen@example.net")
        db.commit()
        runs = in_unit_of_work(app, jobs.process_bounces)()
        counts = runs[0].counts
        assert (counts["read"], counts["hard"], counts["removed"], counts["quarantined"]) == (
            14,
            1,
            1,
            5,
        )
        assert runs[0].trigger == "scheduler"
        assert in_unit_of_work(app, jobs.process_bounces)()[0].counts.get("read", 0) == 0
        assert len(db.scalars(select(BounceRun)).all()) == 2


def test_a_crash_after_the_commit_does_not_count_twice(app, db, tmp_path):
    make_subscriber(db, "inge.thomsen@example.net")
    maildir = make_maildir(tmp_path / "box")
    run = mailboxes.process_maildir(db, maildir, context(app))
    # No commit happened, so no message moved: the next reading sees them all again...
    assert len(list((maildir / "new").iterdir())) == 9
    db.info.pop("after_commit", None)
    again = mailboxes.process_maildir(db, maildir, context(app))
    # ... and, its digests being known, counts none of them twice.
    assert run.counts["hard"] == 1
    assert again.counts["already_counted"] == 9 and "hard" not in again.counts
    assert len(db.scalars(select(BounceEvent)).all()) == 1


def test_editors_cannot_add_back_an_address_that_complained(app, db):
    subscriber = make_subscriber(db, "beschwerde@example.org")
    handle(app, db, complaint_for("beschwerde@example.org"))
    db.expire_all()
    for publication in ("ticker", "newsletter"):
        with pytest.raises(services.SubscriberError, match="(?i)spam"):
            services.add_subscriber(
                db,
                email=subscriber.email,
                name="",
                language="de",
                publications=[publication],
                note="Telefonisch angemeldet",
                actor="editor@example.org",
                salts=site_salts(app),
                now=utcnow(),
            )


def test_list_unsubscribe_mailto_is_the_unsubscribe_address_when_set():
    from newsticker.config import Settings
    from newsticker.delivery.sender import audience_mailto

    default = Settings()
    assert audience_mailto(default) == "integration@flensburg.example"
    chosen = Settings.model_validate(
        {"bounces": {"unsubscribe_address": "abmelden@newsticker.example.org"}}
    )
    assert audience_mailto(chosen) == "abmelden@newsticker.example.org"
