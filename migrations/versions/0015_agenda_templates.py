"""agenda templates: a regular meeting's standing items

``agenda_template`` is a named list of standing items the secretariat starts a meeting from;
``agenda_template_item`` holds each item (title, presenting ministry as text, planned duration, kind) in
its order. Two new tables; nothing existing is changed.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 07:40:00

"""
import sqlalchemy as sa
from alembic import op

import ecabinet.core.types

# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agenda_template',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', ecabinet.core.types.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', ecabinet.core.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                            name=op.f('fk_agenda_template_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_template')),
    sa.UniqueConstraint('name', name=op.f('uq_agenda_template_name'))
    )
    op.create_table('agenda_template_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('ministry', sa.String(length=200), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('decision', 'discussion', 'information', name='item_kind', native_enum=False,
                              length=24), nullable=False),
    sa.ForeignKeyConstraint(['template_id'], ['agenda_template.id'],
                            name=op.f('fk_agenda_template_item_template_id_agenda_template'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_template_item'))
    )
    op.create_index(op.f('ix_agenda_template_item_template_id'), 'agenda_template_item', ['template_id'],
                    unique=False)


def downgrade():
    op.drop_index(op.f('ix_agenda_template_item_template_id'), table_name='agenda_template_item')
    op.drop_table('agenda_template_item')
    op.drop_table('agenda_template')
