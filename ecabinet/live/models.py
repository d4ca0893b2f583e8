from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ecabinet.core.types import UTCDateTime, utcnow
from ecabinet.extensions import db


class LiveConnection(db.Model):
    """An open Socket.IO connection. Kept in the database so any instance can find (and close)
    the sockets of a session, whichever instance holds them."""

    __tablename__ = "live_connection"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("user_session.id", ondelete="CASCADE"), index=True)
    instance: Mapped[str] = mapped_column(String(64), index=True)
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    meeting_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
