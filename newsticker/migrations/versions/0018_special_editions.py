"""special editions: the publications each issue also goes to; images of articles and editorial

An issue remembers which other publications' subscribers also receive it. NULL means
the editors did not choose: the publication's configured also_send_to applies (every
issue before this migration, and every issue drafted or scheduled from the command line).
The editorial and each article may carry one image (a stored file name and its
description, as items have).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('also_send_to', sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column('editorial_image_file', sa.String(length=80), nullable=True)
        )
        batch_op.add_column(
            sa.Column(
                'editorial_image_alt', sa.String(length=300), nullable=False, server_default=''
            )
        )
    with op.batch_alter_table('issue_entries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('image_file', sa.String(length=80), nullable=True))
        batch_op.add_column(
            sa.Column('image_alt', sa.String(length=300), nullable=False, server_default='')
        )
    # The defaults filled the existing rows; the models give the value from now on.
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.alter_column('editorial_image_alt', server_default=None)
    with op.batch_alter_table('issue_entries', schema=None) as batch_op:
        batch_op.alter_column('image_alt', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('issue_entries', schema=None) as batch_op:
        batch_op.drop_column('image_alt')
        batch_op.drop_column('image_file')
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_column('editorial_image_alt')
        batch_op.drop_column('editorial_image_file')
        batch_op.drop_column('also_send_to')
