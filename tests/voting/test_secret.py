"""Secret ballots: nothing stored links a voter to a choice — not id, not time, not insert order."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, inspect, select, text

from ecabinet.accounts.models import CustodyKey
from ecabinet.audit.models import AuditEntry
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.voting import service
from ecabinet.voting.models import BallotParticipation, BallotStatus, BallotVote
from ecabinet.voting.service import KeyNeeded, VotingError, sealing
from tests.meetings.conftest import actor, audit_actions
from tests.voting.conftest import close_and_count, cvid, make_live, make_written, wrapping_key


def _secret_ballot(quorate, cabinet):
    ballot = make_live(quorate, cabinet, secret=True)
    service.open_ballot(actor(cabinet["chair"]), ballot)
    db.session.commit()
    return ballot


def test_vote_table_has_no_link_no_time(app):
    columns = {c["name"] for c in inspect(db.engine).get_columns("ballot_vote")}
    assert columns == {"id", "ballot_id", "receipt_code", "answers", "voter_id"}


def test_secret_votes_are_stored_sealed_and_counted_with_random_keys(quorate, cabinet):
    ballot = _secret_ballot(quorate, cabinet)
    for role, choice in (("member", "approve"), ("member2", "reject"), ("member3", "abstain")):
        service.cast_vote(actor(cabinet[role]), ballot.id, choice, cvid())
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(BallotVote)) == 0
    parts = db.session.scalars(select(BallotParticipation)).all()
    stored = json.dumps([{c.name: str(getattr(p, c.name)) for c in p.__table__.columns} for p in parts])
    assert not {"approve", "reject", "abstain"} & set(re.findall(r"[a-z]+", stored))
    # The same length whatever the choice: "reject" is shorter than "abstain".
    assert len({len(p.sealed_vote) for p in parts}) == 1
    result = close_and_count(ballot, cabinet)
    assert result["questions"][0]["counts"] == {"approve": 1, "reject": 1, "abstain": 1}
    rows = db.session.scalars(select(BallotVote).where(BallotVote.ballot_id == ballot.id)).all()
    assert all(r.voter_id is None for r in rows) and all(len(r.id) == 32 for r in rows)


def test_secret_audit_has_voter_but_never_the_choice(quorate, cabinet):
    ballot = _secret_ballot(quorate, cabinet)
    service.cast_vote(actor(cabinet["member"]), ballot.id, "reject", cvid())
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "vote.cast")).all()
    assert [json.loads(e.details) for e in entries] == [{"voter": cabinet["member"].id}]
    assert "reject" not in entries[0].details


def test_secret_receipts_published_without_names(quorate, cabinet):
    ballot = _secret_ballot(quorate, cabinet)
    receipt = service.cast_vote(actor(cabinet["member"]), ballot.id, "approve", cvid())
    close_and_count(ballot, cabinet)
    rows = service.published_receipts(ballot)
    assert rows == [{"receipt": receipt.code, "answers": {str(ballot.questions[0].id): {"choice": "approve"}},
                     "voter": None}]


def test_secret_change_only_from_the_device_that_voted(quorate, cabinet):
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


def test_the_count_writes_each_layer_in_one_transaction_with_no_order(quorate, cabinet):
    """Every vote row is written by the counting transaction (one xmin on PostgreSQL); on SQLite the
    tables of votes keep no hidden insertion counter at all."""
    ballot = _secret_ballot(quorate, cabinet)
    for role in ("member", "member2", "member3", "chair"):
        service.cast_vote(actor(cabinet[role]), ballot.id, "approve", cvid())
    close_and_count(ballot, cabinet)
    db.session.rollback()
    if db.engine.dialect.name == "postgresql":
        rows = db.session.execute(text("SELECT id, xmin::text AS x FROM ballot_vote WHERE ballot_id = :b "
                                       "ORDER BY ctid"), {"b": ballot.id}).all()
        assert len(rows) == 4 and len({r.x for r in rows}) == 1
    else:
        for table in ("ballot_vote", "ballot_sealed_vote"):
            sql = db.session.scalar(text("SELECT sql FROM sqlite_master WHERE name = :t"), {"t": table})
            assert "WITHOUT ROWID" in sql.upper()


def test_counting_needs_a_chair_then_the_secretariat(quorate, cabinet):
    ballot = _secret_ballot(quorate, cabinet)
    for role, choice in (("member", "approve"), ("member2", "approve"), ("member3", "reject")):
        service.cast_vote(actor(cabinet[role]), ballot.id, choice, cvid())
    assert service.close_ballot(actor(cabinet["chair"]), ballot, wrapping_key=wrapping_key(cabinet["chair"])) is None
    db.session.commit()
    db.session.refresh(ballot)
    assert ballot.status is BallotStatus.COUNTING and ballot.unsealed_layers == 1
    assert sealing.seal_remains(ballot.id) == {"sealed votes on participation rows": 0, "votes between layers": 3,
                                               "key shares": 1}
    assert service.published_receipts(ballot) == [] and service.summary(ballot) is None
    with pytest.raises(VotingError, match="holder"):  # the chair holds no key of the secretariat's layer
        service.open_seal(actor(cabinet["chair"]), ballot, wrapping_key(cabinet["chair"]))
    db.session.rollback()
    with pytest.raises(KeyNeeded):  # signed in before holding a key, or the session lost it
        service.open_seal(actor(cabinet["secretary"]), ballot, None)
    db.session.rollback()
    result = service.open_seal(actor(cabinet["secretary"]), ballot, wrapping_key(cabinet["secretary"]))
    db.session.commit()
    assert result["questions"][0]["counts"] == {"approve": 2, "reject": 1, "abstain": 0}
    assert ballot.status is BallotStatus.CLOSED
    assert set(sealing.seal_remains(ballot.id).values()) == {0}
    actions = [a for a in audit_actions() if a.startswith("ballot.")]
    assert actions[-4:] == ["ballot.stop", "ballot.unseal", "ballot.unseal", "ballot.close"]


def test_a_closer_without_a_key_leaves_the_ballot_to_be_counted(quorate, cabinet):
    ballot = _secret_ballot(quorate, cabinet)
    service.cast_vote(actor(cabinet["member"]), ballot.id, "reject", cvid())
    assert service.close_ballot(actor(cabinet["chair"]), ballot) is None
    db.session.commit()
    with pytest.raises(VotingError, match="holder"):  # the chair's layer comes first
        service.open_seal(actor(cabinet["secretary"]), ballot, wrapping_key(cabinet["secretary"]))
    db.session.rollback()
    with pytest.raises(VotingError):
        service.cast_vote(actor(cabinet["member2"]), ballot.id, "approve", cvid())
    service.open_seal(actor(cabinet["chair"]), ballot, wrapping_key(cabinet["chair"]))
    db.session.commit()
    result = service.open_seal(actor(cabinet["secretary"]), ballot, wrapping_key(cabinet["secretary"]))
    db.session.commit()
    assert result["questions"][0]["counts"]["reject"] == 1


def test_a_wrong_key_opens_nothing_and_changes_nothing(quorate, cabinet):
    ballot = _secret_ballot(quorate, cabinet)
    service.cast_vote(actor(cabinet["member"]), ballot.id, "reject", cvid())
    service.close_ballot(actor(cabinet["chair"]), ballot)
    db.session.commit()
    with pytest.raises(KeyNeeded):
        service.open_seal(actor(cabinet["chair"]), ballot, b"\x00" * 32)
    db.session.rollback()
    db.session.refresh(ballot)
    assert ballot.unsealed_layers == 0 and sealing.seal_remains(ballot.id)["sealed votes on participation rows"] == 1


def test_a_secret_vote_opens_only_with_a_key_holder_on_each_side(quorate, cabinet):
    db.session.execute(delete(CustodyKey).where(CustodyKey.user_id == cabinet["secretary"].id))
    db.session.commit()
    ballot = make_live(quorate, cabinet, secret=True)
    with pytest.raises(VotingError, match="key holder"):
        service.open_ballot(actor(cabinet["chair"]), ballot)


def test_a_retry_is_recognised_and_a_change_is_counted(quorate, cabinet):
    ballot = _secret_ballot(quorate, cabinet)
    key = cvid()
    first = service.cast_vote(actor(cabinet["member"]), ballot.id, "approve", key)
    again = service.cast_vote(actor(cabinet["member"]), ballot.id, "approve", key)
    assert again.repeated and again.code == first.code
    changed = service.cast_vote(actor(cabinet["member"]), ballot.id, "abstain", key)
    assert changed.changed and changed.code == first.code
    result = close_and_count(ballot, cabinet)
    assert result["questions"][0]["counts"] == {"approve": 0, "reject": 0, "abstain": 1}
    assert service.published_receipts(ballot)[0]["receipt"] == first.code


def test_a_written_secret_ballot_closed_by_its_deadline_waits_for_the_key_holders(cabinet):
    ballot = make_written(cabinet, questions=("Q",), secret=True)
    service.approve_ballot(actor(cabinet["chair"]), ballot)
    service.send_ballot(actor(cabinet["secretary"]), ballot)
    db.session.commit()
    receipt = service.cast_vote(actor(cabinet["member"]), ballot.id, {str(ballot.questions[0].id): "disagree"},
                                cvid(), authenticated_at=utcnow())
    assert service.close_due_ballots(now=ballot.deadline + timedelta(minutes=1)) == [ballot.id]
    db.session.commit()
    assert ballot.status is BallotStatus.COUNTING
    service.open_seal(actor(cabinet["chair"]), ballot, wrapping_key(cabinet["chair"]))
    db.session.commit()
    result = service.open_seal(actor(cabinet["secretary"]), ballot, wrapping_key(cabinet["secretary"]))
    db.session.commit()
    assert result["closed_by"] == "deadline" and result["quorum"]["basis"] == "answered"
    assert service.published_receipts(ballot)[0]["receipt"] == receipt.code


def test_sealed_written_opinions_have_one_length_whatever_the_comment(cabinet):
    """"Other opinion" needs a comment: a sealed length that grew with the comment would point to it."""
    ballot = make_written(cabinet, questions=("Q1", "Q2"), secret=True)
    service.approve_ballot(actor(cabinet["chair"]), ballot)
    service.send_ballot(actor(cabinet["secretary"]), ballot)
    db.session.commit()
    q1, q2 = (str(q.id) for q in ballot.questions)
    answers = {
        "member": {q1: "agree", q2: "agree"},
        "member2": {q1: {"choice": "other", "comment": "Đề nghị làm rõ. " * 120}, q2: "disagree"},
        "member3": {q1: {"choice": "other", "comment": "\x01" * 2000},
                    q2: {"choice": "other", "comment": "ý" * 2000}},
    }
    for role, answer in answers.items():
        service.cast_vote(actor(cabinet[role]), ballot.id, answer, cvid(), authenticated_at=utcnow())
    db.session.rollback()
    lengths = {len(p.sealed_vote) for p in db.session.scalars(
        select(BallotParticipation).where(BallotParticipation.ballot_id == ballot.id))}
    assert len(lengths) == 1


def test_a_close_with_a_stale_key_still_ends_the_vote(quorate, cabinet):
    """A key that no longer opens (the password changed on another device) must not undo the close."""
    ballot = _secret_ballot(quorate, cabinet)
    service.cast_vote(actor(cabinet["member"]), ballot.id, "approve", cvid())
    assert service.close_ballot(actor(cabinet["chair"]), ballot, wrapping_key=b"\x01" * 32) is None
    db.session.commit()
    db.session.refresh(ballot)
    assert ballot.status is BallotStatus.COUNTING and ballot.unsealed_layers == 0
