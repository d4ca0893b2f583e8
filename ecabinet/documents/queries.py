"""Reading briefing documents: the lookups that both the policy and the services need.

Kept apart from the services so that ``documents.policy`` can use them without importing a service.
What a user may see is decided by ``meetings.policy`` (a document is visible exactly when its item is).
"""

from __future__ import annotations

from sqlalchemy import select

from ecabinet.accounts.models import User
from ecabinet.documents.models import Document, DocumentVersion
from ecabinet.extensions import db
from ecabinet.meetings import policy as meetings_policy
from ecabinet.meetings.models import Meeting, MeetingItem


def get_document(document_id: int | None) -> Document | None:
    return db.session.get(Document, document_id) if document_id is not None else None


def documents_of(item: MeetingItem) -> list[Document]:
    """The item's documents, in their order (whoever may see them: callers filter through the policy)."""
    return list(db.session.scalars(select(Document).where(Document.item_id == item.id)
                                   .order_by(Document.position, Document.id)))


def version_of(document: Document, number: int | None = None) -> DocumentVersion | None:
    """A version of the document by number; the current one by default."""
    number = number or document.current_version
    return next((v for v in document.versions if v.number == number), None)


def readable_item_ids(user: User, meeting: Meeting) -> list[int]:
    """The items whose documents this user may see, in agenda order (a document is visible exactly when
    its item is)."""
    return [item.id for item in meetings_policy.visible_items(user, meeting)]


def readable_documents(user: User, meeting: Meeting) -> list[tuple[MeetingItem, list[Document]]]:
    """Each agenda item the user may see, in agenda order, with the documents on it (in order)."""
    items = meetings_policy.visible_items(user, meeting)
    if not items:
        return []
    documents = db.session.scalars(select(Document).where(Document.meeting_id == meeting.id)
                                   .order_by(Document.position, Document.id)).all()
    by_item: dict[int, list[Document]] = {}
    for document in documents:
        by_item.setdefault(document.item_id, []).append(document)
    return [(item, by_item.get(item.id, [])) for item in items]


def readable_documents_exist(user: User, meeting: Meeting) -> bool:
    return any(docs for _item, docs in readable_documents(user, meeting))
