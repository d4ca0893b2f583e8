"""Meetings, their agenda, participants, positions and interest declarations."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecabinet.accounts.models import User
from ecabinet.core.types import UTCDateTime, str_enum, utcnow
from ecabinet.extensions import db

# The notification table belongs to the notifications domain; named here for callers not yet importing it
# from there.
from ecabinet.notifications.models import Notification  # noqa: F401, E402
from ecabinet.organisations.models import Organisation  # noqa: E402


class MeetingKind(enum.StrEnum):
    REGULAR = "regular"
    THEMATIC = "thematic"
    EXTRAORDINARY = "extraordinary"


class MeetingMode(enum.StrEnum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    HYBRID = "hybrid"


class MeetingStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    IN_SESSION = "in_session"
    ADJOURNED = "adjourned"
    CLOSED = "closed"
    # Minutes approval (a later capability) adds its states after CLOSED.


class ConflictPolicy(enum.StrEnum):
    HIDE = "hide"        # the item is hidden from a member who declared an interest
    RECUSE = "recuse"    # they see it, but are recused from voting and left out of its quorum


class QuorumRule(enum.StrEnum):
    MORE_THAN_HALF = "more_than_half"
    TWO_THIRDS = "two_thirds"
    FIXED = "fixed"      # at least Meeting.quorum_fixed members


class ItemKind(enum.StrEnum):
    DECISION = "decision"
    DISCUSSION = "discussion"
    INFORMATION = "information"


class Confidentiality(enum.StrEnum):
    NORMAL = "normal"
    RESTRICTED = "restricted"
    CONFIDENTIAL = "confidential"


class ParticipantRole(enum.StrEnum):
    CHAIR = "chair"
    MEMBER = "member"
    SECRETARY = "secretary"
    GUEST = "guest"


class Attendance(enum.StrEnum):
    PENDING = "pending"
    IN_PERSON = "in_person"
    REMOTE = "remote"
    ABSENT = "absent"


class CheckInMode(enum.StrEnum):
    ROOM = "room"
    REMOTE = "remote"


class Position(enum.StrEnum):
    AGREE = "agree"
    OBJECT = "object"
    SPEAK = "speak"


class Meeting(db.Model):
    __tablename__ = "meeting"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[MeetingKind] = mapped_column(str_enum(MeetingKind, "meeting_kind"), default=MeetingKind.REGULAR)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64))
    place: Mapped[str] = mapped_column(String(200), default="")
    mode: Mapped[MeetingMode] = mapped_column(str_enum(MeetingMode, "meeting_mode"), default=MeetingMode.IN_PERSON)
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), nullable=True)
    status: Mapped[MeetingStatus] = mapped_column(str_enum(MeetingStatus, "meeting_status"),
                                                  default=MeetingStatus.DRAFT, index=True)
    conflict_policy: Mapped[ConflictPolicy] = mapped_column(str_enum(ConflictPolicy, "conflict_policy"),
                                                            default=ConflictPolicy.RECUSE)
    quorum_rule: Mapped[QuorumRule] = mapped_column(str_enum(QuorumRule, "quorum_rule"),
                                                    default=QuorumRule.MORE_THAN_HALF)
    quorum_fixed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Number of the last published agenda version (0 while a draft), and whether the agenda changed since.
    agenda_version: Mapped[int] = mapped_column(Integer, default=0)
    agenda_changed: Mapped[bool] = mapped_column(Boolean, default=False)
    # The item the live room is on. No foreign key: meeting and item would reference each other,
    # which SQLite's batch migrations handle badly; the service keeps it valid.
    current_item_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    copied_from_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="SET NULL"), nullable=True)
    consent_adopted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                      nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    adjourned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    chair: Mapped[User | None] = relationship(foreign_keys=[chair_id])
    items: Mapped[list[MeetingItem]] = relationship(back_populates="meeting", order_by="MeetingItem.position",
                                                    cascade="all, delete-orphan")
    participants: Mapped[list[MeetingParticipant]] = relationship(back_populates="meeting",
                                                                  cascade="all, delete-orphan")
    versions: Mapped[list[AgendaVersion]] = relationship(back_populates="meeting", order_by="AgendaVersion.number",
                                                         cascade="all, delete-orphan")

    @property
    def planned_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def agenda_minutes(self) -> int:
        return sum(item.duration_minutes for item in self.items)

    def __repr__(self) -> str:
        return f"<Meeting {self.id} {self.status} {self.title!r}>"


class MeetingItem(db.Model):
    __tablename__ = "meeting_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1-based order on the agenda
    title: Mapped[str] = mapped_column(String(300))
    # The text columns stay (versions, minutes and exports read them); the service keeps them equal to
    # the linked organisation's name and presenter's name.
    ministry: Mapped[str] = mapped_column(String(200), default="")
    presenter: Mapped[str] = mapped_column(String(200), default="")
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), nullable=True,
                                                        index=True)
    presenter_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), nullable=True, index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=10)
    summary: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[ItemKind] = mapped_column(str_enum(ItemKind, "item_kind"), default=ItemKind.DECISION)
    confidentiality: Mapped[Confidentiality] = mapped_column(str_enum(Confidentiality, "confidentiality"),
                                                             default=Confidentiality.NORMAL)
    # What the meeting decided: 'adopted_by_consent' today; the voting capability adds its own outcomes.
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="items")
    organisation: Mapped[Organisation | None] = relationship()
    presenter_user: Mapped[User | None] = relationship(foreign_keys=[presenter_id])
    positions: Mapped[list[ItemPosition]] = relationship(back_populates="item", cascade="all, delete-orphan")
    interests: Mapped[list[InterestDeclaration]] = relationship(back_populates="item", cascade="all, delete-orphan")
    guest_invitations: Mapped[list[GuestItemInvitation]] = relationship(back_populates="item",
                                                                        cascade="all, delete-orphan")

    def snapshot(self) -> dict:
        """What an agenda version freezes of this item."""
        return {"id": self.id, "position": self.position, "title": self.title, "ministry": self.ministry,
                "presenter": self.presenter, "duration_minutes": self.duration_minutes, "summary": self.summary,
                "kind": self.kind.value, "confidentiality": self.confidentiality.value}


class MeetingParticipant(db.Model):
    __tablename__ = "meeting_participant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    role: Mapped[ParticipantRole] = mapped_column(str_enum(ParticipantRole, "participant_role", 16))
    attendance: Mapped[Attendance] = mapped_column(str_enum(Attendance, "attendance", 16), default=Attendance.PENDING)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # An absent member may name a substitute (a deputy minister, say): a user of the system or just a name.
    substitute_name: Mapped[str] = mapped_column(String(200), default="")
    substitute_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                           nullable=True)
    substitute_may_vote: Mapped[bool] = mapped_column(Boolean, default=False)  # the chair decides
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    checked_in_mode: Mapped[CheckInMode | None] = mapped_column(str_enum(CheckInMode, "check_in_mode", 16),
                                                                nullable=True)
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                         nullable=True)
    # The agenda version this participant last acknowledged: the "what changed" view starts from it.
    last_seen_version: Mapped[int] = mapped_column(Integer, default=0)

    meeting: Mapped[Meeting] = relationship(back_populates="participants")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    substitute_user: Mapped[User | None] = relationship(foreign_keys=[substitute_user_id])
    guest_items: Mapped[list[GuestItemInvitation]] = relationship(back_populates="participant",
                                                                  cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    @property
    def is_voting_member(self) -> bool:
        # The chair is a member of the Government too: counted for quorum, marks positions.
        return self.role in (ParticipantRole.MEMBER, ParticipantRole.CHAIR)

    @property
    def substitute_label(self) -> str:
        if self.substitute_user is not None:
            return self.substitute_user.name
        return self.substitute_name

    @property
    def represented_by_substitute(self) -> bool:
        return self.attendance is Attendance.ABSENT and bool(self.substitute_label)


class GuestItemInvitation(db.Model):
    __tablename__ = "guest_item_invitation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("meeting_participant.id", ondelete="CASCADE"),
                                                index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("meeting_item.id", ondelete="CASCADE"), index=True)

    participant: Mapped[MeetingParticipant] = relationship(back_populates="guest_items")
    item: Mapped[MeetingItem] = relationship(back_populates="guest_invitations")

    __table_args__ = (UniqueConstraint("participant_id", "item_id"),)


class AgendaVersion(db.Model):
    """A frozen, numbered agenda: made on each publication."""

    __tablename__ = "agenda_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                        nullable=True)
    snapshot: Mapped[str] = mapped_column(Text)  # JSON: list of MeetingItem.snapshot()

    meeting: Mapped[Meeting] = relationship(back_populates="versions")

    __table_args__ = (UniqueConstraint("meeting_id", "number"),)


class ItemPosition(db.Model):
    """A member's pre-meeting position on a decision item (Estonia's workflow)."""

    __tablename__ = "item_position"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("meeting_item.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    position: Mapped[Position] = mapped_column(str_enum(Position, "item_position_value", 16))
    comment: Mapped[str] = mapped_column(String(500), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[MeetingItem] = relationship(back_populates="positions")
    member: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("item_id", "member_id"),)


class InterestDeclaration(db.Model):
    __tablename__ = "interest_declaration"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("meeting_item.id", ondelete="CASCADE"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[MeetingItem] = relationship(back_populates="interests")
    member: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("item_id", "member_id"),)


# Agenda templates live in a module of their own; imported here so that loading the meetings models
# registers their tables too.
from ecabinet.meetings.calendar_models import CalendarFeed  # noqa: E402, F401
from ecabinet.meetings.template_models import AgendaTemplate, AgendaTemplateItem  # noqa: E402, F401
