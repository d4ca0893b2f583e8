"""Who may see and do what with briefing documents: one protection model over meeting → item → document.

A document has no visibility of its own: it inherits its agenda item's, as decided by
``meetings.policy`` (participants of the meeting; guests only for the items they are invited to;
items hidden by a declared interest under the "hide" policy). A document the user may not see raises
``Hidden`` (404), exactly like its item. On top of that:

- confidential: view-only in the app (the watermarked viewer stream), no download, except for the
  secretariat;
- originals (unwatermarked) and read receipts: the secretariat only;
- uploading, replacing, marking confidential: whoever may edit the item (the secretariat).

Every path goes through these rules: the pages, the viewer stream (and so the thumbnails, which the
viewer draws from that stream), downloads, annotations, board books (``readable_documents``) and
search results (``may_view``).
"""

from __future__ import annotations

from ecabinet.accounts.models import Role, User
from ecabinet.core.policy import Hidden
from ecabinet.documents.models import Document
from ecabinet.documents.queries import get_document
from ecabinet.documents.queries import readable_documents as readable_documents  # the views read it here
from ecabinet.documents.queries import readable_item_ids as readable_item_ids
from ecabinet.meetings import policy as meetings_policy


def is_secretary(user: User) -> bool:
    return user.is_active and user.role is Role.SECRETARY


def _document(user: User, document_id: int | None) -> Document:
    document = get_document(document_id)
    if document is None:
        raise Hidden()
    # Raises Hidden when the meeting or the item is not visible to this user.
    meetings_policy.can_view_item(user, meeting_id=document.meeting_id, item_id=document.item_id)
    return document


def may_view(user: User, document: Document) -> bool:
    """For lists and search results: may this user see this document? Never raises."""
    try:
        return meetings_policy.can_view_item(user, meeting_id=document.meeting_id, item_id=document.item_id)
    except Hidden:
        return False


def may_download(user: User, document: Document) -> bool:
    return may_view(user, document) and (not document.confidential or is_secretary(user))


# --- rules for views (user, **url arguments) -> bool ---------------------------------------------

def can_view_document(user: User, document_id: int | None = None, **_: object) -> bool:
    """The document page, the viewer stream, annotations."""
    _document(user, document_id)
    return True


def can_download_document(user: User, document_id: int | None = None, **_: object) -> bool:
    """A watermarked copy to keep: refused (403) for confidential documents, except to the secretariat."""
    return may_download(user, _document(user, document_id))


def can_manage_document(user: User, document_id: int | None = None, **_: object) -> bool:
    """New version, confidentiality, originals, read receipts: whoever may edit the item."""
    document = _document(user, document_id)
    return meetings_policy.can_edit_item(user, meeting_id=document.meeting_id, item_id=document.item_id)


def can_upload(user: User, meeting_id: int | None = None, item_id: int | None = None, **_: object) -> bool:
    return meetings_policy.can_edit_item(user, meeting_id=meeting_id, item_id=item_id)


def can_read_meeting_documents(user: User, meeting_id: int | None = None, **_: object) -> bool:
    """The board book of a meeting: anyone who may see the meeting (it holds what they may see)."""
    return meetings_policy.can_view_meeting(user, meeting_id=meeting_id)


def can_see_receipts(user: User, meeting_id: int | None = None, **_: object) -> bool:
    return meetings_policy.can_edit_agenda(user, meeting_id=meeting_id)


def can_search(user: User, **_: object) -> bool:
    return user.is_active and user.role is not Role.LIAISON  # a liaison reads no meeting's documents
