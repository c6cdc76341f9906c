"""volunteer translators and their translation requests

Editors keep translators (name, address, languages, mail language) and ask them for a
version of an item or an article; a request stores only the digest of its private
link's token. A request points at the version the translator sent (item_versions,
article_versions: revision 0021), so approving the version can close the request.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 02:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

INDEXED = ("item_id", "entry_id", "translator_id", "item_version_id", "article_version_id")


def upgrade() -> None:
    op.create_table(
        "translators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("mail_language", sa.String(length=5), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_translators")),
        sa.UniqueConstraint("email", name=op.f("uq_translators_email")),
    )
    op.create_table(
        "translation_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("translator_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decline_reason", sa.Text(), nullable=False),
        sa.Column("item_version_id", sa.Integer(), nullable=True),
        sa.Column("article_version_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_translation_requests_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["issue_entries.id"],
            name=op.f("fk_translation_requests_entry_id_issue_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["translator_id"],
            ["translators.id"],
            name=op.f("fk_translation_requests_translator_id_translators"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_version_id"],
            ["item_versions.id"],
            name=op.f("fk_translation_requests_item_version_id_item_versions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["article_version_id"],
            ["article_versions.id"],
            name=op.f("fk_translation_requests_article_version_id_article_versions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_translation_requests_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_translation_requests")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_translation_requests_token_digest")),
    )
    for column in INDEXED:
        op.create_index(op.f(f"ix_translation_requests_{column}"), "translation_requests", [column])
    op.create_index(
        "ix_translation_requests_status_due", "translation_requests", ["status", "due_on"]
    )


def downgrade() -> None:
    op.drop_table("translation_requests")
    op.drop_table("translators")
