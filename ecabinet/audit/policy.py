"""Who may read the audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecabinet.core.roles import Role

if TYPE_CHECKING:
    from ecabinet.accounts.models import User


def can_view_audit(user: User, **_: object) -> bool:
    return user.is_active and user.role is Role.ADMIN
