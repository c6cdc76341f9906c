"""Read the bounce mailbox from a Maildir: new/ is the inbox, quarantine a Maildir++ folder.

Read messages go to cur/ with the Seen flag (":2,S"), a person's mail to cur/ without it
(a mail client still shows it unread), and messages that cannot be read to the
`.Quarantine` folder (Maildir++ layout, as Dovecot and Courier show it: a subfolder whose
name starts with a dot, with its own new/, cur/ and tmp/). The moves happen after the
commit; a file another process moved or deleted first is skipped.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from newsticker.core.db import utcnow
from newsticker.core.unit_of_work import after_commit
from subscribers import services
from subscribers.bounces.parsing import MAX_BYTES
from subscribers.mailboxes.context import RunContext, summary
from subscribers.mailboxes.errors import MailboxError
from subscribers.models import BounceRun

logger = logging.getLogger(__name__)


def process_maildir(session: Session, path: Path, context: RunContext) -> BounceRun:
    """Handle the new messages of a Maildir, each once; return the run's record."""
    new, cur = path / "new", path / "cur"
    if not new.is_dir() or not cur.is_dir():
        raise MailboxError(f"{path}: not a Maildir (it needs the folders new/ and cur/)")
    quarantine = path / f".{context.settings.bounces.quarantine_folder}"
    files = sorted(p for p in new.iterdir() if p.is_file() and not p.name.startswith("."))
    run = services.start_run(session, source=str(path), trigger=context.trigger, now=utcnow())
    returns = context.returns
    for start in range(0, len(files), context.batch):
        for file in files[start : start + context.batch]:
            raw = _read(file)
            if raw is None:
                continue  # gone since we listed the folder: another run took it
            outcome = services.handle_message(
                session,
                run,
                raw,
                name=file.name,
                keyring=context.keyring,
                salts=context.salts,
                settings=returns,
                now=utcnow(),
            )
            after_commit(session, _mover(file, cur, quarantine, outcome.disposition))
        if context.commit is not None:
            context.commit()
    services.finish_run(session, run, now=utcnow())
    if files:
        logger.info("bounces from %s: %s", path, summary(run))
    return run


def _read(path: Path) -> bytes | None:
    try:
        with path.open("rb") as handle:
            # One byte more than allowed: a larger file is recognised as too large.
            return handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return None


def _mover(
    file: Path, cur: Path, quarantine: Path, disposition: services.Disposition
) -> Callable[[], None]:
    def move() -> None:
        base = file.name.split(":", 1)[0]
        if disposition == services.Disposition.QUARANTINE:
            _make_folder(quarantine)
            target = quarantine / "new" / file.name
        elif disposition == services.Disposition.LEFT:
            target = cur / f"{base}:2,"
        else:
            target = cur / f"{base}:2,S"
        try:
            os.replace(file, target)
        except FileNotFoundError:
            logger.info("bounce mailbox: %s was moved by someone else first", file.name)

    return move


def _make_folder(folder: Path) -> None:
    for sub in ("tmp", "new", "cur"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    # Maildir++ marks a subfolder with this empty file.
    with contextlib.suppress(FileExistsError):
        (folder / "maildirfolder").touch(exist_ok=False)
