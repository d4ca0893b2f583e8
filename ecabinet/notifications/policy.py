"""Who may read notifications: every active user, their own only (the service reads by user)."""

from __future__ import annotations

from ecabinet.accounts.models import User


def can_read_notifications(user: User, **_: object) -> bool:
    return user.is_active
