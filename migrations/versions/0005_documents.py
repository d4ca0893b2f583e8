"""briefing documents: documents, versions, read receipts, copies, annotations, board books, search

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-25 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import ecabinet.core.types


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0003'
branch_labels = None
depends_on = None

UTC = ecabinet.core.types.UTCDateTime


def _user_fk(table, column, ondelete):
    return sa.ForeignKeyConstraint([column], ['user_account.id'],
                                   name=op.f(f'fk_{table}_{column}_user_account'), ondelete=ondelete)


def upgrade():
    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('confidential', sa.Boolean(), nullable=False),
    sa.Column('current_version', sa.Integer(), nullable=False),
    sa.Column('created_at', UTC(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_document_meeting_id_meeting'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['meeting_item.id'], name=op.f('fk_document_item_id_meeting_item'), ondelete='CASCADE'),
    _user_fk('document', 'created_by_id', 'SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document'))
    )
    op.create_index(op.f('ix_document_meeting_id'), 'document', ['meeting_id'])
    op.create_index(op.f('ix_document_item_id'), 'document', ['item_id'])

    op.create_table('document_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('page_count', sa.Integer(), nullable=False),
    sa.Column('pdf_title', sa.String(length=300), nullable=False),
    sa.Column('filename', sa.String(length=300), nullable=False),
    sa.Column('page_texts', sa.Text(), nullable=False),
    sa.Column('text_truncated', sa.Boolean(), nullable=False),
    sa.Column('active_content', sa.String(length=300), nullable=False),
    sa.Column('uploaded_at', UTC(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_document_version_document_id_document'), ondelete='CASCADE'),
    _user_fk('document_version', 'uploaded_by_id', 'SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_version')),
    sa.UniqueConstraint('document_id', 'number', name=op.f('uq_document_version_document_id_number'))
    )
    op.create_index(op.f('ix_document_version_document_id'), 'document_version', ['document_id'])
    op.create_index(op.f('ix_document_version_sha256'), 'document_version', ['sha256'])

    op.create_table('document_read_receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('first_opened_at', UTC(), nullable=False),
    sa.Column('last_opened_at', UTC(), nullable=False),
    sa.Column('opens', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['document_version.id'], name=op.f('fk_document_read_receipt_version_id_document_version'), ondelete='CASCADE'),
    _user_fk('document_read_receipt', 'user_id', 'CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_read_receipt')),
    sa.UniqueConstraint('version_id', 'user_id', name=op.f('uq_document_read_receipt_version_id_user_id'))
    )
    op.create_index(op.f('ix_document_read_receipt_version_id'), 'document_read_receipt', ['version_id'])
    op.create_index(op.f('ix_document_read_receipt_user_id'), 'document_read_receipt', ['user_id'])

    op.create_table('document_copy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('copy_code', sa.String(length=16), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=True),
    sa.Column('meeting_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('created_at', UTC(), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['document_version.id'], name=op.f('fk_document_copy_version_id_document_version'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_document_copy_meeting_id_meeting'), ondelete='CASCADE'),
    _user_fk('document_copy', 'user_id', 'CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_copy')),
    sa.UniqueConstraint('copy_code', name=op.f('uq_document_copy_copy_code'))
    )
    op.create_index(op.f('ix_document_copy_version_id'), 'document_copy', ['version_id'])
    op.create_index(op.f('ix_document_copy_user_id'), 'document_copy', ['user_id'])

    op.create_table('document_annotation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('page', sa.Integer(), nullable=True),
    sa.Column('placed_page', sa.Integer(), nullable=True),
    sa.Column('quote', sa.Text(), nullable=False),
    sa.Column('prefix', sa.String(length=200), nullable=False),
    sa.Column('suffix', sa.String(length=200), nullable=False),
    sa.Column('rects', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('shared', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTC(), nullable=False),
    sa.Column('updated_at', UTC(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_document_annotation_document_id_document'), ondelete='CASCADE'),
    _user_fk('document_annotation', 'user_id', 'CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_annotation'))
    )
    op.create_index(op.f('ix_document_annotation_document_id'), 'document_annotation', ['document_id'])
    op.create_index(op.f('ix_document_annotation_user_id'), 'document_annotation', ['user_id'])

    op.create_table('board_book',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('inputs_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('page_count', sa.Integer(), nullable=False),
    sa.Column('copy_code', sa.String(length=16), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=False),
    sa.Column('updated_at', UTC(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_board_book_meeting_id_meeting'), ondelete='CASCADE'),
    _user_fk('board_book', 'user_id', 'CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_board_book')),
    sa.UniqueConstraint('meeting_id', 'user_id', name=op.f('uq_board_book_meeting_id_user_id'))
    )
    op.create_index(op.f('ix_board_book_meeting_id'), 'board_book', ['meeting_id'])
    op.create_index(op.f('ix_board_book_user_id'), 'board_book', ['user_id'])

    op.create_table('search_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('folded', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], name=op.f('fk_search_entry_meeting_id_meeting'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['meeting_item.id'], name=op.f('fk_search_entry_item_id_meeting_item'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_search_entry_document_id_document'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_entry')),
    sa.UniqueConstraint('document_id', name=op.f('uq_search_entry_document_id'))
    )
    op.create_index(op.f('ix_search_entry_meeting_id'), 'search_entry', ['meeting_id'])
    op.create_index(op.f('ix_search_entry_item_id'), 'search_entry', ['item_id'])

    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        # An external-content FTS5 table over the folded text, kept in step by triggers.
        op.execute("CREATE VIRTUAL TABLE search_fts USING fts5(folded, content='search_entry', "
                   "content_rowid='id', tokenize='unicode61 remove_diacritics 2')")
        op.execute("CREATE TRIGGER search_entry_ai AFTER INSERT ON search_entry BEGIN "
                   "INSERT INTO search_fts(rowid, folded) VALUES (new.id, new.folded); END")
        op.execute("CREATE TRIGGER search_entry_ad AFTER DELETE ON search_entry BEGIN "
                   "INSERT INTO search_fts(search_fts, rowid, folded) VALUES ('delete', old.id, old.folded); END")
        op.execute("CREATE TRIGGER search_entry_au AFTER UPDATE ON search_entry BEGIN "
                   "INSERT INTO search_fts(search_fts, rowid, folded) VALUES ('delete', old.id, old.folded); "
                   "INSERT INTO search_fts(rowid, folded) VALUES (new.id, new.folded); END")
    elif dialect == 'postgresql':
        # A stored tsvector: matching uses the GIN index, and ranking reads it instead of re-parsing the text.
        op.execute("ALTER TABLE search_entry ADD COLUMN folded_tsv tsvector "
                   "GENERATED ALWAYS AS (to_tsvector('simple', folded)) STORED")
        op.execute("CREATE INDEX ix_search_entry_fts ON search_entry USING GIN (folded_tsv)")

    # Index the agenda items that already exist (new ones are indexed as they are written).
    from ecabinet.pdf.textfold import fold_vietnamese

    bind = op.get_bind()
    for row in bind.execute(sa.text("SELECT id, meeting_id, title, summary FROM meeting_item")).all():
        bind.execute(sa.text("INSERT INTO search_entry (kind, meeting_id, item_id, title, folded) "
                             "VALUES ('item', :m, :i, :t, :f)"),
                     {"m": row.meeting_id, "i": row.id, "t": row.title[:300],
                      "f": fold_vietnamese(f"{row.title}\n{row.summary or ''}")})


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        for trigger in ('search_entry_ai', 'search_entry_ad', 'search_entry_au'):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    elif dialect == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_search_entry_fts")
    for table in ('search_entry', 'board_book', 'document_annotation', 'document_copy', 'document_read_receipt',
                  'document_version', 'document'):
        op.drop_table(table)
