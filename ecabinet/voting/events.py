"""Socket.IO handlers for votes in the meeting room: thin, guarded, acknowledged after the commit.

| event | payload (besides ``meeting_id``) | who | answer |
|---|---|---|---|
| ``vote.list`` | — | anyone who may see the meeting | ``ballots``: the ballots they may see |
| ``vote.cast`` | ``ballot_id``, ``choice`` (or ``answers``), ``client_vote_id`` | members and the chair | ``receipt`` |
| ``chair.open_vote`` / ``chair.close_vote`` | ``ballot_id`` | the meeting's chair | ``ballot`` |
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ecabinet.accounts.auth import custody_key
from ecabinet.core import uow
from ecabinet.core.actor import current_actor
from ecabinet.core.errors import DomainError
from ecabinet.core.policy import guarded_event
from ecabinet.live.service import state_of
from ecabinet.voting import policy, room, schemas, service  # room also fills the live room's ballot hooks


def _answer(action: Callable[[], dict[str, Any]], meeting_id: int, seq: int | None = None) -> dict[str, Any]:
    """``seq``: the meeting's event number, when the caller read it already; else the handler commits
    here (the guard's commit after it then has nothing left) and reads the number the commit gave."""
    try:
        result = action()
    except DomainError as exc:
        uow.rollback()
        return {"ok": False, "error": "refused", "message": exc.translated()}
    if seq is None:
        uow.commit()
        seq = state_of(meeting_id).last_seq
    return {"ok": True, "seq": seq, **result}


@guarded_event("vote.list", policy.can_list_event, schema=schemas.ListBallots, rate="read")
def on_list(user, data):  # noqa: ANN001
    """The ballots list again, after a ballot changed (a join's answer brings it first)."""
    from ecabinet.meetings.service import get_meeting

    return {"ok": True, "ballots": room.ballots_for_reader(user, get_meeting(data["meeting_id"]))}


@guarded_event("vote.cast", policy.can_vote_event, schema=schemas.CastVote, rate="vote")
def on_cast(user, data):  # noqa: ANN001
    answers = data.get("answers", data.get("choice"))
    # A vote is not a numbered event, so the meeting's number is the same before and after it: read
    # with the guard's reads, in their transaction, it spares the acknowledgement a second connection
    # checkout (a pre-ping and a rollback on PostgreSQL) in a burst of 2,000 votes.
    seq = state_of(data["meeting_id"]).last_seq

    def cast() -> dict[str, Any]:
        receipt = service.cast_vote(current_actor(), data["ballot_id"], answers, data.get("client_vote_id"))
        return {"receipt": receipt.code, "repeated": receipt.repeated, "changed": receipt.changed}

    return _answer(cast, data["meeting_id"], seq)


@guarded_event("chair.open_vote", policy.can_run_event, schema=schemas.BallotAction, rate="chair")
def on_open(user, data):  # noqa: ANN001
    def run() -> dict[str, Any]:
        ballot = service.get_ballot(data["ballot_id"])
        service.open_ballot(current_actor(), ballot)
        return {"ballot": service.ballot_state(ballot)}

    return _answer(run, data["meeting_id"])


@guarded_event("chair.close_vote", policy.can_run_event, schema=schemas.BallotAction, rate="chair")
def on_close(user, data):  # noqa: ANN001
    def run() -> dict[str, Any]:
        ballot = service.get_ballot(data["ballot_id"])
        service.close_ballot(current_actor(), ballot, wrapping_key=custody_key())
        return {"ballot": service.ballot_state(service.get_ballot(data["ballot_id"]))}

    return _answer(run, data["meeting_id"])
