"""The documents domain's part of the live room, through the hooks the live domain declares
(ecabinet/live/hooks.py): the documents each reader may open on each item, for the room's embedded
viewer, and which documents may be presented.

Imported at app start (by documents/views.py), so the hooks are filled before the first request.
"""

from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import select

from ecabinet.accounts.models import User
from ecabinet.documents.models import Document, DocumentVersion
from ecabinet.documents.service import listed_documents
from ecabinet.extensions import db
from ecabinet.live import hooks
from ecabinet.meetings.models import Meeting


@hooks.room_documents.register("documents")
def room_documents(user: User, meeting: Meeting) -> dict[str, list[dict[str, Any]]]:
    return {str(item_id): [{"document_id": d.id, "title": d.title, "pages": d.page_count,
                            "url": url_for("documents.show", document_id=d.id)} for d in docs]
            for item_id, docs in listed_documents(user, meeting).items()}


@hooks.shared_documents.register("documents")
def shared_document(meeting: Meeting, document_id: int) -> tuple[int, int] | None:
    document = db.session.get(Document, document_id)
    if document is None or document.meeting_id != meeting.id:
        return None
    pages = db.session.scalar(select(DocumentVersion.page_count).where(
        DocumentVersion.document_id == document.id, DocumentVersion.number == document.current_version))
    return document.item_id, pages or 1
