"""The group commit of new votes, and the vote's own transaction boundary.

**The one exception to "services never commit"** (ecabinet/core/uow.py): a vote is acknowledged only
after its commit, and new votes are committed together, so this module commits. Three places, all the
vote's: the batch's transaction (``_store_batch``), the single-vote path's (``store_alone``), and
the close of a written-opinion ballot that the vote completed (``after_vote``).

Votes of one ballot are stored one transaction at a time (each holds the ballot's row lock until its
commit, and every commit also appends to the audit chain under its lock and waits for the disk).
Instead of one transaction per vote, a caller that finds no transaction of votes in progress becomes
the leader: it takes every vote queued meanwhile (its own included) into one transaction, one chain
append, one commit, then wakes each caller with its own receipt. No background thread: the
leader is a caller, and the next queued caller leads the next batch. Works for threads and for
gevent greenlets (threading is patched there). The acknowledgement still follows the commit.

The lock order is the close's: the ballot rows in id order (shared.lock_if_open), the audit chain's
last (in the commit: ecabinet/audit/service.py).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from ecabinet.audit import service as audit
from ecabinet.extensions import db
from ecabinet.voting.models import Ballot, BallotKind, BallotParticipation, BallotStatus, BallotVote, BallotVoter
from ecabinet.voting.service.closing import close_if_complete
from ecabinet.voting.service.shared import Receipt, VotingError

BATCH_MAX = 64
_BATCHER_KEY = "ecabinet.voting.batcher"
_SOLO = object()  # "take the single-vote path": a retry, a change, or a refusal with its own message
_LEAD = object()  # "lead the next batch"


@dataclass(eq=False)
class Cast:
    """A checked new vote, waiting for a batch."""

    ballot_id: int
    meeting_id: int | None
    voter_id: int
    actor_label: str
    ip: str | None
    answers: str
    code: str
    vote_hash: str
    now: datetime
    done: threading.Event = field(default_factory=threading.Event)
    outcome: Any = None
    completes: bool = False
    sealed: str | None = None       # a sealed ballot's vote (sealing.py): on the participation row, no vote row
    answers_tag: str | None = None


class _Batcher:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.queue: list[Cast] = []
        self.leading = False
        self.batches = 0  # transactions and votes taken through them, for bench/bench_votes.py
        self.votes = 0


def submit(cast: Cast) -> Any:
    """Queue the vote; lead a batch or wait for one. Returns a Receipt, _SOLO or an exception."""
    batcher = current_app.extensions.setdefault(_BATCHER_KEY, _Batcher())
    with batcher.lock:
        batcher.queue.append(cast)
        lead = not batcher.leading
        batcher.leading = True
    if not lead:
        cast.done.wait()
        if cast.outcome is not _LEAD:
            return cast.outcome
    if _cooperative():
        time.sleep(0)  # let greenlets that are ready queue their casts for this batch
    with batcher.lock:
        batch = batcher.queue[:BATCH_MAX]
        del batcher.queue[:BATCH_MAX]
        batcher.batches += 1
        batcher.votes += len(batch)
    try:
        try:
            _store_batch(batch)
        except IntegrityError:
            # Some vote of the batch broke a constraint: nothing of the batch stays. Again, one
            # savepoint per vote, so that only the vote refused is handed back.
            db.session.rollback()
            _store_batch(batch, careful=True)
    except (IntegrityError, OperationalError):
        db.session.rollback()  # nothing of the batch stays: each caller stores its vote alone
        for c in batch:
            c.outcome = _SOLO
    except Exception as exc:  # noqa: BLE001 - handed to every caller of the batch
        db.session.rollback()
        for c in batch:
            c.outcome = exc
    finally:
        with batcher.lock:
            if batcher.queue:
                batcher.queue[0].outcome = _LEAD
                batcher.queue[0].done.set()
            else:
                batcher.leading = False
        for c in batch:
            if c is not cast:
                c.done.set()
    return cast.outcome


def store_alone(stage: Callable[[], tuple[Receipt, bool]]) -> tuple[Receipt, bool]:
    """The single-vote path's transaction: ``stage`` stages one cast (or finds it repeated), committed
    here. A concurrent cast of the same voter that wins the unique constraint (or SQLite's write lock)
    makes this start again: the next round sees its row and answers as a retry."""
    for attempt in range(3):
        try:
            receipt, completes = stage()
            if receipt.repeated:
                db.session.rollback()  # nothing to store: release the locks
            else:
                db.session.commit()
            return receipt, completes
        except VotingError:
            db.session.rollback()  # nothing of a refused vote stays, and its locks are released
            raise
        except (IntegrityError, OperationalError):
            db.session.rollback()
            if attempt == 2:
                raise VotingError("The vote could not be stored; please try again.") from None
    raise AssertionError("unreachable")


def after_vote(ballot_id: int, meeting_id: int | None, completes: bool) -> None:
    """After a vote's commit: wake the room's tally, and close a written-opinion ballot the vote completed
    (a unit of work of its own, committed here)."""
    if meeting_id is not None:
        from ecabinet.voting import tally

        tally.changed(ballot_id, meeting_id)
    if completes:
        try:
            close_if_complete(ballot_id)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise


def _cooperative() -> bool:
    """Under gevent a batch forms only if the leader yields once; threads queue while it waits on I/O."""
    from ecabinet.extensions import socketio

    return socketio.async_mode == "gevent"


# Built once: constructing a statement costs as much Python as running it. Core tables, no ORM state.
_ballot_t = Ballot.__table__
_voter_t = BallotVoter.__table__
_part_t = BallotParticipation.__table__
_LOCK_OPEN_BALLOTS = (
    update(_ballot_t).where(_ballot_t.c.id.in_(bindparam("ids", expanding=True)),
                            _ballot_t.c.status == BallotStatus.OPEN)
    .values(votes_cast=_ballot_t.c.votes_cast)
    .returning(_ballot_t.c.id, _ballot_t.c.kind, _ballot_t.c.secret, _ballot_t.c.votes_cast,
               _ballot_t.c.eligible_count, _ballot_t.c.seal_keys))  # (SQLite 3.40 computes IS NULL wrongly in
# an UPDATE's RETURNING: the column itself, checked in Python.)
_ELIGIBLE_AND_VOTED = (
    select(_voter_t.c.ballot_id, _voter_t.c.voter_id, _part_t.c.id)
    .outerjoin(_part_t, (_part_t.c.ballot_id == _voter_t.c.ballot_id) & (_part_t.c.voter_id == _voter_t.c.voter_id))
    .where(_voter_t.c.ballot_id.in_(bindparam("ballots", expanding=True)),
           _voter_t.c.voter_id.in_(bindparam("voters", expanding=True))))
_ADD_VOTES = (update(_ballot_t).where(_ballot_t.c.id == bindparam("b_id"))
              .values(votes_cast=_ballot_t.c.votes_cast + bindparam("n")))
_INSERT_PARTICIPATION = insert(_part_t)
_INSERT_VOTE = insert(BallotVote.__table__)


def _store_batch(batch: list[Cast], careful: bool = False) -> None:
    """One transaction for several new votes. A vote that is not plainly new (already voted, not in the
    snapshot, twice in the batch, ballot no longer open) is handed back (``_SOLO``) without touching
    the others. The database's unique constraints still decide: ``careful`` stores each vote in its
    own savepoint (after a batch that one of them broke), so that only the vote refused is handed back."""
    db.session.rollback()  # the leader's own reads are over: a fresh transaction for the batch
    # The same guarded no-op update as a single vote, for every ballot of the batch (see lock_if_open).
    opened = {row.id: row for row in db.session.execute(
        _LOCK_OPEN_BALLOTS, {"ids": sorted({c.ballot_id for c in batch})})}
    # Eligibility and earlier votes in one read; the ballots' row locks keep it true until the commit
    # (every writer of votes takes them first).
    known = {(b, v): part is not None for b, v, part in db.session.execute(
        _ELIGIBLE_AND_VOTED, {"ballots": list(opened), "voters": list({c.voter_id for c in batch})})} \
        if opened else {}
    accepted: list[Cast] = []
    for c in batch:
        key = (c.ballot_id, c.voter_id)
        if known.get(key, True):  # not in the snapshot, or already voted: the single-vote path says why
            c.outcome = _SOLO
            continue
        if (opened[c.ballot_id].seal_keys is not None) != (c.sealed is not None):  # never plain in a sealed one
            c.outcome = _SOLO
            continue
        known[key] = True  # a second cast of the same voter in this batch
        accepted.append(c)
    accepted = _insert_votes(accepted, opened, careful)
    added: dict[int, int] = {}
    for c in accepted:
        added[c.ballot_id] = added.get(c.ballot_id, 0) + 1
    if added:
        db.session.execute(_ADD_VOTES, [{"b_id": b, "n": n} for b, n in added.items()])
        # Not room events: the coalesced tally carries them (tally.py).
        audit.record_many([audit.Record(c.voter_id, c.actor_label, c.ip, "vote.cast", "ballot", c.ballot_id,
                                        c.meeting_id, {"voter": c.voter_id}) for c in accepted])
    db.session.commit()  # the group commit: the batch's one transaction (see the module docstring)
    for c in accepted:
        row = opened[c.ballot_id]
        c.completes = row.kind is BallotKind.WRITTEN and row.votes_cast + added[c.ballot_id] >= row.eligible_count
        c.outcome = Receipt(c.ballot_id, c.code)


def _insert_votes(casts: list[Cast], ballots: dict[int, Any], careful: bool) -> list[Cast]:
    """Insert the participation and vote rows; returns the casts stored. The vote rows go in shuffled
    order, so that their order inside the batch does not follow the voters'."""
    if not casts:
        return casts

    def parts(group: list[Cast]) -> list[dict]:
        return [{"ballot_id": c.ballot_id, "voter_id": c.voter_id, "voted_at": c.now,
                 "client_vote_hash": c.vote_hash, "changes": 0, "sealed_vote": c.sealed,
                 "answers_tag": c.answers_tag} for c in group]

    def votes(group: list[Cast]) -> list[dict]:
        return [{"id": secrets.token_hex(16), "ballot_id": c.ballot_id, "receipt_code": c.code,
                 "answers": c.answers, "voter_id": None if ballots[c.ballot_id].secret else c.voter_id}
                for c in group if c.sealed is None]

    if not careful:
        db.session.execute(_INSERT_PARTICIPATION, parts(casts))
        rows = votes(casts)
        _shuffle(rows)
        if rows:
            db.session.execute(_INSERT_VOTE, rows)
        return casts
    # One savepoint per row. Participation rows (which name the voter, like the audit entries) in
    # arrival order; vote rows in a shuffled order, so that neither order pairs them.
    stored = []
    for c in casts:
        try:
            with db.session.begin_nested():
                db.session.execute(_INSERT_PARTICIPATION, parts([c]))
            stored.append(c)
        except IntegrityError:
            c.outcome = _SOLO
    order = list(stored)
    _shuffle(order)
    for c in order:
        if c.sealed is not None:
            continue
        try:
            with db.session.begin_nested():
                db.session.execute(_INSERT_VOTE, votes([c]))
        except IntegrityError:
            db.session.execute(delete(BallotParticipation).where(
                BallotParticipation.ballot_id == c.ballot_id, BallotParticipation.voter_id == c.voter_id)
                .execution_options(synchronize_session=False))
            c.outcome = _SOLO
    return [c for c in stored if c.outcome is not _SOLO]


def _shuffle(values: list) -> None:
    secrets.SystemRandom().shuffle(values)
