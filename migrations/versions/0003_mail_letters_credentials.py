"""mail outbox, attachments, letters and their numbers, one-time site credentials

Tables owned by handlers/mail, handlers/attachments, handlers/letters, handlers/credentials.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22 06:04:34.227757
"""

import sqlalchemy as sa
from alembic import op

import engine.models


revision = '0003'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('attachment',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.String(length=36), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('mime_type', sa.String(length=100), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=True),
    sa.Column('created_at', engine.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index('ix_attachment_agency_instance', ['agency_id', 'instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_sha256'), ['sha256'], unique=False)

    op.create_table('letter_sequence',
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('series', sa.String(length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_value', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], ),
    sa.PrimaryKeyConstraint('agency_id', 'series', 'year')
    )
    op.create_table('mail_outbox',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.String(length=36), nullable=True),
    sa.Column('business_key', sa.String(length=100), nullable=True),
    sa.Column('job_id', sa.String(length=36), nullable=True),
    sa.Column('template', sa.String(length=64), nullable=False),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('attachments', sa.JSON(), nullable=False),
    sa.Column('credentials_ref', sa.String(length=64), nullable=True),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', engine.models.UTCDateTime(), nullable=False),
    sa.Column('locked_until', engine.models.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', engine.models.UTCDateTime(), nullable=False),
    sa.Column('sent_at', engine.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('job_id', 'recipient', name='uq_mail_outbox_job_recipient')
    )
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_mail_outbox_agency_instance', ['agency_id', 'instance_id'], unique=False)
        batch_op.create_index('ix_mail_outbox_due', ['status', 'next_attempt_at'], unique=False)

    op.create_table('site_credential',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.String(length=36), nullable=True),
    sa.Column('job_id', sa.String(length=36), nullable=True),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('site', sa.String(length=253), nullable=True),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('secret_enc', sa.Text(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('token_expires_at', engine.models.UTCDateTime(), nullable=True),
    sa.Column('issued_at', engine.models.UTCDateTime(), nullable=False),
    sa.Column('revealed_at', engine.models.UTCDateTime(), nullable=True),
    sa.Column('revealed_via', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('job_id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('site_credential', schema=None) as batch_op:
        batch_op.create_index('ix_site_credential_agency_instance', ['agency_id', 'instance_id'], unique=False)

    op.create_table('letter',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.String(length=36), nullable=True),
    sa.Column('job_id', sa.String(length=36), nullable=True),
    sa.Column('template', sa.String(length=64), nullable=False),
    sa.Column('series', sa.String(length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=120), nullable=False),
    sa.Column('attachment_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', engine.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], ),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachment.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agency_id', 'series', 'year', 'seq', name='uq_letter_number'),
    sa.UniqueConstraint('job_id')
    )
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letter_instance_id'), ['instance_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_letter_instance_id'))

    op.drop_table('letter')
    with op.batch_alter_table('site_credential', schema=None) as batch_op:
        batch_op.drop_index('ix_site_credential_agency_instance')

    op.drop_table('site_credential')
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_mail_outbox_due')
        batch_op.drop_index('ix_mail_outbox_agency_instance')

    op.drop_table('mail_outbox')
    op.drop_table('letter_sequence')
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_sha256'))
        batch_op.drop_index('ix_attachment_agency_instance')

    op.drop_table('attachment')
