"""What the voting services share: the error, the limits, the default options, the notifications,
recording a ballot change, and the ballot's write lock."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from ecabinet.audit import service as audit
from ecabinet.core import domain_events
from ecabinet.core.actor import Actor
from ecabinet.core.errors import DomainError
from ecabinet.extensions import db
from ecabinet.notifications.service import notify
from ecabinet.voting import rules
from ecabinet.voting.models import Ballot, BallotStatus, BallotVote, Meaning

TITLE_MAX = 300
TEXT_MAX = 4000
COMMENT_MAX = 2000
MAX_QUESTIONS = 20
REMINDER_HOURS = (48, 24, 6, 1)  # before the deadline; each sent once
ITEM_OUTCOMES = {rules.ADOPTED: "adopted_by_vote", rules.REJECTED: "rejected_by_vote",
                 rules.NO_QUORUM: "no_quorum", "partly_adopted": "partly_adopted"}

N_SENT = "A written-opinion ballot awaits your answer: “%(title)s” (deadline %(deadline)s)."
N_REMINDER = "Reminder: answer the written-opinion ballot “%(title)s” before %(deadline)s."
N_CLOSED = "The ballot “%(title)s” is closed: %(outcome)s."  # before outcomes had their own messages
# One message per outcome, so that the outcome is in the reader's words (a parameter is not translated).
N_CLOSED_AS = {rules.ADOPTED: "The ballot “%(title)s” is closed: adopted.",
               rules.REJECTED: "The ballot “%(title)s” is closed: not adopted.",
               rules.NO_QUORUM: "The ballot “%(title)s” is closed without a quorum.",
               "partly_adopted": "The ballot “%(title)s” is closed: partly adopted."}


class VotingError(DomainError):
    """A voting request that cannot be carried out; the message says why."""


@dataclass(frozen=True)
class Receipt:
    """What a voter gets back once their vote is committed."""

    ballot_id: int
    code: str
    repeated: bool = False  # a retry of a vote already stored
    changed: bool = False


def require(allowed: bool, message: str) -> None:
    """Refuse unless the voting policy allows it (the rule itself lives in voting/policy.py)."""
    if not allowed:
        raise VotingError(message)


def live_options() -> list[dict[str, Any]]:
    return [{"key": "approve", "label": "Approve", "meaning": Meaning.YES.value, "needs_comment": False},
            {"key": "reject", "label": "Reject", "meaning": Meaning.NO.value, "needs_comment": False},
            {"key": "abstain", "label": "Abstain", "meaning": Meaning.ABSTAIN.value, "needs_comment": False}]


def written_options() -> list[dict[str, Any]]:
    return [{"key": "agree", "label": "Agree", "meaning": Meaning.YES.value, "needs_comment": False},
            {"key": "disagree", "label": "Disagree", "meaning": Meaning.NO.value, "needs_comment": False},
            {"key": "other", "label": "Other opinion", "meaning": Meaning.OTHER.value, "needs_comment": True}]


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def vote_rows(ballot_id: int) -> list[tuple[str, str]]:
    """(receipt, answers) of every stored vote of the ballot."""
    return [(r.receipt_code, r.answers) for r in db.session.execute(
        select(BallotVote.receipt_code, BallotVote.answers).where(BallotVote.ballot_id == ballot_id))]


def votes_digest(rows: list[tuple[str, str]]) -> str:
    """sha256 over the (receipt, answers) pairs in receipt order: recorded at close, checked by verify."""
    h = hashlib.sha256()
    for receipt, answers in sorted(rows):
        h.update(f"{receipt}\x1f{answers}\x1e".encode())
    return h.hexdigest()


def record_change(actor: Actor, action: str, ballot: Ballot, details: dict[str, Any] | None = None) -> None:
    """Audit a ballot change; one that names a meeting is also a room event (numbered at the commit).

    The event is not scoped to the ballot's item: its payload carries no title, and clients that may
    not see the item learn only that a ballot changed (docs/voting.md, "Live protocol")."""
    audit.record(actor, action, object_type="ballot", object_id=ballot.id, meeting_id=ballot.meeting_id,
                 details=details)
    if ballot.meeting_id is not None:
        domain_events.publish(ballot.meeting_id, action, ballot_id=ballot.id)


# --- notifications --------------------------------------------------------------------------------

def deadline_text(ballot: Ballot) -> str:
    if ballot.deadline is None:
        return ""
    from ecabinet.core.i18n import local_time

    try:
        return local_time(ballot.deadline, "short")
    except Exception:  # noqa: BLE001 - outside an app's babel context: plain UTC
        return ballot.deadline.strftime("%Y-%m-%d %H:%M UTC")


def notify_voters(user_ids: list[int], ballot: Ballot, key: str, **params: Any) -> None:
    """Each voter's notification (and its email, sent after the commit by the notifications domain)."""
    if user_ids:
        notify(user_ids, key, params={**params, "ballot_id": ballot.id}, meeting_id=ballot.meeting_id)


# --- the ballot's write lock ----------------------------------------------------------------------

def lock_if_open(ballot_id: int) -> Ballot | None:
    """Take the ballot's write lock and check, atomically, that it is open: the ballot reloaded, or None
    when it is not open (closed meanwhile, cancelled, or not opened yet).

    A guarded no-op ``UPDATE ballot ... WHERE id = :id AND status = 'open'``: it takes the ballot's row
    lock (PostgreSQL) or the write lock (SQLite) *and* checks the status, so a vote racing the close
    either commits before it (and is counted) or sees the ballot closed."""
    locked = db.session.execute(update(Ballot).where(Ballot.id == ballot_id, Ballot.status == BallotStatus.OPEN)
                                .values(votes_cast=Ballot.votes_cast)
                                .execution_options(synchronize_session=False)).rowcount
    ballot = db.session.scalar(select(Ballot).where(Ballot.id == ballot_id).execution_options(populate_existing=True))
    return ballot if locked else None


def lock_open(ballot_id: int) -> Ballot:
    """``lock_if_open``, refusing with the reason when the ballot is not open."""
    ballot = lock_if_open(ballot_id)
    if ballot is not None:
        return ballot
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None:
        raise VotingError("Unknown ballot.")
    if ballot.status in (BallotStatus.CLOSED, BallotStatus.CANCELLED):
        raise VotingError("This ballot is closed.")
    raise VotingError("This ballot is not open yet.")


def lock_counting(ballot_id: int) -> Ballot:
    """The ballot's write lock, as ``lock_if_open`` takes it, for a secret ballot being counted; refuses
    when it is not (counted meanwhile by another key holder)."""
    locked = db.session.execute(update(Ballot).where(Ballot.id == ballot_id, Ballot.status == BallotStatus.COUNTING)
                                .values(votes_cast=Ballot.votes_cast)
                                .execution_options(synchronize_session=False)).rowcount
    ballot = db.session.scalar(select(Ballot).where(Ballot.id == ballot_id).execution_options(populate_existing=True))
    if not locked or ballot is None:
        raise VotingError("This ballot is not being counted.")
    return ballot
