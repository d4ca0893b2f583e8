"""A written-opinion ballot from draft to its automatic summary, with reminders and the periodic job's
functions called with a given ``now``."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ecabinet.extensions import db
from ecabinet.notifications.models import Notification
from ecabinet.voting import service
from ecabinet.voting.models import BallotReminder, BallotStatus
from tests.meetings.conftest import actor
from tests.voting.conftest import cvid, fresh, make_written


def _send(cabinet, **kw):
    ballot = make_written(cabinet, **kw)
    service.approve_ballot(actor(cabinet["chair"]), ballot)
    service.send_ballot(actor(cabinet["secretary"]), ballot)
    db.session.commit()
    return ballot


def test_written_ballot_runs_to_its_summary_at_the_deadline(cabinet):
    ballot = _send(cabinet, hours=50)
    q1, q2 = ballot.questions
    service.cast_vote(actor(cabinet["member"]), ballot.id,
                      {q1.id: "agree", q2.id: {"choice": "other", "comment": "Cần bổ sung đánh giá tác động."}},
                      cvid(), authenticated_at=fresh())
    service.cast_vote(actor(cabinet["member2"]), ballot.id,
                      {q1.id: {"choice": "disagree", "comment": "Chưa đủ cơ sở."}, q2.id: "agree"},
                      cvid(), authenticated_at=fresh())
    service.cast_vote(actor(cabinet["chair"]), ballot.id, {q1.id: "agree", q2.id: "agree"}, cvid(),
                      authenticated_at=fresh())
    # The secretariat sees who has not answered.
    assert [u.id for u in service.missing_voters(ballot)] == [cabinet["member3"].id]
    assert service.participation(ballot) == {"voted": 3, "eligible": 4}

    # Reminders: at 48 h before the deadline, once; then at 24 h; only to those who have not answered.
    at_48 = ballot.deadline - timedelta(hours=47)
    assert service.send_due_reminders(at_48) == {ballot.id: [cabinet["member3"].id]}
    db.session.commit()
    assert service.send_due_reminders(at_48 + timedelta(minutes=1)) == {}
    db.session.commit()
    assert service.send_due_reminders(ballot.deadline - timedelta(hours=23)) == {ballot.id: [cabinet["member3"].id]}
    db.session.commit()
    assert sorted(db.session.scalars(select(BallotReminder.hours_before))) == [24, 48]

    # Not yet due: nothing closes. At the deadline the job closes it.
    assert service.close_due_ballots(ballot.deadline - timedelta(minutes=1)) == []
    db.session.commit()
    assert service.close_due_ballots(ballot.deadline + timedelta(seconds=1)) == [ballot.id]
    db.session.commit()
    db.session.rollback()
    assert ballot.status is BallotStatus.CLOSED
    summary = service.summary(ballot)
    first, second = summary["questions"]
    assert first["counts"] == {"agree": 2, "disagree": 1, "other": 0}
    assert first["comments"]["disagree"] == ["Chưa đủ cơ sở."]
    assert second["counts"] == {"agree": 2, "disagree": 0, "other": 1}
    assert second["comments"]["other"] == ["Cần bổ sung đánh giá tác động."]
    assert first["outcome"] == "adopted" and summary["quorum"]["reached"] is True
    assert summary["closed_by"] == "deadline"


def test_written_ballot_closes_when_everyone_has_answered(cabinet):
    ballot = _send(cabinet, questions=("Một câu",))
    for role in ("chair", "member", "member2", "member3"):
        service.cast_vote(actor(cabinet[role]), ballot.id, "agree", cvid(), authenticated_at=fresh())
    db.session.rollback()
    assert ballot.status is BallotStatus.CLOSED
    assert ballot.result_data["closed_by"] == "all_answered"
    assert ballot.outcome == "adopted"


def test_written_ballot_without_quorum_at_deadline(cabinet):
    ballot = _send(cabinet, questions=("Một câu",))
    service.cast_vote(actor(cabinet["member"]), ballot.id, "agree", cvid(), authenticated_at=fresh())
    service.close_due_ballots(ballot.deadline + timedelta(seconds=1))
    db.session.commit()
    db.session.rollback()
    assert ballot.outcome == "no_quorum"


def test_reminder_thresholds_passed_together_are_sent_once(cabinet):
    ballot = _send(cabinet, hours=3)  # sent 3 h before the deadline: 48 h and 24 h are already past
    now = ballot.deadline - timedelta(hours=2, minutes=59)
    assert set(service.send_due_reminders(now)) == {ballot.id}
    db.session.commit()
    notes = db.session.scalars(select(Notification).where(Notification.key == service.N_REMINDER)).all()
    assert len(notes) == 4
    assert service.send_due_reminders(now) == {}
    db.session.commit()


def test_pending_ballots_for_a_member(cabinet):
    ballot = _send(cabinet, questions=("Một câu",))
    assert [b.id for b in service.pending_ballots_for(cabinet["member"])] == [ballot.id]
    service.cast_vote(actor(cabinet["member"]), ballot.id, "agree", cvid(), authenticated_at=fresh())
    assert service.pending_ballots_for(cabinet["member"]) == []
    assert service.pending_ballots_for(cabinet["secretary"]) == []


def test_periodic_task_is_registered():
    from ecabinet.jobs import huey
    from ecabinet.voting import tasks

    assert tasks.voting_minute.task_class in huey._registry._periodic_tasks
