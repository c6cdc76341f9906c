"""Read returned mails from a Maildir or an IMAP folder and count them as bounces.

This is the job side of bounce handling: it commits after each batch and only then marks
the batch's messages as done (moved to cur/ with the Seen flag, or flagged \\Seen on the
IMAP server). A crash in between means a batch is read again, never that one is lost.

The caller (the scheduler's job, the process-bounces command) passes in the settings and
the key ring; nothing here reads the Flask app.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import os
import ssl
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from newsticker.config import Settings
from newsticker.core.db import utcnow
from newsticker.core.tokens import KeyRing
from subscribers import services

logger = logging.getLogger(__name__)

BATCH = 100
MAX_MESSAGE_BYTES = 10 * 1024 * 1024


class MailboxError(Exception):
    """The mailbox cannot be read; the message says which and why."""


def _process(
    session: Session, messages: Sequence[bytes], settings: Settings, keyring: KeyRing
) -> services.BounceRun:
    return services.process_bounce_messages(
        session,
        messages,
        keyring=keyring,
        now=utcnow(),
        return_path=settings.mail.return_path,
        policy=services.BouncePolicy.from_settings(settings),
    )


def process_maildir(
    session: Session, path: Path, *, settings: Settings, keyring: KeyRing, batch: int = BATCH
) -> services.BounceRun:
    """Process the new messages of a Maildir; each is moved to cur/ once counted."""
    new, cur = path / "new", path / "cur"
    if not new.is_dir() or not cur.is_dir():
        raise MailboxError(f"{path}: not a Maildir (it needs the folders new/ and cur/)")
    files = sorted(p for p in new.iterdir() if p.is_file() and not p.name.startswith("."))
    total = services.BounceRun()
    for start in range(0, len(files), batch):
        chunk = files[start : start + batch]
        messages = [_read(p) for p in chunk]
        total.add(_process(session, messages, settings, keyring))
        session.commit()
        for p in chunk:
            # The Maildir way to say "read": into cur/ with the S flag in the name.
            os.replace(p, cur / f"{p.name.split(':', 1)[0]}:2,S")
    if total.read:
        logger.info("bounces from %s: %s", path, total)
    return total


def _read(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(MAX_MESSAGE_BYTES)


def _connect_imap(settings: Settings) -> Any:
    b = settings.bounces
    context = ssl.create_default_context()
    conn: imaplib.IMAP4
    if b.imap_tls == "ssl":
        conn = imaplib.IMAP4_SSL(b.imap_host, b.imap_port, ssl_context=context, timeout=30)
    else:
        conn = imaplib.IMAP4(b.imap_host, b.imap_port, timeout=30)
        if b.imap_tls == "starttls":
            conn.starttls(ssl_context=context)
    conn.login(b.imap_user, b.imap_password)
    return conn


def process_imap(
    session: Session,
    *,
    settings: Settings,
    keyring: KeyRing,
    connect: Callable[[Settings], Any] | None = None,
    batch: int = BATCH,
) -> services.BounceRun:
    """Process the unread messages of the IMAP folder; each is flagged read once counted."""
    b = settings.bounces
    if not b.imap_host:
        raise MailboxError("bounces.imap_host is not set")
    total = services.BounceRun()
    try:
        conn = (connect or _connect_imap)(settings)
        try:
            status, _data = conn.select(b.imap_folder)
            if status != "OK":
                raise MailboxError(f"IMAP folder {b.imap_folder!r} cannot be opened")
            status, data = conn.uid("SEARCH", None, "UNSEEN")
            uids = data[0].split() if status == "OK" and data and data[0] else []
            for start in range(0, len(uids), batch):
                chunk = uids[start : start + batch]
                fetched = [(uid, _fetch(conn, uid)) for uid in chunk]
                done = [(uid, m) for uid, m in fetched if m is not None]
                total.add(_process(session, [m for _uid, m in done], settings, keyring))
                session.commit()
                for uid, _message in done:
                    conn.uid("STORE", uid, "+FLAGS", "(\\Seen)")
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                conn.logout()
    except (imaplib.IMAP4.error, OSError) as exc:
        raise MailboxError(f"IMAP {b.imap_host}:{b.imap_port}: {exc}") from exc
    if total.read:
        logger.info("bounces from IMAP %s: %s", b.imap_host, total)
    return total


def _fetch(conn: Any, uid: bytes) -> bytes | None:
    # BODY.PEEK leaves the Seen flag alone until the batch is committed.
    status, data = conn.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        return None
    for part in data or []:
        if isinstance(part, tuple) and len(part) == 2 and isinstance(part[1], bytes):
            return part[1][:MAX_MESSAGE_BYTES]
    return None
