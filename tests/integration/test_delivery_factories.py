"""Test data and test doubles for the delivery tests (no tests in here).

- `seed_subscribers`: many confirmed subscribers at once (Core inserts, for thousands).
- `scheduled_issue`: a ticker issue with approved events, scheduled.
- `committed_app`: an app on a database of its own that commits for real (workers need
  connections of their own).
- `Relay`: an aiosmtpd server on loopback that records every message and can misbehave
  on cue: refuse recipients, answer 4xx, drop the connection, hang.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from newsticker import create_app
from newsticker.core.db import db, utcnow
from newsticker.issues.models import Issue, IssueStatus
from subscribers.models import Subscriber, Subscription
from tests.conftest import free_port, fresh_database, make_settings
from tests.integration.test_issues_factories import make_issue
from tests.integration.test_items_factories import make_item

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
    status: str = "confirmed",
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
    issue.status = IssueStatus.SCHEDULED.value
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


@dataclass
class Received:
    """One message the relay accepted."""

    rcpt: str
    mail_from: str
    data: bytes
    at: float

    @property
    def message(self) -> Any:
        """Return the parsed message."""
        return message_from_bytes(self.data, policy=policy.default)


@dataclass
class Behaviour:
    """How the relay misbehaves; every rule is optional."""

    refuse_rcpt: dict[str, str] = field(default_factory=dict)  # address -> "550 5.1.1 ..."
    data_replies: dict[int, str] = field(default_factory=dict)  # n-th DATA (1-based) -> reply
    close_after: int = 0  # drop each connection after this many accepted messages
    hang_on: set[int] = field(default_factory=set)  # n-th DATA: do not answer for a while
    hang_seconds: float = 5.0
    on_data: Callable[[int], None] | None = None  # called with n before the n-th DATA is answered


class _Handler:
    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        reply = self.relay.behaviour.refuse_rcpt.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        relay = self.relay
        with relay.lock:
            relay.data_count += 1
            number = relay.data_count
        behaviour = relay.behaviour
        if behaviour.on_data is not None:
            await asyncio.get_running_loop().run_in_executor(None, behaviour.on_data, number)
        if number in behaviour.hang_on:
            await asyncio.sleep(behaviour.hang_seconds)
            return "451 4.4.2 too slow"
        reply = behaviour.data_replies.get(number)
        if reply:
            if reply.startswith("421"):
                server.transport.close()
            return reply
        with relay.lock:
            for rcpt in envelope.rcpt_tos:
                relay.received.append(
                    Received(rcpt, envelope.mail_from, envelope.original_content, time.time())
                )
            accepted = getattr(session, "nt_accepted", 0) + 1
            session.nt_accepted = accepted
        if behaviour.close_after and accepted >= behaviour.close_after:
            asyncio.get_running_loop().call_soon(server.transport.close)
        return f"250 2.0.0 Ok: queued as Q{number}"


class Relay:
    """A recording SMTP relay on loopback that can be told to misbehave."""

    def __init__(self, port: int | None = None, behaviour: Behaviour | None = None) -> None:
        self.port = port or free_port()
        self.behaviour = behaviour or Behaviour()
        self.received: list[Received] = []
        self.data_count = 0
        self.lock = threading.Lock()
        self.controller = Controller(
            _Handler(self),
            hostname="127.0.0.1",
            port=self.port,
            decode_data=False,
            data_size_limit=0,
        )

    def __enter__(self) -> Relay:
        self.controller.start()
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.controller.stop()

    def recipients(self) -> list[str]:
        """Return the envelope recipient of every accepted message (duplicates kept)."""
        with self.lock:
            return [r.rcpt for r in self.received]


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
