"""Casting a vote: the checks before any write, the receipt, retries and changes.

``cast_vote`` is its own unit of work, the one exception to "services never commit": a voter's
acknowledgement must follow the commit of their vote, and new votes are committed together by the
group commit (batch.py). So it must not be called inside another unit of work: it starts from a fresh
transaction (what the caller staged before it is rolled back).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import insert, select, update

from ecabinet.audit import service as audit
from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import MeetingItem
from ecabinet.voting.models import Ballot, BallotKind, BallotParticipation, BallotStatus, BallotVote, BallotVoter
from ecabinet.voting.queries import BallotFacts, get_ballot, open_ballot_facts
from ecabinet.voting.service import batch, sealing
from ecabinet.voting.service.shared import COMMENT_MAX, Receipt, VotingError, canonical, lock_open

_CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
_RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def receipt_code(ballot_id: int, client_vote_id: str) -> str:
    digest = hashlib.sha256(f"ecabinet-receipt:{ballot_id}:{client_vote_id}".encode()).digest()
    n = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(8):
        n, r = divmod(n, len(_RECEIPT_ALPHABET))
        chars.append(_RECEIPT_ALPHABET[r])
    return "".join(chars[:4]) + "-" + "".join(chars[4:])


def _vote_hash(ballot_id: int, voter_id: int, client_vote_id: str) -> str:
    return hashlib.sha256(f"ecabinet-vote:{ballot_id}:{voter_id}:{client_vote_id}".encode()).hexdigest()


def new_client_vote_id() -> str:
    return secrets.token_hex(16)


def reauth_window() -> timedelta:
    return timedelta(minutes=int(current_app.config.get("REAUTH_WINDOW_MINUTES", 10)))


def needs_reauth(ballot: Ballot, authenticated_at: datetime | None, now: datetime | None = None) -> bool:
    if ballot.kind is not BallotKind.WRITTEN:
        return False
    now = now or utcnow()
    return authenticated_at is None or now - authenticated_at > reauth_window()


def cast_vote(actor: Actor, ballot_id: Any, answers: Any, client_vote_id: Any, *,
              authenticated_at: datetime | None = None, now: datetime | None = None) -> Receipt:
    """Cast (or retry, or change) a vote. Idempotent on ``client_vote_id``; acknowledged after commit.

    ``authenticated_at``: when the voter last entered their password (written ballots need it within
    ``REAUTH_WINDOW_MINUTES``). A retry with the same client vote id returns the same receipt; with the
    same id and another choice it changes the vote, if the ballot allows it.

    A new vote goes through the group commit (``batch.submit``): votes that arrive while another
    transaction is storing votes are stored together in the next one. Anything else (a retry, a
    change, a refusal that needs its own message) takes the single-vote path, ``_cast``.
    """
    try:
        cast = _prepare(actor, ballot_id, answers, client_vote_id, authenticated_at, now)
    except VotingError:
        db.session.rollback()
        raise
    outcome = batch.submit(cast)
    if isinstance(outcome, Receipt):
        batch.after_vote(cast.ballot_id, cast.meeting_id, cast.completes)
        return outcome
    if isinstance(outcome, BaseException):
        raise outcome
    receipt, completes = batch.store_alone(lambda: _cast(actor, ballot_id, answers, client_vote_id,
                                                         authenticated_at, now))
    if not receipt.repeated:
        batch.after_vote(receipt.ballot_id, cast.meeting_id, completes)
    return receipt


def _checked(actor: Actor, ballot_id: Any, answers: Any, client_vote_id: Any,
             authenticated_at: datetime | None, now: datetime | None,
             cached: bool = False) -> tuple[Any, dict, datetime]:
    """Every check that needs no lock: the refusals that come before any write. ``cached``: the facts of
    an open ballot may come from this process's cache (the batch checks the status again, locked)."""
    if actor.user is None:
        raise VotingError("Only a signed-in voter may vote.")
    ballot = open_ballot_facts(ballot_id) if cached else None
    ballot = ballot or get_ballot(ballot_id)
    if ballot is None:
        raise VotingError("Unknown ballot.")
    if not isinstance(client_vote_id, str) or not _CLIENT_ID_RE.match(client_vote_id):
        raise VotingError("The vote has no valid client vote id.")
    if ballot.status is BallotStatus.CLOSED:
        raise VotingError("This ballot is closed.")
    if ballot.status is not BallotStatus.OPEN:
        raise VotingError("This ballot is not open yet.")
    cleaned = _normalise_answers(ballot, answers)
    now = now or utcnow()
    if ballot.deadline is not None and now > ballot.deadline:
        raise VotingError("The deadline has passed.")
    if needs_reauth(ballot, authenticated_at, now):
        raise VotingError("Please confirm your password again before submitting your opinion.")
    return ballot, cleaned, now


