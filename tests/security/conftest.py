"""Fixtures of the security audits: a populated site, clients per role, an audit summary."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from newsticker.core.db import Base
from tests.security.world import ADMIN_EMAIL, EDITOR_EMAIL, PASSWORD, World, build_world

CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')

# Figures the audits add up for the closing note; printed at the end of the run.
AUDIT: Counter[str] = Counter()
STOPPED: Counter[tuple[str, str]] = Counter()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print what the audits walked and tried."""
    if not AUDIT and not STOPPED:
        return
    terminalreporter.section("security audit")
    for name, count in sorted(AUDIT.items()):
        terminalreporter.write_line(f"{name}: {count}")
    if STOPPED:
        terminalreporter.write_line("hostile inputs × sinks, by where they were stopped:")
        for (sink, how), count in sorted(STOPPED.items()):
            terminalreporter.write_line(f"  {sink:<28} {how:<26} {count}")


@pytest.fixture
def world(app: Flask, db: Session) -> World:
    """Return a populated site (demo content plus an object behind every route), committed."""
    settings = app.config["NEWSTICKER_SETTINGS"]
    with app.test_request_context(base_url=settings.site.base_url):
        built = build_world(db, settings)
    db.commit()
    return built


def csrf_token(client: Any, path: str = "/einreichen") -> str:
    """Return the CSRF token of the client's session, read from a page's forms."""
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match is not None, f"no CSRF token on {path}"
    return match.group(1)


def post_form(client: Any, path: str, data: dict[str, str], *, form_page: str = "") -> Any:
    """Post data to a form with the CSRF token read from its page (default: the same path)."""
    token = csrf_token(client, form_page or path)
    return client.post(path, data={**data, "csrf_token": token})


def log_in(client: Any, email: str, password: str = PASSWORD, ip: str = "127.0.0.1") -> None:
    """Log in through the real form, CSRF token included."""
    token = csrf_token(client, "/redaktion/login")
    response = client.post(
        "/redaktion/login",
        data={"email": email, "password": password, "csrf_token": token},
        environ_base={"REMOTE_ADDR": ip},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


@pytest.fixture
def clients(app: Flask, world: World) -> dict[str, Any]:
    """Return a test client per role: anonymous, editor, admin."""
    anonymous = app.test_client()
    editor = app.test_client()
    log_in(editor, EDITOR_EMAIL)
    admin = app.test_client()
    log_in(admin, ADMIN_EMAIL)
    return {"anonymous": anonymous, "editor": editor, "admin": admin}


def fingerprint(session: Session) -> dict[str, str]:
    """Return a digest of every table's rows, to prove that a request changed nothing."""
    session.expire_all()
    digests = {}
    for table in Base.metadata.sorted_tables:
        order = list(table.primary_key.columns) or list(table.columns)
        rows = session.execute(select(table).order_by(*order)).all()
        digests[table.name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    session.rollback()
    return digests


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Return the names of the tables whose rows differ."""
    return sorted(name for name in after if before.get(name) != after[name])
