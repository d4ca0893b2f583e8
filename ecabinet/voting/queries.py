"""Reads of ballots that the voting policy and the services both need (no writes, no rules).

The policy sits below the services (the services ask it), so what both read lives here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from ecabinet.accounts.models import User
from ecabinet.extensions import db
from ecabinet.meetings.models import Meeting
from ecabinet.voting.models import Ballot, BallotKind, BallotParticipation, BallotStatus, BallotVoter


def get_ballot(ballot_id: Any) -> Ballot | None:
    if isinstance(ballot_id, bool) or not isinstance(ballot_id, int | str):
        return None
    try:
        ballot_id = int(ballot_id)
    except ValueError:
        return None
    if not 0 < ballot_id < 2**31:
        return None
    return db.session.get(Ballot, ballot_id)


def ballots_for_meeting(meeting: Meeting) -> list[Ballot]:
    return list(db.session.scalars(select(Ballot).where(Ballot.meeting_id == meeting.id).order_by(Ballot.id)))


def list_ballots() -> list[Ballot]:
    return list(db.session.scalars(select(Ballot).order_by(Ballot.id.desc())))


def is_eligible(ballot: Ballot, user: User | None) -> bool:
    return user is not None and db.session.scalar(select(BallotVoter.id).where(
        BallotVoter.ballot_id == ballot.id, BallotVoter.voter_id == user.id)) is not None


def has_voted(ballot: Ballot, user: User | None) -> bool:
    return user is not None and db.session.scalar(select(BallotParticipation.id).where(
        BallotParticipation.ballot_id == ballot.id, BallotParticipation.voter_id == user.id)) is not None


def pending_ballots_for(user: User) -> list[Ballot]:
    """Open ballots this user may vote in and has not yet voted in (for the home page)."""
    voted = select(BallotParticipation.ballot_id).where(BallotParticipation.voter_id == user.id)
    return list(db.session.scalars(
        select(Ballot).join(BallotVoter, BallotVoter.ballot_id == Ballot.id)
        .where(BallotVoter.voter_id == user.id, Ballot.status == BallotStatus.OPEN, Ballot.id.not_in(voted))
        .order_by(Ballot.deadline.is_(None), Ballot.deadline, Ballot.id)))


def ballots_to_count() -> list[Ballot]:
    """Secret ballots whose voting has ended and whose seal is not yet all open."""
    return list(db.session.scalars(select(Ballot).where(Ballot.status == BallotStatus.COUNTING)
                                   .order_by(Ballot.closed_at, Ballot.id)))


def missing_voters(ballot: Ballot) -> list[User]:
    """Eligible voters who have not answered yet (the secretariat's follow-up list)."""
    voted = select(BallotParticipation.voter_id).where(BallotParticipation.ballot_id == ballot.id)
    return list(db.session.scalars(
        select(User).join(BallotVoter, BallotVoter.voter_id == User.id)
        .where(BallotVoter.ballot_id == ballot.id, User.id.not_in(voted)).order_by(User.name)))


def voters_of(ballot: Ballot) -> list[BallotVoter]:
    return list(db.session.scalars(select(BallotVoter).where(BallotVoter.ballot_id == ballot.id)
                                   .order_by(BallotVoter.id)))


# --- the facts of open ballots, cached per process -------------------------------------------------

@dataclass(frozen=True)
class QuestionFacts:
    id: int
    option_list: list[dict[str, Any]]


@dataclass(frozen=True)
class BallotFacts:
    """What the checks before the lock read of an open ballot; none of it changes while it is open."""

    id: int
    kind: BallotKind
    status: BallotStatus
    secret: bool
    meeting_id: int | None
    item_id: int | None
    deadline: datetime | None
    questions: tuple[QuestionFacts, ...]
    seal_keys: str | None = None  # secret ballots: the public keys votes are sealed to


_FACTS_KEY = "ecabinet.voting.open_ballots"
_FACTS_MAX = 1000


def open_ballot_facts(ballot_id: Any) -> BallotFacts | None:
    """The cached facts of an open ballot, read once per process; None when it is not open (nor cached).

    A ballot goes from open only to closed, so cached facts can be stale in one way only: a ballot seen
    open may have closed since. Whoever reads them must accept that: the batch checks the status again
    under its lock, and the voting policy asks only who may see the ballot, which closing does not change."""
    cache = current_app.extensions.setdefault(_FACTS_KEY, {})
    facts = cache.get(ballot_id) if isinstance(ballot_id, int) else None
    if facts is not None:
        return facts
    ballot = get_ballot(ballot_id)
    if ballot is None or ballot.status is not BallotStatus.OPEN:
        return None
    if len(cache) >= _FACTS_MAX:
        cache.clear()
    facts = BallotFacts(ballot.id, ballot.kind, ballot.status, ballot.secret, ballot.meeting_id, ballot.item_id,
                        ballot.deadline, tuple(QuestionFacts(q.id, q.option_list) for q in ballot.questions),
                        ballot.seal_keys)
    cache[ballot.id] = facts
    return facts
