"""Mail: SMTP transport against a real loopback server, the queue, the outbox pages."""

import smtplib
import threading

import pytest
from sqlalchemy import select

from newsticker.config import SmtpSettings
from newsticker.core.catcher import read_caught
from newsticker.core.mail import (
    MailError,
    PermanentMailError,
    SmtpTransport,
    TemporaryMailError,
    build_message,
)
from newsticker.core.mailqueue import QueuedMail, queue_mail, send_queued_mail
from newsticker.core.mailrender import render_mail
from tests.conftest import free_port
from tests.factories import DEFAULT_PASSWORD, make_user

SENDER = "Newsticker <newsticker@example.org>"


def message(**kw):
    values = {
        "sender": SENDER,
        "to": "a@example.org",
        "subject": "Hallo",
        "text": "Text",
        "html": "<p>HTML</p>",
    }
    values.update(kw)
    return build_message(**values)


def test_message_is_multipart_alternative_text_first():
    msg = message(reply_to="r@example.org", headers={"List-Id": "<ticker.example.org>"})
    assert msg.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    for header in ("Date", "Message-ID", "From", "To", "Reply-To", "List-Id"):
        assert msg[header]


@pytest.mark.parametrize("field", ["subject", "to", "sender"])
def test_header_injection_is_refused(field):
    with pytest.raises(MailError):
        message(**{field: "x\r\nBcc: victim@example.org"})


def test_transport_sends_through_the_catcher(catcher):
    transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=catcher.port))
    with transport.connection() as conn:
        conn.send(message(to="one@example.org"))
        conn.send(message(to="two@example.org", subject="Grüße aus Flensburg"))
    mails = read_caught(catcher.maildir)
    assert {m.to for m in mails} == {"one@example.org", "two@example.org"}
    assert "Grüße aus Flensburg" in {m.subject for m in mails}
    assert mails[0].body("html") == "<p>HTML</p>\n"


@pytest.mark.parametrize(
    "body",
    [
        b".starts with a dot\r\n..two dots\r\nmiddle\r\n.\r\nend",
        b"no dot at a line start.\r\n a. b.\r\n",
    ],
)
def test_send_raw_stuffs_leading_dots_and_the_relay_gets_the_body_unchanged(catcher, body):
    transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=catcher.port))
    data = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: dots\r\n\r\n" + body
    conn = transport.open()
    try:
        assert conn.send_raw("a@example.org", "b@example.org", data).startswith("250")
    finally:
        conn.close()
    (mail,) = read_caught(catcher.maildir)
    received = mail.message.get_payload().replace("\r\n", "\n").rstrip("\n")
    assert received == body.decode().replace("\r\n", "\n").rstrip("\n")


def test_refused_connection_is_temporary():
    transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=free_port(), timeout=2))
    with pytest.raises(TemporaryMailError):
        transport.send(message())


class ScriptedRelay:
    """A tiny SMTP server that answers RCPT with a fixed code."""

    def __init__(self, rcpt_reply: str):
        from aiosmtpd.controller import Controller

        reply = rcpt_reply

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, options):
                return reply

            async def handle_DATA(self, server, session, envelope):
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())

    def __enter__(self):
        self.controller.start()
        return SmtpTransport(SmtpSettings(host="127.0.0.1", port=self.controller.port))

    def __exit__(self, *exc):
        self.controller.stop()


def test_5xx_is_permanent_and_4xx_temporary():
    with ScriptedRelay("550 5.1.1 No such user") as transport, pytest.raises(PermanentMailError):
        transport.send(message())
    with ScriptedRelay("451 4.3.0 Try later") as transport, pytest.raises(TemporaryMailError):
        transport.send(message())


def test_queued_mail_is_sent_after_commit_only(app, db, catcher):
    queue_mail(db, purpose="test", to="a@example.org", sender=SENDER, subject="S", text="T")
    db.rollback()
    run = send_queued_mail(
        app.extensions["newsticker_db"].factory,
        SmtpTransport(app.config["NEWSTICKER_SETTINGS"].smtp),
    )
    assert run.sent == 0
    assert read_caught(catcher.maildir) == []


