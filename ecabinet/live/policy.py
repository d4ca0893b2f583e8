"""Who may do what in the live meeting room. Built on the meetings domain's access rules."""

from __future__ import annotations

from typing import Any

from ecabinet.accounts.models import User
from ecabinet.meetings import policy as meetings_policy

# The Socket.IO rules receive the payload validated by its schema (ecabinet/live/schemas.py): the ids
# they read are there, and whole numbers in the database's range.


def _meeting_id(data: Any) -> int:
    return data["meeting_id"]


def can_join(user: User, data: Any = None, **_: object) -> bool:
    """Enter a meeting's room: anyone who may see the meeting (guests included, for their items)."""
    return meetings_policy.can_view_meeting(user, meeting_id=_meeting_id(data))


def can_chair(user: User, data: Any = None, **_: object) -> bool:
    """Chair actions: the chair of this meeting only."""
    return meetings_policy.can_run_meeting(user, meeting_id=_meeting_id(data))


def can_speak_on(user: User, data: Any = None, **_: object) -> bool:
    """Request the floor on an item: members and the chair who may see it."""
    meeting_id, item_id = _meeting_id(data), data["item_id"]
    return (meetings_policy.can_view_item(user, meeting_id=meeting_id, item_id=item_id)
            and meetings_policy.can_respond(user, meeting_id=meeting_id))


def can_withdraw_request(user: User, data: Any = None, **_: object) -> bool:
    """Withdraw one's own request (the service checks ownership)."""
    return meetings_policy.can_respond(user, meeting_id=_meeting_id(data))


def can_comment_on(user: User, data: Any = None, **_: object) -> bool:
    """Comment on an item: every participant who may see it, guests on their own items."""
    return meetings_policy.can_view_item(user, meeting_id=_meeting_id(data), item_id=data["item_id"])


def can_read_comments(user: User, data: Any = None, **_: object) -> bool:
    """Page an item's older comments: whoever may join the room and see the item (guests, their items)."""
    return can_join(user, data) and meetings_policy.can_view_item(user, meeting_id=_meeting_id(data),
                                                                  item_id=data["item_id"])


def can_check_in(user: User, data: Any = None, **_: object) -> bool:
    return meetings_policy.can_respond(user, meeting_id=_meeting_id(data))


def _same_name(a: str | None, b: str | None) -> bool:
    return bool(a and b) and " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def can_present(user: User, data: Any = None, **_: object) -> bool:
    """Share a document with the room and turn its pages: the chair, or the presenter of the item under
    discussion (the agenda names the presenter; a member whose name is that one presents it)."""
    meeting_id = _meeting_id(data)
    if meetings_policy.can_run_meeting(user, meeting_id=meeting_id):
        return True
    meeting = meetings_policy.meeting_seen_by(user, meeting_id)
    if meeting is None or meeting.current_item_id is None:
        return False
    item = next((i for i in meeting.items if i.id == meeting.current_item_id), None)
    return (item is not None and _same_name(item.presenter, user.name)
            and meetings_policy.can_view_item(user, meeting_id=meeting_id, item_id=item.id))


def can_open_room(user: User, meeting_id: int | None = None, **_: object) -> bool:
    """The room page itself (HTTP)."""
    return meetings_policy.can_view_meeting(user, meeting_id=meeting_id)


def can_open_console(user: User, meeting_id: int | None = None, **_: object) -> bool:
    return meetings_policy.can_run_meeting(user, meeting_id=meeting_id)


def can_see_item(user: User, meeting, item_id: int | None) -> bool:  # noqa: ANN001
    """Whether this user may receive an event about this item (None: a meeting-wide event)."""
    if item_id is None:
        return True
    return any(item.id == item_id for item in meetings_policy.visible_items(user, meeting))
