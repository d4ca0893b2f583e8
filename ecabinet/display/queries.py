"""Reading room displays: the policy asks here which screen a token opens (services ask the policy)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from ecabinet.display.models import RoomDisplay
from ecabinet.extensions import db


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def display_for_token(token: str | None) -> RoomDisplay | None:
    """The active display a token opens, or None (unknown, revoked, malformed)."""
    if not token or len(token) > 100:
        return None
    display = db.session.scalar(select(RoomDisplay).where(RoomDisplay.token_hash == token_hash(token)))
    return display if display is not None and display.active else None
