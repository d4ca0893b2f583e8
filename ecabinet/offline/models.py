"""A tablet's offline store (``OfflineDevice``), the meetings it holds (``OfflinePack``), the changes made
offline and already applied (``OfflineChange``, so that a change sent twice is stored once) and a
meeting's rule for packs (``OfflineRule``).

The device's key is never kept here: the server issues it once, to the signed-in owner, and keeps only
a fingerprint of it. A device belongs to one sign-in (``session_id``): when that sign-in ends (logout,
deactivation, password reset, idle time), the next check-in wipes the device.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecabinet.accounts.models import User
from ecabinet.core.types import UTCDateTime, utcnow
from ecabinet.extensions import db


class OfflineDevice(db.Model):
    __tablename__ = "offline_device"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("user_session.id", ondelete="SET NULL"),
                                                   nullable=True, index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    key_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    wipe_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    wipe_reason: Mapped[str] = mapped_column(String(32), default="")
    wiped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    held_bytes: Mapped[int] = mapped_column(BigInteger, default=0)

    user: Mapped[User] = relationship()
    packs: Mapped[list[OfflinePack]] = relationship(back_populates="device", cascade="all, delete-orphan",
                                                    order_by="OfflinePack.id")


class OfflinePack(db.Model):
    __tablename__ = "offline_pack"
    __table_args__ = (UniqueConstraint("device_id", "meeting_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("offline_device.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    document_ids: Mapped[str] = mapped_column(Text, default="[]")  # JSON: what the device reported holding
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    device: Mapped[OfflineDevice] = relationship(back_populates="packs")


class OfflineChange(db.Model):
    """An annotation change made offline and applied: its client id makes a resend harmless."""

    __tablename__ = "offline_change"
    __table_args__ = (UniqueConstraint("user_id", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("offline_device.id", ondelete="SET NULL"),
                                                  nullable=True)
    op: Mapped[str] = mapped_column(String(16))  # create, update, delete
    annotation_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # no foreign key: a tombstone
    outcome: Mapped[str] = mapped_column(String(16))  # applied, superseded, gone, refused
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)  # on the device's clock
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OfflineRule(db.Model):
    """The secretariat's choice for one meeting; without a row: allowed, confidential documents excluded."""

    __tablename__ = "offline_rule"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True)
    allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    confidential_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
