"""In-app notifications: one row per reader, rendered in the reader's language when shown."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ecabinet.core.types import UTCDateTime, utcnow
from ecabinet.extensions import db


class Notification(db.Model):
    """An in-app message. ``key`` is an English msgid, translated when shown, with ``params`` (JSON)."""

    __tablename__ = "notification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    # The meeting the message is about, if any: a table name, not an import (meetings sit above this domain).
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), nullable=True)
    key: Mapped[str] = mapped_column(String(200))
    params: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
