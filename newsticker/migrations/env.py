"""Alembic environment: run migrations on the given connection or the configured URL."""

from __future__ import annotations

from alembic import context

from newsticker.core.db import Base, make_engine
from newsticker.migrations.fulltext import include_name
from newsticker.models import load_all_models

load_all_models()
target_metadata = Base.metadata
config = context.config


def run_migrations() -> None:
    """Run migrations online; SQLite needs batch mode for ALTER TABLE."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
