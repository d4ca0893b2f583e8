"""Closing a ballot: the result computed from the stored votes alone, locked with the rule used; the
written-opinion ballots' automatic close (deadline, everyone answered) and their reminders."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from ecabinet.accounts import custody
from ecabinet.audit import service as audit
from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import MeetingItem
from ecabinet.voting import hooks, policy, rules
from ecabinet.voting.models import Ballot, BallotKind, BallotReminder, BallotStatus, BallotVote
from ecabinet.voting.queries import missing_voters, voters_of
from ecabinet.voting.service import sealing
from ecabinet.voting.service.shared import (
    ITEM_OUTCOMES,
    N_CLOSED,
    N_CLOSED_AS,
    N_REMINDER,
    REMINDER_HOURS,
    canonical,
    deadline_text,
    lock_counting,
    lock_if_open,
    lock_open,
    notify_voters,
    record_change,
    require,
    vote_rows,
    votes_digest,
)

_SYSTEM = "voting"


def compute_result(ballot: Ballot, rows: list[tuple[str, str]], quorum_reached: bool,
                   quorum_detail: dict[str, Any]) -> dict[str, Any]:
    """The result, from the stored votes alone (verify-ballot runs the same function)."""
    questions = [_question_result(ballot, q, rows, quorum_reached) for q in ballot.questions]
    outcomes = [q["outcome"] for q in questions]
    if not quorum_reached:
        overall = rules.NO_QUORUM
    elif all(o == rules.ADOPTED for o in outcomes):
        overall = rules.ADOPTED
    elif all(o == rules.REJECTED for o in outcomes):
        overall = rules.REJECTED
    else:
        overall = "partly_adopted"
    return {"rule": ballot.rule.value, "abstentions_count": ballot.abstentions_count, "secret": ballot.secret,
            "eligible": ballot.eligible_count, "voted": len(rows), "quorum": quorum_detail,
            "outcome": overall, "questions": questions, "digest": votes_digest(rows)}


def _question_result(ballot: Ballot, q: Any, rows: list[tuple[str, str]], quorum_reached: bool) -> dict[str, Any]:
    options = q.option_list
    meaning = {o["key"]: o["meaning"] for o in options}
    counts = {o["key"]: 0 for o in options}
    comments: dict[str, list[str]] = {o["key"]: [] for o in options}
    for _receipt, answers in sorted(rows):
        answer = json.loads(answers).get(str(q.id))
        if answer is None or answer["choice"] not in counts:
            continue
        counts[answer["choice"]] += 1
        if answer.get("comment"):
            comments[answer["choice"]].append(answer["comment"])
    tally = rules.Tally.of([meaning[k] for k, n in counts.items() for _ in range(n)])
    decision = rules.decide(ballot.rule, tally, ballot.eligible_count, ballot.abstentions_count)
    return {"question_id": q.id, "position": q.position, "text": q.text, "counts": counts,
            "comments": comments, "decision": decision.as_dict(),
            "outcome": decision.outcome if quorum_reached else rules.NO_QUORUM}


def _closing_quorum(ballot: Ballot, voted: int) -> tuple[bool, dict[str, Any]]:
    if ballot.kind is BallotKind.LIVE:
        meeting = meetings.get_meeting(ballot.meeting_id)
        item = db.session.get(MeetingItem, ballot.item_id) if ballot.item_id else None
        q = meetings.item_quorum(meeting, item) if item is not None else meetings.quorum(meeting)
        return q.reached, {"basis": "present", "present": q.present, "required": q.required,
                           "reached": q.reached, "at_opening": ballot.quorum_required}
    reached = voted >= ballot.quorum_required
    return reached, {"basis": "answered", "answered": voted, "required": ballot.quorum_required,
                     "reached": reached}


def close_ballot(actor: Actor, ballot: Ballot, reason: str = "chair", now: datetime | None = None,
                 wrapping_key: bytes | None = None) -> dict[str, Any] | None:
    """Close, compute the result deterministically, record the rule used, lock it (the database then
    refuses any change to the ballot row or its votes once this is committed).

    A sealed secret ballot stops instead (``counting``), and the closer opens the layers of its seal
    that they hold, with ``wrapping_key`` from their session (sealing.py); the result comes when the
    last layer is open. None while it is not."""
    if actor.user is not None:
        require(policy.may_close(actor.user, ballot), "Only the chair may do this." if ballot.kind is BallotKind.LIVE
                else "Only the secretariat or the chair may do this.")
    result = _close_locked(actor, lock_open(ballot.id), reason, now)
    if result is None and actor.user is not None:
        ballot = db.session.get(Ballot, ballot.id)
        # Only with a key that opens: a refusal here would undo the close itself. A closer whose key is
        # missing or stale leaves the ballot to be counted (the page asks for their password).
        if policy.may_open_seal(actor.user, ballot) and custody.unlock(actor.user.id, wrapping_key) is not None:
            result = open_seal(actor, ballot, wrapping_key)
    return result


def open_seal(actor: Actor, ballot: Ballot, wrapping_key: bytes | None) -> dict[str, Any] | None:
    """A key holder opens the next layers of a secret ballot being counted; the result when the last
    one is open, else None. ``KeyNeeded`` when their session does not carry their key."""
    require(actor.user is not None and policy.may_open_seal(actor.user, ballot),
            "Only a holder of this ballot's next key may open its seal.")
    ballot = lock_counting(ballot.id)
    if not sealing.open_layers(actor, ballot, wrapping_key):
        return None
    return _count(actor, ballot, ballot.result_data.get("closed_by", "chair"), ballot.closed_at)


def _close_locked(actor: Actor, ballot: Ballot, reason: str, now: datetime | None) -> dict[str, Any] | None:
    """Close a ballot whose write lock this transaction holds (``lock_if_open``); a sealed one stops
    for counting (None)."""
    db.session.expire_all()  # everything staged is flushed by now: read the ballot as locked
    ballot = db.session.get(Ballot, ballot.id)
    if ballot.sealed:
        # The quorum as it stands when voting ends, not when the count is done.
        sealing.stop(actor, ballot, reason, now or utcnow(), _closing_quorum(ballot, ballot.votes_cast)[1])
        return None
    if ballot.secret:
        _rewrite_votes(ballot.id)  # a secret ballot opened before votes were sealed
    return _count(actor, ballot, reason, now or utcnow())


def _count(actor: Actor, ballot: Ballot, reason: str, now: datetime) -> dict[str, Any]:
    """The result from the stored votes, locked with the rule used."""
    rows = vote_rows(ballot.id)
    stopped = ballot.result_data or {}
    if "quorum" in stopped:
        quorum_reached, quorum_detail = stopped["quorum"]["reached"], stopped["quorum"]
    else:
        quorum_reached, quorum_detail = _closing_quorum(ballot, len(rows))
    result = compute_result(ballot, rows, quorum_reached, quorum_detail)
    result["closed_by"] = reason
    ballot.status = BallotStatus.CLOSED
    ballot.closed_at = now
    ballot.result = canonical(result)
    ballot.outcome = result["outcome"]
    if ballot.item_id:
        item = db.session.get(MeetingItem, ballot.item_id)
        if item is not None:
            item.outcome = ITEM_OUTCOMES[result["outcome"]]
    if ballot.kind is BallotKind.WRITTEN:
        notify_voters([v.voter_id for v in voters_of(ballot)], ballot,
                      N_CLOSED_AS.get(result["outcome"], N_CLOSED), title=ballot.title, outcome=result["outcome"])
    db.session.flush()
    record_change(actor, "ballot.close", ballot, {
        "reason": reason, "rule": ballot.rule.value, "outcome": result["outcome"], "eligible": ballot.eligible_count,
        "voted": len(rows), "digest": result["digest"],
        "counts": {str(q["question_id"]): q["counts"] for q in result["questions"]}, "quorum": quorum_detail})
    for decided in hooks.ballot_decided:
        decided(ballot)
    return result


def _rewrite_votes(ballot_id: int) -> None:
    """Secret ballots: delete and re-insert every vote row in key order, in the closing transaction, so
    neither physical position (PostgreSQL ctid) nor the writing transaction (xmin) tells when a vote came."""
    rows = db.session.execute(select(BallotVote.id, BallotVote.receipt_code, BallotVote.answers)
                              .where(BallotVote.ballot_id == ballot_id)).all()
    db.session.execute(delete(BallotVote).where(BallotVote.ballot_id == ballot_id)
                       .execution_options(synchronize_session=False))
    if rows:
        db.session.execute(insert(BallotVote), [
            {"id": r.id, "ballot_id": ballot_id, "receipt_code": r.receipt_code, "answers": r.answers,
             "voter_id": None} for r in sorted(rows)])


# --- the automatic close --------------------------------------------------------------------------

def close_if_complete(ballot_id: int) -> bool:
    """A written-opinion ballot closes as soon as everyone has answered. False when it is not complete,
    or not open any more (closed meanwhile by someone else)."""
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None or ballot.kind is not BallotKind.WRITTEN or ballot.status is not BallotStatus.OPEN:
        return False
    ballot = lock_if_open(ballot_id)
    if ballot is None or ballot.votes_cast < ballot.eligible_count:
        return False
    _close_locked(Actor.system(_SYSTEM), ballot, "all_answered", None)
    return True


def close_due_ballots(now: datetime | None = None) -> list[int]:
    """Close written-opinion ballots whose deadline has passed (the periodic job calls this, and commits)."""
    now = now or utcnow()
    due = list(db.session.scalars(select(Ballot.id).where(Ballot.status == BallotStatus.OPEN,
                                                          Ballot.deadline.is_not(None), Ballot.deadline <= now)
                                  .order_by(Ballot.id)))
    closed = []
    for ballot_id in due:
        ballot = lock_if_open(ballot_id)
        if ballot is None:
            continue  # closed meanwhile by someone else
        _close_locked(Actor.system(_SYSTEM), ballot, "deadline", now)
        closed.append(ballot_id)
    return closed


def send_due_reminders(now: datetime | None = None) -> dict[int, list[int]]:
    """Remind those who have not answered at 48 h, 24 h, 6 h and 1 h before the deadline, each once.
    A threshold passed while the ballot was already due for a nearer one is marked sent with it.
    The periodic job commits; a reminder another worker recorded first is left to it."""
    now = now or utcnow()
    sent: dict[int, list[int]] = {}
    ballots = db.session.scalars(select(Ballot).where(Ballot.status == BallotStatus.OPEN,
                                                      Ballot.kind == BallotKind.WRITTEN,
                                                      Ballot.deadline.is_not(None), Ballot.deadline > now)).all()
    for ballot in ballots:
        done = set(db.session.scalars(select(BallotReminder.hours_before)
                                      .where(BallotReminder.ballot_id == ballot.id)))
        due = [h for h in REMINDER_HOURS if now >= ballot.deadline - timedelta(hours=h) and h not in done]
        if not due:
            continue
        missing = [u.id for u in missing_voters(ballot)]
        try:
            with db.session.begin_nested():  # the unique (ballot, hours) row says who sends it
                for h in due:
                    db.session.add(BallotReminder(ballot_id=ballot.id, hours_before=h, sent_at=now,
                                                  recipients=len(missing) if h == min(due) else 0))
                db.session.flush()
        except IntegrityError:
            continue  # another worker sent it
        notify_voters(missing, ballot, N_REMINDER, title=ballot.title, deadline=deadline_text(ballot))
        # Between meetings or not, a reminder is no room event: no meeting named, nothing published.
        audit.record(Actor.system(_SYSTEM), "ballot.remind", object_type="ballot", object_id=ballot.id,
                     details={"hours_before": min(due), "recipients": missing})
        sent[ballot.id] = missing
    return sent
