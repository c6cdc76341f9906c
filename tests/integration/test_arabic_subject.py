"""An Arabic subject long enough to fold arrives with its spaces, through the real catcher.

The mail library's own folder used to drop the space between two encoded words, so
"أمسية ثقافية" arrived as "أمسيةثقافية". Both ways a subject leaves the system are sent
to the loopback SMTP catcher: an issue to its subscribers (delivery's composer) and a
test mail (the mail queue). The raw bytes the catcher stored are read back and parsed
with the email package, the modern and the legacy API, as mail programs do.
"""

from __future__ import annotations

import email
from email import policy
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from sqlalchemy import select

from newsticker.config import SmtpSettings, get_settings
from newsticker.core.catcher import MailCatcher
from newsticker.core.db import utcnow
from newsticker.core.mail import SmtpTransport
from newsticker.core.mailqueue import QueuedMail, raw_message
from newsticker.core.site import site_keyring, site_links
from newsticker.delivery import services as delivery_services
from newsticker.delivery.messages import IssueMessages
from newsticker.issues import services as issue_services
from tests.conftest import free_port
from tests.factories import make_subscriber, scheduled_issue

SUBJECT = (
    "أمسية ثقافية في المكتبة العامة للمدينة: قراءات شعرية وموسيقى ولقاء مع الكتّاب "
    "المحليين والمترجمين"
)


@pytest.fixture
def outbox_catcher(app):
    """A catcher storing where the editors' outbox reads (the instance's catcher folder)."""
    settings = get_settings()
    maildir = settings.instance_dir / settings.catcher.maildir
    catcher = MailCatcher(maildir, "127.0.0.1", free_port()).start()
    yield catcher
    catcher.stop()


def raw_caught(maildir: Path) -> list[bytes]:
    return [path.read_bytes() for path in sorted((maildir / "new").iterdir())]


def check_subject(raw: bytes) -> None:
    lines = raw.split(b"\n\n", 1)[0].split(b"\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(b"Subject:"))
    folded = [lines[start]]
    for line in lines[start + 1 :]:
        if line[:1] not in (b" ", b"\t"):
            break
        folded.append(line)
    assert len(folded) > 1, "the subject was not long enough to fold"
    assert all(len(line) <= 78 for line in folded)
    modern = email.message_from_bytes(raw, policy=policy.default)
    assert str(modern["Subject"]).removeprefix("[TEST] ") == SUBJECT
    legacy = email.message_from_bytes(raw)
    decoded = str(make_header(decode_header(legacy["Subject"])))
    assert decoded.removeprefix("[TEST] ") == SUBJECT
    assert "أمسية ثقافية في" in decoded


def test_an_issue_with_an_arabic_subject_arrives_with_its_spaces(app, db, outbox_catcher):
    make_subscriber(db, "leserin@example.org", name="ليلى")
    issue = scheduled_issue(db)
    issue.subject = SUBJECT
    db.flush()
    delivery_services.start_issue(
        db, issue.id, now=utcnow(), settings=get_settings(), links=site_links()
    )
    messages = IssueMessages(db, issue, get_settings(), site_keyring(app), site_links())
    (claimed,) = delivery_services.claim_batch(
        db, issue.id, owner="t", limit=5, now=utcnow(), lease_seconds=60
    )
    composed = messages.compose(claimed)
    transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=outbox_catcher.port))
    conn = transport.open()
    try:
        assert conn.send_raw(composed.envelope_from, composed.recipient, composed.data)[:3] == "250"
    finally:
        conn.close()
    (raw,) = raw_caught(outbox_catcher.maildir)
    check_subject(raw)


@pytest.mark.usefixtures("no_csrf")
def test_a_test_mail_with_an_arabic_subject_arrives_with_its_spaces_also_in_the_outbox(
    app, client, editor, db, outbox_catcher
):
    issue = scheduled_issue(db)
    issue.subject = SUBJECT
    db.flush()
    issue_services.send_test(
        db,
        issue,
        ["redaktion@example.org"],
        language="de",
        settings=get_settings(),
        links=site_links(),
        values={"unsubscribe_url": "http://localhost/x", "preferences_url": "http://localhost/y"},
    )
    mail = db.scalars(select(QueuedMail)).one()
    transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=outbox_catcher.port))
    conn = transport.open()
    try:
        conn.send_raw("newsticker@example.org", mail.to_addr, raw_message(mail))
    finally:
        conn.close()
    (raw,) = raw_caught(outbox_catcher.maildir)
    check_subject(raw)
    # The editors' outbox shows it as a mail program does.
    html = client.get("/redaktion/postausgang").get_data(as_text=True)
    assert SUBJECT.split(":")[0] in html
