from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ecabinet.core.types import UTCDateTime, utcnow
from ecabinet.extensions import db

GENESIS_HASH = "0" * 64


class AuditEntry(db.Model):
    """One state change. Rows are never updated or deleted: database triggers refuse both.

    ``hash = sha256(prev_hash || canonical entry)``; ``prev_hash`` is unique, so the chain cannot fork
    even if two writers race (the loser's transaction fails instead of silently branching).
    """

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="RESTRICT"), nullable=True, index=True)
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    object_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    meeting_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    details: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditCheckpoint(db.Model):
    """A signed statement of the chain's head at a moment: "entry ``entry_id`` was the newest, with this
    hash". Deleting entries from the chain's end, or rewriting one and every later link, no longer
    verifies against it. Append-only like the entries; the same line is also written to the checkpoint
    file, which the database's owner cannot rewrite.
    """

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    entry_id: Mapped[int] = mapped_column(Integer, index=True)
    entry_hash: Mapped[str] = mapped_column(String(64))
    # What prompted it: "periodic", "meeting.adjourn", "minutes.final", "manual".
    reason: Mapped[str] = mapped_column(String(64))
    meeting_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    key_id: Mapped[str] = mapped_column(String(64))
    # Ed25519 over the checkpoint's canonical JSON, base64 (deterministic: also the checkpoint's identity).
    signature: Mapped[str] = mapped_column(String(128), unique=True)
