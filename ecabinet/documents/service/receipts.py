"""Read tracking: who opened which version of a document, for the readers' unread marks and the
secretariat's overview of receipts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ecabinet.accounts.models import User
from ecabinet.core.types import utcnow
from ecabinet.documents import policy
from ecabinet.documents.models import Document, DocumentVersion, ReadReceipt
from ecabinet.documents.queries import readable_documents, readable_item_ids
from ecabinet.extensions import db
from ecabinet.meetings.models import Meeting, MeetingItem


def touch_receipt(user: User, version: DocumentVersion) -> None:
    receipt = db.session.scalar(select(ReadReceipt).where(ReadReceipt.version_id == version.id,
                                                          ReadReceipt.user_id == user.id))
    now = utcnow()
    if receipt is None:
        db.session.add(ReadReceipt(version_id=version.id, user_id=user.id, first_opened_at=now, last_opened_at=now))
    else:
        receipt.last_opened_at, receipt.opens = now, receipt.opens + 1


def _read_versions(user: User, documents: list[Document]) -> dict[int, set[int]]:
    """document id -> version numbers this user has opened."""
    if not documents:
        return {}
    rows = db.session.execute(select(DocumentVersion.document_id, DocumentVersion.number)
                              .join(ReadReceipt, ReadReceipt.version_id == DocumentVersion.id)
                              .where(ReadReceipt.user_id == user.id,
                                     DocumentVersion.document_id.in_([d.id for d in documents]))).all()
    read: dict[int, set[int]] = {}
    for document_id, number in rows:
        read.setdefault(document_id, set()).add(number)
    return read


@dataclass
class ReadState:
    read: bool                 # the current version has been opened
    updated_since_read: bool   # an older version was opened, not the current one


def read_states(user: User, documents: list[Document]) -> dict[int, ReadState]:
    read = _read_versions(user, documents)
    return {d.id: ReadState(read=d.current_version in read.get(d.id, set()),
                            updated_since_read=bool(read.get(d.id)) and d.current_version not in read[d.id])
            for d in documents}


@dataclass(frozen=True)
class ListedDocument:
    """One line of a document list: enough to show it without loading the document and its versions."""

    id: int
    title: str
    confidential: bool
    page_count: int
    read: bool
    updated_since_read: bool


def listed_documents(user: User, meeting: Meeting) -> dict[int, list[ListedDocument]]:
    """For the meeting page: item id -> the documents on it this user may see, in order, with the current
    version's page count and the user's read state. Two queries for the whole meeting, and plain rows:
    loading 500 documents with their versions as objects cost most of the page's time (profiled)."""
    item_ids = readable_item_ids(user, meeting)
    if not item_ids:
        return {}
    rows = db.session.execute(
        select(Document.id, Document.item_id, Document.title, Document.confidential, Document.current_version,
               DocumentVersion.page_count)
        .join(DocumentVersion, (DocumentVersion.document_id == Document.id)
              & (DocumentVersion.number == Document.current_version))
        .where(Document.meeting_id == meeting.id, Document.item_id.in_(item_ids))
        .order_by(Document.position, Document.id)).all()
    read: dict[int, set[int]] = {}
    for document_id, number in db.session.execute(
            select(DocumentVersion.document_id, DocumentVersion.number)
            .join(ReadReceipt, ReadReceipt.version_id == DocumentVersion.id)
            .join(Document, Document.id == DocumentVersion.document_id)
            .where(ReadReceipt.user_id == user.id, Document.meeting_id == meeting.id)):
        read.setdefault(document_id, set()).add(number)
    listed: dict[int, list[ListedDocument]] = {}
    for row in rows:
        seen = read.get(row.id, set())
        listed.setdefault(row.item_id, []).append(ListedDocument(
            row.id, row.title, row.confidential, row.page_count, read=row.current_version in seen,
            updated_since_read=bool(seen) and row.current_version not in seen))
    return listed


def unread_count(user: User, meeting: Meeting) -> int:
    """Documents of the meeting this user may see whose current version they have not opened."""
    documents = [d for _item, docs in readable_documents(user, meeting) for d in docs]
    states = read_states(user, documents)
    return sum(1 for d in documents if not states[d.id].read)


@dataclass
class ReceiptRow:
    document: Document
    readers: list[tuple[User, ReadReceipt | None, int | None]]  # user, receipt of the current version, last read


def receipts_overview(meeting: Meeting) -> list[ReceiptRow]:
    """For the secretariat: per document, who has opened its current version and when."""
    documents = list(db.session.scalars(select(Document).where(Document.meeting_id == meeting.id)
                                        .join(MeetingItem, MeetingItem.id == Document.item_id)
                                        .order_by(MeetingItem.position, Document.position, Document.id)))
    people = [p.user for p in meeting.participants if not policy.is_secretary(p.user)]
    rows = []
    for document in documents:
        versions = {v.id: v.number for v in document.versions}
        receipts = db.session.scalars(select(ReadReceipt).where(ReadReceipt.version_id.in_(list(versions)))).all()
        readers = []
        for user in people:
            if not policy.may_view(user, document):
                continue
            mine = [r for r in receipts if r.user_id == user.id]
            current = next((r for r in mine if versions[r.version_id] == document.current_version), None)
            last = max((versions[r.version_id] for r in mine), default=None)
            readers.append((user, current, last))
        rows.append(ReceiptRow(document, readers))
    return rows
