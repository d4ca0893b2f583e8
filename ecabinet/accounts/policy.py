"""Who may do what with accounts."""

from __future__ import annotations

from ecabinet.accounts.models import Role, User


def signed_in(user: User, **_: object) -> bool:
    return user.is_active


def can_manage_users(user: User, **_: object) -> bool:
    return user.is_active and user.role is Role.ADMIN


def can_manage_own_security(user: User, **_: object) -> bool:
    return user.is_active


def holds_custody_key(user: User, **_: object) -> bool:
    """Chairs and the secretariat hold the secret ballot's keys (docs/voting.md, "Threat model");
    administrators never do, so that running the servers gives no way into a secret vote."""
    return user.role in (Role.CHAIR, Role.SECRETARY)
