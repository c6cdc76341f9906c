"""issues: issues, their entries and key figures, snapshots frozen for sending

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 12:35:35.617470
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('issues',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('publication', sa.String(length=40), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('preheader', sa.String(length=200), nullable=False),
    sa.Column('editorial', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('size_override', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_issues_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_issues_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issues')),
    sa.UniqueConstraint('publication', 'number', name=op.f('uq_issues_publication_number'))
    )
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.create_index('ix_issues_status_scheduled', ['status', 'scheduled_at'], unique=False)

    op.create_table('issue_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('section', sa.String(length=20), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('occurrence_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=1000), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_issue_entries_issue_id_issues'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_issue_entries_item_id_items'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_entries'))
    )
    with op.batch_alter_table('issue_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issue_entries_issue_id'), ['issue_id'], unique=False)
        batch_op.create_index('ix_issue_entries_item', ['item_id', 'occurrence_start'], unique=False)

    op.create_table('issue_figures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('value', sa.String(length=40), nullable=False),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('period', sa.String(length=100), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_issue_figures_issue_id_issues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_figures'))
    )
    with op.batch_alter_table('issue_figures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issue_figures_issue_id'), ['issue_id'], unique=False)

    op.create_table('issue_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('marker', sa.String(length=64), nullable=False),
    sa.Column('html_bytes', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_issue_snapshots_issue_id_issues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_snapshots')),
    sa.UniqueConstraint('issue_id', 'language', name=op.f('uq_issue_snapshots_issue_id_language'))
    )


def downgrade() -> None:
    op.drop_table('issue_snapshots')
    with op.batch_alter_table('issue_figures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issue_figures_issue_id'))

    op.drop_table('issue_figures')
    with op.batch_alter_table('issue_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_issue_entries_item')
        batch_op.drop_index(batch_op.f('ix_issue_entries_issue_id'))

    op.drop_table('issue_entries')
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_index('ix_issues_status_scheduled')

    op.drop_table('issues')
