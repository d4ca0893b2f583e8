"""Attendance and quorum."""

from __future__ import annotations

import pytest

from ecabinet.meetings import service
from ecabinet.meetings.models import Attendance, CheckInMode, QuorumRule
from ecabinet.meetings.service import MeetingError
from tests.meetings.conftest import actor, audit_actions


def p(meeting, user):
    return service.participant_of(meeting, user)


def test_default_quorum_is_more_than_half_of_members_and_chair(published, cabinet):
    q = service.quorum(published)
    assert (q.present, q.eligible, q.required, q.reached) == (0, 4, 3, False)


def test_members_check_themselves_in_and_quorum_is_reached(published, cabinet):
    for who, mode in (("member", CheckInMode.ROOM), ("member2", CheckInMode.REMOTE), ("chair", CheckInMode.ROOM)):
        service.check_in(actor(cabinet[who]), published, p(published, cabinet[who]), mode)
    q = service.quorum(published)
    assert (q.present, q.required, q.reached) == (3, 3, True)
    assert p(published, cabinet["member2"]).checked_in_mode is CheckInMode.REMOTE
    assert audit_actions()[-1] == "attendance.check_in"


def test_secretary_checks_a_member_in(published, cabinet):
    row = p(published, cabinet["member"])
    service.check_in(actor(cabinet["secretary"]), published, row, CheckInMode.ROOM)
    assert row.checked_in_by_id == cabinet["secretary"].id


def test_member_cannot_check_in_someone_else(published, cabinet):
    with pytest.raises(MeetingError, match="Only the secretariat"):
        service.check_in(actor(cabinet["member"]), published, p(published, cabinet["member2"]), CheckInMode.ROOM)
    assert p(published, cabinet["member2"]).checked_in_at is None


def test_check_in_refused_on_a_draft(draft, cabinet):
    with pytest.raises(MeetingError, match="Check-in is open"):
        service.check_in(actor(cabinet["member"]), draft, p(draft, cabinet["member"]), CheckInMode.ROOM)


def test_substitute_counts_only_when_the_chair_lets_them_vote(published, cabinet):
    row = service.respond(actor(cabinet["member"]), published, Attendance.ABSENT, substitute_name="Thứ trưởng")
    service.check_in(actor(cabinet["secretary"]), published, row, CheckInMode.ROOM)
    assert service.quorum(published).present == 0
    service.set_substitute_may_vote(actor(cabinet["chair"]), row, True)
    assert service.quorum(published).present == 1


def test_fixed_quorum(published, cabinet):
    published.quorum_rule, published.quorum_fixed = QuorumRule.FIXED, 1
    service.check_in(actor(cabinet["member"]), published, p(published, cabinet["member"]), CheckInMode.ROOM)
    q = service.quorum(published)
    assert (q.required, q.reached) == (1, True)


def test_two_thirds_quorum(published, cabinet):
    published.quorum_rule = QuorumRule.TWO_THIRDS
    assert service.quorum(published).required == 3


def test_check_out(published, cabinet):
    row = p(published, cabinet["member"])
    service.check_in(actor(cabinet["member"]), published, row, CheckInMode.ROOM)
    service.check_out(actor(cabinet["member"]), published, row)
    assert row.checked_in_at is None and service.quorum(published).present == 0
