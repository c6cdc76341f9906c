"""Fixtures shared by the integration tests (the app, db, client and runner are in tests/)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from newsticker.auth.models import User
from tests.conftest import CommandRunner
from tests.factories import create_editor, login


@pytest.fixture
def editor(client: Any, db: Session) -> User:
    """Create the factories' EDITOR and log the client in as them (CSRF must be off)."""
    user = create_editor(db)
    login(client)
    return user


@pytest.fixture
def engine(runner: CommandRunner) -> Iterator[Engine]:
    """Return an engine on the runner's committed database, to see what commands did."""
    engine = create_engine(runner.database_url)
    yield engine
    engine.dispose()
