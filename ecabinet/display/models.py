"""A display token: one screen of one meeting's room."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecabinet.core.types import UTCDateTime, str_enum, utcnow
from ecabinet.extensions import db


class WithheldItems(enum.StrEnum):
    """How the screen shows an item not everyone in the room may see (confidential, or hidden from
    someone present): by its title alone, or not at all."""

    TITLE = "title"
    NOTHING = "nothing"


class RoomDisplay(db.Model):
    """Only the token's SHA-256 is kept: the token itself is shown once, when it is issued."""

    __tablename__ = "room_display"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    withheld_items: Mapped[WithheldItems] = mapped_column(str_enum(WithheldItems, "withheld_items", 16),
                                                          default=WithheldItems.TITLE)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                      nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    meeting = relationship("Meeting")
    created_by = relationship("User")

    @property
    def active(self) -> bool:
        return self.revoked_at is None
