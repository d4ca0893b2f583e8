"""Full-text search over briefing documents and agenda items, ignoring Vietnamese diacritics.

One interface, two engines: SQLite FTS5 (``search_fts``, an external-content table over
``search_entry.folded`` kept in step by triggers) and PostgreSQL full-text search
(a stored ``to_tsvector('simple', folded)`` column with a GIN index). Both index text already folded with
``fold_vietnamese`` and fold the query the same way, so "nghi dinh" finds "Nghị định".

Results are filtered through the documents policy before anyone sees them.

The index holds one row per document (title + text of its current version) and one per agenda item
(title + summary). Items are indexed by a flush listener, so whichever domain edits an item, its row
follows in the same transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import event, insert, select, text, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from ecabinet.documents.textfold import fold_vietnamese
from ecabinet.extensions import db
from ecabinet.meetings.models import MeetingItem

_TOKEN = re.compile(r"\w+", re.UNICODE)
MAX_TOKENS = 8
MAX_INDEXED_CHARS = 200_000
SNIPPET_SCAN_CHARS = 50_000


def fold(text_: str) -> str:
    return fold_vietnamese(text_ or "")


def item_text(item: MeetingItem) -> str:
    return fold(f"{item.title}\n{item.summary or ''}")


def index_document(session: Session, document, page_texts: list[str]) -> None:
    """Put the document's current text in the index (in the caller's transaction)."""
    from ecabinet.documents.models import SearchEntry

    # Bounded: PostgreSQL's tsvector holds at most 1 MB; the start of a briefing is what people look for.
    folded = fold(document.title + "\n" + "\n".join(page_texts))[:MAX_INDEXED_CHARS]
    entry = session.query(SearchEntry).filter_by(document_id=document.id).one_or_none()
    if entry is None:
        session.add(SearchEntry(kind="document", meeting_id=document.meeting_id, item_id=document.item_id,
                                document_id=document.id, title=document.title, folded=folded))
    else:
        entry.title, entry.folded, entry.item_id = document.title, folded, document.item_id


@event.listens_for(Session, "after_flush")
def _index_items(session: Session, _ctx) -> None:  # noqa: ANN001
    items = [o for o in (*session.new, *session.dirty) if isinstance(o, MeetingItem) and o.id is not None]
    if not items:
        return
    from ecabinet.documents.models import SearchEntry

    table = SearchEntry.__table__
    items_table = MeetingItem.__table__
    conn = session.connection()
    for item in items:
        state = sa_inspect(item)
        if item in session.deleted or state.deleted or state.was_deleted:
            continue  # its row is gone (and its index row with it, by the foreign key's cascade)
        values = {"title": item.title[:300], "folded": item_text(item)}
        done = conn.execute(update(table).where(table.c.kind == "item", table.c.item_id == item.id).values(**values))
        # An item removed from its meeting's list is deleted in this same flush (delete-orphan) without
        # showing as deleted yet: index only rows that still exist.
        if done.rowcount == 0 and conn.execute(select(items_table.c.id).where(items_table.c.id == item.id)).first():
            conn.execute(insert(table).values(kind="item", meeting_id=item.meeting_id, item_id=item.id, **values))


def reindex_items() -> int:
    """Index every agenda item (after loading data written without the listener)."""
    from sqlalchemy import select

    from ecabinet.documents.models import SearchEntry

    items = db.session.scalars(select(MeetingItem)).all()

    table = SearchEntry.__table__
    conn = db.session.connection()
    for item in items:
        values = {"title": item.title[:300], "folded": item_text(item)}
        done = conn.execute(update(table).where(table.c.kind == "item", table.c.item_id == item.id).values(**values))
        if done.rowcount == 0:
            conn.execute(insert(table).values(kind="item", meeting_id=item.meeting_id, item_id=item.id, **values))
    return len(items)


@dataclass
class Hit:
    kind: str           # 'document' or 'item'
    meeting_id: int
    item_id: int
    document_id: int | None
    title: str
    snippet: str
    page: int | None = None


def tokens(query: str) -> list[str]:
    return _TOKEN.findall(fold(query))[:MAX_TOKENS]


def _candidates(user, words: list[str], limit: int) -> list:
    """Rows (id, kind, meeting_id, item_id, document_id, title) best first, before the policy filter."""
    dialect = db.session.get_bind().dialect.name
    scope = ""
    params: dict[str, object] = {"limit": limit}
    from ecabinet.documents.policy import is_secretary

    if not is_secretary(user):
        # A first cut in SQL (meetings the user takes part in); the policy then decides per hit.
        scope = " AND e.meeting_id IN (SELECT meeting_id FROM meeting_participant WHERE user_id = :uid)"
        params["uid"] = user.id
    if dialect == "sqlite":
        params["q"] = " ".join(f'"{w}"' for w in words[:-1]) + (" " if len(words) > 1 else "") + f'"{words[-1]}"*'
        # Only constant SQL is concatenated (``scope``); the query text travels as a parameter.
        sql = ("SELECT e.id, e.kind, e.meeting_id, e.item_id, e.document_id, e.title FROM search_fts "  # noqa: S608
               "JOIN search_entry e ON e.id = search_fts.rowid WHERE search_fts MATCH :q" + scope
               + " ORDER BY bm25(search_fts) LIMIT :limit")
    else:
        params["q"] = " & ".join(words[:-1] + [words[-1] + ":*"])
        sql = ("SELECT e.id, e.kind, e.meeting_id, e.item_id, e.document_id, e.title FROM search_entry e "  # noqa: S608
               "WHERE e.folded_tsv @@ to_tsquery('simple', :q)" + scope
               + " ORDER BY ts_rank(e.folded_tsv, to_tsquery('simple', :q)) DESC, e.id DESC LIMIT :limit")
    return db.session.execute(text(sql), params).all()


def _snippet(original: str, words: list[str], width: int = 160) -> tuple[str, int | None]:
    """A passage of ``original`` around the first query word, and its page (pages split by form feeds)."""
    original = original[:SNIPPET_SCAN_CHARS]  # a first match beyond this shows the start of the text instead
    folded = fold(original)
    if len(folded) != len(original):
        original = folded  # folding changed lengths (rare): show the folded text rather than misplace
    at = -1
    for word in words:
        match = re.search(r"\b" + re.escape(word), folded)
        if match:
            at = match.start()
            break
    if at < 0:
        return original[:width].replace("\f", " ").strip(), None
    page = original.count("\f", 0, at) + 1
    start = max(0, at - width // 3)
    passage = original[start:start + width].replace("\f", " ").replace("\n", " ").strip()
    return ("…" if start else "") + passage + "…", page


def search(user, query: str, limit: int = 20) -> list[Hit]:
    """What ``user`` may see that matches ``query``, best first."""
    from ecabinet.documents.models import Document, DocumentVersion
    from ecabinet.meetings import policy as meetings_policy
    from ecabinet.meetings.service import get_meeting

    words = tokens(query)
    if not words:
        return []
    # First the policy, on the candidates' meeting and item alone (a document is visible exactly when
    # its agenda item is: documents.policy.may_view); then load only the hits that will be shown.
    visible: dict[int, set[int]] = {}
    shown = []
    for row in _candidates(user, words, limit * 4):
        if row.meeting_id not in visible:
            meeting = get_meeting(row.meeting_id)
            visible[row.meeting_id] = {i.id for i in meetings_policy.visible_items(user, meeting)} if meeting else set()
        if row.item_id in visible[row.meeting_id]:
            shown.append(row)
            if len(shown) >= limit:
                break
    document_ids = [r.document_id for r in shown if r.kind == "document"]
    documents = {d.id: d for d in db.session.scalars(select(Document).where(Document.id.in_(document_ids)))} \
        if document_ids else {}
    versions = {v.document_id: v for v in db.session.scalars(
        select(DocumentVersion).join(Document, Document.id == DocumentVersion.document_id)
        .where(DocumentVersion.document_id.in_(document_ids), DocumentVersion.number == Document.current_version))} \
        if document_ids else {}
    items = {i.id: i for i in db.session.scalars(select(MeetingItem).where(
        MeetingItem.id.in_([r.item_id for r in shown if r.kind != "document"])))}
    hits: list[Hit] = []
    for row in shown:
        if row.kind == "document":
            document, version = documents.get(row.document_id), versions.get(row.document_id)
            if document is None or version is None:
                continue
            snippet, page = _snippet("\f".join(version.texts()), words)
            hits.append(Hit("document", row.meeting_id, row.item_id, document.id, document.title, snippet, page))
        else:
            item = items.get(row.item_id)
            if item is None:
                continue
            snippet, _page = _snippet(item.summary or item.title, words)
            hits.append(Hit("item", row.meeting_id, row.item_id, None, f"{item.position}. {item.title}", snippet))
    return hits
