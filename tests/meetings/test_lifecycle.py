"""draft → published → in session → adjourned → closed: each step by the right role, in order."""

from __future__ import annotations

import pytest

from ecabinet.core.actor import Actor
from ecabinet.meetings import service
from ecabinet.meetings.models import MeetingStatus
from ecabinet.meetings.service import MeetingError
from tests.meetings.conftest import actor, audit_actions


def test_full_lifecycle_in_order(published, cabinet):
    chair = actor(cabinet["chair"])
    service.start_meeting(chair, published)
    assert published.status is MeetingStatus.IN_SESSION and published.started_at
    service.adjourn_meeting(chair, published)
    assert published.status is MeetingStatus.ADJOURNED
    service.resume_meeting(chair, published)
    service.adjourn_meeting(chair, published)
    service.close_meeting(chair, published)
    assert published.status is MeetingStatus.CLOSED and published.closed_at
    assert audit_actions()[-5:] == ["meeting.start", "meeting.adjourn", "meeting.resume", "meeting.adjourn",
                                    "meeting.close"]


def test_start_refused_for_a_draft(draft, cabinet):
    with pytest.raises(MeetingError, match="not possible now"):
        service.start_meeting(actor(cabinet["chair"]), draft)
    assert draft.status is MeetingStatus.DRAFT


def test_close_refused_while_in_session(published, cabinet):
    service.start_meeting(actor(cabinet["chair"]), published)
    with pytest.raises(MeetingError, match="not possible now"):
        service.close_meeting(actor(cabinet["chair"]), published)
    assert published.status is MeetingStatus.IN_SESSION


def test_adjourn_refused_before_the_start(published, cabinet):
    with pytest.raises(MeetingError, match="not possible now"):
        service.adjourn_meeting(actor(cabinet["chair"]), published)


def test_start_refused_to_the_secretariat(published, cabinet):
    with pytest.raises(MeetingError, match="Only the chair"):
        service.start_meeting(actor(cabinet["secretary"]), published)
    assert published.status is MeetingStatus.PUBLISHED


def test_start_refused_to_a_member(published, cabinet):
    with pytest.raises(MeetingError, match="Only the chair"):
        service.start_meeting(actor(cabinet["member"]), published)


def test_start_refused_to_a_chair_of_another_meeting(published, cabinet):
    published.chair_id = None
    with pytest.raises(MeetingError, match="Only the chair"):
        service.start_meeting(actor(cabinet["chair"]), published)


def test_publish_refused_to_the_chair(draft, cabinet):
    with pytest.raises(MeetingError, match="Only the secretariat"):
        service.publish(actor(cabinet["chair"]), draft)
    assert draft.status is MeetingStatus.DRAFT


def test_system_actor_may_take_every_step(published):
    service.start_meeting(Actor.system("live"), published)
    assert published.status is MeetingStatus.IN_SESSION


def test_transition_table_is_the_single_source(published, cabinet):
    assert set(service.TRANSITIONS) == {"publish", "start", "adjourn", "resume", "close"}
    assert service.available_steps(cabinet["chair"], published) == ["start"]
    assert service.available_steps(cabinet["member"], published) == []