def _normalise_answers(ballot: Ballot | BallotFacts, answers: Any) -> dict[str, dict[str, str]]:
    """``answers`` is an option key (single-question ballots) or {question id: key or {choice, comment}}."""
    questions = ballot.questions
    if isinstance(answers, str):
        if len(questions) != 1:
            raise VotingError("Answer every question.")
        answers = {str(questions[0].id): {"choice": answers}}
    if not isinstance(answers, dict):
        raise VotingError("Unknown option.")
    known = {str(q.id) for q in questions}
    if set(map(str, answers)) - known:
        raise VotingError("Unknown question.")
    return {str(q.id): _answer(q, answers.get(str(q.id), answers.get(q.id))) for q in questions}


def _answer(question: Any, raw: Any) -> dict[str, str]:
    if raw is None:
        raise VotingError("Answer every question.")
    if isinstance(raw, str):
        raw = {"choice": raw}
    if not isinstance(raw, dict):
        raise VotingError("Unknown option.")
    choice, comment = raw.get("choice"), raw.get("comment") or ""
    if not isinstance(comment, str):
        raise VotingError("The comment must be text.")
    comment = comment.strip()
    option = next((o for o in question.option_list if o["key"] == choice), None)
    if option is None:
        raise VotingError("Unknown option.")
    if option["needs_comment"] and not comment:
        raise VotingError("This answer needs a comment: please explain your opinion.")
    if len(comment) > COMMENT_MAX:
        raise VotingError("The comment is longer than %(n)s characters.", n=COMMENT_MAX)
    return {"choice": choice, "comment": comment} if comment else {"choice": choice}


def _prepare(actor: Actor, ballot_id: Any, answers: Any, client_vote_id: Any,
             authenticated_at: datetime | None, now: datetime | None) -> batch.Cast:
    ballot, cleaned, now = _checked(actor, ballot_id, answers, client_vote_id, authenticated_at, now, cached=True)
    user = actor.user
    code, answers_text = receipt_code(ballot.id, client_vote_id), canonical(cleaned)
    cast = batch.Cast(ballot_id=ballot.id, meeting_id=ballot.meeting_id, voter_id=user.id, actor_label=actor.display,
                      ip=actor.ip, answers=answers_text, code=code,
                      vote_hash=_vote_hash(ballot.id, user.id, client_vote_id), now=now)
    if ballot.seal_keys is not None:  # sealed here, before any lock is taken (about 0.2 ms)
        cast.sealed = sealing.seal_vote(ballot.id, ballot.seal_keys, code, answers_text)
        cast.answers_tag = sealing.answers_tag(client_vote_id, answers_text)
    # Give the connection back while waiting (SQLite runs one per process), and let the batch start a
    # fresh transaction (SQLite: no stale read snapshot).
    db.session.rollback()
    return cast


# --- the single-vote path (staged here, committed by batch.store_alone) ----------------------------

