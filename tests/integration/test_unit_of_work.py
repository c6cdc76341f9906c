"""One unit of work: commit once, then send the mail queued in it; roll back sends nothing."""

import pytest
from sqlalchemy import func, select

from newsticker.core.mailqueue import QueuedMail, queue_mail, take_pending_ids
from newsticker.core.site import site_links
from newsticker.core.unit_of_work import (
    after_commit,
    app_unit_of_work,
    commit,
    rollback,
    unit_of_work,
)


def _queue(session):
    return queue_mail(
        session,
        purpose="test",
        to="someone@example.org",
        sender="newsticker@example.org",
        subject="Hello",
        text="Hello\n",
    )


def test_commit_dispatches_the_ids_queued_in_the_transaction(db):
    sent = []
    mail = _queue(db)
    commit(db, sent.append)
    assert sent == [[mail.id]]
    assert take_pending_ids(db) == []


def test_rollback_forgets_queued_mail_and_the_rows(db):
    sent = []
    before = db.scalar(select(func.count(QueuedMail.id)))
    _queue(db)
    rollback(db)
    commit(db, sent.append)
    assert sent == []
    assert db.scalar(select(func.count(QueuedMail.id))) == before


def test_an_error_in_the_block_rolls_back_and_dispatches_nothing(db):
    sent = []

    def refused_work():
        with unit_of_work(db, sent.append):
            _queue(db)
            raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        refused_work()
    assert sent == []
    assert take_pending_ids(db) == []


def test_app_unit_of_work_sends_through_the_relay_after_commit(app, caught):
    with app_unit_of_work(app) as session:
        _queue(session)
    assert [mail.subject for mail in caught()] == ["Hello"]


def test_site_links_follow_the_configured_base_url(app):
    assert site_links(app).url("public.index") == "http://localhost/"


def test_work_after_commit_runs_once_after_the_commit_and_never_after_a_rollback(db):
    done = []
    after_commit(db, lambda: done.append("kept"))
    rollback(db)
    commit(db, None)
    assert done == []
    after_commit(db, lambda: done.append("committed"))
    commit(db, None)
    commit(db, None)
    assert done == ["committed"]


def test_failing_work_after_commit_is_logged_and_the_rest_still_runs(db, caplog):
    done = []

    def broken():
        raise OSError("disk gone")

    after_commit(db, broken)
    after_commit(db, lambda: done.append("next"))
    commit(db, None)
    assert done == ["next"]
    assert "work after commit failed" in caplog.text
