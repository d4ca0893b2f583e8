"""The documents domain's part of the meeting record: each item's briefing documents by title and version,
and the reader's board book in the record's export.

The minutes domain sits above this one: it imports these builders and connects them to its record
(``documents_of_meeting`` to ``record_sections``, ``board_book_for_export`` to ``export_files``).
"""

from __future__ import annotations

from typing import Any

from ecabinet.core.actor import Actor
from ecabinet.documents import service
from ecabinet.meetings.models import Meeting


def documents_of_meeting(meeting: Meeting) -> dict[str, Any]:
    return {"items": {item.id: {"documents": [{"title": d.title, "version": d.current_version}
                                              for d in service.documents_of(item)]}
                      for item in meeting.items}}


def board_book_for_export(meeting: Meeting, actor: Actor) -> list[tuple[str, bytes]]:
    """The exporting reader's own board book (watermarked for them, its copy code audited).

    Built here, within the export's unit of work, if it is not ready: in a limited child process, whose
    wait does not hold up the event loop."""
    user = actor.user
    if user is None or not service.readable_documents_exist(user, meeting):
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