def _cast(actor: Actor, ballot_id: Any, answers: Any, client_vote_id: Any,
          authenticated_at: datetime | None, now: datetime | None) -> tuple[Receipt, bool]:
    """One cast in its own transaction (retries, changes, refusals): the receipt, and whether this vote
    completes a written-opinion ballot."""
    user = actor.user
    ballot, cleaned, now = _checked(actor, ballot_id, answers, client_vote_id, authenticated_at, now)
    ballot = lock_open(ballot.id)  # reloaded inside the locked transaction
    voter = db.session.scalar(select(BallotVoter).where(BallotVoter.ballot_id == ballot.id,
                                                        BallotVoter.voter_id == user.id))
    if voter is None:
        item = db.session.get(MeetingItem, ballot.item_id) if ballot.item_id else None
        if item is not None and user.id in meetings.recused_member_ids(item):
            raise VotingError("You declared an interest in this item: you are recused from this vote.")
        raise VotingError("You are not eligible to vote in this ballot.")
    code = receipt_code(ballot.id, client_vote_id)
    vote_hash = _vote_hash(ballot.id, user.id, client_vote_id)
    part = db.session.scalar(select(BallotParticipation).where(BallotParticipation.ballot_id == ballot.id,
                                                               BallotParticipation.voter_id == user.id))
    answers_text = canonical(cleaned)
    if part is not None:
        if ballot.sealed:
            return _repeat_or_change_sealed(actor, ballot, part, answers_text, code, vote_hash, client_vote_id), False
        return _repeat_or_change(actor, ballot, part, cleaned, code, vote_hash), False
    sealed = tag = None
    if ballot.sealed:
        sealed = sealing.seal_vote(ballot.id, ballot.seal_keys, code, answers_text)
        tag = sealing.answers_tag(client_vote_id, answers_text)
    db.session.add(BallotParticipation(ballot_id=ballot.id, voter_id=user.id, voted_at=now,
                                       client_vote_hash=vote_hash, changes=0, sealed_vote=sealed, answers_tag=tag))
    db.session.flush()  # the unique (ballot, voter) constraint speaks here
    db.session.execute(update(Ballot).where(Ballot.id == ballot.id).values(votes_cast=Ballot.votes_cast + 1)
                       .execution_options(synchronize_session=False))
    db.session.expire(ballot, ["votes_cast"])  # the live payload reads the new count in this transaction
    complete = ballot.kind is BallotKind.WRITTEN and ballot.votes_cast >= ballot.eligible_count
    if not ballot.sealed:
        # The vote: random key, no time, no voter (unless named). Core insert, so nothing orders it.
        db.session.execute(insert(BallotVote).values(id=secrets.token_hex(16), ballot_id=ballot.id,
                                                     receipt_code=code, answers=answers_text,
                                                     voter_id=None if ballot.secret else user.id))
    audit.record(actor, "vote.cast", object_type="ballot", object_id=ballot.id, meeting_id=ballot.meeting_id,
                 details={"voter": user.id})  # never the choice: see docs/voting.md; not a room event
    return Receipt(ballot.id, code), complete


def _repeat_or_change_sealed(actor: Actor, ballot: Ballot, part: BallotParticipation, answers: str, code: str,
                             vote_hash: str, client_vote_id: str) -> Receipt:
    """A sealed vote is recognised by its device (the client vote id) and its answers by their tag:
    nothing readable is stored to compare with."""
    if not secrets.compare_digest(part.client_vote_hash, vote_hash) or part.sealed_vote is None:
        if not ballot.allow_change:
            raise VotingError("You have already voted; this ballot does not allow changing a vote.")
        raise VotingError("You have already voted. A secret vote can be changed only from the device that cast it.")
    tag = sealing.answers_tag(client_vote_id, answers)
    if part.answers_tag is not None and secrets.compare_digest(part.answers_tag, tag):
        return Receipt(ballot.id, code, repeated=True)
    if not ballot.allow_change:
        raise VotingError("You have already voted; this ballot does not allow changing a vote.")
    part.sealed_vote = sealing.seal_vote(ballot.id, ballot.seal_keys, code, answers)
    part.answers_tag = tag
    part.changes += 1
    audit.record(actor, "vote.change", object_type="ballot", object_id=ballot.id, meeting_id=ballot.meeting_id,
                 details={"voter": part.voter_id})  # not a room event: the tally carries it
    return Receipt(ballot.id, code, changed=True)


def _repeat_or_change(actor: Actor, ballot: Ballot, part: BallotParticipation, cleaned: dict, code: str,
                      vote_hash: str) -> Receipt:
    same_device = secrets.compare_digest(part.client_vote_hash, vote_hash)
    if same_device:
        vote = db.session.scalar(select(BallotVote).where(BallotVote.ballot_id == ballot.id,
                                                          BallotVote.receipt_code == code))
    elif not ballot.secret:
        vote = db.session.scalar(select(BallotVote).where(BallotVote.ballot_id == ballot.id,
                                                          BallotVote.voter_id == part.voter_id))
    else:
        vote = None
    if vote is not None and vote.answers == canonical(cleaned):
        return Receipt(ballot.id, vote.receipt_code, repeated=True)
    if not ballot.allow_change:
        raise VotingError("You have already voted; this ballot does not allow changing a vote.")
    if vote is None:
        raise VotingError("You have already voted. A secret vote can be changed only from the device that cast it.")
    db.session.execute(update(BallotVote).where(BallotVote.id == vote.id).values(answers=canonical(cleaned)))
    part.changes += 1
    audit.record(actor, "vote.change", object_type="ballot", object_id=ballot.id, meeting_id=ballot.meeting_id,
                 details={"voter": part.voter_id})  # not a room event: the tally carries it
    return Receipt(ballot.id, vote.receipt_code, changed=True)
