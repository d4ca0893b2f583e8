"""What people see of a ballot: participation, running counts where allowed, the result, the
receipts, the live room's ``ballot`` section, and the closed ballots of a meeting for its record."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from ecabinet.accounts.models import User
from ecabinet.core.domain_events import MeetingChange
from ecabinet.extensions import db
from ecabinet.meetings.models import Meeting
from ecabinet.voting import policy
from ecabinet.voting.models import Ballot, BallotStatus, BallotVote
from ecabinet.voting.queries import ballots_for_meeting, get_ballot, has_voted, is_eligible
from ecabinet.voting.service.shared import ITEM_OUTCOMES, vote_rows


def participation(ballot: Ballot) -> dict[str, int]:
    return {"voted": ballot.votes_cast, "eligible": ballot.eligible_count}


def running_counts(ballot: Ballot) -> dict[str, dict[str, int]] | None:
    """Counts while the ballot is open, only where the ballot is configured to show them."""
    if not ballot.show_running or ballot.secret or ballot.status is not BallotStatus.OPEN:
        return None
    counts = {str(q.id): {o["key"]: 0 for o in q.option_list} for q in ballot.questions}
    for (_receipt, answers) in vote_rows(ballot.id):
        for qid, answer in json.loads(answers).items():
            if qid in counts and answer["choice"] in counts[qid]:
                counts[qid][answer["choice"]] += 1
    return counts


def ballot_state(ballot: Ballot) -> dict[str, Any]:
    """The ``ballot`` section of a live event: no title (it may concern an item hidden from a reader;
    clients ask ``vote.list`` for the details), participation, running counts if allowed, result at close."""
    result = ballot.result_data if ballot.status is BallotStatus.CLOSED else None
    return {"ballot_id": ballot.id, "item_id": ballot.item_id, "status": ballot.status.value,
            "voted": ballot.votes_cast, "eligible": ballot.eligible_count, "running": running_counts(ballot),
            "outcome": ballot.outcome, "counting": _counting(ballot),
            "result": None if result is None else {"outcome": result["outcome"], "questions": [
                {"question_id": q["question_id"], "counts": q["counts"], "outcome": q["outcome"]}
                for q in result["questions"]]}}


def _counting(ballot: Ballot) -> dict[str, Any] | None:
    """A secret ballot being counted: which side's key opens its next layer (docs/voting.md)."""
    if ballot.status is not BallotStatus.COUNTING:
        return None
    return {"layers": len(ballot.seal_layers), "opened": ballot.unsealed_layers,
            "next": policy.next_seal_side(ballot)}


def ballot_payload(change: MeetingChange, meeting: Meeting) -> dict[str, Any]:
    """The payload of a numbered ``ballot.*`` room event, built from the state at the commit (filled into
    the live domain's ``event_payloads`` hook by voting/room.py)."""
    details = change.details
    ballot = get_ballot(details.get("ballot_id", details.get("object_id")))
    if ballot is None or ballot.meeting_id != meeting.id:
        return {"resync": True}
    state = ballot_state(ballot)
    if ballot.item_id and ballot.outcome:
        state["item_outcome"] = ITEM_OUTCOMES.get(ballot.outcome, ballot.outcome)
    return {"ballot": state}


def ballot_view(ballot: Ballot, user: User) -> dict[str, Any]:
    """Everything a voter's screen needs about one ballot."""
    from ecabinet.voting.tally import version

    return {**ballot_state(ballot), "version": version(ballot), "title": ballot.title, "kind": ballot.kind.value,
            "secret": ballot.secret,
            "rule": ballot.rule.value, "allow_change": ballot.allow_change,
            "questions": [{"question_id": q.id, "text": q.text, "options": q.option_list} for q in ballot.questions],
            "eligible_me": is_eligible(ballot, user), "voted_me": has_voted(ballot, user)}


def published_receipts(ballot: Ballot) -> list[dict[str, Any]]:
    """After closing: every receipt code with its choices (and the voter's name in named ballots)."""
    if ballot.status is not BallotStatus.CLOSED:
        return []
    rows = db.session.execute(select(BallotVote.receipt_code, BallotVote.answers, BallotVote.voter_id)
                              .where(BallotVote.ballot_id == ballot.id).order_by(BallotVote.receipt_code)).all()
    names = {} if ballot.secret else dict(db.session.execute(
        select(User.id, User.name).where(User.id.in_([r.voter_id for r in rows if r.voter_id]))).all())
    return [{"receipt": r.receipt_code, "answers": json.loads(r.answers),
             "voter": None if ballot.secret else names.get(r.voter_id)} for r in rows]


def summary(ballot: Ballot) -> dict[str, Any] | None:
    """The automatic summary of a closed ballot: counts per question and every comment grouped by answer."""
    return ballot.result_data if ballot.status is BallotStatus.CLOSED else None


def results_for_meeting(meeting: Meeting) -> list[dict[str, Any]]:
    """Closed ballots of a meeting, in agenda order, for the meeting record and the minutes."""
    out = []
    for ballot in ballots_for_meeting(meeting):
        if ballot.status is BallotStatus.CLOSED:
            out.append({"ballot_id": ballot.id, "item_id": ballot.item_id, "title": ballot.title,
                        "kind": ballot.kind.value, "secret": ballot.secret, "closed_at": ballot.closed_at,
                        "result": ballot.result_data})
    return out
