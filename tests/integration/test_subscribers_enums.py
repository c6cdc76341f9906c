"""Statuses are enums: stored as their old strings, read back as members; previews discard."""

from __future__ import annotations

from sqlalchemy import select, text

from newsticker.core.db import utcnow
from subscribers import importing, services
from subscribers.models import (
    BounceEvent,
    BounceKind,
    ConsentAction,
    ConsentEvent,
    ImportStatus,
    Subscription,
    SubscriptionStatus,
)
from subscribers.site import site_salts
from tests.factories import make_subscriber

POLICY = services.BouncePolicy(hard_threshold=1, soft_threshold=5, soft_window_days=30)


def test_columns_read_back_members_and_store_plain_strings(db):
    subscriber = make_subscriber(db, "enum@example.org")
    services.record_hard_bounce(db, subscriber.id, "550 5.1.1", now=utcnow(), policy=POLICY)
    db.expire_all()
    assert db.scalars(select(Subscription.status)).one() is SubscriptionStatus.BOUNCED
    assert db.scalars(select(BounceEvent.kind)).one() is BounceKind.HARD
    actions = set(db.scalars(select(ConsentEvent.action)))
    assert actions == {ConsentAction.ADDED, ConsentAction.BOUNCED}
    assert all(isinstance(action, ConsentAction) for action in actions)
    raw = db.execute(text("SELECT status FROM subscriptions")).scalar_one()
    assert type(raw) is str and raw == "bounced"


def test_a_preview_is_discarded_once_and_an_import_never(app, db):
    with app.test_request_context():
        salts = site_salts()
    data = b"email\nvorschau@example.org\n"
    plan = importing.plan_import(db, data, publication="ticker", salts=salts)
    record = importing.save_preview(
        db, plan, data, publication="ticker", consent_note="Liste vom Amt",
        actor="editor@example.org", filename="liste.csv", now=utcnow(),
    )  # fmt: skip
    assert record.status is ImportStatus.PREVIEW
    assert importing.get_import(db, record.id) is record
    assert importing.discard_preview(db, record)
    assert importing.get_import(db, record.id) is None

    plan = importing.plan_import(db, data, publication="ticker", salts=salts)
    done = importing.save_preview(
        db, plan, data, publication="ticker", consent_note="Liste vom Amt",
        actor="editor@example.org", filename="liste.csv", now=utcnow(),
    )  # fmt: skip
    importing.run_import(
        db, plan, publication="ticker", consent_note="Liste vom Amt", actor="editor@example.org",
        channel="web", filename="liste.csv", now=utcnow(), record=done,
    )  # fmt: skip
    assert done.status is ImportStatus.DONE
    assert not importing.discard_preview(db, done)
    assert importing.get_import(db, done.id) is done
