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

        For bulk sending: no message object is built or flattened. A 4xx or 5xx reply
        raises as in send(); a lost connection is closed, so is_open tells to reopen.
        """
        client = self.client
        try:
            client.ehlo_or_helo_if_needed()
            options = ["SMTPUTF8"] if smtputf8 else []
            if client.does_esmtp and client.has_extn("size"):
                options.append(f"SIZE={len(data)}")
            code, reply = client.mail(envelope_from, options)
            if code != 250:
                self._refused(code, reply)
            code, reply = client.rcpt(to)
            if code not in (250, 251):
                self._refused(code, reply)
            code, reply = _data(client, data)
            if code != 250:
                self._refused(code, reply)
        except smtplib.SMTPResponseException as exc:
            self._refused(exc.smtp_code, exc.smtp_error)
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPNotSupportedError, OSError) as exc:
            self.client.close()
            if isinstance(exc, smtplib.SMTPNotSupportedError):
                raise PermanentMailError(f"relay cannot send this: {exc}") from exc
            raise TemporaryMailError(f"connection lost: {exc}") from exc
        self.sent += 1
        return f"{code} {reply.decode('utf-8', 'replace')}"

    def _refused(self, code: int, reply: bytes | str) -> NoReturn:
        if code == 421 or code < 0:
            self.client.close()  # the relay closes the channel
        else:
            try:
                self.client.rset()
            except (smtplib.SMTPException, OSError):
                self.client.close()
        raise _classify(code, reply)

    def close(self) -> None:
        """Say QUIT, ignoring a relay that is already gone."""
        try:
            self.client.quit()
        except (smtplib.SMTPException, OSError):
            self.client.close()


def _data(client: smtplib.SMTP, data: bytes) -> tuple[int, bytes]:
    """Do smtplib's DATA for finished bytes, scanning for dot-stuffing only when needed.

    smtplib runs a regular expression over every message to double a leading dot; for
    newsletter-sized messages that is a tenth of the sender's CPU, while a plain search
    for a line that starts with a dot is many times faster and almost always finds none.
    """
    client.putcmd("data")
    code, reply = client.getreply()
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
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
