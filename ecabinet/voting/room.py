"""Voting's part of the live room, through the hooks the live domain declares (ecabinet/live/hooks.py):
the payload of numbered ``ballot.*`` events, the open ballots' tallies in a catch-up (they are not
numbered events, so a replay of the meeting's events would not bring them), and the chair console's
view of the open votes before it closes one (who has not voted yet, and the quorum).

Imported at app start (by voting/events.py), so the hooks are filled before the first commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ecabinet.extensions import db
from ecabinet.live import hooks
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import Meeting, MeetingItem
from ecabinet.voting import policy
from ecabinet.voting.models import Ballot, BallotKind, BallotStatus
from ecabinet.voting.queries import ballots_for_meeting, missing_voters, voters_of
from ecabinet.voting.service.results import ballot_payload, ballot_view
from ecabinet.voting.tally import tally

hooks.event_payloads.register("ballot.")(ballot_payload)


@hooks.catch_up_sections.register("voting")
def catch_up_sections(user: Any, meeting: Meeting) -> dict[str, list[dict[str, Any]]]:
    """Voting's part of every join's answer, from one read of the meeting's ballots: ``tallies``, the
    current tally of each open ballot this user may see, and ``ballots``, the list their screen shows
    (the ``vote.list`` answer; the room used to ask for it with an event of its own right after the
    join, which cost each of 2,000 tablets joining at once a second session read, policy check and
    transaction). The join's rule (whoever may see the meeting) is ``vote.list``'s."""
    ballots = [b for b in ballots_for_meeting(meeting) if policy.may_see(user, b)]
    return {"tallies": [tally(b) for b in ballots if b.status is BallotStatus.OPEN],
            "ballots": _views(ballots, user)}


def ballots_for_reader(user: Any, meeting: Meeting) -> list[dict[str, Any]]:
    """The meeting's ballots this user may see, as their screen lists them (the ``vote.list`` answer)."""
    return _views([b for b in ballots_for_meeting(meeting) if policy.may_see(user, b)], user)


def _views(ballots: list[Ballot], user: Any) -> list[dict[str, Any]]:
    return [ballot_view(b, user) for b in ballots if b.kind is not BallotKind.CONSENT]


def _present_user_ids(meeting: Meeting) -> set[int]:
    """Who is in the meeting now: checked-in participants, or the substitute standing in for one."""
    present = set()
    for p in meeting.participants:
        if p.checked_in_at is None:
            continue
        present.add(p.user_id)
        if p.represented_by_substitute and p.substitute_user_id is not None:
            present.add(p.substitute_user_id)
    return present


@hooks.console_sections.register("ballots")
def open_votes_for_chair(user: Any, meeting: Meeting) -> list[dict[str, Any]]:
    """Each open live vote of the meeting this user may close (``policy.may_close``: its chair): who has
    not voted yet, present or absent, and the quorum the close will be judged on. The participation only
    (who voted, never what), as the ballot page's follow-up list shows it to the chair."""
    ballots = db.session.scalars(select(Ballot).where(Ballot.meeting_id == meeting.id, Ballot.kind == BallotKind.LIVE,
                                                      Ballot.status == BallotStatus.OPEN).order_by(Ballot.id))
    present = _present_user_ids(meeting)
    out = []
    for ballot in ballots:
        if not (policy.may_see(user, ballot) and policy.may_close(user, ballot)):
            continue
        voter_ids = {v.voter_id for v in voters_of(ballot)}
        missing = missing_voters(ballot)
        missing_ids = {u.id for u in missing}
        present_voters = voter_ids & present
        item = db.session.get(MeetingItem, ballot.item_id) if ballot.item_id else None
        q = meetings.item_quorum(meeting, item) if item is not None else meetings.quorum(meeting)
        out.append({
            "ballot_id": ballot.id, "title": ballot.title,
            "voted": ballot.votes_cast, "eligible": ballot.eligible_count,
            "present": len(present_voters), "present_voted": len(present_voters - missing_ids),
            "not_voted": [{"name": u.name, "present": u.id in present} for u in missing],
            "quorum": {"present": q.present, "eligible": q.eligible, "required": q.required, "reached": q.reached,
                       "rule": meeting.quorum_rule.value},
        })
    return out
