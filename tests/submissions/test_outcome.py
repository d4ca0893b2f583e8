"""The ministry hears of the decision on its submission from the services that decide it, through the
hooks they declare (``voting.hooks.ballot_decided``, ``meetings.hooks.consent_adopted``), in the
deciding unit of work: a live vote on its item, the consent block, a written-opinion ballot; nothing when
the decision is rolled back or is about something else."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from ecabinet.audit.models import AuditEntry
from ecabinet.core.actor import Actor
from ecabinet.core.types import utcnow
from ecabinet.extensions import db
from ecabinet.meetings import service as meetings
from ecabinet.meetings.models import CheckInMode, MeetingItem
from ecabinet.notifications.models import Notification
from ecabinet.submissions import service as submissions
from ecabinet.submissions.models import Submission
from ecabinet.voting import service as voting
from ecabinet.voting.models import BallotKind
from tests.submissions.conftest import JUSTICE

SYSTEM = Actor.system("test")
N_OUTCOME = "A decision was reached on your submission “%(title)s”."


def _outcomes() -> list[dict]:
    """The details of each ``submission.outcome`` audit entry, in order."""
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "submission.outcome")
                                 .order_by(AuditEntry.id))
    return [json.loads(e.details) for e in entries]


def _told(liaison) -> int:
    return len(db.session.scalars(select(Notification).where(Notification.user_id == liaison.id,
                                                             Notification.key == N_OUTCOME)).all())


def _on_the_agenda(submitted: Submission, meeting) -> MeetingItem:
    item = submissions.accept_to_meeting(SYSTEM, submitted, meeting.id)
    db.session.commit()
    return item


def _in_session_with_quorum(meeting, cabinet) -> None:
    meetings.start_meeting(SYSTEM, meeting)
    for who in ("member", "member2", "member3"):
        meetings.check_in(SYSTEM, meeting, meetings.participant_of(meeting, cabinet[who]), CheckInMode.ROOM)


def test_a_live_vote_on_its_item_tells_the_ministry_in_the_same_commit(app, submitted, published, cabinet,
                                                                       liaisons):
    item = _on_the_agenda(submitted, published)
    _in_session_with_quorum(published, cabinet)
    ballot = voting.create_ballot(SYSTEM, voting.BallotData(title="Thông qua Nghị định", kind=BallotKind.LIVE,
                                                            meeting_id=published.id, item_id=item.id))
    voting.open_ballot(SYSTEM, ballot)
    voting.close_ballot(SYSTEM, ballot)
    db.session.commit()
    assert item.outcome is not None
    assert _outcomes() == [{"title": submitted.title, "outcome": item.outcome}]
    assert _told(liaisons[JUSTICE]) == 1


def test_the_consent_block_adopting_its_item_tells_the_ministry(app, submitted, published, cabinet, liaisons):
    item = _on_the_agenda(submitted, published)
    _in_session_with_quorum(published, cabinet)
    adopted = meetings.adopt_consent_block(SYSTEM, published)
    db.session.commit()
    assert item in adopted
    assert _outcomes() == [{"title": submitted.title, "outcome": "adopted_by_consent"}]
    assert _told(liaisons[JUSTICE]) == 1


def test_a_written_opinion_ballot_tells_the_ministry_its_outcome(app, submitted, liaisons):
    ballot = submissions.accept_to_written_opinion(SYSTEM, submitted, utcnow() + timedelta(days=7))
    voting.approve_ballot(SYSTEM, ballot)
    voting.open_ballot(SYSTEM, ballot)
    voting.close_ballot(SYSTEM, ballot, reason="deadline")
    db.session.commit()
    assert ballot.meeting_id is None  # no meeting event: the hook is how the ministry hears of it
    assert _outcomes() == [{"title": submitted.title, "outcome": ballot.outcome}]
    assert _told(liaisons[JUSTICE]) == 1


def test_a_decision_rolled_back_tells_nobody(app, submitted, liaisons):
    ballot = submissions.accept_to_written_opinion(SYSTEM, submitted, utcnow() + timedelta(days=7))
    voting.approve_ballot(SYSTEM, ballot)
    voting.open_ballot(SYSTEM, ballot)
    db.session.commit()
    voting.close_ballot(SYSTEM, ballot, reason="deadline")
    db.session.rollback()
    assert _outcomes() == [] and _told(liaisons[JUSTICE]) == 0


def test_a_vote_on_another_item_tells_nobody(app, submitted, published, cabinet, liaisons):
    item = _on_the_agenda(submitted, published)
    other = next(i for i in published.items if i.id != item.id and i.kind is item.kind)
    _in_session_with_quorum(published, cabinet)
    ballot = voting.create_ballot(SYSTEM, voting.BallotData(title="Một tờ trình khác", kind=BallotKind.LIVE,
                                                            meeting_id=published.id, item_id=other.id))
    voting.open_ballot(SYSTEM, ballot)
    voting.close_ballot(SYSTEM, ballot)
    db.session.commit()
    assert other.outcome is not None and item.outcome is None
    assert _outcomes() == [] and _told(liaisons[JUSTICE]) == 0
