from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecabinet.accounts.models import User
from ecabinet.core.types import UTCDateTime, str_enum, utcnow
from ecabinet.extensions import db
from ecabinet.organisations.models import Organisation


class MinutesStatus(enum.StrEnum):
    DRAFT = "draft"
    CIRCULATED = "circulated"   # sent to members for comments, with a deadline
    APPROVED = "approved"       # approved by the chair; the final PDF is being produced
    FINAL = "final"             # locked; corrections are new, linked minutes


class Minutes(db.Model):
    __tablename__ = "minutes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="RESTRICT"), index=True)
    # A correction of final minutes is a new document pointing at the one it corrects.
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("minutes.id", ondelete="RESTRICT"), nullable=True)
    status: Mapped[MinutesStatus] = mapped_column(str_enum(MinutesStatus, "minutes_status", 16),
                                                  default=MinutesStatus.DRAFT)
    revision: Mapped[int] = mapped_column(Integer, default=0)  # number of the current revision
    circulation_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                       nullable=True)
    finalized_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    signed: Mapped[bool] = mapped_column(Boolean, default=False)
    signature_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    audit_head: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    revisions: Mapped[list[MinutesRevision]] = relationship(back_populates="minutes",
                                                            order_by="MinutesRevision.number")
    comments: Mapped[list[MinutesComment]] = relationship(order_by="MinutesComment.id")


class MinutesRevision(db.Model):
    """Every save is a revision; restoring an old one makes a new revision with its text."""

    __tablename__ = "minutes_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)  # sanitised HTML
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    minutes: Mapped[Minutes] = relationship(back_populates="revisions")
    author: Mapped[User | None] = relationship()

    __table_args__ = (UniqueConstraint("minutes_id", "number"),)


class MinutesComment(db.Model):
    __tablename__ = "minutes_comment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    minutes_id: Mapped[int] = mapped_column(ForeignKey("minutes.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship()


class Conclusion(db.Model):
    """The conclusions ("thông báo kết luận") of one meeting."""

    __tablename__ = "conclusion"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="RESTRICT"), unique=True)
    body: Mapped[str] = mapped_column(Text, default="")
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                     nullable=True)

    actions: Mapped[list[ActionItem]] = relationship(back_populates="conclusion", order_by="ActionItem.id")


class ActionStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class ActionItem(db.Model):
    """A follow-up task assigned to a ministry, with a responsible person and a due date."""

    __tablename__ = "action_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conclusion_id: Mapped[int] = mapped_column(ForeignKey("conclusion.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(500))
    ministry: Mapped[str] = mapped_column(String(200), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True,
                                                        index=True)
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                       nullable=True, index=True)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[ActionStatus] = mapped_column(str_enum(ActionStatus, "action_status", 16), default=ActionStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    conclusion: Mapped[Conclusion] = relationship(back_populates="actions")
    responsible: Mapped[User | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    updates: Mapped[list[ActionUpdate]] = relationship(order_by="ActionUpdate.id")


class ActionUpdate(db.Model):
    __tablename__ = "action_update"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("action_item.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    status: Mapped[ActionStatus] = mapped_column(str_enum(ActionStatus, "action_status", 16))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()
