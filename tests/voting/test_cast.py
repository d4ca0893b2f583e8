"""Casting a vote: receipts, idempotency, changes, and every refusal changing nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.voting import service
from ecabinet.voting.models import BallotParticipation, BallotVote
from ecabinet.voting.service import VotingError
from tests.meetings.conftest import actor, audit_actions
from tests.voting.conftest import cvid, fresh, make_live, make_written


def _counts(ballot_id):
    db.session.rollback()
    votes = db.session.scalar(select(func.count()).select_from(BallotVote).where(BallotVote.ballot_id == ballot_id))
    parts = db.session.scalar(select(func.count()).select_from(BallotParticipation)
                              .where(BallotParticipation.ballot_id == ballot_id))
    return votes, parts


def test_vote_returns_receipt_after_commit(live_open, cabinet):
    receipt = service.cast_vote(actor(cabinet["member"]), live_open.id, "approve", cvid())
    assert len(receipt.code) == 9 and receipt.code[4] == "-"
    assert _counts(live_open.id) == (1, 1)
    assert audit_actions()[-1] == "vote.cast"


def test_retry_with_same_client_id_is_one_vote(live_open, cabinet):
    key = cvid()
    first = service.cast_vote(actor(cabinet["member"]), live_open.id, "approve", key)
    again = service.cast_vote(actor(cabinet["member"]), live_open.id, "approve", key)
    assert again.code == first.code and again.repeated
    assert _counts(live_open.id) == (1, 1)


def test_change_with_same_device_keeps_receipt(live_open, cabinet):
    key = cvid()
    first = service.cast_vote(actor(cabinet["member"]), live_open.id, "approve", key)
    changed = service.cast_vote(actor(cabinet["member"]), live_open.id, "reject", key)
    assert changed.changed and changed.code == first.code
    assert _counts(live_open.id) == (1, 1)


def test_named_ballot_change_from_another_device(live_open, cabinet):
    service.cast_vote(actor(cabinet["member"]), live_open.id, "approve", cvid())
    changed = service.cast_vote(actor(cabinet["member"]), live_open.id, "reject", cvid())
    assert changed.changed
    assert _counts(live_open.id) == (1, 1)


def test_refused_change_when_ballot_forbids_it(quorate, cabinet):
    ballot = make_live(quorate, cabinet, allow_change=False)
    service.open_ballot(actor(cabinet["chair"]), ballot)
    db.session.commit()
    service.cast_vote(actor(cabinet["member"]), ballot.id, "approve", cvid())
    with pytest.raises(VotingError, match="does not allow changing"):
        service.cast_vote(actor(cabinet["member"]), ballot.id, "reject", cvid())
    assert _counts(ballot.id) == (1, 1)


def test_refused_on_closed_ballot(live_open, cabinet):
    service.close_ballot(actor(cabinet["chair"]), live_open)
    db.session.commit()
    with pytest.raises(VotingError, match="closed"):
        service.cast_vote(actor(cabinet["member"]), live_open.id, "approve", cvid())
    assert _counts(live_open.id) == (0, 0)


def test_refused_on_not_yet_open_ballot(quorate, cabinet):
    ballot = make_live(quorate, cabinet)
    with pytest.raises(VotingError, match="not open yet"):
        service.cast_vote(actor(cabinet["member"]), ballot.id, "approve", cvid())
    assert _counts(ballot.id) == (0, 0)


def test_refused_for_ineligible_voter(live_open, cabinet):
    with pytest.raises(VotingError, match="not eligible"):
        service.cast_vote(actor(cabinet["guest"]), live_open.id, "approve", cvid())
    assert _counts(live_open.id) == (0, 0)


def test_refused_for_recused_member(quorate, cabinet):
    from ecabinet.meetings import service as meetings
    from ecabinet.meetings.models import MeetingStatus

    item = quorate.items[0]
    quorate.status = MeetingStatus.PUBLISHED  # interests are declared before or during the meeting
    db.session.commit()
    meetings.declare_interest(actor(cabinet["member3"]), item, "Người thân liên quan")
    db.session.commit()
    quorate.status = MeetingStatus.IN_SESSION
    db.session.commit()
    ballot = make_live(quorate, cabinet, item_id=item.id)
    service.open_ballot(actor(cabinet["chair"]), ballot)
    db.session.commit()
    assert ballot.eligible_count == 3
    with pytest.raises(VotingError, match="recused"):
        service.cast_vote(actor(cabinet["member3"]), ballot.id, "approve", cvid())
    assert _counts(ballot.id) == (0, 0)


def test_refused_unknown_option(live_open, cabinet):
    with pytest.raises(VotingError, match="Unknown option"):
        service.cast_vote(actor(cabinet["member"]), live_open.id, "maybe", cvid())
    assert _counts(live_open.id) == (0, 0)


def test_refused_after_deadline(written_open, cabinet):
    q1, q2 = written_open.questions
    later = written_open.deadline + timedelta(minutes=1)
    with pytest.raises(VotingError, match="deadline"):
        service.cast_vote(actor(cabinet["member"]), written_open.id, {q1.id: "agree", q2.id: "agree"}, cvid(),
                          authenticated_at=later, now=later)
    assert _counts(written_open.id) == (0, 0)


def test_refused_other_opinion_without_comment(written_open, cabinet):
    q1, q2 = written_open.questions
    with pytest.raises(VotingError, match="needs a comment"):
        service.cast_vote(actor(cabinet["member"]), written_open.id, {q1.id: "other", q2.id: "agree"}, cvid(),
                          authenticated_at=fresh())
    assert _counts(written_open.id) == (0, 0)


@pytest.mark.parametrize("forged", [999999, "abc", None, -1, True, 2**40])
def test_refused_stale_or_forged_ballot_id(live_open, cabinet, forged):
    with pytest.raises(VotingError, match="Unknown ballot"):
        service.cast_vote(actor(cabinet["member"]), forged, "approve", cvid())
    assert _counts(live_open.id) == (0, 0)


def test_refused_invalid_client_vote_id(live_open, cabinet):
    with pytest.raises(VotingError, match="client vote id"):
        service.cast_vote(actor(cabinet["member"]), live_open.id, "approve", "short")
    assert _counts(live_open.id) == (0, 0)


def test_refused_written_without_fresh_login(written_open, cabinet):
    q1, q2 = written_open.questions
    stale = utcnow() - timedelta(minutes=11)
    with pytest.raises(VotingError, match="password"):
        service.cast_vote(actor(cabinet["member"]), written_open.id, {q1.id: "agree", q2.id: "agree"}, cvid(),
                          authenticated_at=stale)
    assert _counts(written_open.id) == (0, 0)


def test_refused_written_missing_answer(written_open, cabinet):
    q1, _q2 = written_open.questions
    with pytest.raises(VotingError, match="every question"):
        service.cast_vote(actor(cabinet["member"]), written_open.id, {q1.id: "agree"}, cvid(),
                          authenticated_at=fresh())
    assert _counts(written_open.id) == (0, 0)


def test_reauth_window_is_configurable(app, cabinet):
    app.config["REAUTH_WINDOW_MINUTES"] = 30
    ballot = make_written(cabinet, questions=("Một câu",))
    service.approve_ballot(actor(cabinet["chair"]), ballot)
    service.send_ballot(actor(cabinet["secretary"]), ballot)
    db.session.commit()
    receipt = service.cast_vote(actor(cabinet["member"]), ballot.id, "agree", cvid(),
                                authenticated_at=utcnow() - timedelta(minutes=20))
    assert receipt.code
