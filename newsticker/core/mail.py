"""Build e-mail messages and send them through SMTP (plain, STARTTLS or SSL)."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import smtplib
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from email import policy
from email.generator import BytesGenerator
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import NoReturn

from newsticker.config import SmtpSettings
from newsticker.core.db import utcnow
from newsticker.core.headers import (
    HeaderError,
    address_header,
    clean_text,
    fold_header,
    mailbox,
    parse_mailbox,
)

logger = logging.getLogger(__name__)


class MailError(Exception):
    """A message could not be built or sent."""


class TemporaryMailError(MailError):
    """The relay refused for now (4xx, dropped connection, timeout): try again later."""


class PermanentMailError(MailError):
    """The relay refused for good (5xx): do not try this recipient again."""


class RelayLoginRefused(TemporaryMailError):
    """The relay refused our SMTP login: our configuration's fault, never a recipient's.

    Temporary on purpose: every recipient waits (the send pauses on its failure run, a
    transactional mail is retried) until an admin fixes the password, and nobody is
    counted as a bounce.
    """


# Headers are built and folded by core.headers and stored as they are: the library
# never parses (and so never decodes) a value of ours. Where the Python version has it,
# the generator also refuses a header line that does not start a header or continue one.
_POLICY = policy.SMTP.clone(refold_source="none")
if hasattr(policy.SMTP, "verify_generated_headers"):  # Python 3.11.10+, 3.12.5+
    _POLICY = _POLICY.clone(verify_generated_headers=True)
_UTF8_POLICY = _POLICY.clone(utf8=True)  # RFC 6532, for an address that needs SMTPUTF8
# Set by build_message itself, or never to be set from an extra header.
_RESERVED_HEADERS = frozenset(
    name.lower()
    for name in (
        "From",
        "To",
        "Cc",
        "Bcc",
        "Reply-To",
        "Sender",
        "Subject",
        "Date",
        "Message-ID",
        "Return-Path",
        "MIME-Version",
        "Content-Type",
        "Content-Transfer-Encoding",
    )
)


def build_message(
    *,
    sender: str,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    reply_to: str | None = None,
    message_id: str | None = None,
    headers: Mapping[str, str] | None = None,
    date: datetime | None = None,
) -> EmailMessage:
    """Build a multipart/alternative message, text part first, every header built safely.

    `to` is one bare address; `sender` and `reply_to` (from the configuration) may be
    "Name <address>". Addresses are checked and names re-quoted. Extra headers are
    unstructured text (List-Unsubscribe and the like), cleaned and encoded like the
    subject. A value that cannot be used raises MailError. With a `date` (an aware time)
    the same arguments always give the same bytes: the MIME boundary is derived from the
    content instead of drawn at random, so a copy kept when the mail is queued is the
    mail as it is sent.
    """
    try:
        values = [
            ("From", _address_value(sender)),
            ("To", mailbox(to)),
            ("Subject", fold_header("Subject", subject)),
            ("Date", format_datetime(date or utcnow())),
            ("Message-ID", _message_id(message_id, sender)),
        ]
        if reply_to:
            values.append(("Reply-To", _address_value(reply_to)))
        for name, value in (headers or {}).items():
            if name.lower() in _RESERVED_HEADERS:
                raise HeaderError(f"{name} is set by build_message itself")
            values.append((name, fold_header(name, value)))
    except HeaderError as exc:
        raise MailError(f"invalid header value: {exc}") from exc
    needs_utf8 = not all(value.isascii() for _name, value in values)
    msg = EmailMessage(policy=_UTF8_POLICY if needs_utf8 else _POLICY)
    # Setting the body replaces every Content-* header, so Content-Language goes on after.
    for name, value in values:
        if not name.lower().startswith("content-"):
            msg.set_raw(name, value)
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
        if date is not None:
            msg.set_boundary(_boundary(values, text, html))
    for name, value in values:
        if name.lower().startswith("content-"):
            msg.set_raw(name, value)
    return msg


def _boundary(values: list[tuple[str, str]], text: str, html: str) -> str:
    # A digest of the content cannot occur in that content (as a random boundary, it is
    # long enough never to collide); the same message always gets the same one.
    digest = hashlib.sha256()
    for part in (*(f"{name}:{value}" for name, value in values), text, html):
        digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
    return f"=_{digest.hexdigest()[:40]}"


def message_bytes(msg: EmailMessage) -> bytes:
    """Return a message as smtplib's send_message writes it to the relay (CRLF lines)."""
    buffer = io.BytesIO()
    BytesGenerator(buffer, policy=msg.policy).flatten(msg, linesep="\r\n")
    return buffer.getvalue()


