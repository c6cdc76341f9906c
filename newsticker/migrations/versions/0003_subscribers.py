"""subscribers: subscriptions, consent log, confirmations, suppressions, bounces, imports

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-21 12:35:44.518427
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('subscriber_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('publication', sa.String(length=40), nullable=False),
    sa.Column('consent_note', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('imported', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriber_imports'))
    )
    op.create_table('subscriber_suppressions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriber_suppressions')),
    sa.UniqueConstraint('digest', name=op.f('uq_subscriber_suppressions_digest'))
    )
    # AUTOINCREMENT on SQLite: an erased subscriber's id is never handed out again.
    op.create_table('subscribers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('email_key', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('blocked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('blocked_note', sa.String(length=500), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscribers')),
    sa.UniqueConstraint('email_key', name=op.f('uq_subscribers_email_key')),
    sqlite_autoincrement=True
    )
    op.create_table('bounce_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=4), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_bounce_events_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bounce_events'))
    )
    with op.batch_alter_table('bounce_events', schema=None) as batch_op:
        batch_op.create_index('ix_bounce_events_subscriber_time', ['subscriber_id', 'occurred_at'], unique=False)

    op.create_table('subscription_confirmations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('token_digest', sa.String(length=64), nullable=False),
    sa.Column('publications', sa.JSON(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_subscription_confirmations_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscription_confirmations')),
    sa.UniqueConstraint('token_digest', name=op.f('uq_subscription_confirmations_token_digest'))
    )
    with op.batch_alter_table('subscription_confirmations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscription_confirmations_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscription_confirmations_subscriber_id'), ['subscriber_id'], unique=False)

    op.create_table('subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('publication', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('unsubscribed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('bounced_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_subscriptions_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriptions')),
    sa.UniqueConstraint('subscriber_id', 'publication', name=op.f('uq_subscriptions_subscriber_id_publication'))
    )
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_subscriptions_publication_status', ['publication', 'status', 'subscriber_id'], unique=False)

    op.create_table('consent_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('publication', sa.String(length=40), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('form_url', sa.String(length=500), nullable=False),
    sa.Column('consent_text_version', sa.String(length=40), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('mail_queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=False),
    sa.Column('confirmation_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['confirmation_id'], ['subscription_confirmations.id'], name=op.f('fk_consent_events_confirmation_id_subscription_confirmations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_consent_events_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_events'))
    )
    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.create_index('ix_consent_events_action_time', ['action', 'occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_events_confirmation_id'), ['confirmation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_events_subscriber_id'), ['subscriber_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_events_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_consent_events_confirmation_id'))
        batch_op.drop_index('ix_consent_events_action_time')

    op.drop_table('consent_events')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_subscriptions_publication_status')

    op.drop_table('subscriptions')
    with op.batch_alter_table('subscription_confirmations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscription_confirmations_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_subscription_confirmations_created_at'))

    op.drop_table('subscription_confirmations')
    with op.batch_alter_table('bounce_events', schema=None) as batch_op:
        batch_op.drop_index('ix_bounce_events_subscriber_time')

    op.drop_table('bounce_events')
    op.drop_table('subscribers')
    op.drop_table('subscriber_suppressions')
    op.drop_table('subscriber_imports')
