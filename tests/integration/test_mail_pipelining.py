"""Bulk sending with and without SMTP PIPELINING (RFC 2920), against real loopback relays.

Where the relay offers it, MAIL, RCPT and DATA go out in one write; every refusal must
still be classified, and the connection left usable, exactly as when they go one by one.
"""

import socketserver
import threading

import pytest

from newsticker.config import SmtpSettings
from newsticker.core.mail import PermanentMailError, SmtpTransport, TemporaryMailError
from tests.factories import Behaviour, Relay

FROM = "bounces@flensburg.example"
DATA = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: Hallo\r\n\r\nText\r\n"


@pytest.fixture(params=[True, False], ids=["pipelining", "one-by-one"])
def relay(request):
    with Relay(pipelining=request.param) as relay:
        yield relay


@pytest.fixture
def conn(relay):
    conn = SmtpTransport(SmtpSettings(host="127.0.0.1", port=relay.port, timeout=5)).open()
    yield conn
    conn.close()


def test_a_message_takes_two_writes_with_pipelining_and_four_without(relay, conn):
    conn.client.ehlo()
    writes = []
    send = conn.client.send
    conn.client.send = lambda data: (writes.append(data), send(data))[1]
    assert conn.send_raw(FROM, "b@example.org", DATA).startswith("250 2.0.0")
    assert len(writes) == (2 if relay.pipelining else 4)
    assert relay.recipients() == ["b@example.org"]
    (received,) = relay.received
    assert received.mail_from == FROM and received.data.replace(b"\r\n", b"\n").endswith(b"Text\n")


@pytest.mark.parametrize(
    ("reply", "error"),
    [("550 5.1.1 no such user", PermanentMailError), ("451 4.2.0 later", TemporaryMailError)],
)
def test_a_refused_recipient_is_classified_and_the_connection_goes_on(relay, conn, reply, error):
    relay.behaviour.refuse_rcpt = {"weg@example.org": reply}
    with pytest.raises(error, match=reply):
        conn.send_raw(FROM, "weg@example.org", DATA)
    assert conn.is_open
    assert conn.send_raw(FROM, "da@example.org", DATA).startswith("250")
    assert relay.recipients() == ["da@example.org"]


@pytest.mark.parametrize(
    ("reply", "error"),
    [("554 5.7.1 spam", PermanentMailError), ("452 4.3.1 full", TemporaryMailError)],
)
def test_a_refused_message_is_classified_and_the_connection_goes_on(relay, conn, reply, error):
    relay.behaviour = Behaviour(data_replies={1: reply})
    with pytest.raises(error, match=reply):
        conn.send_raw(FROM, "eins@example.org", DATA)
    assert conn.is_open
    assert conn.send_raw(FROM, "zwei@example.org", DATA).startswith("250")
    assert relay.recipients() == ["zwei@example.org"]


def test_421_closes_the_connection(relay, conn):
    relay.behaviour = Behaviour(data_replies={1: "421 4.7.0 closing"})
    with pytest.raises(TemporaryMailError):  # this relay hangs up as it answers
        conn.send_raw(FROM, "eins@example.org", DATA)
    assert not conn.is_open
    assert relay.recipients() == []


def test_a_line_break_in_an_address_is_refused_before_anything_is_sent(relay, conn):
    with pytest.raises(PermanentMailError):
        conn.send_raw(FROM, "a@example.org>\r\nRCPT TO:<extra@example.org", DATA)
    assert conn.send_raw(FROM, "da@example.org", DATA).startswith("250")
    assert relay.recipients() == ["da@example.org"]


def test_a_non_ascii_address_without_smtputf8_asked_is_refused_before_mail(relay, conn):
    with pytest.raises(PermanentMailError, match="cannot send"):
        conn.send_raw("rücklauf@flensburg.example", "da@example.org", DATA)
    assert conn.send_raw(FROM, "da@example.org", DATA).startswith("250")
    assert relay.recipients() == ["da@example.org"]


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "one-by-one"])
def test_a_non_ascii_address_needs_smtputf8(pipelining):
    with Relay(pipelining=pipelining, smtputf8=False) as relay:
        settings = SmtpSettings(host="127.0.0.1", port=relay.port, timeout=5)
        with SmtpTransport(settings).connection() as conn:
            with pytest.raises(PermanentMailError, match="SMTPUTF8"):
                conn.send_raw(FROM, "jürgen@beispiel.de", DATA, smtputf8=True)
            assert conn.send_raw(FROM, "da@example.org", DATA).startswith("250")
    assert relay.recipients() == ["da@example.org"]
    with Relay(pipelining=pipelining) as relay:
        settings = SmtpSettings(host="127.0.0.1", port=relay.port, timeout=5)
        with SmtpTransport(settings).connection() as conn:
            assert conn.send_raw(FROM, "jürgen@beispiel.de", DATA, smtputf8=True)[:3] == "250"
    assert relay.recipients() == ["jürgen@beispiel.de"]


class _LaxRelay(socketserver.StreamRequestHandler):
    """Refuses every recipient but still says 354 to DATA, which RFC 2920 lets happen."""

    def handle(self) -> None:
        def say(line: str) -> None:
            self.wfile.write(line.encode() + b"\r\n")

        say("220 lax")
        while line := self.rfile.readline():
            self.server.commands.append(line.decode().strip())
            verb = line[:4].upper()
            if verb == b"EHLO":
                say("250-lax")
                say("250 PIPELINING")
            elif verb == b"RCPT":
                say("550 5.1.1 no such user")
            elif verb == b"DATA":
                say("354 go ahead")
                content = []
                while (part := self.rfile.readline()) not in (b".\r\n", b""):
                    content.append(part)
                self.server.contents.append(content)
                say("250 queued")
            elif verb == b"QUIT":
                say("221 bye")
                return
            else:  # MAIL, RSET
                say("250 ok")


def test_data_taken_after_a_refused_recipient_ends_an_empty_message():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _LaxRelay)
    server.daemon_threads = True
    server.commands, server.contents = [], []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        conn = SmtpTransport(SmtpSettings(host="127.0.0.1", port=port, timeout=5)).open()
        with pytest.raises(PermanentMailError, match="550 5.1.1"):
            conn.send_raw(FROM, "weg@example.org", DATA)
        assert conn.is_open
        conn.close()
    finally:
        server.shutdown()
        server.server_close()
    assert server.contents == [[]]  # the message itself never went out
    verbs = [command.split(" ")[0].split(":")[0] for command in server.commands]
    assert verbs == ["ehlo", "MAIL", "RCPT", "DATA", "rset", "quit"]
