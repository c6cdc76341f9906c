"""The IMAP path against a real server: Dovecot, started by the test as a plain process.

The test writes a Dovecot configuration of its own (loopback, a free port, a passwd-file
user, Maildir storage, no TLS, plain login allowed on loopback), starts `dovecot -F` and
stops it afterwards; the system service is never touched. Without Dovecot the test is
skipped, and in CI (NEWSTICKER_REQUIRE_IMAP) it fails: `bash .ci/test` installs it.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from newsticker.core.db import utcnow
from newsticker.core.unit_of_work import commit
from subscribers import mailboxes
from subscribers.models import BounceEvent, Subscription
from subscribers.site import site_salts
from tests.conftest import free_port, unavailable
from tests.factories import keyring, make_subscriber
from tests.integration.test_subscribers_bounces import POISON, SAMPLES

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "bounces", "a-test-password"
STARTUP_SECONDS = 20.0


@dataclass
class Dovecot:
    port: int

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        conn.login(USER, PASSWORD)
        return conn

    def append(self, folder: str, message: bytes) -> None:
        conn = self.connect()
        try:
            status, data = conn.append(folder, None, None, message)
            assert status == "OK", data
        finally:
            conn.logout()

    def folder(self, name: str) -> list[tuple[set[str], bytes]]:
        """Return the flags and raw text of every message in a folder."""
        conn = self.connect()
        try:
            status, _data = conn.select(f'"{name}"', readonly=True)
            if status != "OK":
                return []
            _status, data = conn.uid("SEARCH", "ALL")
            found = []
            for uid in data[0].split():
                _status, fetched = conn.uid("FETCH", uid, "(FLAGS BODY.PEEK[])")
                meta, body = fetched[0]
                flags = meta.decode().split("FLAGS (", 1)[1].split(")", 1)[0].split()
                found.append((set(flags), body))
            return found
        finally:
            conn.logout()


def _accounts() -> tuple[str, str, str, int, int]:
    """Return who Dovecot's processes and the mail run as (never root)."""
    if os.geteuid() == 0:
        # The package's own accounts: Dovecot refuses to log in or store mail as root.
        mail = pwd.getpwnam("dovecot")
        return "dovecot", grp.getgrgid(mail.pw_gid).gr_name, "dovenull", mail.pw_uid, mail.pw_gid
    me = pwd.getpwuid(os.getuid())
    group = grp.getgrgid(os.getgid()).gr_name
    return me.pw_name, group, me.pw_name, os.getuid(), os.getgid()


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """Start a Dovecot of the test's own on a free loopback port."""
    if not Path(DOVECOT).exists():
        unavailable(
            "Dovecot is not installed (apt-get install dovecot-imapd)",
            required_by="NEWSTICKER_REQUIRE_IMAP",
        )
    internal, group, login, uid, gid = _accounts()
    # Dovecot's unprivileged processes must reach these folders: not under pytest's 0700 tmp.
    base = Path(tempfile.mkdtemp(prefix="newsticker-dovecot-"))
    base.chmod(0o755)
    for sub in ("run", "state", "mail", "home"):
        (base / sub).mkdir()
    for sub in ("mail", "home"):
        os.chown(base / sub, uid, gid)
    (base / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
    port = free_port()
    config = base / "dovecot.conf"
    config.write_text(
        f"""\
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:{base}/mail/%u
first_valid_uid = {uid}
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {login}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {base}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
""",
        encoding="utf-8",
    )
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    server = Dovecot(port)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                server.connect().logout()
                break
            except (OSError, imaplib.IMAP4.error):
                if process.poll() is not None or time.monotonic() > deadline:
                    log_file = base / "dovecot.log"
                    log = log_file.read_text(errors="replace") if log_file.exists() else ""
                    pytest.fail(f"Dovecot did not start:\n{log}")
                time.sleep(0.1)  # polling for the listener, within the deadline
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def settings_overrides(dovecot):
    return {
        "bounces.imap_host": "127.0.0.1",
        "bounces.imap_port": dovecot.port,
        "bounces.imap_tls": "none",
        "bounces.imap_user": USER,
        "bounces.imap_password": PASSWORD,
        "bounces.quarantine_folder": "Quarantaene",
    }


def person_mail() -> bytes:
    return (
        b"From: Leserin <leserin@example.org>\r\nTo: bounces@newsticker.example.org\r\n"
        b"Subject: Frage zum Newsticker\r\n\r\nWann erscheint die naechste Ausgabe?\r\n"
    )


def test_imap_mailbox_against_dovecot(app, db, dovecot):
    for address in ("inge.thomsen@example.net", "soeren.luethje@example.org"):
        make_subscriber(db, address)
    db.commit()
    dovecot.append("INBOX", (SAMPLES / "postfix_hard_5_1_1.eml").read_bytes())
    dovecot.append("INBOX", (SAMPLES / "postfix_mailbox_full_4_2_2.eml").read_bytes())
    dovecot.append("INBOX", (SAMPLES / "vacation_sieve.eml").read_bytes())
    dovecot.append("INBOX", person_mail())
    # IMAP APPEND refuses an empty message; the other poison kinds arrive as servers store them.
    for name in ("91.binary.host", "92.header-bytes.host", "94.truncated.host"):
        dovecot.append("INBOX", POISON[name])

    settings = app.config["NEWSTICKER_SETTINGS"]
    context = mailboxes.RunContext(
        settings=settings,
        keyring=keyring(app),
        salts=site_salts(app),
        trigger="test",
        commit=lambda: commit(db, None),
        batch=3,
    )
    run = mailboxes.process_imap(db, context)
    commit(db, None)  # the end of the run's unit of work: its last marks follow

    assert (run.counts["read"], run.counts["hard"], run.counts["soft"]) == (7, 1, 1)
    assert (run.counts["auto_reply"], run.counts["other"], run.counts["quarantined"]) == (1, 1, 3)
    db.expire_all()
    statuses = dict(
        db.execute(
            select(BounceEvent.kind, Subscription.status).join(
                Subscription, Subscription.subscriber_id == BounceEvent.subscriber_id
            )
        ).all()
    )
    assert statuses == {"hard": "bounced", "soft": "confirmed"}

    inbox = dovecot.folder("INBOX")
    assert len(inbox) == 4  # the three poison messages moved out
    seen = [flags for flags, _body in inbox if "\\Seen" in flags]
    assert len(seen) == 3
    (left,) = [(flags, body) for flags, body in inbox if "\\Seen" not in flags]
    assert "NewstickerSkipped" in left[0] and b"Frage zum Newsticker" in left[1]
    quarantine = dovecot.folder("Quarantaene")
    assert len(quarantine) == 3
    assert all("\\Seen" not in flags for flags, _body in quarantine)

    # A second run finds nothing new: read mail is read, the person's mail skipped.
    again = mailboxes.process_imap(db, context)
    commit(db, None)
    assert again.counts.get("read", 0) == 0
    assert again.finished_at is not None and again.finished_at <= utcnow()


def test_wrong_password_is_a_clear_error(app, db, dovecot):
    settings = app.config["NEWSTICKER_SETTINGS"].model_copy(
        update={
            "bounces": app.config["NEWSTICKER_SETTINGS"].bounces.model_copy(
                update={"imap_password": "wrong"}
            )
        }
    )
    context = mailboxes.RunContext(settings=settings, keyring=keyring(app), salts=site_salts(app))
    with pytest.raises(mailboxes.MailboxError, match=f"127.0.0.1:{dovecot.port}"):
        mailboxes.process_imap(db, context)


def test_unreachable_server_is_a_clear_error(app, db):
    def refuse(settings):
        raise OSError("connection refused")

    context = mailboxes.RunContext(
        settings=app.config["NEWSTICKER_SETTINGS"], keyring=keyring(app), salts=site_salts(app)
    )
    with pytest.raises(mailboxes.MailboxError, match="connection refused"):
        mailboxes.process_imap(db, context, connect=refuse)
