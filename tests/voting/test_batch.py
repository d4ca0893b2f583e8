"""The group commit: votes queued while a transaction of votes is in flight are stored together in the
next one, and each caller still gets its own answer. A batch is formed here by queueing casts before
the caller that leads it, as concurrent callers would."""

from __future__ import annotations

import json

from flask import current_app
from sqlalchemy import func, select

from ecabinet.audit.models import AuditEntry
from ecabinet.core.actor import Actor
from ecabinet.extensions import db
from ecabinet.voting import service
from ecabinet.voting.models import BallotParticipation, BallotVote
from ecabinet.voting.service import batch, casting
from tests.voting.conftest import cvid


def _prepared(ballot, user, choice="approve", key=None):
    return casting._prepare(Actor(user, "127.0.0.1"), ballot.id, choice, key or cvid(), None, None)


def _lead(casts):
    """Queue all but the last cast, then submit the last: it leads one batch holding all of them."""
    batcher = current_app.extensions.setdefault(batch._BATCHER_KEY, batch._Batcher())
    batches = batcher.batches
    batcher.queue.extend(casts[:-1])
    batch.submit(casts[-1])
    assert batcher.batches == batches + 1 and not batcher.queue and not batcher.leading
    return [c.outcome for c in casts]


def _stored(ballot_id):
    db.session.rollback()
    return (db.session.scalar(select(func.count()).select_from(BallotVote).where(BallotVote.ballot_id == ballot_id)),
            db.session.scalar(select(func.count()).select_from(BallotParticipation)
                              .where(BallotParticipation.ballot_id == ballot_id)))


def test_each_caller_of_a_batch_gets_its_own_receipt(app, live_open, cabinet):
    roles = ("member", "member2", "member3")
    keys = [cvid() for _ in roles]
    casts = [_prepared(live_open, cabinet[r], key=k) for r, k in zip(roles, keys, strict=True)]
    outcomes = _lead(casts)
    assert [o.code for o in outcomes] == [service.receipt_code(live_open.id, k) for k in keys]
    assert _stored(live_open.id) == (3, 3)


def test_a_batch_records_one_audit_entry_per_vote_without_the_choice(app, live_open, cabinet):
    _lead([_prepared(live_open, cabinet[r], "reject") for r in ("member", "member2")])
    details = db.session.scalars(select(AuditEntry.details).where(AuditEntry.action == "vote.cast")).all()
    assert sorted(json.loads(d)["voter"] for d in details) == sorted([cabinet["member"].id, cabinet["member2"].id])
    assert not any("reject" in d for d in details)


def test_a_refused_vote_in_a_batch_does_not_affect_the_others(app, live_open, cabinet):
    casts = [_prepared(live_open, cabinet["member"]), _prepared(live_open, cabinet["secretary"]),
             _prepared(live_open, cabinet["member2"])]
    outcomes = _lead(casts)
    assert isinstance(outcomes[0], service.Receipt) and isinstance(outcomes[2], service.Receipt)
    assert outcomes[1] is batch._SOLO  # not eligible: the single-vote path gives the reason
    assert _stored(live_open.id) == (2, 2)


def test_a_vote_the_database_refuses_in_a_batch_does_not_affect_the_others(app, live_open, cabinet):
    """Two voters presenting one client vote id collide on the receipt's unique constraint: the batch
    is stored again vote by vote, in savepoints, and only the second of them is handed back."""
    shared = cvid()
    casts = [_prepared(live_open, cabinet["member"], key=shared), _prepared(live_open, cabinet["member2"], key=shared),
             _prepared(live_open, cabinet["member3"])]
    outcomes = _lead(casts)
    receipts = [o for o in outcomes if isinstance(o, service.Receipt)]
    assert len(receipts) == 2 and outcomes[2] in receipts
    assert _stored(live_open.id) == (2, 2)


def test_a_second_cast_of_one_voter_in_a_batch_is_answered_as_a_retry(app, live_open, cabinet):
    key = cvid()
    casts = [_prepared(live_open, cabinet["member"], key=key), _prepared(live_open, cabinet["member"], key=key)]
    first, second = _lead(casts)
    assert isinstance(first, service.Receipt) and second is batch._SOLO
    retry = service.cast_vote(Actor(cabinet["member"]), live_open.id, "approve", key)
    assert retry.repeated and retry.code == first.code
    assert _stored(live_open.id) == (1, 1)


def test_a_batch_on_a_closed_ballot_stores_nothing(app, live_open, cabinet):
    casts = [_prepared(live_open, cabinet[r]) for r in ("member", "member2")]
    service.close_ballot(Actor(cabinet["chair"]), live_open)
    db.session.commit()
    assert _lead(casts) == [batch._SOLO, batch._SOLO]  # each caller is then refused with "closed"
    assert _stored(live_open.id) == (0, 0)
