"""special editions: the publications each issue also goes to

An issue remembers which other publications' subscribers also receive it. NULL means
the editors did not choose: the publication's configured also_send_to applies (every
issue before this migration, and every issue drafted or scheduled from the command line).

Revision ID: 0018
Revises: 0012
Create Date: 2026-12-06 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('also_send_to', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_column('also_send_to')
