"""Meeting media rooms and remote attendance by audio and video

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 15:05:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'media_room',
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('janus_room', sa.BigInteger(), nullable=False),
        sa.Column('secret', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('meeting_id'),
        sa.UniqueConstraint('janus_room'),
    )
    op.create_table(
        'media_participant',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('feed_id', sa.BigInteger(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=True),
        sa.Column('token_expires_at', sa.DateTime(), nullable=True),
        sa.Column('session_id', sa.Integer(), nullable=True),
        sa.Column('mode', sa.Enum('audio', 'video', name='media_mode', native_enum=False, length=16),
                  nullable=False),
        sa.Column('audio_mid', sa.String(length=16), nullable=True),
        sa.Column('video_mid', sa.String(length=16), nullable=True),
        sa.Column('video_stopped', sa.Boolean(), nullable=False),
        sa.Column('connected', sa.Boolean(), nullable=False),
        sa.Column('first_joined_at', sa.DateTime(), nullable=True),
        sa.Column('last_joined_at', sa.DateTime(), nullable=True),
        sa.Column('left_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['session_id'], ['user_session.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('feed_id'),
        sa.UniqueConstraint('meeting_id', 'user_id'),
        sa.UniqueConstraint('token'),
    )
    op.create_index(op.f('ix_media_participant_meeting_id'), 'media_participant', ['meeting_id'], unique=False)
    op.create_index(op.f('ix_media_participant_user_id'), 'media_participant', ['user_id'], unique=False)
    op.create_index(op.f('ix_media_participant_session_id'), 'media_participant', ['session_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_media_participant_session_id'), table_name='media_participant')
    op.drop_index(op.f('ix_media_participant_user_id'), table_name='media_participant')
    op.drop_index(op.f('ix_media_participant_meeting_id'), table_name='media_participant')
    op.drop_table('media_participant')
    op.drop_table('media_room')
