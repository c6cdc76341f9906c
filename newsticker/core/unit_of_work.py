"""One unit of work: a transaction that commits once, then sends the mail queued in it.

The outermost caller owns the transaction: a request, a CLI command, a scheduler job,
one flush of a sender worker. Services only flush. Transactional mail is recorded in the
transaction (`mailqueue.queue_mail`) and handed to the dispatcher after the commit, so a
mail never announces data that was rolled back, and a relay that is down only delays it
(the scheduler retries what is still pending).

Other work that must wait for the commit (deleting a replaced image file, say) is
registered with `after_commit`; a rollback forgets it.

Every such caller goes through `commit`/`rollback` here, or through `unit_of_work` or
`app_unit_of_work`, which use them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from newsticker.core.db import write_intent
from newsticker.core.mail import SmtpTransport
from newsticker.core.mailqueue import send_queued_mail, take_pending_ids

if TYPE_CHECKING:
    from flask import Flask

logger = logging.getLogger(__name__)

Dispatch = Callable[[list[int]], object]
"""Sends the queued mails with these ids (now, or later in the background)."""

_AFTER_COMMIT = "after_commit"


def after_commit(session: Session, work: Callable[[], object]) -> None:
    """Run work once the session's transaction has committed (never if it rolls back)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(work)


class MailDispatcher:
    """Send queued transactional mails by id over the configured relay."""

    def __init__(
        self, factory: sessionmaker[Session], transport: SmtpTransport, max_attempts: int = 8
    ) -> None:
        self.factory = factory
        self.transport = transport
        self.max_attempts = max_attempts

    def __call__(self, ids: list[int]) -> None:
        """Send these mails now; a failure is logged, the scheduler retries them."""
        try:
            with write_intent():
                send_queued_mail(
                    self.factory, self.transport, ids=ids, max_attempts=self.max_attempts
                )
        except Exception:
            logger.exception("sending queued mails %s failed; the scheduler will retry", ids)


def commit(session: Session, dispatch: Dispatch | None) -> None:
    """Commit the session, then hand the mails queued in it to dispatch."""
    session.commit()
    ids = take_pending_ids(session)
    for work in session.info.pop(_AFTER_COMMIT, []):
        try:
            work()
        except Exception:
            # The data is committed; a leftover file is harmless, a lost answer is not.
            logger.exception("work after commit failed")
    if ids and dispatch is not None:
        dispatch(ids)


def rollback(session: Session) -> None:
    """Roll the session back and forget the mails queued in it (they were rolled back too)."""
    session.rollback()
    take_pending_ids(session)
    session.info.pop(_AFTER_COMMIT, None)


@contextmanager
def unit_of_work(session: Session, dispatch: Dispatch | None) -> Iterator[Session]:
    """Run a block in one transaction: commit and dispatch on success, roll back on error."""
    try:
        yield session
    except BaseException:
        rollback(session)
        raise
    commit(session, dispatch)


def app_dispatcher(app: Flask) -> MailDispatcher:
    """Return the dispatcher for the app's relay and database (made once per app)."""
    dispatcher: MailDispatcher | None = app.extensions.get("newsticker_dispatcher")
    if dispatcher is None:
        settings = app.config["NEWSTICKER_SETTINGS"]
        dispatcher = MailDispatcher(
            app.extensions["newsticker_db"].factory,
            SmtpTransport(settings.smtp),
            settings.mail.max_attempts,
        )
        app.extensions["newsticker_dispatcher"] = dispatcher
    return dispatcher


@contextmanager
def app_unit_of_work(app: Flask) -> Iterator[Session]:
    """Push an app context and run a block in the app session's one transaction.

    What commands and scheduler jobs use: they flush, this commits and then sends the
    mail they queued. Their transactions begin as writers (see core.db.write_intent).
    """
    from newsticker.core.db import db

    with (
        write_intent(),
        app.app_context(),
        unit_of_work(db.session, app_dispatcher(app)) as session,
    ):
        yield session


@contextmanager
def separate_unit_of_work() -> Iterator[Session]:
    """Run a block of a request in a transaction of its own, whose first statement writes.

    For what a request does while sender workers commit every fraction of a second (pause,
    resume, cancel): on SQLite the request's own transaction read first (the login or
    token lookup) and could not write after their commits. Commits at the block's end,
    then sends the mail queued in it.
    """
    from flask import current_app

    from newsticker.core.db import db

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with db.session_factory() as session, unit_of_work(session, app_dispatcher(app)):
        yield session
