"""What the app keeps of the media rooms: one Janus room per meeting, and each participant's place in it
(their feed, their current token, how they attend: audio only or audio and video)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecabinet.accounts.models import User
from ecabinet.core.types import UTCDateTime, str_enum, utcnow
from ecabinet.extensions import db


class MediaMode(enum.StrEnum):
    AUDIO = "audio"   # heard (when given the floor) and hears, no camera
    VIDEO = "video"   # audio and camera


class MediaRoom(db.Model):
    """The meeting's room on Janus, created by the app when the first participant joins."""

    __tablename__ = "media_room"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True)
    janus_room: Mapped[int] = mapped_column(BigInteger, unique=True)
    # The room's secret on Janus (moderation, kicks, its list of allowed tokens): the app's only.
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class MediaParticipant(db.Model):
    """One participant's place in a meeting's media room. ``token`` is set while they hold a live one."""

    __tablename__ = "media_participant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    # Their publisher id in the Janus room (the app assigns it; another id is kicked).
    feed_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    token: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The sign-in session the token was given to: ending it removes the token.
    session_id: Mapped[int | None] = mapped_column(ForeignKey("user_session.id", ondelete="SET NULL"),
                                                   nullable=True, index=True)
    mode: Mapped[MediaMode] = mapped_column(str_enum(MediaMode, "media_mode", 16), default=MediaMode.VIDEO)
    # The streams they publish, as their client announced them (the moderation acts on these).
    audio_mid: Mapped[str | None] = mapped_column(String(16), nullable=True)
    video_mid: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # The chair ended their video: it stays off until they are given the floor again.
    video_stopped: Mapped[bool] = mapped_column(Boolean, default=False)
    connected: Mapped[bool] = mapped_column(Boolean, default=False)
    first_joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)
