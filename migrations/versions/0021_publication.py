"""what the chair has published to the public: conclusions and decisions

One row per publication, with what the public reads frozen in it (title, text, counts and outcomes);
a withdrawal keeps the row and records who withdrew it and when.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 11:05:00

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'publication',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('meeting_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum('conclusion', 'decision', name='publication_kind', native_enum=False,
                                  length=16), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=True),
        sa.Column('conclusion_id', sa.Integer(), nullable=True),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('result', sa.Text(), nullable=False),
        sa.Column('published_at', sa.DateTime(), nullable=False),
        sa.Column('published_by_id', sa.Integer(), nullable=True),
        sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
        sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_publication_meeting_id_meeting'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['item_id'], ['meeting_item.id'], name=op.f('fk_publication_item_id_meeting_item'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['conclusion_id'], ['conclusion.id'],
                                name=op.f('fk_publication_conclusion_id_conclusion'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                                name=op.f('fk_publication_organisation_id_organisation'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['published_by_id'], ['user_account.id'],
                                name=op.f('fk_publication_published_by_id_user_account'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['withdrawn_by_id'], ['user_account.id'],
                                name=op.f('fk_publication_withdrawn_by_id_user_account'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_publication')),
    )
    op.create_index(op.f('ix_publication_meeting_id'), 'publication', ['meeting_id'], unique=False)
    op.create_index(op.f('ix_publication_item_id'), 'publication', ['item_id'], unique=False)
    op.create_index(op.f('ix_publication_published_at'), 'publication', ['published_at'], unique=False)
    op.create_index(op.f('ix_publication_withdrawn_at'), 'publication', ['withdrawn_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_publication_withdrawn_at'), table_name='publication')
    op.drop_index(op.f('ix_publication_published_at'), table_name='publication')
    op.drop_index(op.f('ix_publication_item_id'), table_name='publication')
    op.drop_index(op.f('ix_publication_meeting_id'), table_name='publication')
    op.drop_table('publication')
