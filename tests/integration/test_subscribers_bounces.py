"""Bounces: the Maildir command, VERP, IMAP, thresholds, and the calls delivery makes."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from newsticker import jobs
from newsticker.core.db import utcnow
from newsticker.scheduling import in_unit_of_work
from subscribers import mailboxes, services
from subscribers.models import BounceEvent, ConsentEvent, Subscription
from subscribers.site import site_salts
from tests.factories import keyring, make_subscriber

SAMPLES = Path(__file__).resolve().parents[1] / "unit" / "bounce_samples"
ADDRESSES = (
    "inge.thomsen@example.net",  # postfix 5.1.1: hard
    "soeren.luethje@example.org",  # mailbox full: soft
    "ahmad.alhassan@example.com",  # 5.7.1 policy: soft
    "k.petersen@stadtwerke.example.com",  # Exchange Online 5.1.10: hard
    "hans.jensen@amt.example.com",  # legacy Exchange, flufl.bounce: hard
    "gunther.krueger@example.net",  # VERP, qmail: hard
)


def make_maildir(path: Path) -> Path:
    for sub in ("new", "cur", "tmp"):
        (path / sub).mkdir(parents=True)
    for number, sample in enumerate(sorted(SAMPLES.glob("*.eml"))):
        shutil.copy(sample, path / "new" / f"{number}.{sample.stem}.host")
    return path


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
    assert "read 9, hard 4, soft 2, ignored 3, unknown 0, taken off the list 4" in result.output
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
    # Processed mails are moved to cur/ as read; a second run finds nothing new.
    assert list((maildir / "new").iterdir()) == []
    assert all(p.name.endswith(":2,S") for p in (maildir / "cur").iterdir())
    result = runner.invoke("process-bounces", "--maildir", str(maildir))
    assert "read 0" in result.output


def test_process_bounces_needs_a_source(runner, tmp_path):
    assert runner.invoke("process-bounces").exit_code == 2
    result = runner.invoke("process-bounces", "--maildir", str(tmp_path))
    assert result.exit_code == 1
    assert "not a Maildir" in result.output


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
    run = services.process_bounce_messages(
        db,
        [bounce_to_verp(token, recipient="somebody.else@example.org")],
        keyring=ring,
        now=utcnow(),
        return_path="bounces+{token}@newsticker.example.org",
    )
    assert (run.read, run.hard, run.marked) == (1, 1, 1)
    db.expire_all()
    assert {s.status for s in db.scalars(select(Subscription))} == {"bounced"}


def test_unknown_and_forged_bounces_change_nothing(app, db):
    make_subscriber(db, "bleibt@example.org")
    run = services.process_bounce_messages(
        db,
        [bounce_to_verp("999-0123456789abcdef", recipient="niemand@example.org"), b"\x00garbage"],
        keyring=keyring(app),
        now=utcnow(),
        return_path="bounces+{token}@newsticker.example.org",
    )
    assert (run.read, run.unknown, run.ignored, run.marked) == (2, 1, 1, 0)
    assert db.scalars(select(Subscription.status)).all() == ["confirmed"]


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
    assert services.recipient_rows.__doc__
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


def test_bounce_for_an_unknown_address(db):
    assert services.record_hard_bounce(db, "niemand@example.org", "x", now=utcnow()) is None
    assert services.record_hard_bounce(db, "kein address", "x", now=utcnow()) is None
    assert services.record_hard_bounce(db, 424242, "x", now=utcnow()) is None
    with pytest.raises(ValueError, match="hard"):
        services.record_bounce(db, 1, kind="medium", reason="", now=utcnow())


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


class TestJob:
    @pytest.fixture
    def settings_overrides(self, tmp_path):
        return {"schedule.bounce_maildir": str(make_maildir(tmp_path / "box"))}

    def test_scheduler_job_reads_the_configured_maildir(self, app, db):
        make_subscriber(db, "inge.thomsen@example.net")
        db.commit()
        run = in_unit_of_work(app, jobs.process_bounces)()
        assert (run.read, run.hard, run.marked) == (9, 1, 1)
        assert in_unit_of_work(app, jobs.process_bounces)().read == 0


def sources(app):
    """Return what process_imap takes from the app: its settings and key ring."""
    return {"settings": app.config["NEWSTICKER_SETTINGS"], "keyring": keyring(app)}


class FakeImap:
    """Just enough of imaplib.IMAP4 for process_imap."""

    def __init__(self, messages: dict[bytes, bytes]) -> None:
        self.messages = messages
        self.seen: list[bytes] = []
        self.logged_out = False

    def select(self, folder):
        return ("OK", [str(len(self.messages)).encode()])

    def uid(self, command, *args):
        if command == "SEARCH":
            unseen = [u for u in self.messages if u not in self.seen]
            return ("OK", [b" ".join(unseen)])
        if command == "FETCH":
            uid = args[0]
            return ("OK", [(b"1 (UID " + uid + b" BODY[] {n}", self.messages[uid]), b")"])
        if command == "STORE":
            self.seen.append(args[0])
            return ("OK", [b""])
        raise AssertionError(command)

    def logout(self):
        self.logged_out = True


class TestImap:
    @pytest.fixture
    def settings_overrides(self):
        return {"bounces.imap_host": "imap.example.org", "bounces.imap_user": "bounces"}

    def test_unread_bounces_are_counted_and_flagged_read(self, app, db):
        make_subscriber(db, "inge.thomsen@example.net")
        db.commit()
        fake = FakeImap(
            {
                b"7": (SAMPLES / "postfix_hard_5_1_1.eml").read_bytes(),
                b"8": (SAMPLES / "vacation_sieve.eml").read_bytes(),
            }
        )
        with app.test_request_context():
            run = mailboxes.process_imap(db, **sources(app), connect=lambda settings: fake)
        assert (run.read, run.hard, run.ignored, run.marked) == (2, 1, 1, 1)
        assert fake.seen == [b"7", b"8"] and fake.logged_out
        with app.test_request_context():
            assert (
                mailboxes.process_imap(db, **sources(app), connect=lambda settings: fake).read == 0
            )

    def test_unreachable_server_is_a_clear_error(self, app, db):
        def refuse(settings):
            raise OSError("connection refused")

        with (
            app.test_request_context(),
            pytest.raises(mailboxes.MailboxError, match="imap.example.org"),
        ):
            mailboxes.process_imap(db, **sources(app), connect=refuse)
