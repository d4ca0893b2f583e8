"""Who may be in a meeting's media room: whoever the meeting's rules let see the meeting and is one of
its participants; a guest only while an item they are invited to is the current one. The chair moderates."""

from __future__ import annotations

from typing import Any

from ecabinet.accounts.models import User
from ecabinet.core.policy import Hidden
from ecabinet.meetings import policy as meetings_policy
from ecabinet.meetings import queries as meetings_queries
from ecabinet.meetings.models import Meeting, MeetingStatus, ParticipantRole

OPEN_STATUSES = (MeetingStatus.PUBLISHED, MeetingStatus.IN_SESSION)


def may_use_media(user: User, meeting: Meeting) -> bool:
    """The rule itself, for a meeting already loaded (also used to take tokens back)."""
    if not user.is_active or meeting.status not in OPEN_STATUSES:
        return False
    if meetings_policy.meeting_seen_by(user, meeting.id) is None:
        return False
    participant = meetings_queries.participant_of(meeting, user)
    if participant is None:
        return False
    if participant.role is ParticipantRole.GUEST:
        current = meeting.current_item_id
        return current is not None and any(i.id == current for i in meetings_policy.visible_items(user, meeting))
    return True


def can_join_media(user: User, meeting_id: int | None = None, **_: Any) -> bool:
    meeting = meetings_policy.meeting_seen_by(user, meeting_id)
    if meeting is None:
        raise Hidden()
    return may_use_media(user, meeting)


def can_moderate_media(user: User, meeting_id: int | None = None, **_: Any) -> bool:
    """Mute anyone, end anyone's video: the meeting's chair."""
    return meetings_policy.can_run_meeting(user, meeting_id=meeting_id)


def can_see_media(user: User, meeting_id: int | None = None, **_: Any) -> bool:
    """Who is connected by audio or video: whoever may see the meeting."""
    return meetings_policy.can_view_meeting(user, meeting_id=meeting_id)
