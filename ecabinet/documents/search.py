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
import time
from dataclasses import dataclass

from sqlalchemy import event, insert, select, text, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, selectinload

from ecabinet.extensions import db
from ecabinet.meetings.models import Meeting, MeetingItem
from ecabinet.pdf.textfold import fold_vietnamese

_TOKEN = re.compile(r"\w+", re.UNICODE)
MAX_TOKENS = 8
MAX_INDEXED_CHARS = 200_000
SNIPPET_SCAN_CHARS = 50_000
SNIPPET_PIECE_CHARS = 1_000
RANK_WINDOW = 500  # the newest matches that are ranked (see _candidates)


def fold(text_: str) -> str:
    return fold_vietnamese(text_ or "")


def index_text(text_: str) -> str:
    """What the index holds: the folded words separated by spaces. Both engines then split it exactly as
    ``tokens`` splits a query; PostgreSQL's own parser would keep "123/2024/nd-cp" or "3.5" whole, so a
    decree number found documents on SQLite and none on PostgreSQL (migration 0010)."""
    return " ".join(_TOKEN.findall(fold(text_)))


def document_index_text(title: str, page_texts: list[str]) -> str:
    """``index_text`` of the title and the pages (one per line), cut at ``MAX_INDEXED_CHARS``: PostgreSQL's
    tsvector holds at most 1 MB, and the start of a briefing is what people look for.

    Folded page by page, stopping once enough is folded, and letting the instance's other requests and
    sockets run between pages: folding a whole document's text (up to a million characters) in one go
    stopped every socket of the instance for up to half a second while an upload was recorded. Words
    never span a line, so the pieces are the words of the whole."""
    pieces: list[str] = []
    length = 0
    for text_ in (title, *page_texts):
        piece = index_text(text_)
        if piece:
            pieces.append(piece)
            length += len(piece) + 1
        if length > MAX_INDEXED_CHARS:
            break
        time.sleep(0)  # cooperative under gevent
    return " ".join(pieces)[:MAX_INDEXED_CHARS]


def item_text(item: MeetingItem) -> str:
    return index_text(f"{item.title}\n{item.summary or ''}")


def index_document(session: Session, document, page_texts: list[str]) -> None:
    """Put the document's current text in the index (in the caller's transaction)."""
    from ecabinet.documents.models import SearchEntry

    folded = document_index_text(document.title, page_texts)
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


def _match_query(words: list[str], dialect: str) -> str:
    """All words must match, the last one as a prefix (the user may still be typing it)."""
    if dialect == "sqlite":
        return " ".join(f'"{w}"' for w in words[:-1]) + (" " if len(words) > 1 else "") + f'"{words[-1]}"*'
    return " & ".join(words[:-1] + [words[-1] + ":*"])


def count_matches(query: str) -> int:
    """How many index rows match ``query``, whoever may see them (benchmarks, diagnostics)."""
    words = tokens(query)
    if not words:
        return 0
    dialect = db.session.get_bind().dialect.name
    sql = ("SELECT count(*) FROM search_fts WHERE search_fts MATCH :q" if dialect == "sqlite"
           else "SELECT count(*) FROM search_entry WHERE folded_tsv @@ to_tsquery('simple', :q)")
    return db.session.execute(text(sql), {"q": _match_query(words, dialect)}).scalar_one()


