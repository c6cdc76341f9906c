"""On SQLite, a sender's transactions begin as writers.

Worker processes commit in turn all the time. A transaction that read first and wrote
later failed at once when another process had committed in between (SQLite answers
"database is locked" and does not wait: the snapshot is stale). The send benchmark hit
it with two worker processes: the one finishing the issue read what was pending, then
could not mark the issue sent.
"""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import text

from newsticker.delivery.sender import IssueSender
from tests.factories import committed_app


def test_a_senders_transaction_holds_the_write_lock_from_its_begin(tmp_path):
    app = committed_app(tmp_path)
    sender = IssueSender(app, app.config["NEWSTICKER_SETTINGS"])
    if sender.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: PostgreSQL's transactions wait for each other's rows")
    path = sender.engine.url.database

    def read_then_try_another_writer(session: object) -> str:
        session.execute(text("SELECT 1"))  # type: ignore[attr-defined]
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            return str(exc)
        finally:
            other.close()
        return "another writer got in"

    assert sender.in_transaction(read_then_try_another_writer) == "database is locked"
