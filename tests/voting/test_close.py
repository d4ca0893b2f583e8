"""Closing: the result computed from the stored votes, the rule recorded, the item's outcome, the lock."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from ecabinet.extensions import db
from ecabinet.voting import service
from ecabinet.voting.models import BallotStatus
from ecabinet.voting.service import VotingError
from tests.meetings.conftest import actor, audit_actions
from tests.voting.conftest import cvid, make_live


def _vote(cabinet, ballot, **choices):
    for role, choice in choices.items():
        service.cast_vote(actor(cabinet[role]), ballot.id, choice, cvid())


def test_close_computes_result_and_records_rule(live_open, cabinet):
    _vote(cabinet, live_open, member="approve", member2="approve", member3="reject", chair="abstain")
    result = service.close_ballot(actor(cabinet["chair"]), live_open)
    db.session.commit()
    assert result["outcome"] == "adopted" and result["rule"] == "majority_cast"
    assert result["questions"][0]["counts"] == {"approve": 2, "reject": 1, "abstain": 1}
    db.session.rollback()
    assert live_open.status is BallotStatus.CLOSED and live_open.outcome == "adopted"
    assert live_open.result_data["quorum"]["reached"] is True
    assert live_open.item_id and db.session.get(type(live_open.questions[0].ballot), live_open.id)
    from ecabinet.meetings.models import MeetingItem

    assert db.session.get(MeetingItem, live_open.item_id).outcome == "adopted_by_vote"
    assert audit_actions()[-1] == "ballot.close"


def test_close_tie_rejects(live_open, cabinet):
    _vote(cabinet, live_open, member="approve", member2="reject")
    assert service.close_ballot(actor(cabinet["chair"]), live_open)["outcome"] == "rejected"
    db.session.commit()


def test_close_twice_refused(live_open, cabinet):
    service.close_ballot(actor(cabinet["chair"]), live_open)
    db.session.commit()
    with pytest.raises(VotingError, match="closed"):
        service.close_ballot(actor(cabinet["chair"]), live_open)


def test_close_by_member_refused(live_open, cabinet):
    with pytest.raises(VotingError, match="chair"):
        service.close_ballot(actor(cabinet["member"]), live_open)


def test_close_without_quorum_records_no_quorum(live_open, cabinet, in_session):
    from ecabinet.meetings import service as meetings

    _vote(cabinet, live_open, member="approve", member2="approve", member3="approve")
    for role in ("member", "member2", "member3"):
        meetings.check_out(actor(cabinet["secretary"]), in_session, meetings.participant_of(in_session, cabinet[role]))
        db.session.commit()
    result = service.close_ballot(actor(cabinet["chair"]), live_open)
    db.session.commit()
    assert result["outcome"] == "no_quorum" and result["quorum"]["reached"] is False


def test_closed_ballot_is_locked_in_the_database(live_open, cabinet):
    _vote(cabinet, live_open, member="approve")
    service.close_ballot(actor(cabinet["chair"]), live_open)
    db.session.commit()
    for sql in ("UPDATE ballot SET outcome = 'rejected' WHERE id = :id",
                "UPDATE ballot_vote SET answers = '{}' WHERE ballot_id = :id",
                "DELETE FROM ballot_vote WHERE ballot_id = :id"):
        with pytest.raises((IntegrityError, DBAPIError)):
            db.session.execute(text(sql), {"id": live_open.id})
        db.session.rollback()


def test_results_feed_the_meeting_record(live_open, cabinet, in_session):
    _vote(cabinet, live_open, member="approve", member2="approve")
    service.close_ballot(actor(cabinet["chair"]), live_open)
    db.session.commit()
    rows = service.results_for_meeting(in_session)
    assert [r["ballot_id"] for r in rows] == [live_open.id] and rows[0]["result"]["outcome"] == "adopted"


def test_two_thirds_rule_at_close(quorate, cabinet):
    ballot = make_live(quorate, cabinet, rule="two_thirds")
    service.open_ballot(actor(cabinet["chair"]), ballot)
    db.session.commit()
    _vote(cabinet, ballot, member="approve", member2="approve", member3="reject")
    assert service.close_ballot(actor(cabinet["chair"]), ballot)["outcome"] == "adopted"
    db.session.commit()


def test_majority_of_all_members_at_close(quorate, cabinet):
    ballot = make_live(quorate, cabinet, rule="majority_all")
    service.open_ballot(actor(cabinet["chair"]), ballot)
    db.session.commit()
    _vote(cabinet, ballot, member="approve", member2="approve")
    assert service.close_ballot(actor(cabinet["chair"]), ballot)["outcome"] == "rejected"  # 2 of 4 is not > half
    db.session.commit()


def test_published_receipts_named(live_open, cabinet):
    service.cast_vote(actor(cabinet["member"]), live_open.id, "approve", cvid())
    service.close_ballot(actor(cabinet["chair"]), live_open)
    db.session.commit()
    rows = service.published_receipts(live_open)
    assert rows[0]["voter"] == "Test member"
