"""The documents domain's part of the member's home: how many documents of each upcoming meeting they
have not read yet."""

from __future__ import annotations

from ecabinet.accounts.models import User
from ecabinet.documents.service import unread_count
from ecabinet.meetings.hooks import HomeSection, home_sections
from ecabinet.meetings.models import Meeting


@home_sections.register("unread_documents")
def unread_documents(user: User, meetings: list[Meeting]) -> HomeSection:
    return HomeSection(per_meeting={meeting.id: unread_count(user, meeting) for meeting in meetings})
