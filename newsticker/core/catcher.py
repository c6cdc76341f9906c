"""A loopback SMTP server that keeps every message it receives in a Maildir."""

from __future__ import annotations

import logging
import mailbox
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

from aiosmtpd.controller import Controller

logger = logging.getLogger(__name__)


def ehlo_offering_pipelining(session: Any, hostname: str, responses: list[str]) -> list[str]:
    """Do an aiosmtpd handle_EHLO hook's duty and add PIPELINING to the EHLO reply.

    aiosmtpd reads commands from a stream, so it answers pipelined ones in turn; it only
    does not say so.
    """
    session.host_name = hostname  # left to the hook once a handler has one
    responses.insert(-1, "250-PIPELINING")
    return responses


class MaildirHandler:
    """aiosmtpd handler that stores each message, with its envelope, in a Maildir."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        mailbox.Maildir(str(path), create=True)  # makes tmp/, new/ and cur/ when missing
        for sub in ("tmp", "new", "cur"):
            (path / sub).mkdir(exist_ok=True)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        # Offer PIPELINING as Postfix does, so development sends take the relay's path.
        return ehlo_offering_pipelining(session, hostname, responses)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # Record the envelope the way Postfix does, so tests can see who it went to.
        head = (
            f"X-Envelope-From: {envelope.mail_from}\n"
            f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\n"
        ).encode()
        # Maildir files use local line ends; SMTP carries CRLF.
        body = envelope.original_content.replace(b"\r\n", b"\n")
        box = mailbox.Maildir(str(self.path), create=True)
        box.add(head + body)
        return "250 Message accepted for delivery"


class MailCatcher:
    """Run the catcher in a background thread on loopback."""

    def __init__(self, maildir: Path, host: str = "127.0.0.1", port: int = 8025) -> None:
        self.maildir = maildir
        self.controller = Controller(
            MaildirHandler(maildir),
            hostname=host,
            port=port,
            decode_data=False,
            data_size_limit=64 * 1024 * 1024,
        )

    @property
    def port(self) -> int:
        """Return the port the catcher listens on."""
        return int(self.controller.port)

    def start(self) -> MailCatcher:
        """Start listening."""
        self.controller.start()
        logger.info(
            "mail catcher on %s:%s, storing in %s",
            self.controller.hostname,
            self.port,
            self.maildir,
        )
        return self

    def stop(self) -> None:
        """Stop listening."""
        self.controller.stop()


@dataclass(frozen=True)
class CaughtMail:
    """One caught message, parsed for display."""

    key: str
    message: EmailMessage
    received_at: datetime

    @property
    def subject(self) -> str:
        """Return the decoded subject."""
        return str(self.message.get("Subject", ""))

    @property
    def to(self) -> str:
        """Return the envelope recipients, or the To header."""
        return str(self.message.get("X-Envelope-To") or self.message.get("To", ""))

    @property
    def sender(self) -> str:
        """Return the From header."""
        return str(self.message.get("From", ""))

    def body(self, subtype: str) -> str | None:
        """Return the text or html body part, decoded, or None."""
        part = self.message.get_body(preferencelist=(subtype,))
        if part is None:
            return None
        return cast(str, cast(EmailMessage, part).get_content())


def read_caught(maildir: Path) -> list[CaughtMail]:
    """Return every caught message, newest first."""
    if not maildir.is_dir():
        return []
    box = mailbox.Maildir(str(maildir), create=False)
    mails = []
    for key in box.iterkeys():
        mails.append(_load(box, key))
    mails.sort(key=lambda m: (m.received_at, m.key), reverse=True)
    return mails


def read_one(maildir: Path, key: str) -> CaughtMail | None:
    """Return one caught message by its Maildir key, or None."""
    if not maildir.is_dir():
        return None
    box = mailbox.Maildir(str(maildir), create=False)
    try:
        return _load(box, key)
    except KeyError:
        return None


def _load(box: mailbox.Maildir, key: str) -> CaughtMail:
    raw = box.get_bytes(key)
    msg = message_from_bytes(raw, policy=policy.default)
    received = datetime.fromtimestamp(box.get_message(key).get_date(), UTC)
    return CaughtMail(key=key, message=msg, received_at=received)
