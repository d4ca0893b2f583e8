"""The documents domain's part of the meeting record: each item's briefing documents by title and version,
and the reader's board book in the record's export."""

from __future__ import annotations

from typing import Any

from ecabinet.core.actor import Actor
from ecabinet.documents import service
from ecabinet.meetings.models import Meeting
from ecabinet.minutes.record import record_sections
from ecabinet.minutes.service import export_files


@record_sections.connect
def documents_of_meeting(meeting: Meeting) -> dict[str, Any]:
    return {"items": {item.id: {"documents": [{"title": d.title, "version": d.current_version}
                                              for d in service.documents_of(item)]}
                      for item in meeting.items}}


@export_files.connect
def board_book_for_export(meeting: Meeting, actor: Actor) -> list[tuple[str, bytes]]:
    """The exporting reader's own board book (watermarked for them, its copy code audited).

    Built here if it is not ready: in a limited child process, whose wait does not hold up the
    event loop."""
    if actor.user is None or not service.readable_documents_exist(actor.user, meeting):
        return []
    if service.board_book_state(actor.user, meeting)["status"] != "ready":
        book = service.request_board_book(actor, meeting)
        if service.board_book_state(actor.user, meeting)["status"] != "ready":
            service.build_board_book_now(book.id)
    try:
        path, name, _code = service.open_board_book(actor, meeting)
    except service.DocumentError:
        return []
    return [(name, path.read_bytes())]
