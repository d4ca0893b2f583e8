"""Who may do what with room displays.

The secretariat issues and revokes them for a meeting it manages. A screen is not a person: it is let
in by its token alone (``display_of``), never by a user session, and sees only ``service.room_state``.
"""

from __future__ import annotations

from ecabinet.accounts.models import User
from ecabinet.display.models import RoomDisplay
from ecabinet.display.queries import display_for_token
from ecabinet.meetings import policy as meetings_policy

# The cookie that holds a screen's token once it has opened its link (HttpOnly; also sent to /socket.io/).
COOKIE = "room_display"


def can_manage_displays(user: User, meeting_id: int | None = None, **_: object) -> bool:
    return meetings_policy.can_manage_participants(user, meeting_id=meeting_id)


def display_of(token: str | None) -> RoomDisplay | None:
    """The screen a token lets in: an issued, unrevoked display. Anything else gets nothing."""
    return display_for_token(token)
