"""Read the bounce mailbox from an IMAP folder; quarantine into a folder created when missing.

The unread messages are fetched with BODY.PEEK (which leaves them unread) and handled;
after the commit a second connection marks them: read mail \\Seen, a person's mail with
the keyword NewstickerSkipped (so it stays unread for people and is not fetched again),
and unreadable mail is moved to the quarantine folder (UID MOVE, RFC 6851, or COPY,
\\Deleted and EXPUNGE where the server lacks MOVE). Marking waits for the commit and
uses UIDs, checked against the folder's UIDVALIDITY: if the folder was rebuilt
meanwhile, nothing is marked and the next run recognises the messages by their digests.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import re
import ssl
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from newsticker.config import Settings
from newsticker.core.db import utcnow
from newsticker.core.unit_of_work import after_commit
from subscribers import services
from subscribers.bounces.parsing import MAX_BYTES
from subscribers.mailboxes.context import RunContext, summary
from subscribers.mailboxes.errors import MailboxError
from subscribers.models import BounceRun

logger = logging.getLogger(__name__)

SKIPPED_KEYWORD = "NewstickerSkipped"
Connect = Callable[[Settings], Any]


def connect_imap(settings: Settings) -> imaplib.IMAP4:
    """Open and log in to the [bounces] IMAP server."""
    b = settings.bounces
    context = ssl.create_default_context()
    conn: imaplib.IMAP4
    if b.imap_tls == "ssl":
        conn = imaplib.IMAP4_SSL(b.imap_host, b.imap_port, ssl_context=context, timeout=30)
    else:
        conn = imaplib.IMAP4(b.imap_host, b.imap_port, timeout=30)
    try:
        if b.imap_tls == "starttls":
            conn.starttls(ssl_context=context)
        conn.login(b.imap_user, b.imap_password)
    except BaseException:
        # A refused login leaves the socket open; close it before saying why.
        with contextlib.suppress(OSError):
            conn.shutdown()
        raise
    return conn


def process_imap(
    session: Session, context: RunContext, *, connect: Connect | None = None
) -> BounceRun:
    """Handle the unread messages of the IMAP folder, each once; return the run's record."""
    settings = context.settings
    b = settings.bounces
    if not b.imap_host:
        raise MailboxError("bounces.imap_host is not set")
    opener = connect or connect_imap
    source = f"imap://{b.imap_user}@{b.imap_host}:{b.imap_port}/{b.imap_folder}"
    run = services.start_run(session, source=source, trigger=context.trigger, now=utcnow())
    returns = context.returns
    try:
        conn = opener(settings)
        try:
            validity = _select(conn, b.imap_folder)
            status, data = conn.uid("SEARCH", "UNSEEN", "UNKEYWORD", SKIPPED_KEYWORD)
            uids = data[0].split() if status == "OK" and data and data[0] else []
            for start in range(0, len(uids), context.batch):
                actions: list[tuple[bytes, services.Disposition]] = []
                for uid in uids[start : start + context.batch]:
                    raw = _fetch(conn, uid)
                    if raw is None:
                        continue  # expunged since the search
                    outcome = services.handle_message(
                        session,
                        run,
                        raw,
                        name=f"UID {uid.decode('ascii', 'replace')}",
                        keyring=context.keyring,
                        salts=context.salts,
                        settings=returns,
                        now=utcnow(),
                    )
                    actions.append((uid, outcome.disposition))
                after_commit(session, _marker(settings, opener, validity, actions))
                if context.commit is not None:
                    context.commit()
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                conn.logout()
    except (imaplib.IMAP4.error, OSError) as exc:
        raise MailboxError(f"IMAP {b.imap_host}:{b.imap_port}: {exc}") from exc
    services.finish_run(session, run, now=utcnow())
    if uids:
        logger.info("bounces from %s: %s", source, summary(run))
    return run


def _select(conn: Any, folder: str) -> bytes:
    status, _data = conn.select(_quote(folder))
    if status != "OK":
        raise MailboxError(f"IMAP folder {folder!r} cannot be opened")
    _typ, validity = conn.response("UIDVALIDITY")
    return validity[0] if validity and validity[0] else b""


def _quote(folder: str) -> str:
    # imaplib sends arguments as they are; a name with a space must be quoted.
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _fetch(conn: Any, uid: bytes) -> bytes | None:
    # BODY.PEEK leaves the Seen flag alone until the batch is committed.
    status, data = conn.uid("FETCH", uid, "(BODY.PEEK[])")
    if status != "OK":
        return None
    for part in data or []:
        if isinstance(part, tuple) and len(part) == 2 and isinstance(part[1], bytes):
            return part[1][: MAX_BYTES + 1]
    return None


def _marker(
    settings: Settings,
    opener: Connect,
    validity: bytes,
    actions: Sequence[tuple[bytes, services.Disposition]],
) -> Callable[[], None]:
    def mark() -> None:
        if not actions:
            return
        conn = opener(settings)
        try:
            if _select(conn, settings.bounces.imap_folder) != validity:
                logger.warning("IMAP folder was rebuilt (UIDVALIDITY changed); nothing marked")
                return
            by_kind: dict[services.Disposition, list[bytes]] = {}
            for uid, disposition in actions:
                by_kind.setdefault(disposition, []).append(uid)
            done = by_kind.get(services.Disposition.DONE, [])
            if done:
                conn.uid("STORE", _uid_set(done), "+FLAGS", "(\\Seen)")
            left = by_kind.get(services.Disposition.LEFT, [])
            if left:
                status, _data = conn.uid("STORE", _uid_set(left), "+FLAGS", f"({SKIPPED_KEYWORD})")
                if status != "OK":  # a server without keywords: read, then, but not lost
                    conn.uid("STORE", _uid_set(left), "+FLAGS", "(\\Seen)")
            poison = by_kind.get(services.Disposition.QUARANTINE, [])
            if poison:
                _quarantine(conn, settings.bounces.quarantine_folder, poison)
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                conn.logout()

    return mark


def _capabilities(conn: Any) -> set[str]:
    """Return what the server can do once logged in (imaplib keeps the greeting's list)."""
    known = {str(c).upper() for c in getattr(conn, "capabilities", ())}
    with contextlib.suppress(imaplib.IMAP4.error, OSError, AttributeError):
        status, data = conn.capability()
        if status == "OK" and data and isinstance(data[0], bytes):
            known |= {word.upper() for word in data[0].decode("ascii", "replace").split()}
    return known


def _uid_set(uids: Sequence[bytes]) -> str:
    return ",".join(uid.decode("ascii") for uid in uids if re.fullmatch(rb"\d+", uid))


def _quarantine(conn: Any, folder: str, uids: Sequence[bytes]) -> None:
    quoted = _quote(folder)
    status, _data = conn.list('""', quoted)
    if status != "OK" or not _data or _data == [None]:
        status, data = conn.create(quoted)
        if status != "OK":
            logger.warning("IMAP: cannot create the quarantine folder %r: %s", folder, data)
    capabilities = _capabilities(conn)
    uid_set = _uid_set(uids)
    if "MOVE" in capabilities:
        conn.uid("MOVE", uid_set, quoted)
        return
    status, _data = conn.uid("COPY", uid_set, quoted)
    if status != "OK":
        logger.warning("IMAP: could not copy %s to the quarantine; left in place", uid_set)
        return
    conn.uid("STORE", uid_set, "+FLAGS", "(\\Deleted)")
    if "UIDPLUS" in capabilities:
        conn.uid("EXPUNGE", uid_set)
    else:
        conn.expunge()
