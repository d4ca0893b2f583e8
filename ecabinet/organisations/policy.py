"""Who may do what with the list of organisations.

The list is reference data: administrators and the secretariat keep it (the secretariat prepares the
agendas that name the presenting ministries). Everyone signed in reads it through the pickers of the
forms they may use.
"""

from __future__ import annotations

from typing import Any

from ecabinet.core.roles import Role

MANAGERS = (Role.ADMIN, Role.SECRETARY)


def can_manage_organisations(user: Any, **_: object) -> bool:
    return bool(user.is_active) and user.role in MANAGERS
