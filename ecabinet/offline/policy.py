"""Who may take what offline.

A member takes a meeting offline when they may see it and the secretariat did not forbid it; the pack
holds what ``documents.policy`` lets them read (``service.packable``). A device is its owner's only:
anyone else's is not found (404). An administrator may wipe any device; the secretariat sets a
meeting's rule. Guests and liaisons take nothing offline.
"""

from __future__ import annotations

from ecabinet.accounts.models import Role, User
from ecabinet.meetings import policy as meetings_policy

TAKERS = (Role.MEMBER, Role.CHAIR, Role.SECRETARY)


def may_take_offline(user: User) -> bool:
    return user.is_active and user.role in TAKERS


def can_use_devices(user: User, **_: object) -> bool:
    return may_take_offline(user)


def can_take_meeting(user: User, meeting_id: int | None = None, **_: object) -> bool:
    meetings_policy.can_view_meeting(user, meeting_id=meeting_id)  # Hidden (404) when not a participant
    return may_take_offline(user)


def can_set_rule(user: User, meeting_id: int | None = None, **_: object) -> bool:
    return meetings_policy.can_edit_agenda(user, meeting_id=meeting_id)


def can_list_own_devices(user: User, **_: object) -> bool:
    return may_take_offline(user)


def can_wipe_any_device(user: User, **_: object) -> bool:
    return user.is_active and user.role is Role.ADMIN
