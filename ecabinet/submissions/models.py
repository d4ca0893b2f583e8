"""A ministry's submission (hồ sơ trình) to the Government: its versions, their documents, and the
comments exchanged with the secretariat.

A submission ends as an agenda item (``agenda_item_id``) or a written-opinion ballot (``ballot_id``);
its outcome is read from those, never copied here. Documents are PDFs taken in by the documents
domain's intake and kept by content hash; ``intake`` keeps what the intake learned, so that accepting
the submission attaches them to the item without taking them in again.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecabinet.accounts.models import User
from ecabinet.core.types import UTCDateTime, str_enum, utcnow
from ecabinet.extensions import db
from ecabinet.organisations.models import Organisation


class SubmissionKind(enum.StrEnum):
    DECREE = "decree"
    RESOLUTION = "resolution"
    DECISION = "decision"
    REPORT = "report"
    OTHER = "other"


class Urgency(enum.StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    VERY_URGENT = "very_urgent"


class Handling(enum.StrEnum):
    """How the ministry asks the Government to handle it."""

    MEETING = "meeting"    # at a meeting
    WRITTEN = "written"    # by written opinions of the members


class SubmissionStatus(enum.StrEnum):
    SUBMITTED = "submitted"   # waiting in the secretariat's intake queue (also after a new version)
    RETURNED = "returned"     # sent back for revision: the ministry uploads a new version
    ACCEPTED = "accepted"     # became an agenda item or a written-opinion ballot
    WITHDRAWN = "withdrawn"
    MERGED = "merged"         # taken into another submission (``merged_into_id``)


class Submission(db.Model):
    __tablename__ = "submission"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[SubmissionKind] = mapped_column(str_enum(SubmissionKind, "submission_kind", 16))
    urgency: Mapped[Urgency] = mapped_column(str_enum(Urgency, "submission_urgency", 16), default=Urgency.NORMAL)
    handling: Mapped[Handling] = mapped_column(str_enum(Handling, "submission_handling", 16))
    summary: Mapped[str] = mapped_column(Text, default="")
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                      nullable=True)
    status: Mapped[SubmissionStatus] = mapped_column(str_enum(SubmissionStatus, "submission_status", 16),
                                                     default=SubmissionStatus.SUBMITTED, index=True)
    # The date the ministry needs an answer by.
    deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # accepted, withdrawn, merged
    # What it became: kept when the item or the ballot is removed (the link is emptied).
    agenda_item_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_item.id", ondelete="SET NULL"),
                                                       nullable=True, index=True)
    ballot_id: Mapped[int | None] = mapped_column(ForeignKey("ballot.id", ondelete="SET NULL"), nullable=True,
                                                  index=True)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id", ondelete="SET NULL"),
                                                       nullable=True)

    organisation: Mapped[Organisation] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    versions: Mapped[list[SubmissionVersion]] = relationship(back_populates="submission",
                                                             order_by="SubmissionVersion.number",
                                                             cascade="all, delete-orphan")
    comments: Mapped[list[SubmissionComment]] = relationship(order_by="SubmissionComment.id",
                                                             cascade="all, delete-orphan")

    @property
    def latest(self) -> SubmissionVersion:
        return self.versions[-1]

    def __repr__(self) -> str:
        return f"<Submission {self.id} {self.status}>"


class SubmissionVersion(db.Model):
    """One set of documents: the first submission, or the ministry's answer to a return."""

    __tablename__ = "submission_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                      nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="versions")
    created_by: Mapped[User | None] = relationship()
    documents: Mapped[list[SubmissionDocument]] = relationship(back_populates="version",
                                                               order_by="SubmissionDocument.position",
                                                               cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("submission_id", "number", name="submission_version_number"),)


class SubmissionDocument(db.Model):
    __tablename__ = "submission_document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("submission_version.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(String(300), default="")
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    page_count: Mapped[int] = mapped_column(Integer)
    # JSON of the intake's PdfInfo (ecabinet.pdf.intake): attaching the file later needs no second intake.
    intake: Mapped[str] = mapped_column(Text)

    version: Mapped[SubmissionVersion] = relationship(back_populates="documents")


class SubmissionComment(db.Model):
    """What the secretariat or the ministry said at a step: a return's reasons, a withdrawal's, a note."""

    __tablename__ = "submission_comment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    # The step it was said at: 'return', 'version', 'withdraw', 'merge', 'accept'.
    step: Mapped[str] = mapped_column(String(16))
    version_number: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()
