"""Fixtures: a migrated database per run, a rolled-back transaction per test, the app.

The suite runs on SQLite by default and on PostgreSQL when NEWSTICKER_TEST_DATABASE_URL
is set (CI does both). The schema always comes from the Alembic migrations.
"""

from __future__ import annotations

import contextvars
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from newsticker import create_app
from newsticker.config import Settings, load_settings
from newsticker.core.catcher import MailCatcher, read_caught
from newsticker.core.db import make_engine
from newsticker.migrations import upgrade_database

TEST_DATABASE_ENV = "NEWSTICKER_TEST_DATABASE_URL"


def unavailable(reason: str, *, required_by: str) -> NoReturn:
    """Skip a test whose tool or service is missing here; fail it where it is required.

    It is required in CI (CI=true: .ci/run sets it) and wherever the NEWSTICKER_REQUIRE_*
    variable named by `required_by` is set, so a missing install never passes as a skip.
    """
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI=true, so this fails instead of skipping")
    if os.environ.get(required_by):
        pytest.fail(f"{reason}; {required_by} is set, so this fails instead of skipping")
    pytest.skip(reason)


def free_port() -> int:
    """Return a free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reset_postgres(url: str) -> None:
    """Drop everything in the public schema so the migrations start from nothing."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def migrated_database(tmp_dir: Path, name: str) -> str:
    """Return the URL of a freshly migrated database (a new SQLite file, or reset PG)."""
    url = os.environ.get(TEST_DATABASE_ENV)
    if url:
        reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_dir / name}"
    upgrade_database(url)
    return url


def fresh_database(tmp_dir: Path) -> str:
    """Return a migrated database of its own for tests that commit for real.

    SQLite: a new file. PostgreSQL: a second database beside the test database, reset,
    so committed data never meets the rolled-back tests.
    """
    base = os.environ.get(TEST_DATABASE_ENV)
    if not base:
        return migrated_database(tmp_dir, "committed.db")
    parsed = make_url(base)
    name = f"{parsed.database}_committed"
    admin = make_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).scalar()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = parsed.set(database=name).render_as_string(hide_password=False)
    reset_postgres(url)
    upgrade_database(url)
    return url


@pytest.fixture(scope="session", autouse=True)
def _dispose_engines_at_exit() -> Iterator[None]:
    """Close pooled connections before exit (a collected open connection warns)."""
    yield
    from newsticker.core.db import Database

    for engine in Database._engines.values():
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return the URL of the test database, migrated once per run."""
    return migrated_database(tmp_path_factory.mktemp("db"), "test.db")


@pytest.fixture
def catcher(tmp_path: Path) -> Iterator[MailCatcher]:
    """Run a loopback SMTP catcher for one test."""
    mail_catcher = MailCatcher(tmp_path / "catcher", "127.0.0.1", free_port()).start()
    yield mail_catcher
    mail_catcher.stop()


def make_settings(database_url: str, instance: Path, **overrides: Any) -> Settings:
    """Return test settings: a fixed secret, no config file, a private instance folder."""
    values: dict[str, Any] = {
        "site.secret_key": "test-secret-key-not-for-production",
        "site.instance_path": str(instance),
        "site.base_url": "http://localhost",
        "database.url": database_url,
        "smtp.port": 1,  # nothing listens there: tests that send mail use the catcher
        "smtp.timeout": 5,
        "rate_limits.min_fill_seconds": 0,
    }
    values.update(overrides)
    # Never read the developer's config.toml or environment during tests.
    return load_settings(EMPTY_CONFIG, overrides=values, environ={})


EMPTY_CONFIG = Path(__file__).parent / "data" / "empty.toml"


class IsolatedClient(FlaskClient):
    """A test client whose requests get their own app context, as in production.

    Flask reuses an app context that is already pushed; the test's own context would then
    share `g` and the database session with every request and hide real bugs.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        """Run the request in an empty context so it pushes its own app context."""
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    """Override settings in a test module by redefining this fixture."""
    return {}


@pytest.fixture
def app(
    database_url: str, tmp_path: Path, settings_overrides: dict[str, Any], request: Any
) -> Iterator[Flask]:
    """Return the app bound to one connection whose transaction is rolled back afterwards."""
    overrides = dict(settings_overrides)
    if "catcher" in request.fixturenames:
        mail_catcher: MailCatcher = request.getfixturevalue("catcher")
        overrides.setdefault("smtp.port", mail_catcher.port)
        overrides.setdefault("catcher.maildir", str(mail_catcher.maildir))
    settings = make_settings(database_url, tmp_path / "instance", **overrides)
    application = create_app(settings)
    application.config.update(TESTING=True, SEND_MAIL_SYNC=True)
    application.test_client_class = IsolatedClient
    bound = application.extensions["newsticker_db"]
    connection = bound.engine.connect()
    outer = connection.begin()
    bound.factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    with application.app_context():
        yield application
    bound.factory.configure(bind=bound.engine, join_transaction_mode="conservative_savepoint")
    outer.rollback()
    connection.close()


@pytest.fixture
def db(app: Flask) -> Session:
    """Return the session of the test's app context (requests have sessions of their own).

    Call db.expire_all() before checking what a request changed.
    """
    from newsticker.core.db import db as database

    return database.session


@pytest.fixture
def no_csrf(app: Flask) -> None:
    """Turn CSRF checks off (they have tests of their own); modules use it through pytestmark."""
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client."""
    return app.test_client()


class CommandRunner:
    """Run `newsticker` commands against a config file and a database of their own."""

    def __init__(self, config_file: Path, database_url: str) -> None:
        self.config_file = config_file
        self.database_url = database_url
        self._runner = CliRunner()

    def invoke(self, *args: str, stdin: str | None = None) -> Any:
        """Run one command; return click's Result (exit_code, output, stdout)."""
        from newsticker.cli import cli

        return self._runner.invoke(cli, ["--config", str(self.config_file), *args], input=stdin)


@pytest.fixture
def runner(tmp_path: Path) -> CommandRunner:
    """Return a runner for the `newsticker` command with a committed database of its own."""
    url = fresh_database(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[site]\nsecret_key = "cli-test-secret"\ninstance_path = "{tmp_path / "instance"}"\n'
        f'[database]\nurl = "{url}"\n[smtp]\nport = 1\ntimeout = 2\n',
        encoding="utf-8",
    )
    return CommandRunner(config, url)


@pytest.fixture
def caught(catcher: MailCatcher) -> Any:
    """Return a function that lists the mails the catcher received."""
    return lambda: read_caught(catcher.maildir)
