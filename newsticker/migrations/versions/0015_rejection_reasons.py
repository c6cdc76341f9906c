"""rejection reasons kept by the admins

Editors choose one of these when they reject submissions (one at a time or several at
once) instead of writing the same reason again; the submitter reads its text.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 23:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('rejection_reasons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=100), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rejection_reasons')),
    sa.UniqueConstraint('label', name=op.f('uq_rejection_reasons_label'))
    )


def downgrade() -> None:
    op.drop_table('rejection_reasons')
