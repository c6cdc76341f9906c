"""foundation: users, mail queue, items

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 12:19:00.049675
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op




revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # APScheduler's SQLAlchemyJobStore table, created here so the app never calls create_all
    # (the job store only creates it when it is missing).
    op.create_table(
        "scheduler_jobs",
        sa.Column("id", sa.Unicode(191), primary_key=True),
        sa.Column("next_run_time", sa.Float(25), index=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
    )

    op.create_table('mail_queue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('to_addr', sa.String(length=320), nullable=False),
    sa.Column('sender', sa.String(length=400), nullable=False),
    sa.Column('reply_to', sa.String(length=400), nullable=True),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=True),
    sa.Column('headers', sa.JSON(), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_queue'))
    )
    with op.batch_alter_table('mail_queue', schema=None) as batch_op:
        batch_op.create_index('ix_mail_queue_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_queue_purpose'), ['purpose'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_queue_to_addr'), ['to_addr'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('title_key', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.String(length=600), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('field_of_action', sa.String(length=20), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('event_languages', sa.JSON(), nullable=False),
    sa.Column('content_language', sa.String(length=10), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('all_day', sa.Boolean(), nullable=False),
    sa.Column('recurrence', sa.JSON(), nullable=True),
    sa.Column('last_ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('visible_until', sa.Date(), nullable=True),
    sa.Column('place_name', sa.String(length=200), nullable=False),
    sa.Column('place_address', sa.String(length=300), nullable=False),
    sa.Column('accessibility_note', sa.String(length=500), nullable=False),
    sa.Column('organiser', sa.String(length=200), nullable=False),
    sa.Column('contact_name', sa.String(length=200), nullable=False),
    sa.Column('contact_email', sa.String(length=320), nullable=False),
    sa.Column('contact_phone', sa.String(length=50), nullable=False),
    sa.Column('link', sa.String(length=1000), nullable=False),
    sa.Column('image_file', sa.String(length=100), nullable=True),
    sa.Column('image_alt', sa.String(length=300), nullable=False),
    sa.Column('submitter_email', sa.String(length=320), nullable=False),
    sa.Column('submitter_language', sa.String(length=5), nullable=False),
    sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('edit_token_digest', sa.String(length=64), nullable=True),
    sa.Column('rejection_reason', sa.Text(), nullable=False),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('external_key', sa.String(length=100), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_items_approved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['items.id'], name=op.f('fk_items_duplicate_of_id_items'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_items')),
    sa.UniqueConstraint('edit_token_digest', name=op.f('uq_items_edit_token_digest')),
    sa.UniqueConstraint('external_key', name=op.f('uq_items_external_key'))
    )
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.create_index('ix_items_dupe', ['title_key', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_items_last_ends_at'), ['last_ends_at'], unique=False)
        batch_op.create_index('ix_items_status_starts', ['status', 'starts_at'], unique=False)

    op.create_table('item_audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['items.id'], name=op.f('fk_item_audit_item_id_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_item_audit_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_item_audit'))
    )
    with op.batch_alter_table('item_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_item_audit_item_id'), ['item_id'], unique=False)




def downgrade() -> None:
    op.drop_table("scheduler_jobs")

    with op.batch_alter_table('item_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_item_audit_item_id'))

    op.drop_table('item_audit')
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_index('ix_items_status_starts')
        batch_op.drop_index(batch_op.f('ix_items_last_ends_at'))
        batch_op.drop_index('ix_items_dupe')

    op.drop_table('items')
    op.drop_table('users')
    with op.batch_alter_table('mail_queue', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_queue_to_addr'))
        batch_op.drop_index(batch_op.f('ix_mail_queue_purpose'))
        batch_op.drop_index('ix_mail_queue_due')

    op.drop_table('mail_queue')

