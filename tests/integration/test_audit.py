"""The audit trail records in the caller's transaction and forgets after its retention."""

from datetime import timedelta

from sqlalchemy import func, select

from newsticker import jobs
from newsticker.core.audit import Actor, AuditEvent, recent_events, record_event
from newsticker.core.db import utcnow
from newsticker.core.unit_of_work import rollback
from newsticker.scheduling import in_unit_of_work, registered_jobs


def test_an_entry_names_actor_place_and_subject(db):
    now = utcnow()
    record_event(
        db,
        "item.approved",
        actor=Actor("redaktion@example.org", user_id=7, ip="192.0.2.1"),
        now=now,
        subject=("item", 42),
        summary="Sprachcafé",
        details={"version": 3},
    )
    db.flush()
    (event,) = recent_events(db)
    assert (event.action, event.actor, event.actor_id, event.ip) == (
        "item.approved",
        "redaktion@example.org",
        7,
        "192.0.2.1",
    )
    assert (event.subject_type, event.subject_id, event.details) == ("item", "42", {"version": 3})


def test_a_rolled_back_change_leaves_no_entry(db):
    record_event(db, "issue.scheduled", actor=Actor.system("cli"), now=utcnow())
    rollback(db)
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_the_nightly_job_deletes_entries_past_retention(app, db):
    days = app.config["NEWSTICKER_SETTINGS"].retention.audit_days
    old = record_event(
        db, "auth.login", actor=Actor.system("x"), now=utcnow() - timedelta(days=days + 1)
    )
    fresh = record_event(
        db, "auth.login", actor=Actor.system("x"), now=utcnow() - timedelta(days=1)
    )
    db.flush()
    old_id, fresh_id = old.id, fresh.id
    assert in_unit_of_work(app, jobs.purge_audit_events)() == 1
    db.expire_all()
    assert db.get(AuditEvent, old_id) is None
    assert db.get(AuditEvent, fresh_id) is not None
    assert in_unit_of_work(app, jobs.purge_audit_events)() == 0
    assert "purge-audit-events" in {
        job["id"] for job in registered_jobs(app.config["NEWSTICKER_SETTINGS"])
    }
