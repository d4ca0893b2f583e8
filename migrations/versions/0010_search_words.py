"""search index: folded text stored as its words separated by spaces

Revision ID: 0010
Revises: 0007

PostgreSQL's parser keeps "123/2024/nd-cp", "3.5" or an e-mail address as one token, while FTS5 and
the query (``search.tokens``) split them into words, so on PostgreSQL "nghi dinh 123/2024" found
nothing. The index text is now the folded words joined by spaces (``search.index_text``), which both
engines split the same way; this rewrites the rows already indexed. No schema change.
Create Date: 2026-12-01 07:10:00

"""
import re

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0007'
branch_labels = None
depends_on = None

_WORD = re.compile(r"\w+", re.UNICODE)


def upgrade():
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, folded FROM search_entry")).all()
    for row in rows:
        words = " ".join(_WORD.findall(row.folded or ""))
        if words != row.folded:
            bind.execute(sa.text("UPDATE search_entry SET folded = :f WHERE id = :i"), {"f": words, "i": row.id})


def downgrade():
    pass  # the word form is valid index text for the earlier code too
