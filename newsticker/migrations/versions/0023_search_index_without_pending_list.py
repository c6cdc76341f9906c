"""the search index writes through (GIN fastupdate off) on PostgreSQL

With fastupdate on, new rows go to the GIN index's pending list, which every search
reads from start to end until a vacuum merges it: up to gin_pending_list_limit (4 MB)
on every query. After loading 100,000 items its 453 pages were most of a search's
cost (1.5 ms of 2 ms per statement, four statements per search page). Items are
written a few times a day and searched on every visit: writing through is the
documented choice when searches must be steady. The pending list is merged once here.
SQLite's FTS5 table is not concerned.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 06:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

INDEX = "ix_items_search_vector"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER INDEX {INDEX} SET (fastupdate = off)")
    op.execute(f"SELECT gin_clean_pending_list('{INDEX}'::regclass)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER INDEX {INDEX} RESET (fastupdate)")
