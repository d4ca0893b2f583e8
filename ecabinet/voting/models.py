"""Ballots, their questions (resolutions), the eligibility snapshot, participation and the votes.

Secrecy (docs/voting.md, "Threat model"): ``ballot_participation`` says *who* voted, ``ballot_vote``
says *what* was voted. In a secret ballot a vote arrives sealed (``sealed_vote``, on the voter's own
participation row: it is unreadable, so that row may name the voter). At the close the key holders
open the seals one layer at a time; each layer's contents are written as one shuffled batch under new
random keys (``ballot_sealed_vote``, then ``ballot_vote``), so nothing stored pairs a voter with a
choice: not a transaction, not an order, not a time.
"""

from __future__ import annotations

import enum
import json
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ecabinet.core.types import UTCDateTime, str_enum, utcnow
from ecabinet.extensions import db


class BallotKind(enum.StrEnum):
    LIVE = "live"          # opened and closed by the chair during the meeting
    WRITTEN = "written"    # written opinions, remote and asynchronous, with a deadline
    CONSENT = "consent"    # adoption in the consent block, from pre-meeting positions


class BallotStatus(enum.StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"  # written ballots: the chair approved the form; the secretariat sends it
    OPEN = "open"
    COUNTING = "counting"  # secret ballots: voting has ended; the key holders have yet to open the seals
    CLOSED = "closed"
    CANCELLED = "cancelled"


class VoteRule(enum.StrEnum):
    MAJORITY_CAST = "majority_cast"   # more than half of the votes counted
    MAJORITY_ALL = "majority_all"     # more than half of all eligible members
    TWO_THIRDS = "two_thirds"         # at least two thirds of the votes counted
    UNANIMITY = "unanimity"           # every counted vote is yes (and at least one)


class Meaning(enum.StrEnum):
    """What an option means for the rule; options themselves are configurable."""
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"
    OTHER = "other"  # "other opinion": cast, neither yes nor no; counted like an abstention


class Ballot(db.Model):
    __tablename__ = "ballot"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[BallotKind] = mapped_column(str_enum(BallotKind, "ballot_kind", 16))
    status: Mapped[BallotStatus] = mapped_column(str_enum(BallotStatus, "ballot_status", 16),
                                                 default=BallotStatus.DRAFT, index=True)
    # A written ballot between meetings has no meeting: its voters are all active members and the chair.
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id", ondelete="RESTRICT"),
                                                   nullable=True, index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_item.id", ondelete="SET NULL"),
                                                nullable=True, index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    rule: Mapped[VoteRule] = mapped_column(str_enum(VoteRule, "vote_rule", 16), default=VoteRule.MAJORITY_CAST)
    abstentions_count: Mapped[bool] = mapped_column(Boolean, default=False)
    secret: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_change: Mapped[bool] = mapped_column(Boolean, default=True)
    show_running: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_substitutes: Mapped[bool] = mapped_column(Boolean, default=True)
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    attachments: Mapped[str] = mapped_column(Text, default="[]")  # JSON: [{"title", "url"}]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                      nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                       nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    eligible_count: Mapped[int] = mapped_column(Integer, default=0)
    # Incremented by a conditional UPDATE (``WHERE status = 'open'``): the vote and the status check are atomic.
    votes_cast: Mapped[int] = mapped_column(Integer, default=0)
    quorum_required: Mapped[int] = mapped_column(Integer, default=0)
    # Locked at close: JSON of the result per question, the rule used, the quorum and a digest of the votes.
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Secret ballots: JSON {"layers": [{"side": "chair", "public_key": b64}, {"side": "secretariat", ...}],
    # "padded_size": n}, layers outermost first. Every vote is padded to n bytes and sealed to every layer;
    # ``unsealed_layers`` are opened.
    seal_keys: Mapped[str | None] = mapped_column(Text, nullable=True)
    unsealed_layers: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (CheckConstraint("votes_cast >= 0 AND votes_cast <= eligible_count",
                                      name="votes_within_eligible"),)

    questions: Mapped[list[BallotQuestion]] = relationship(back_populates="ballot", order_by="BallotQuestion.position",
                                                           cascade="all, delete-orphan")

    @property
    def attachment_list(self) -> list[dict[str, str]]:
        return json.loads(self.attachments or "[]")

    @property
    def result_data(self) -> dict[str, Any] | None:
        return json.loads(self.result) if self.result else None

    @property
    def seal_layers(self) -> list[dict[str, str]]:
        return json.loads(self.seal_keys)["layers"] if self.seal_keys else []

    @property
    def sealed(self) -> bool:
        return self.seal_keys is not None

    def __repr__(self) -> str:
        return f"<Ballot {self.id} {self.kind} {self.status}>"


class BallotQuestion(db.Model):
    """One resolution (live ballots have one; a written-opinion form may have several)."""

    __tablename__ = "ballot_question"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    # JSON: [{"key": "approve", "label": "Approve", "meaning": "yes", "needs_comment": false}, ...]
    options: Mapped[str] = mapped_column(Text)

    ballot: Mapped[Ballot] = relationship(back_populates="questions")

    __table_args__ = (UniqueConstraint("ballot_id", "position"),)

    @property
    def option_list(self) -> list[dict[str, Any]]:
        return json.loads(self.options)


class BallotVoter(db.Model):
    """The eligibility snapshot, taken when the ballot opens."""

    __tablename__ = "ballot_voter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id", ondelete="CASCADE"), index=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"))
    # A substitute votes for the member named here (when the chair allows it).
    for_member_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"),
                                                      nullable=True)

    voter = relationship("User", foreign_keys=[voter_id])
    for_member = relationship("User", foreign_keys=[for_member_id])

    __table_args__ = (UniqueConstraint("ballot_id", "voter_id"),)


