"""Participants: invitations, answers, substitutes and guests."""

from __future__ import annotations

import pytest

from ecabinet.meetings import policy, service
from ecabinet.meetings.models import Attendance, ParticipantRole
from ecabinet.meetings.service import MeetingError, NotInvited
from ecabinet.notifications import service as notifications
from tests.meetings.conftest import actor, audit_actions, make_outsider


def test_member_answers_present_in_person(published, cabinet):
    p = service.respond(actor(cabinet["member"]), published, Attendance.IN_PERSON)
    assert p.attendance is Attendance.IN_PERSON and p.responded_at
    assert audit_actions()[-1] == "participant.respond"


def test_absent_member_names_a_substitute(published, cabinet):
    p = service.respond(actor(cabinet["member"]), published, Attendance.ABSENT, substitute_name="Thứ trưởng X")
    assert p.represented_by_substitute and p.substitute_label == "Thứ trưởng X"
    assert not p.substitute_may_vote


def test_present_member_cannot_name_a_substitute(published, cabinet):
    with pytest.raises(MeetingError, match="Only an absent member"):
        service.respond(actor(cabinet["member"]), published, Attendance.REMOTE, substitute_name="X")


def test_answer_refused_to_a_member_not_invited(published, cabinet):
    outsider = make_outsider()
    with pytest.raises(NotInvited):
        service.respond(actor(outsider), published, Attendance.IN_PERSON)


def test_answer_refused_to_a_secretary(published, cabinet):
    with pytest.raises(MeetingError, match="Only members"):
        service.respond(actor(cabinet["secretary"]), published, Attendance.IN_PERSON)


def test_answer_refuses_pending(published, cabinet):
    with pytest.raises(MeetingError, match="Choose in person"):
        service.respond(actor(cabinet["member"]), published, "maybe")


def test_chair_decides_whether_a_substitute_may_vote(published, cabinet):
    p = service.respond(actor(cabinet["member"]), published, Attendance.ABSENT, substitute_name="Thứ trưởng X")
    service.set_substitute_may_vote(actor(cabinet["chair"]), p, True)
    assert p.substitute_may_vote
    assert audit_actions()[-1] == "participant.substitute_vote"


def test_substitute_vote_refused_to_the_secretariat(published, cabinet):
    p = service.respond(actor(cabinet["member"]), published, Attendance.ABSENT, substitute_name="Thứ trưởng X")
    with pytest.raises(MeetingError, match="Only the chair"):
        service.set_substitute_may_vote(actor(cabinet["secretary"]), p, True)
    assert not p.substitute_may_vote


def test_substitute_vote_refused_without_a_substitute(published, cabinet):
    p = service.participant_of(published, cabinet["member"])
    with pytest.raises(MeetingError, match="not named a substitute"):
        service.set_substitute_may_vote(actor(cabinet["chair"]), p, True)


def test_secretary_adds_and_removes_a_member(published, cabinet):
    outsider = make_outsider()
    p = service.add_participant(actor(cabinet["secretary"]), published, outsider, ParticipantRole.MEMBER)
    assert policy.can_see_meeting(outsider, published)
    service.remove_participant(actor(cabinet["secretary"]), p)
    assert not policy.can_see_meeting(outsider, published)
    assert audit_actions()[-2:] == ["participant.add", "participant.remove"]


def test_adding_a_participant_twice_is_refused(published, cabinet):
    with pytest.raises(MeetingError, match="already a participant"):
        service.add_participant(actor(cabinet["secretary"]), published, cabinet["member"], ParticipantRole.MEMBER)


def test_guest_sees_only_the_items_they_are_invited_to(published, cabinet):
    guest, item = cabinet["guest"], published.items[1]
    service.invite_guest(actor(cabinet["secretary"]), item, guest)
    assert [i.id for i in policy.visible_items(guest, published)] == [item.id]
    assert policy.can_view_item(guest, meeting_id=published.id, item_id=item.id)
    with pytest.raises(policy.Hidden):
        policy.can_view_item(guest, meeting_id=published.id, item_id=published.items[0].id)
    assert notifications.unread_count(guest) == 1
    assert audit_actions()[-1] == "guest.invite"


def test_guest_not_invited_to_any_item_does_not_see_the_meeting(published, cabinet):
    with pytest.raises(policy.Hidden):
        policy.can_view_meeting(cabinet["guest"], meeting_id=published.id)


def test_only_guest_accounts_are_invited_to_single_items(published, cabinet):
    outsider = make_outsider()
    with pytest.raises(MeetingError, match="Only guest accounts"):
        service.invite_guest(actor(cabinet["secretary"]), published.items[0], outsider)


def test_uninviting_the_last_item_removes_the_guest(published, cabinet):
    guest, item = cabinet["guest"], published.items[1]
    service.invite_guest(actor(cabinet["secretary"]), item, guest)
    service.uninvite_guest(actor(cabinet["secretary"]), item, service.participant_of(published, guest))
    assert service.participant_of(published, guest) is None
