"""full-text search of items; their description as plain text for the feeds

The search text becomes words only (letters and digits, folded, separated by single
spaces), which both databases' full-text engines split the same way; the full-text
index over it is created (newsticker/migrations/fulltext.py: FTS5 and triggers on
SQLite, a tsvector column with a GIN index and the unaccent extension on PostgreSQL).
`description_text` keeps the description rendered from Markdown to plain text, so the
feeds never parse Markdown per request. Both are filled for the existing rows.
An index on (kind, starts_at) lets the iCal feeds stop at their LIMIT.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from newsticker.core.markup import markdown_to_text
from newsticker.items.services.search import search_text_of
from newsticker.migrations.fulltext import create_fulltext, drop_fulltext

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    # The iCal feeds read the earliest events of their window in index order, up to a
    # LIMIT. (The feeds' version and the Atom feed use 0019's ix_items_updated_at and
    # ix_items_status_approved.)
    op.create_index("ix_items_kind_starts", "items", ["kind", "starts_at"])
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("description_text", sa.Text(), nullable=False, server_default="")
        )
    # The default filled the existing rows; the model gives the value from now on. (A
    # rebuild of items on SQLite: done before the triggers, which it would drop.)
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.alter_column("description_text", server_default=None)
    conn = op.get_bind()
    items = sa.table(
        "items",
        sa.column("id", sa.Integer),
        sa.column("description", sa.Text),
        sa.column("description_text", sa.Text),
        sa.column("search_text", sa.Text),
    )
    last = 0
    while True:
        rows = conn.execute(
            sa.select(items.c.id, items.c.description, items.c.search_text)
            .where(items.c.id > last)
            .order_by(items.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        conn.execute(
            items.update()
            .where(items.c.id == sa.bindparam("item_id"))
            .values(description_text=sa.bindparam("text"), search_text=sa.bindparam("words")),
            [
                {
                    "item_id": row.id,
                    "text": markdown_to_text(row.description),
                    # Already folded: only split into words (the umlaut spellings stay).
                    "words": search_text_of(row.search_text or ""),
                }
                for row in rows
            ],
        )
        last = rows[-1].id
    create_fulltext(conn)


def downgrade() -> None:
    drop_fulltext(op.get_bind())
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("description_text")
    op.drop_index("ix_items_kind_starts", table_name="items")