class BallotParticipation(db.Model):
    """Who voted. Unique (ballot, voter): one vote per voter per ballot, enforced by the database; the
    composite foreign key to the snapshot means only an eligible voter can have a row at all."""

    __tablename__ = "ballot_participation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ballot_id: Mapped[int] = mapped_column(Integer, index=True)
    voter_id: Mapped[int] = mapped_column(Integer)
    voted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # sha256 of (ballot, voter, client vote id): recognises a retry, and lets the device that voted prove
    # it to change its vote, without the server keeping anything that leads to the vote row.
    client_vote_hash: Mapped[str] = mapped_column(String(64))
    changes: Mapped[int] = mapped_column(Integer, default=0)
    # Secret ballots: the vote, sealed to every layer of the ballot's keys (base64), until the first
    # layer is opened at the close; and an HMAC of the answers under the device's client vote id (which
    # the server does not keep), so that a retry is recognised without anything readable stored.
    sealed_vote: Mapped[str | None] = mapped_column(Text, nullable=True)
    answers_tag: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        UniqueConstraint("ballot_id", "voter_id"),
        ForeignKeyConstraint(["ballot_id", "voter_id"], ["ballot_voter.ballot_id", "ballot_voter.voter_id"],
                             ondelete="CASCADE"),
    )


class BallotVote(db.Model):
    """What was voted. Random key, no time stamp, no insert order; ``voter_id`` only in named ballots.
    On SQLite the table is ``WITHOUT ROWID`` (stored in key order, no hidden rowid revealing insert order)."""

    __tablename__ = "ballot_vote"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # secrets.token_hex(16)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id", ondelete="CASCADE"), index=True)
    receipt_code: Mapped[str] = mapped_column(String(16))
    answers: Mapped[str] = mapped_column(Text)  # JSON: {question_id: {"choice": key, "comment": text}}
    voter_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="RESTRICT"),
                                                 nullable=True)

    __table_args__ = (UniqueConstraint("ballot_id", "receipt_code"), {"sqlite_with_rowid": False})

    @property
    def answer_map(self) -> dict[str, dict[str, str]]:
        return json.loads(self.answers)


class BallotSealedVote(db.Model):
    """A secret vote between two layers of its seal: written at the close in one shuffled batch, under
    a random key, with nothing else (no voter, no time, no order)."""

    __tablename__ = "ballot_sealed_vote"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # secrets.token_hex(16)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id", ondelete="CASCADE"), index=True)
    layers: Mapped[int] = mapped_column(Integer)  # layers still sealed
    sealed: Mapped[str] = mapped_column(Text)

    __table_args__ = ({"sqlite_with_rowid": False},)


class BallotKeyShare(db.Model):
    """One layer's private key, sealed to one key holder's custody key (accounts.CustodyKey). Deleted
    once the layer is opened: from then on not even the holders can open that layer again."""

    __tablename__ = "ballot_key_share"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id", ondelete="CASCADE"), index=True)
    layer: Mapped[int] = mapped_column(Integer)
    holder_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    sealed_key: Mapped[str] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("ballot_id", "layer", "holder_id"),)


class BallotReminder(db.Model):
    """A reminder already sent (once per ballot and threshold)."""

    __tablename__ = "ballot_reminder"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id", ondelete="CASCADE"), index=True)
    hours_before: Mapped[int] = mapped_column(Integer)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recipients: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("ballot_id", "hours_before"),)
