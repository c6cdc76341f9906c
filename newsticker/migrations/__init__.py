"""Alembic migrations; `newsticker init-db` runs them to the newest revision."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    """Return an Alembic config for this package's migrations and a database URL."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade_database(url: str, connection: Connection | None = None) -> None:
    """Create or upgrade the schema to the newest revision (alembic upgrade heads)."""
    command.upgrade(alembic_config(url, connection), "heads")
