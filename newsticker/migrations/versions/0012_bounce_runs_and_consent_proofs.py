"""bounce runs, message digests, complaints and reinstatements; consent proofs

Bounce events get the reason editors read (reason_code), the run that recorded them,
whether they took the person off the list, and when an admin cleared them; their kind
column widens for "complaint" and "unsubscribe". A run of the bounce mailbox is
recorded with its counts and quarantine notes, and the digest of each message handled
keeps a message from counting twice. Each double opt-in keeps its confirmation mail as
sent (consent_proofs); the consent log notes the language the consent text was shown in.

Revision ID: 0012
Revises: 0006
Create Date: 2026-12-01 09:29:55.551724
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = "0006"
branch_labels = None
depends_on = None

KINDS = ('hard', 'soft', 'complaint', 'unsubscribe')


def upgrade() -> None:
    op.create_table('bounce_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('quarantined', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bounce_runs'))
    )
    with op.batch_alter_table('bounce_runs', schema=None) as batch_op:
        batch_op.create_index('ix_bounce_runs_started', ['started_at'], unique=False)

    op.create_table('bounce_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['bounce_runs.id'], name=op.f('fk_bounce_messages_run_id_bounce_runs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bounce_messages')),
    sa.UniqueConstraint('digest', name=op.f('uq_bounce_messages_digest'))
    )
    with op.batch_alter_table('bounce_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bounce_messages_processed_at'), ['processed_at'], unique=False)

    op.create_table('consent_proofs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscriber_id', sa.Integer(), nullable=False),
    sa.Column('confirmation_id', sa.Integer(), nullable=True),
    sa.Column('publications', sa.JSON(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('consent_text_version', sa.String(length=40), nullable=False),
    sa.Column('consent_language', sa.String(length=5), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('form_url', sa.String(length=500), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requested_ip', sa.String(length=45), nullable=True),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('mail_queued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('raw_message', sa.LargeBinary(), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('confirmed_ip', sa.String(length=45), nullable=True),
    sa.ForeignKeyConstraint(['confirmation_id'], ['subscription_confirmations.id'], name=op.f('fk_consent_proofs_confirmation_id_subscription_confirmations'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['subscriber_id'], ['subscribers.id'], name=op.f('fk_consent_proofs_subscriber_id_subscribers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_proofs'))
    )
    with op.batch_alter_table('consent_proofs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consent_proofs_confirmation_id'), ['confirmation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consent_proofs_subscriber_id'), ['subscriber_id'], unique=False)

    # Existing rows get the defaults the models write: no reason code, not removed.
    with op.batch_alter_table('bounce_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reason_code', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('run_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('removed', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('cleared_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column('kind',
               existing_type=sa.VARCHAR(length=4),
               type_=sa.Enum(*KINDS, name='bouncekind', native_enum=False, create_constraint=False, length=11),
               existing_nullable=False)
        batch_op.create_index('ix_bounce_events_run', ['run_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_bounce_events_run_id_bounce_runs'), 'bounce_runs', ['run_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('bounce_events', schema=None) as batch_op:
        batch_op.alter_column('reason_code', server_default=None)
        batch_op.alter_column('removed', server_default=None)

    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_language', sa.String(length=5), nullable=False, server_default=''))
    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.alter_column('consent_language', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('consent_events', schema=None) as batch_op:
        batch_op.drop_column('consent_language')

    # Complaints and unsubscribe mails do not fit the old column: they go with the downgrade.
    op.execute("DELETE FROM bounce_events WHERE kind NOT IN ('hard', 'soft')")
    with op.batch_alter_table('bounce_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_bounce_events_run_id_bounce_runs'), type_='foreignkey')
        batch_op.drop_index('ix_bounce_events_run')
        batch_op.alter_column('kind',
               existing_type=sa.Enum(*KINDS, name='bouncekind', native_enum=False, create_constraint=False, length=11),
               type_=sa.VARCHAR(length=4),
               existing_nullable=False)
        batch_op.drop_column('cleared_at')
        batch_op.drop_column('removed')
        batch_op.drop_column('run_id')
        batch_op.drop_column('reason_code')

    with op.batch_alter_table('consent_proofs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consent_proofs_subscriber_id'))
        batch_op.drop_index(batch_op.f('ix_consent_proofs_confirmation_id'))

    op.drop_table('consent_proofs')
    with op.batch_alter_table('bounce_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bounce_messages_processed_at'))

    op.drop_table('bounce_messages')
    with op.batch_alter_table('bounce_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_bounce_runs_started')

    op.drop_table('bounce_runs')
