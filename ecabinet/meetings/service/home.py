"""The member's meetings, for the home page: upcoming ones with what waits for them, and past ones.

What other domains have for the member (unread documents, pending ballots) comes through
``hooks.home_sections``: this domain imports neither.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ecabinet.accounts.models import User
from ecabinet.core.types import utcnow
from ecabinet.meetings import hooks, policy
from ecabinet.meetings.models import Meeting, MeetingStatus
from ecabinet.meetings.queries import list_meetings_for, participant_of
from ecabinet.meetings.service.positions import items_awaiting_position


@dataclass
class HomeMeeting:
    meeting: Meeting
    awaiting_positions: int
    agenda_changed_since_seen: bool
    counts: dict[str, int] = field(default_factory=dict)  # by home section: "unread_documents", "pending_ballots"

    def __getattr__(self, name: str) -> int | None:
        # A section's count reads like a field (``h.pending_ballots``); None when no domain offers it.
        if name.startswith("_") or name == "counts":
            raise AttributeError(name)
        return self.counts.get(name)


@dataclass
class MemberHome:
    upcoming: list[HomeMeeting]
    past: list[Meeting]
    sections: dict[str, hooks.HomeSection] = field(default_factory=dict)

    def entries(self, section: str) -> list[Any]:
        """What a section lists on its own (e.g. the ballots waiting for my vote, any meeting or none)."""
        found = self.sections.get(section)
        return found.entries if found is not None else []


def member_home(user: User) -> MemberHome:
    now = utcnow()
    upcoming_meetings: list[Meeting] = []
    past: list[Meeting] = []
    for meeting in sorted(list_meetings_for(user), key=lambda m: m.starts_at):
        if not policy.can_see_meeting(user, meeting):
            continue
        # Adjourned is over for the member, even on its own day (resuming it makes it current again).
        finished = meeting.status in (MeetingStatus.CLOSED, MeetingStatus.ADJOURNED) or (
            meeting.ends_at < now and meeting.status in (MeetingStatus.DRAFT, MeetingStatus.PUBLISHED))
        (past if finished else upcoming_meetings).append(meeting)
    sections = {name: contribute(user, upcoming_meetings) for name, contribute in hooks.home_sections.items()}
    upcoming = []
    for meeting in upcoming_meetings:
        participant = participant_of(meeting, user)
        seen = participant.last_seen_version if participant else meeting.agenda_version
        upcoming.append(HomeMeeting(
            meeting=meeting, awaiting_positions=len(items_awaiting_position(meeting, user)),
            agenda_changed_since_seen=0 < seen < meeting.agenda_version,
            counts={name: section.per_meeting.get(meeting.id, 0) for name, section in sections.items()}))
    past.sort(key=lambda m: m.starts_at, reverse=True)
    return MemberHome(upcoming=upcoming, past=past[:10], sections=sections)
