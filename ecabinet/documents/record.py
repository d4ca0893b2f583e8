"""The documents domain's part of the meeting record: each item's briefing documents by title and version,
and the reader's board book in the record's export.

The minutes domain sits above this one: it imports these builders and connects them to its record
(``documents_of_meeting`` to ``record_sections``, ``board_book_for_export`` to ``export_files``).
"""

from __future__ import annotations

from typing import Any

from ecabinet.accounts.models import User
from ecabinet.core.actor import Actor
from ecabinet.core.policy import Hidden
from ecabinet.documents import policy, service
from ecabinet.meetings.models import Meeting


def documents_of_meeting(meeting: Meeting, reader: User | None = None) -> dict[str, Any]:
    """Each item's documents by title and version; for a ``reader``, only the documents the documents
    policy shows them (none on an item hidden from them). Without one, every item's (the minutes' draft)."""
    return {"items": {item.id: {"documents": [{"title": d.title, "version": d.current_version}
                                              for d in service.documents_of(item)
                                              if reader is None or policy.may_view(reader, d)]}
                      for item in meeting.items}}


def _may_read(user: User, meeting: Meeting) -> bool:
    try:
        return policy.can_read_meeting_documents(user, meeting_id=meeting.id)
    except Hidden:
        return False


def board_book_for_export(meeting: Meeting, reader: User | None, actor: Actor) -> list[tuple[str, bytes]]:
    """The exporting reader's own board book (watermarked for them, its copy code audited): the documents
    of the items they may see (``queries.readable_documents``, through the meetings policy), nothing for
    the system actor.

    Built here, within the export's unit of work, if it is not ready: in a limited child process, whose
    wait does not hold up the event loop."""
    user = reader
    if user is None or not _may_read(user, meeting) or not service.readable_documents_exist(user, meeting):
        return []
    if service.board_book_state(user, meeting)["status"] != "ready":
        book = service.request_board_book(actor, meeting, queue=False)
        if service.board_book_state(user, meeting)["status"] != "ready":
            service.build_board_book_now(book.id)
    # Checked first: a DocumentError would doom the export's unit of work.
    if service.board_book_state(user, meeting)["status"] != "ready":
        return []
    path, name, _code = service.open_board_book(actor, meeting)
    return [(name, path.read_bytes())]