def _candidates(user, words: list[str], limit: int) -> list:
    """Rows (id, kind, meeting_id, item_id, document_id, title) best first, before the policy filter.

    Only the newest ``RANK_WINDOW`` matches are ranked: ranking reads every match's whole indexed text,
    and a common word ("nghị định") matches nearly every document, so ranking all of them cost ~100 ms
    at 10,000 documents (profiled) while finding and ordering them by id costs a few. A query matching
    fewer rows than the window is ranked exactly as before.
    """
    dialect = db.session.get_bind().dialect.name
    scope = ""
    params: dict[str, object] = {"limit": limit, "window": RANK_WINDOW, "q": _match_query(words, dialect)}
    from ecabinet.documents.policy import is_secretary

    if not is_secretary(user):
        # A first cut in SQL (meetings the user takes part in); the policy then decides per hit.
        scope = " AND e.meeting_id IN (SELECT meeting_id FROM meeting_participant WHERE user_id = :uid)"
        params["uid"] = user.id
    # Only constant SQL is concatenated (``scope``); the query text travels as a parameter.
    if dialect == "sqlite":
        # bm25() needs the MATCH in its own query, so the window is a lower bound on the rowid, which FTS5
        # applies while it walks the match list: the rowid of the window's oldest match (0 when fewer).
        floor = ("SELECT f.rowid FROM search_fts f JOIN search_entry e ON e.id = f.rowid "  # noqa: S608
                 "WHERE f.search_fts MATCH :q" + scope + " ORDER BY f.rowid DESC LIMIT 1 OFFSET :window - 1")
        sql = ("SELECT e.id, e.kind, e.meeting_id, e.item_id, e.document_id, e.title FROM search_fts "  # noqa: S608
               "JOIN search_entry e ON e.id = search_fts.rowid WHERE search_fts MATCH :q"
               " AND search_fts.rowid >= coalesce((" + floor + "), 0)" + scope
               + " ORDER BY bm25(search_fts), e.id DESC LIMIT :limit")
    else:
        sql = ("SELECT c.id, c.kind, c.meeting_id, c.item_id, c.document_id, c.title FROM ("  # noqa: S608
               "SELECT e.id, e.kind, e.meeting_id, e.item_id, e.document_id, e.title, e.folded_tsv "
               "FROM search_entry e WHERE e.folded_tsv @@ to_tsquery('simple', :q)" + scope
               + " ORDER BY e.id DESC LIMIT :window) c"
               " ORDER BY ts_rank(c.folded_tsv, to_tsquery('simple', :q)) DESC, c.id DESC LIMIT :limit")
    return db.session.execute(text(sql), params).all()


def _folded_pieces(original: str):
    """(offset, folded piece) of ``original``, folded a piece at a time and cut at white space, so that the
    snippet of a long document folds only as far as its first match. None for a piece whose folding changes
    its length (text stored decomposed): offsets into the folded text would no longer point into the original."""
    start = 0
    while start < len(original):
        end = min(len(original), start + SNIPPET_PIECE_CHARS)
        if end < len(original):
            cut = max(original.rfind(sep, start, end) for sep in " \n\f")
            end = cut if cut > start else end
        piece = original[start:end]
        folded = fold(piece)
        yield start, (folded if len(folded) == len(piece) else None)
        start = end


def _snippet(original: str, words: list[str], width: int = 160) -> tuple[str, int | None]:
    """A passage of ``original`` around the first query word, and its page (pages split by form feeds)."""
    original = original[:SNIPPET_SCAN_CHARS]  # a first match beyond this shows the start of the text instead
    done: list[tuple[int, str | None]] = []
    walk = _folded_pieces(original)

    def pieces():  # the pieces folded so far, then fold on (each piece is folded once)
        yield from done
        for piece in walk:
            done.append(piece)
            yield piece

    at = -1
    for word in words:
        pattern = re.compile(r"\b" + re.escape(word))
        for offset, folded in pieces():
            if folded is None:
                return _snippet_folded(original, words, width)
            match = pattern.search(folded)
            if match:
                at = offset + match.start()
                break
        if at >= 0:
            break
    return _passage(original, at, width)


def _snippet_folded(original: str, words: list[str], width: int) -> tuple[str, int | None]:
    """Folding changed lengths (rare): show the folded text rather than misplace the passage."""
    folded = fold(original)
    at = next((m.start() for w in words if (m := re.search(r"\b" + re.escape(w), folded))), -1)
    return _passage(folded, at, width)


def _passage(text_: str, at: int, width: int) -> tuple[str, int | None]:
    if at < 0:
        return text_[:width].replace("\f", " ").strip(), None
    page = text_.count("\f", 0, at) + 1
    start = max(0, at - width // 3)
    passage = text_[start:start + width].replace("\f", " ").replace("\n", " ").strip()
    return ("…" if start else "") + passage + "…", page


def search(user, query: str, limit: int = 20) -> list[Hit]:
    """What ``user`` may see that matches ``query``, best first."""
    from ecabinet.documents.models import Document, DocumentVersion
    from ecabinet.meetings import policy as meetings_policy
    words = tokens(query)
    if not words:
        return []
    # First the policy, on the candidates' meeting and item alone (a document is visible exactly when
    # its agenda item is: documents.policy.may_view); then load only the hits that will be shown.
    visible: dict[int, set[int]] = {}
    shown = []
    candidates = _candidates(user, words, limit * 4)
    # The candidates' meetings with their items (and declared interests, which the "hide" rule reads) in
    # three queries, so that the policy below finds them loaded instead of loading them meeting by meeting.
    meetings = {m.id: m for m in db.session.scalars(
        select(Meeting).where(Meeting.id.in_({r.meeting_id for r in candidates}))
        .options(selectinload(Meeting.items).selectinload(MeetingItem.interests)))}
    for row in candidates:
        if row.meeting_id not in visible:
            meeting = meetings.get(row.meeting_id)
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
