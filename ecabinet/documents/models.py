"""Briefing documents: documents on agenda items, their versions, read receipts, reader copies,
annotations, board books, and the search index."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecabinet.core.types import UTCDateTime, utcnow
from ecabinet.extensions import db
from ecabinet.meetings.models import MeetingItem


class Document(db.Model):
    """A briefing paper on an agenda item. Its visibility is the item's (see documents.policy)."""

    __tablename__ = "document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("meeting_item.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=1)  # order among the item's documents
    # Confidential: view-only in the app; no download, except for the secretariat.
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                      nullable=True)

    item: Mapped[MeetingItem] = relationship()
    versions: Mapped[list[DocumentVersion]] = relationship(back_populates="document",
                                                           order_by="DocumentVersion.number",
                                                           cascade="all, delete-orphan")

    @property
    def latest(self) -> DocumentVersion:
        return next(v for v in self.versions if v.number == self.current_version)

    def __repr__(self) -> str:
        return f"<Document {self.id} v{self.current_version} {self.title!r}>"


class DocumentVersion(db.Model):
    """One uploaded file. Versions are never deleted: replacing a document adds version n+1."""

    __tablename__ = "document_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    page_count: Mapped[int] = mapped_column(Integer)
    pdf_title: Mapped[str] = mapped_column(String(300), default="")
    filename: Mapped[str] = mapped_column(String(300), default="")
    # JSON list of each page's extracted text (search, and re-anchoring annotations on a new version).
    page_texts: Mapped[str] = mapped_column(Text, default="[]")
    text_truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    # Comma-separated flags from intake ('JavaScript', 'Launch', 'Polyglot', ...): never served as active.
    active_content: Mapped[str] = mapped_column(String(300), default="")
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                       nullable=True)

    document: Mapped[Document] = relationship(back_populates="versions")

    __table_args__ = (UniqueConstraint("document_id", "number"),)

    def texts(self) -> list[str]:
        return json.loads(self.page_texts or "[]")


class ReadReceipt(db.Model):
    """Who opened which version of a document, first and last time."""

    __tablename__ = "document_read_receipt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("document_version.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    first_opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opens: Mapped[int] = mapped_column(Integer, default=1)

    version: Mapped[DocumentVersion] = relationship()

    __table_args__ = (UniqueConstraint("version_id", "user_id"),)


class DocumentCopy(db.Model):
    """A watermarked copy made for one reader. The copy code printed on every page leads back here
    (and to the audit log, which records it too). The file is a cache: it may be gone."""

    __tablename__ = "document_copy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    copy_code: Mapped[str] = mapped_column(String(16), unique=True)
    version_id: Mapped[int | None] = mapped_column(ForeignKey("document_version.id", ondelete="CASCADE"),
                                                   nullable=True, index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), nullable=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # 'document' or 'board_book'
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Annotation(db.Model):
    """A highlight, a note, a pinned note or freehand ink on a page. Private unless shared with the meeting.

    Highlights and notes on a passage are anchored by the quoted text with some context (prefix/suffix)
    and the page, so they can be found again in a new version; pins and ink by their page and position
    (``geometry``), flagged with ``page_changed`` when a new version changed the text of their page.
    ``page`` is None when it could not be placed (the "unplaced" list).
    """

    __tablename__ = "document_annotation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="note")  # 'note', 'highlight', 'pin' or 'ink'
    color: Mapped[str] = mapped_column(String(16), default="yellow", server_default="yellow")
    version_number: Mapped[int] = mapped_column(Integer)           # the version it is anchored in
    page: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1-based; None: unplaced
    placed_page: Mapped[int | None] = mapped_column(Integer, nullable=True)  # last page it was placed on
    quote: Mapped[str] = mapped_column(Text, default="")
    prefix: Mapped[str] = mapped_column(String(200), default="")
    suffix: Mapped[str] = mapped_column(String(200), default="")
    rects: Mapped[str] = mapped_column(Text, default="[]")  # JSON [[x, y, w, h], ...] in page fractions
    # JSON: a pin's {"point": [x, y]}, ink's {"strokes": [{"points": [[x, y], ...], "width": w}]}, in page
    # fractions from the top left; None for highlights and notes (their rectangles are ``rects``).
    geometry: Mapped[str | None] = mapped_column(Text, nullable=True)
    # A new version changed the text of the page this pin or ink was drawn on: it may no longer fit.
    page_changed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    body: Mapped[str] = mapped_column(Text, default="")
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User")


class BoardBook(db.Model):
    """One reader's board book for one meeting: built in the background, cached by its inputs' hash."""

    __tablename__ = "board_book"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    inputs_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued, building, ready, failed
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    copy_code: Mapped[str] = mapped_column(String(16), default="")
    error: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)


class SearchEntry(db.Model):
    """What search looks in: one row per document (its current version) and per agenda item.

    ``folded`` is the text folded with ``fold_vietnamese``. The full-text index over it is kept by the
    database: an FTS5 table fed by triggers on SQLite, a GIN index on PostgreSQL (migration 0005).
    """

    __tablename__ = "search_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # 'document' or 'item'
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("meeting_item.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id", ondelete="CASCADE"),
                                                    nullable=True, unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    folded: Mapped[str] = mapped_column(Text, default="")

    item: Mapped[MeetingItem] = relationship()
