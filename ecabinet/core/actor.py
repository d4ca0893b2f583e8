"""Who is acting, and from where: the one thing services need to know about a request.

Services never touch Flask's request; views and socket handlers build an Actor and pass it in,
and the CLI passes Actor.system().
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ecabinet.accounts.models import User


@dataclass(frozen=True)
class Actor:
    user: User | None
    ip: str | None = None
    label: str | None = None  # for the CLI and background jobs, which have no user

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(user=None, ip=None, label=label)

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user is not None else None

    @property
    def display(self) -> str:
        if self.user is not None:
            return self.user.email
        return self.label or "anonymous"


def current_actor() -> Actor:
    """The actor of the current HTTP request or Socket.IO event."""
    from flask import request
    from flask_login import current_user

    user = current_user._get_current_object() if current_user.is_authenticated else None
    return Actor(user=user, ip=request.remote_addr)