def _address_value(value: str) -> str:
    name, address = parse_mailbox(value)
    return address_header(name, address)


def _message_id(message_id: str | None, sender: str) -> str:
    if message_id is None:
        return make_msgid(domain=_domain_of(sender))
    if not re.fullmatch(r"<[!-;=?-~]+@[!-;=?-~]+>", message_id):
        raise HeaderError(f"not a Message-ID: {message_id!r}")
    return message_id


def _domain_of(address: str) -> str:
    _, addr = parseaddr(address)
    return addr.rpartition("@")[2] or "localhost"


def format_address(display_name: str, addr: str) -> str:
    """Return a correctly quoted "Name <addr>" value (for configuration and display)."""
    return str(Address(display_name=clean_text(display_name), addr_spec=addr))


class SmtpConnection:
    """One open SMTP session that sends many messages."""

    def __init__(self, client: smtplib.SMTP) -> None:
        self.client = client
        self.sent = 0

    def send(self, msg: EmailMessage, *, envelope_from: str | None = None) -> None:
        """Send one message; map the relay's answer to a temporary or permanent error."""
        try:
            refused = self.client.send_message(msg, from_addr=envelope_from)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise _classify(code, reply) from exc
        except smtplib.SMTPResponseException as exc:
            raise _classify(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise TemporaryMailError(f"connection lost: {exc}") from exc
        if refused:
            code, reply = next(iter(refused.values()))
            raise _classify(code, reply)
        self.sent += 1

    @property
    def is_open(self) -> bool:
        """Return whether the connection can still be used."""
        return getattr(self.client, "sock", None) is not None

    def send_raw(self, envelope_from: str, to: str, data: bytes, *, smtputf8: bool = False) -> str:
        """Send finished message bytes (CRLF line ends) to one recipient; return the reply.

        For bulk sending: no message object is built or flattened, and where the relay
        offers PIPELINING (RFC 2920) MAIL, RCPT and DATA go out in one write, so a message
        costs two round trips instead of four. A 4xx or 5xx reply raises as in send(); a
        lost connection is closed, so is_open tells to reopen.
        """
        if any(c in envelope_from or c in to for c in "\r\n"):
            # smtplib would send what parseaddr makes of it: refuse instead, on either path.
            raise PermanentMailError("an address contains a line break")
        client = self.client
        try:
            client.ehlo_or_helo_if_needed()
            options = ["SMTPUTF8"] if smtputf8 else []
            if client.does_esmtp and client.has_extn("size"):
                options.append(f"SIZE={len(data)}")
            if client.does_esmtp and client.has_extn("pipelining"):
                self._envelope_pipelined(envelope_from, to, options)
            else:
                self._envelope(envelope_from, to, options)
            code, reply = _content(client, data)
            if code != 250:
                self._refused(code, reply)
        except smtplib.SMTPResponseException as exc:
            self._refused(exc.smtp_code, exc.smtp_error)
        except smtplib.SMTPNotSupportedError as exc:  # found before MAIL: the connection goes on
            raise PermanentMailError(f"relay cannot send this: {exc}") from exc
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self.client.close()
            raise TemporaryMailError(f"connection lost: {exc}") from exc
        self.sent += 1
        return f"{code} {reply.decode('utf-8', 'replace')}"

    def _envelope(self, envelope_from: str, to: str, options: list[str]) -> None:
        """MAIL, RCPT and DATA one after the other, each waiting for its reply."""
        client = self.client
        try:
            code, reply = client.mail(envelope_from, options)
            if code != 250:
                self._refused(code, reply)
            code, reply = client.rcpt(to)
        except ValueError as exc:  # a line break in an address, or non-ASCII without SMTPUTF8
            self._reset()
            raise PermanentMailError(f"relay cannot send this: {exc}") from exc
        if code not in (250, 251):
            self._refused(code, reply)
        client.putcmd("data")
        code, reply = client.getreply()
        if code != 354:
            self._refused(code, reply)

    def _envelope_pipelined(self, envelope_from: str, to: str, options: list[str]) -> None:
        """MAIL, RCPT and DATA in one write, then their three replies (RFC 2920)."""
        client = self.client
        if "SMTPUTF8" in options:
            if not client.has_extn("smtputf8"):
                raise smtplib.SMTPNotSupportedError("SMTPUTF8 not supported by server")
            client.command_encoding = "utf-8"
        extra = "".join(f" {option}" for option in options)
        commands = f"MAIL FROM:<{envelope_from}>{extra}\r\nRCPT TO:<{to}>\r\nDATA\r\n"
        try:
            client.send(commands.encode(client.command_encoding))
        except UnicodeEncodeError as exc:
            raise PermanentMailError(f"relay cannot send this: {exc}") from exc
        replies = []
        for _ in range(3):
            code, reply = client.getreply()
            if code == 421:  # the relay closes the channel: the rest goes unanswered
                self._refused(code, reply)
            replies.append((code, reply))
        wanted = ((250,), (250, 251), (354,))
        failed = [answer for answer, ok in zip(replies, wanted, strict=True) if answer[0] not in ok]
        if not failed:
            return
        if replies[2][0] == 354:
            # DATA was taken although the envelope was not: end the empty message at once.
            client.send(b".\r\n")
            client.getreply()
        self._refused(*failed[0])

    def _refused(self, code: int, reply: bytes | str) -> NoReturn:
        if code == 421 or code < 0:
            self.client.close()  # the relay closes the channel
        else:
            self._reset()
        raise _classify(code, reply)

    def _reset(self) -> None:
        """Abort the transaction begun (RSET), or close a connection that cannot."""
        try:
            self.client.rset()
        except (smtplib.SMTPException, OSError):
            self.client.close()

    def close(self) -> None:
        """Say QUIT, ignoring a relay that is already gone."""
        try:
            self.client.quit()
        except (smtplib.SMTPException, OSError):
            self.client.close()


def _content(client: smtplib.SMTP, data: bytes) -> tuple[int, bytes]:
    """Send the message after DATA's 354, scanning for dot-stuffing only when needed.

    smtplib runs a regular expression over every message to double a leading dot; for
    newsletter-sized messages that is a tenth of the sender's CPU, while a plain search
    for a line that starts with a dot is many times faster and almost always finds none.
    """
    if data.startswith(b".") or b"\n." in data:
        data = _LEADING_DOT.sub(b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    client.send(data + b".\r\n")
    return client.getreply()


_LEADING_DOT = re.compile(rb"(?m)^\.")


def _classify(code: int, reply: bytes | str) -> MailError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    message = f"{code} {text}"
    if 400 <= code < 500:
        return TemporaryMailError(message)
    return PermanentMailError(message)


def _close_quietly(client: smtplib.SMTP | None) -> None:
    if client is not None:
        client.close()


class SmtpTransport:
    """Open SMTP connections to the configured relay."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    def open(self) -> SmtpConnection:
        """Open and authenticate one connection."""
        s = self.settings
        client: smtplib.SMTP | None = None
        try:
            if s.tls == "ssl":
                client = smtplib.SMTP_SSL(
                    s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.tls == "starttls":
                    client.starttls(context=ssl.create_default_context())
            if s.user:
                client.login(s.user, s.password)
        except smtplib.SMTPAuthenticationError as exc:
            _close_quietly(client)
            raise RelayLoginRefused(f"SMTP login refused: {exc.smtp_code}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            _close_quietly(client)
            raise TemporaryMailError(f"cannot connect to {s.host}:{s.port}: {exc}") from exc
        return SmtpConnection(client)

    @contextmanager
    def connection(self) -> Iterator[SmtpConnection]:
        """Yield an open connection and close it afterwards."""
        conn = self.open()
        try:
            yield conn
        finally:
            conn.close()

    def send(self, msg: EmailMessage, *, envelope_from: str | None = None) -> None:
        """Send one message over a connection of its own."""
        with self.connection() as conn:
            conn.send(msg, envelope_from=envelope_from)