def test_queue_retries_when_the_relay_is_down_then_delivers(app, db, catcher):
    settings = app.config["NEWSTICKER_SETTINGS"]
    mail = queue_mail(db, purpose="test", to="a@example.org", sender=SENDER, subject="S", text="T")
    db.commit()
    factory = app.extensions["newsticker_db"].factory
    down = SmtpTransport(SmtpSettings(host="127.0.0.1", port=free_port(), timeout=2))
    run = send_queued_mail(factory, down, ids=[mail.id])
    assert (run.sent, run.retried) == (0, 1)
    db.expire_all()
    stored = db.get(QueuedMail, mail.id)
    assert stored.status == "pending"
    assert stored.attempts == 1
    assert "cannot connect" in stored.last_error
    run = send_queued_mail(factory, SmtpTransport(settings.smtp), ids=[mail.id])
    assert run.sent == 1
    db.expire_all()
    assert db.get(QueuedMail, mail.id).status == "sent"
    # Sending again sends nothing twice.
    assert send_queued_mail(factory, SmtpTransport(settings.smtp), ids=[mail.id]).sent == 0
    assert len(read_caught(catcher.maildir)) == 1


def test_sending_twice_sends_each_mail_once(app, db, catcher):
    settings = app.config["NEWSTICKER_SETTINGS"]
    ids = [
        queue_mail(
            db, purpose="test", to=f"r{n}@example.org", sender=SENDER, subject="S", text="T"
        ).id
        for n in range(20)
    ]
    db.commit()
    factory = app.extensions["newsticker_db"].factory
    results = [send_queued_mail(factory, SmtpTransport(settings.smtp), ids=ids) for _ in range(2)]
    assert sum(r.sent for r in results) == 20
    assert len(read_caught(catcher.maildir)) == 20


def test_render_mail_has_subject_html_and_text(app):
    app.jinja_loader.searchpath.append(
        str(pytest.importorskip("pathlib").Path(__file__).parent / "templates")
    )
    with app.test_request_context():
        mail = render_mail("test_hello", "de", name="Ada")
    assert mail.subject == "Hallo Ada"
    assert 'style="' in mail.html  # CSS inlined by premailer
    assert "Hallo Ada" in mail.text
    assert "Stadt Flensburg" in mail.text  # imprint footer


@pytest.fixture
def logged_in(client, db, app):
    app.config["WTF_CSRF_ENABLED"] = False
    make_user(db)
    db.commit()
    client.post(
        "/redaktion/login", data={"email": "editor@example.org", "password": DEFAULT_PASSWORD}
    )
    return client


def test_outbox_lists_and_shows_caught_mail(logged_in, catcher):
    transport = SmtpTransport(SmtpSettings(host="127.0.0.1", port=catcher.port))
    transport.send(message(subject="Testmail <script>", html="<p onclick=x>Hi</p>"))
    page = logged_in.get("/redaktion/postausgang").get_data(as_text=True)
    assert "Testmail &lt;script&gt;" in page
    key = read_caught(catcher.maildir)[0].key
    detail = logged_in.get(f"/redaktion/postausgang/{key}").get_data(as_text=True)
    assert "X-Envelope-To" in detail
    assert "<iframe" in detail and "sandbox" in detail
    raw = logged_in.get(f"/redaktion/postausgang/{key}/html")
    assert raw.headers["Content-Security-Policy"].endswith("sandbox")
    assert "script-src" not in raw.headers["Content-Security-Policy"]
    assert logged_in.get("/redaktion/postausgang/nope").status_code == 404


def test_outbox_needs_login(client):
    assert client.get("/redaktion/postausgang").status_code == 302


def test_smtp_starttls_and_auth_paths_raise_clear_errors():
    # A relay that does not speak TLS: STARTTLS fails as a temporary connection error.
    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        transport = SmtpTransport(
            SmtpSettings(host="127.0.0.1", port=controller.port, tls="starttls", timeout=3)
        )
        with pytest.raises(TemporaryMailError):
            transport.send(message())
    finally:
        controller.stop()


def test_catcher_handles_parallel_senders(catcher):
    def send(n):
        with smtplib.SMTP("127.0.0.1", catcher.port) as smtp:
            smtp.send_message(message(to=f"p{n}@example.org"))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(read_caught(catcher.maildir)) == 8


def test_queued_mail_rows_are_visible_for_support(db):
    queue_mail(db, purpose="test", to="a@example.org", sender=SENDER, subject="S", text="T")
    assert db.scalars(select(QueuedMail.purpose)).all() == ["test"]
