"""Offline packs: devices, their keys and wipes

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 15:05:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'offline_device',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=True),
        sa.Column('label', sa.String(length=200), nullable=False),
        sa.Column('key_fingerprint', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=False),
        sa.Column('wipe_requested_at', sa.DateTime(), nullable=True),
        sa.Column('wipe_reason', sa.String(length=32), nullable=False),
        sa.Column('wiped_at', sa.DateTime(), nullable=True),
        sa.Column('held_bytes', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['session_id'], ['user_session.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_offline_device_user_id'), 'offline_device', ['user_id'], unique=False)
    op.create_index(op.f('ix_offline_device_session_id'), 'offline_device', ['session_id'], unique=False)
    op.create_table(
        'offline_pack',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('device_id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('document_ids', sa.Text(), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['device_id'], ['offline_device.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('device_id', 'meeting_id'),
    )
    op.create_index(op.f('ix_offline_pack_device_id'), 'offline_pack', ['device_id'], unique=False)
    op.create_index(op.f('ix_offline_pack_meeting_id'), 'offline_pack', ['meeting_id'], unique=False)
    op.create_table(
        'offline_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('device_id', sa.Integer(), nullable=True),
        sa.Column('op', sa.String(length=16), nullable=False),
        sa.Column('annotation_id', sa.Integer(), nullable=True),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('changed_at', sa.DateTime(), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['device_id'], ['offline_device.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'client_id'),
    )
    op.create_index(op.f('ix_offline_change_user_id'), 'offline_change', ['user_id'], unique=False)
    op.create_table(
        'offline_rule',
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('allowed', sa.Boolean(), nullable=False),
        sa.Column('confidential_allowed', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('meeting_id'),
    )


def downgrade():
    op.drop_table('offline_rule')
    op.drop_index(op.f('ix_offline_change_user_id'), table_name='offline_change')
    op.drop_table('offline_change')
    op.drop_index(op.f('ix_offline_pack_meeting_id'), table_name='offline_pack')
    op.drop_index(op.f('ix_offline_pack_device_id'), table_name='offline_pack')
    op.drop_table('offline_pack')
    op.drop_index(op.f('ix_offline_device_session_id'), table_name='offline_device')
    op.drop_index(op.f('ix_offline_device_user_id'), table_name='offline_device')
    op.drop_table('offline_device')
