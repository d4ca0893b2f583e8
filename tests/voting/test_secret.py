"""Secret ballots: nothing stored links a voter to a choice — not id, not time, not insert order."""

from __future__ import annotations

import json

from sqlalchemy import inspect, select, text

from ecabinet.audit.models import AuditEntry
from ecabinet.extensions import db
from ecabinet.voting import service
from ecabinet.voting.models import BallotParticipation, BallotVote
from tests.meetings.conftest import actor
from tests.voting.conftest import cvid, make_live


def _secret_ballot(quorate, cabinet):
    ballot = make_live(quorate, cabinet, secret=True)
    service.open_ballot(actor(cabinet["chair"]), ballot)
    db.session.commit()
    return ballot


def test_vote_table_has_no_link_no_time(app):
    columns = {c["name"] for c in inspect(db.engine).get_columns("ballot_vote")}
    assert columns == {"id", "ballot_id", "receipt_code", "answers", "voter_id"}


def test_secret_votes_store_no_voter_and_random_keys(quorate, cabinet):
    ballot = _secret_ballot(quorate, cabinet)
    for role, choice in (("member", "approve"), ("member2", "reject"), ("member3", "approve")):
        service.cast_vote(actor(cabinet[role]), ballot.id, choice, cvid())
    rows = db.session.scalars(select(BallotVote).where(BallotVote.ballot_id == ballot.id)).all()
    assert all(r.voter_id is None for r in rows)
    assert all(len(r.id) == 32 for r in rows)


def test_secret_audit_has_voter_but_never_the_choice(quorate, cabinet):
    ballot = _secret_ballot(quorate, cabinet)
    service.cast_vote(actor(cabinet["member"]), ballot.id, "reject", cvid())
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "vote.cast")).all()
    assert [json.loads(e.details) for e in entries] == [{"voter": cabinet["member"].id}]
    assert "reject" not in entries[0].details


def test_secret_receipts_published_without_names(quorate, cabinet):
    ballot = _secret_ballot(quorate, cabinet)
    receipt = service.cast_vote(actor(cabinet["member"]), ballot.id, "approve", cvid())
    service.close_ballot(actor(cabinet["chair"]), ballot)
    db.session.commit()
    rows = service.published_receipts(ballot)
    assert rows == [{"receipt": receipt.code, "answers": {str(ballot.questions[0].id): {"choice": "approve"}},
                     "voter": None}]


def test_secret_change_only_from_the_device_that_voted(quorate, cabinet):
    import pytest

    from ecabinet.voting.service import VotingError

    ballot = _secret_ballot(quorate, cabinet)
    key = cvid()
    service.cast_vote(actor(cabinet["member"]), ballot.id, "approve", key)
    with pytest.raises(VotingError, match="device"):
        service.cast_vote(actor(cabinet["member"]), ballot.id, "reject", cvid())
    assert service.cast_vote(actor(cabinet["member"]), ballot.id, "reject", key).changed


def test_participation_stores_no_receipt(quorate, cabinet):
    ballot = _secret_ballot(quorate, cabinet)
    receipt = service.cast_vote(actor(cabinet["member"]), ballot.id, "approve", cvid())
    part = db.session.scalar(select(BallotParticipation))
    assert receipt.code not in json.dumps({c.name: str(getattr(part, c.name)) for c in part.__table__.columns})


def test_close_rewrites_secret_votes_in_key_order(quorate, cabinet):
    """After close, physical order (rowid / ctid) follows the random key, and on PostgreSQL every row was
    written by the closing transaction (one xmin), so neither tells the order of arrival."""
    ballot = _secret_ballot(quorate, cabinet)
    for role in ("member", "member2", "member3", "chair"):
        service.cast_vote(actor(cabinet[role]), ballot.id, "approve", cvid())
    service.close_ballot(actor(cabinet["chair"]), ballot)
    db.session.commit()
    db.session.rollback()
    if db.engine.dialect.name == "postgresql":
        rows = db.session.execute(text("SELECT id, xmin::text AS x FROM ballot_vote WHERE ballot_id = :b "
                                       "ORDER BY ctid"), {"b": ballot.id}).all()
        assert [r.id for r in rows] == sorted(r.id for r in rows)
        assert len({r.x for r in rows}) == 1
    else:
        # WITHOUT ROWID: no hidden insertion counter exists at all.
        sql = db.session.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'ballot_vote'"))
        assert "WITHOUT ROWID" in sql.upper()
