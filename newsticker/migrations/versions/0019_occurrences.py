"""occurrences: the dates of events, series expanded, for the public list's indexed queries

Every event's dates (a series expanded within the public horizon, its left-out dates
marked cancelled) with a copy of the item's status and field of action; and indexes on
items for the newest notices, the Atom feed, the count of notices and the pages' version. Filled for the
items already stored by `newsticker refresh-occurrences` (run it once after upgrading;
the nightly job keeps the horizon ahead).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "occurrences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("over_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("previous_over_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("field_of_action", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_occurrences_status_starts",
        "occurrences",
        ["status", "starts_at", "item_id", "over_at", "previous_over_at", "cancelled"],
    )
    op.create_index("ix_occurrences_item_starts", "occurrences", ["item_id", "starts_at"])
    op.create_index("ix_occurrences_status_over", "occurrences", ["status", "over_at"])
    op.create_index("ix_items_status_approved", "items", ["status", "approved_at", "id"])
    op.create_index("ix_items_updated_at", "items", ["updated_at"])
    op.create_index("ix_items_kind_status_ends", "items", ["kind", "status", "last_ends_at"])


def downgrade() -> None:
    op.drop_index("ix_items_kind_status_ends", table_name="items")
    op.drop_index("ix_items_updated_at", table_name="items")
    op.drop_index("ix_items_status_approved", table_name="items")
    op.drop_index("ix_occurrences_status_over", table_name="occurrences")
    op.drop_index("ix_occurrences_item_starts", table_name="occurrences")
    op.drop_index("ix_occurrences_status_starts", table_name="occurrences")
    op.drop_table("occurrences")
