"""Opening a ballot: the eligibility snapshot. Live: the chair opens the vote in session, with quorum.
Written: the secretariat sends the approved form, and each voter is notified."""

from __future__ import annotations

from sqlalchemy import select

from ecabinet.accounts.models import Role, User
from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import MeetingItem, MeetingStatus
from ecabinet.voting import policy, rules
from ecabinet.voting.models import Ballot, BallotKind, BallotStatus, BallotVoter
from ecabinet.voting.service import sealing
from ecabinet.voting.service.shared import N_SENT, VotingError, deadline_text, notify_voters, record_change, require


def eligible_voters(ballot: Ballot) -> list[tuple[int, int | None]]:
    """(voter id, member they stand in for): members and the chair, or their substitutes where the chair
    allows them, minus members recused from the item; all active members and chairs between meetings."""
    if ballot.meeting_id is None:
        users = db.session.scalars(select(User).where(User.active.is_(True), User.role.in_([Role.MEMBER, Role.CHAIR]))
                                   .order_by(User.id))
        return [(u.id, None) for u in users]
    meeting = meetings.get_meeting(ballot.meeting_id)
    item = db.session.get(MeetingItem, ballot.item_id) if ballot.item_id else None
    recused = meetings.recused_member_ids(item) if item is not None else set()
    chosen: dict[int, int | None] = {}
    for p in meetings.voting_members(meeting):
        if p.user_id in recused or not p.user.active:
            continue
        if p.represented_by_substitute:
            sub = p.substitute_user
            if ballot.allow_substitutes and p.substitute_may_vote and sub is not None and sub.active \
                    and sub.id not in chosen and sub.id not in recused:
                chosen[sub.id] = p.user_id
            continue
        chosen.setdefault(p.user_id, None)
    return sorted(chosen.items())


def open_ballot(actor: Actor, ballot: Ballot) -> None:
    """Live: the chair opens the vote during the meeting, with quorum. Written: the secretariat sends the
    approved form. The eligible voters are fixed now."""
    if ballot.kind is BallotKind.LIVE:
        required = _live_quorum_at_opening(actor, ballot)
    elif ballot.kind is BallotKind.WRITTEN:
        _check_sending(actor, ballot)
        required = 0  # set from the snapshot below
    else:
        raise VotingError("Consent ballots are made by adopting the consent block.")
    voters = eligible_voters(ballot)
    if not voters:
        raise VotingError("Nobody is eligible to vote.")
    if ballot.kind is BallotKind.WRITTEN:
        required = rules.quorum_required(len(voters))
    for voter_id, for_member in voters:
        db.session.add(BallotVoter(ballot_id=ballot.id, voter_id=voter_id, for_member_id=for_member))
    ballot.status = BallotStatus.OPEN
    ballot.opened_at = utcnow()
    ballot.eligible_count = len(voters)
    ballot.quorum_required = required
    if ballot.secret:
        sealing.create_seal(ballot)  # votes arrive sealed (sealing.py)
    if ballot.kind is BallotKind.WRITTEN:
        notify_voters([v for v, _ in voters], ballot, N_SENT, title=ballot.title, deadline=deadline_text(ballot))
    db.session.flush()
    record_change(actor, "ballot.open", ballot, {"eligible": [v for v, _ in voters], "quorum_required": required,
                                                 "substitutes": {str(v): m for v, m in voters if m}})


send_ballot = open_ballot


def _live_quorum_at_opening(actor: Actor, ballot: Ballot) -> int:
    """A live vote opens while its meeting is in session and has the item's quorum: the number required."""
    if actor.user is not None:
        require(policy.may_run_live(actor.user, ballot), "Only the chair may do this.")
    if ballot.status is not BallotStatus.DRAFT:
        raise VotingError("This vote is not ready to open: it is %(status)s.", status=ballot.status.value)
    meeting = meetings.get_meeting(ballot.meeting_id)
    if meeting.status is not MeetingStatus.IN_SESSION:
        raise VotingError("A live vote opens while the meeting is in session.")
    item = db.session.get(MeetingItem, ballot.item_id) if ballot.item_id else None
    q = meetings.item_quorum(meeting, item) if item is not None else meetings.quorum(meeting)
    if not q.reached:
        raise VotingError("The quorum is not reached (%(present)s present, %(required)s required).",
                          present=q.present, required=q.required)
    return q.required


def _check_sending(actor: Actor, ballot: Ballot) -> None:
    if actor.user is not None:
        require(policy.may_send(actor.user, ballot), "Only the secretariat may do this.")
    if ballot.status is not BallotStatus.APPROVED:
        raise VotingError("The chair must approve the form before it is sent.")
    if ballot.deadline is not None and ballot.deadline <= utcnow():
        raise VotingError("The deadline has passed; set a new one.")
