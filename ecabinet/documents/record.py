"""The documents domain's part of the meeting record: each item's briefing documents by title and version."""

from __future__ import annotations

from typing import Any

from ecabinet.documents import service
from ecabinet.meetings.models import Meeting
from ecabinet.minutes.record import record_sections


@record_sections.connect
def documents_of_meeting(meeting: Meeting) -> dict[str, Any]:
    return {"items": {item.id: {"documents": [{"title": d.title, "version": d.current_version}
                                              for d in service.documents_of(item)]}
                      for item in meeting.items}}
