"""A policy check reads a meeting with the user's participation in one statement, and the items that user
may see then take that participation from the database session instead of reading it again. The saving
must never answer with a participation that is gone."""

from __future__ import annotations

import sqlalchemy as sa

from ecabinet.extensions import db
from ecabinet.meetings import policy
from ecabinet.meetings.models import MeetingParticipant
from tests.helpers import statements_of


def test_the_items_a_member_may_see_reuse_the_policy_checks_participation(published, cabinet):
    member, meeting_id = cabinet["member"], published.id
    db.session.commit()
    meeting = policy.meeting_seen_by(member, meeting_id)
    assert meeting is not None
    items, statements = statements_of(lambda: policy.visible_items(member, meeting))
    assert [i.title for i in items] == ["Decision A", "Decision B", "Report C"]
    assert not any("FROM meeting_participant" in s for s in statements), statements


def test_a_participation_removed_since_the_check_is_not_reused(published, cabinet):
    member, meeting_id = cabinet["member"], published.id
    db.session.commit()
    meeting = policy.meeting_seen_by(member, meeting_id)
    row = db.session.scalar(sa.select(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting_id,
                                                                MeetingParticipant.user_id == member.id))
    db.session.delete(row)  # not flushed: the lookup must not hand back a row marked for deletion
    assert policy.visible_items(member, meeting) == []
    db.session.flush()
    assert policy.visible_items(member, meeting) == []
    db.session.rollback()


def test_a_participation_removed_in_another_transaction_is_not_reused(published, cabinet):
    member, meeting_id = cabinet["member"], published.id
    db.session.commit()
    meeting = policy.meeting_seen_by(member, meeting_id)
    db.session.commit()  # expires the session's rows: the next lookup reads the database again
    db.session.execute(sa.delete(MeetingParticipant).where(MeetingParticipant.meeting_id == meeting_id,
                                                           MeetingParticipant.user_id == member.id))
    db.session.commit()
    assert policy.visible_items(member, meeting) == []


def test_the_handler_finds_the_meeting_the_policy_check_read(published, cabinet):
    import gc

    from ecabinet.accounts.models import User
    from ecabinet.meetings import queries

    member_id, meeting_id = cabinet["member"].id, published.id
    db.session.commit()
    db.session.expunge_all()  # the fixture's copy no longer keeps the meeting in the session
    member = db.session.get(User, member_id)
    assert policy.meeting_seen_by(member, meeting_id) is not None  # and the test keeps no reference to it
    gc.collect()
    meeting, statements = statements_of(lambda: queries.get_meeting(meeting_id))
    assert meeting is not None and meeting.id == meeting_id
    assert statements == []
