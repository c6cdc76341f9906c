"""Sending: many subscribers at once, a scheduled issue, and apps that commit for real.

- `seed_subscribers`: many confirmed subscribers at once (Core inserts, for thousands).
- `scheduled_issue`: a ticker issue with approved events, scheduled.
- `committed_app`: an app on a database of its own that commits for real (workers need
  connections of their own); `in_transaction` runs work in one of its transactions.
- `write_config` and `config_app`: a config file for commands in a subprocess, and an app
  built from it to seed what they will send.

The relay they send to is `tests.factories.relay.Relay`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from newsticker import create_app
from newsticker.core.db import db, utcnow
from newsticker.issues.models import Issue, IssueStatus
from subscribers.models import Subscriber, Subscription, SubscriptionStatus
from tests.conftest import fresh_database, make_settings
from tests.factories.issues import make_issue
from tests.factories.items import make_item

FAST = {
    # Tests must not wait for the relay's real limits or an hour of retries.
    "delivery.messages_per_second": 100_000.0,
    "delivery.messages_per_hour": 10_000_000,
    "delivery.retry_delay_seconds": 0.0,
    "delivery.lease_seconds": 10,
    "smtp.timeout": 2,
}


def seed_subscribers(
    session: Session,
    count: int,
    *,
    publications: tuple[str, ...] = ("ticker",),
    prefix: str = "leser",
    language: str = "de",
    status: str = SubscriptionStatus.CONFIRMED,
) -> list[int]:
    """Insert `count` subscribers of the publications; return their ids."""
    now = utcnow()
    first = (session.scalar(select(func.max(Subscriber.id))) or 0) + 1
    ids = list(range(first, first + count))
    for start in range(0, count, 1000):
        chunk = ids[start : start + 1000]
        session.execute(
            insert(Subscriber),
            [
                {
                    "id": sid,
                    "email": f"{prefix}{sid}@example.org",
                    "email_key": f"{prefix}{sid}@example.org",
                    "name": f"Leser {sid}" if sid % 3 else "",
                    "language": language if sid % 4 else "en",
                    "created_at": now,
                    "updated_at": now,
                    "blocked_note": "",
                }
                for sid in chunk
            ],
        )
        session.execute(
            insert(Subscription),
            [
                {
                    "subscriber_id": sid,
                    "publication": slug,
                    "status": status,
                    "created_at": now,
                    "updated_at": now,
                    "requested_at": now,
                    "confirmed_at": now,
                }
                for sid in chunk
                for slug in publications
            ],
        )
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT setval(pg_get_serial_sequence('subscribers', 'id'), :n)"),
            {"n": ids[-1] if ids else 1},
        )
    session.flush()
    return ids


def scheduled_issue(
    session: Session,
    *,
    publication: str = "ticker",
    send_at: datetime | None = None,
    number: int = 1,
    items: int = 3,
) -> Issue:
    """Store a scheduled issue with approved events (due now unless send_at says otherwise)."""
    made = [make_item(session, title=f"Veranstaltung {n} – Begegnung") for n in range(items)]
    issue = make_issue(session, items=made, publication=publication, number=number)
    issue.status = IssueStatus.SCHEDULED
    issue.scheduled_at = send_at or utcnow() - timedelta(seconds=1)
    session.flush()
    return issue


def committed_app(tmp_path: Path, **overrides: Any) -> Flask:
    """Return an app on a fresh database that commits for real."""
    url = fresh_database(tmp_path)
    settings = make_settings(url, tmp_path / "instance", **{**FAST, **overrides})
    app = create_app(settings)
    app.config["SEND_MAIL_SYNC"] = True
    return app


def in_transaction(app: Flask, work: Callable[[Session], Any]) -> Any:
    """Run work(session) in one committed transaction of the app (with a request context)."""
    base = app.config["NEWSTICKER_SETTINGS"].site.base_url
    with app.app_context(), app.test_request_context(base_url=base):
        factory = db.session_factory
        with factory() as session, session.begin():
            return work(session)


def write_config(
    tmp_path: Path, database_url: str, smtp_port: int, *, extra: str = "", **delivery: Any
) -> Path:
    """Write a config.toml for commands run in a subprocess or by the CLI runner."""
    values = {
        "messages_per_second": 100000.0,
        "messages_per_hour": 10000000,
        "retry_delay_seconds": 0.0,
        "lease_seconds": 10,
        **delivery,
    }
    lines = "\n".join(f"{key} = {value!r}" for key, value in values.items())
    config = tmp_path / "config.toml"
    config.write_text(
        f'[site]\nsecret_key = "delivery-test-secret"\ninstance_path = "{tmp_path / "instance"}"\n'
        f'base_url = "http://localhost"\n'
        f'[database]\nurl = "{database_url}"\n'
        f"[smtp]\nport = {smtp_port}\ntimeout = 5\n"
        f"[delivery]\n{lines}\n{extra}",
        encoding="utf-8",
    )
    return config


def config_app(config: Path) -> Flask:
    """Return an app built from a config file (to seed what a subprocess will send)."""
    from newsticker.config import load_settings

    return create_app(load_settings(config, environ={}))
