"""The full-text index of items, which lives in the database and not in the models.

SQLite: an FTS5 table with external content (`items_fts` over `items.search_text`, the
item's id as rowid), kept in step by three triggers on `items`. Triggers, not the
service that derives the search text, because every writer of `items` passes them:
the services, migrations, the demo loader, raw SQL and the benchmarks' bulk inserts.

PostgreSQL: a stored generated column `search_vector`
(`to_tsvector('simple', unaccent(search_text))`) with a GIN index. `unaccent` is not
IMMUTABLE (its dictionary could change), so an IMMUTABLE wrapper with the dictionary
named is what the column uses; a column rather than an expression index, so ranking
does not parse each match's text again.

A later migration that rebuilds `items` on SQLite (batch mode: copy, drop, rename)
drops the triggers with the old table: it must call `create_sqlite_triggers` again.
tests/integration/test_migrations.py checks that they are there at the head.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from newsticker.items.services.search import FTS_TABLE, SEARCH_VECTOR

SEARCH_INDEX = "ix_items_search_vector"
TRIGGERS = ("items_fts_insert", "items_fts_delete", "items_fts_update")
# What autogenerate and the schema test must not mistake for tables or columns to drop.
DATABASE_ONLY_NAMES = frozenset(
    {
        FTS_TABLE,
        *(f"{FTS_TABLE}_{shadow}" for shadow in ("data", "idx", "docsize", "config")),
        SEARCH_VECTOR,
        SEARCH_INDEX,
    }
)


def include_name(name: str | None, type_: str, _parent: object) -> bool:
    """Return whether Alembic compares this object (not the full-text index's)."""
    return type_ not in ("table", "column", "index") or name not in DATABASE_ONLY_NAMES


def create_fulltext(conn: Connection) -> None:
    """Create the full-text index of items.search_text and fill it from the rows."""
    if conn.dialect.name == "sqlite":
        conn.execute(
            text(
                "CREATE VIRTUAL TABLE items_fts USING fts5("
                "search_text, content='items', content_rowid='id',"
                " tokenize='unicode61 remove_diacritics 2', prefix='2 3')"
            )
        )
        create_sqlite_triggers(conn)
        conn.execute(text("INSERT INTO items_fts(items_fts) VALUES ('rebuild')"))
    elif conn.dialect.name == "postgresql":
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS unaccent"))
        schema = conn.execute(
            text(
                "SELECT extnamespace::regnamespace::text FROM pg_extension"
                " WHERE extname = 'unaccent'"
            )
        ).scalar_one()
        conn.execute(
            text(
                "CREATE OR REPLACE FUNCTION newsticker_unaccent(text) RETURNS text"
                " LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT"
                f" AS $$ SELECT {schema}.unaccent('{schema}.unaccent'::regdictionary, $1) $$"
            )
        )
        conn.execute(
            text(
                "ALTER TABLE items ADD COLUMN search_vector tsvector GENERATED ALWAYS AS"
                " (to_tsvector('simple'::regconfig, newsticker_unaccent(search_text))) STORED"
            )
        )
        conn.execute(text("CREATE INDEX ix_items_search_vector ON items USING gin (search_vector)"))


def create_sqlite_triggers(conn: Connection) -> None:
    """Create the triggers that keep the FTS5 table in step with items.search_text."""
    remove = (
        "INSERT INTO items_fts(items_fts, rowid, search_text)"
        " VALUES ('delete', old.id, old.search_text);"
    )
    add = "INSERT INTO items_fts(rowid, search_text) VALUES (new.id, new.search_text);"
    insert, delete, update = TRIGGERS
    for statement in (
        f"CREATE TRIGGER IF NOT EXISTS {insert} AFTER INSERT ON items BEGIN {add} END",
        f"CREATE TRIGGER IF NOT EXISTS {delete} AFTER DELETE ON items BEGIN {remove} END",
        f"CREATE TRIGGER IF NOT EXISTS {update} AFTER UPDATE OF search_text ON items"
        f" BEGIN {remove} {add} END",
    ):
        conn.execute(text(statement))


def drop_fulltext(conn: Connection) -> None:
    """Drop the full-text index (the unaccent extension stays: others may use it)."""
    if conn.dialect.name == "sqlite":
        for trigger in TRIGGERS:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {trigger}"))
        conn.execute(text("DROP TABLE IF EXISTS items_fts"))
    elif conn.dialect.name == "postgresql":
        conn.execute(text("DROP INDEX IF EXISTS ix_items_search_vector"))
        conn.execute(text("ALTER TABLE items DROP COLUMN IF EXISTS search_vector"))
        conn.execute(text("DROP FUNCTION IF EXISTS newsticker_unaccent(text)"))
