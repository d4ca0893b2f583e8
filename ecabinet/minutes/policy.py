"""Who may do what with minutes, conclusions, action items and the archive."""

from __future__ import annotations

from ecabinet.accounts.models import Role, User
from ecabinet.core.policy import Hidden
from ecabinet.meetings import policy as meetings_policy
from ecabinet.meetings.queries import get_meeting
from ecabinet.minutes.models import MinutesStatus
from ecabinet.minutes.queries import get_action, get_minutes


def _minutes(user: User, minutes_id: int | None):  # noqa: ANN202
    minutes = get_minutes(minutes_id) if minutes_id else None
    if minutes is None or not can_see_record(user, meeting_id=minutes.meeting_id):
        raise Hidden()
    meeting = get_meeting(minutes.meeting_id)
    # Drafts are the secretariat's and the chair's until circulated.
    if minutes.status is MinutesStatus.DRAFT and not (user.role is Role.SECRETARY
                                                      or meetings_policy.is_chair_of(user, meeting)):
        raise Hidden()
    return minutes, meeting


def may_read_record(user: User, meeting_id: int) -> bool:
    """``can_see_record`` as a plain answer (no Hidden): for choosing whom to tell about the record."""
    try:
        return can_see_record(user, meeting_id=meeting_id)
    except Hidden:
        return False


def can_see_record(user: User, meeting_id: int | None = None, **_: object) -> bool:
    """The meeting's record (minutes, conclusions, export): its participants other than guests, and the
    secretariat. Guests were there for one item only."""
    return meetings_policy.can_see_participants(user, meeting_id=meeting_id)


def can_draft(user: User, meeting_id: int | None = None, **_: object) -> bool:
    return can_see_record(user, meeting_id=meeting_id) and user.role is Role.SECRETARY


def can_view_minutes(user: User, minutes_id: int | None = None, **_: object) -> bool:
    _minutes(user, minutes_id)
    return True


def can_edit_minutes(user: User, minutes_id: int | None = None, **_: object) -> bool:
    _minutes(user, minutes_id)
    return user.role is Role.SECRETARY


def can_comment_minutes(user: User, minutes_id: int | None = None, **_: object) -> bool:
    _found, meeting = _minutes(user, minutes_id)
    return meetings_policy.can_respond(user, meeting_id=meeting.id)


def can_approve_minutes(user: User, minutes_id: int | None = None, **_: object) -> bool:
    _found, meeting = _minutes(user, minutes_id)
    return meetings_policy.is_chair_of(user, meeting)


def can_write_conclusions(user: User, meeting_id: int | None = None, **_: object) -> bool:
    return can_draft(user, meeting_id=meeting_id)


def can_issue_conclusions(user: User, meeting_id: int | None = None, **_: object) -> bool:
    return meetings_policy.can_run_meeting(user, meeting_id=meeting_id)


def can_list_actions(user: User, **_: object) -> bool:
    return user.is_active and user.role not in (Role.GUEST, Role.LIAISON)


def can_update_action(user: User, action_id: int | None = None, **_: object) -> bool:
    action = get_action(action_id) if action_id else None
    if action is None or not can_see_record(user, meeting_id=action.conclusion.meeting_id):
        raise Hidden()
    return user.role is Role.SECRETARY or action.responsible_id == user.id


def can_browse_archive(user: User, **_: object) -> bool:
    return user.is_active and user.role not in (Role.GUEST, Role.LIAISON)
