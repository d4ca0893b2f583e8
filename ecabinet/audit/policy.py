"""Who may read the audit log."""

from __future__ import annotations

from ecabinet.accounts.models import Role, User


def can_view_audit(user: User, **_: object) -> bool:
    return user.is_active and user.role is Role.ADMIN
