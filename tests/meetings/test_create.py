"""Creating and editing a meeting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ecabinet.meetings import service
from ecabinet.meetings.models import MeetingStatus, ParticipantRole
from ecabinet.meetings.service import MeetingData, MeetingError
from tests.meetings.conftest import actor, audit_actions

START = datetime(2030, 5, 2, 1, 0, tzinfo=UTC)


def data(**kw) -> MeetingData:
    return MeetingData(**{"title": "Phiên họp", "starts_at": START, "ends_at": START + timedelta(hours=2), **kw})


def test_create_invites_members_chair_and_secretaries(cabinet):
    meeting = service.create_meeting(actor(cabinet["secretary"]), data(chair_id=cabinet["chair"].id))
    roles = {p.user_id: p.role for p in meeting.participants}
    assert meeting.status is MeetingStatus.DRAFT
    assert roles[cabinet["chair"].id] is ParticipantRole.CHAIR
    assert roles[cabinet["member"].id] is ParticipantRole.MEMBER
    assert roles[cabinet["member2"].id] is ParticipantRole.MEMBER
    assert roles[cabinet["secretary"].id] is ParticipantRole.SECRETARY
    assert cabinet["guest"].id not in roles and cabinet["admin"].id not in roles
    assert meeting.timezone == "Asia/Ho_Chi_Minh"
    assert audit_actions()[-1] == "meeting.create"


def test_create_refused_to_a_member(cabinet):
    with pytest.raises(MeetingError, match="Only the secretariat"):
        service.create_meeting(actor(cabinet["member"]), data())


def test_create_refuses_an_end_before_the_start(cabinet):
    with pytest.raises(MeetingError, match="end after it starts"):
        service.create_meeting(actor(cabinet["secretary"]), data(ends_at=START - timedelta(minutes=1)))


def test_create_refuses_an_empty_title(cabinet):
    with pytest.raises(MeetingError, match="title is required"):
        service.create_meeting(actor(cabinet["secretary"]), data(title="   "))


def test_create_refuses_a_chair_without_the_chair_role(cabinet):
    with pytest.raises(MeetingError, match="chair role"):
        service.create_meeting(actor(cabinet["secretary"]), data(chair_id=cabinet["member"].id))


def test_create_refuses_an_unknown_time_zone(cabinet):
    with pytest.raises(MeetingError, match="time zone"):
        service.create_meeting(actor(cabinet["secretary"]), data(timezone="Mars/Olympus"))


def test_create_refuses_a_fixed_quorum_without_a_number(cabinet):
    with pytest.raises(MeetingError, match="fixed quorum"):
        service.create_meeting(actor(cabinet["secretary"]), data(quorum_rule="fixed"))


def test_update_changes_details_and_is_audited(draft, cabinet):
    service.update_meeting(actor(cabinet["secretary"]), draft, data(title="Phiên họp chuyên đề",
                                                                     chair_id=cabinet["chair"].id))
    assert draft.title == "Phiên họp chuyên đề"
    assert audit_actions()[-1] == "meeting.update"


def test_update_of_a_published_meeting_marks_the_agenda_changed(published, cabinet):
    service.update_meeting(actor(cabinet["secretary"]), published, data(title="Đổi tên",
                                                                         chair_id=cabinet["chair"].id))
    assert published.agenda_changed


def test_update_refused_once_the_meeting_has_started(published, cabinet):
    service.start_meeting(actor(cabinet["chair"]), published)
    with pytest.raises(MeetingError, match="has started"):
        service.update_meeting(actor(cabinet["secretary"]), published, data(title="X"))
    assert published.title == "Phiên họp Chính phủ thường kỳ"
