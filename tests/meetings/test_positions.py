"""Pre-meeting positions (Estonia's workflow), who has not responded, the consent block, speaker requests."""

from __future__ import annotations

import pytest

from ecabinet.meetings import service
from ecabinet.meetings.models import Attendance, CheckInMode, Position
from ecabinet.meetings.service import MeetingError, NotInvited
from tests.meetings.conftest import actor, audit_actions, make_outsider


def test_member_marks_a_position_with_a_comment(published, cabinet):
    row = service.mark_position(actor(cabinet["member"]), published.items[0], Position.AGREE, "Đồng ý")
    assert row.position is Position.AGREE and row.comment == "Đồng ý"
    assert audit_actions()[-1] == "position.mark"


def test_marking_again_changes_the_position(published, cabinet):
    item = published.items[0]
    service.mark_position(actor(cabinet["member"]), item, Position.AGREE)
    service.mark_position(actor(cabinet["member"]), item, Position.SPEAK, "Xin phát biểu")
    assert [(p.position, p.comment) for p in item.positions] == [(Position.SPEAK, "Xin phát biểu")]


def test_position_refused_after_the_meeting_has_started(published, cabinet):
    service.start_meeting(actor(cabinet["chair"]), published)
    with pytest.raises(MeetingError) as exc:
        service.mark_position(actor(cabinet["member"]), published.items[0], Position.AGREE)
    assert str(exc.value) == "Positions can no longer be changed: the meeting has started."
    assert published.items[0].positions == []


def test_position_refused_on_a_draft(draft, cabinet):
    with pytest.raises(MeetingError, match="once the agenda is published"):
        service.mark_position(actor(cabinet["member"]), draft.items[0], Position.AGREE)


def test_position_refused_on_an_item_for_information(published, cabinet):
    with pytest.raises(MeetingError, match="only on items for decision"):
        service.mark_position(actor(cabinet["member"]), published.items[2], Position.AGREE)


def test_position_refused_to_a_member_not_invited(published, cabinet):
    with pytest.raises(NotInvited):
        service.mark_position(actor(make_outsider()), published.items[0], Position.AGREE)


def test_position_refused_to_the_secretariat(published, cabinet):
    with pytest.raises(MeetingError, match="Only members"):
        service.mark_position(actor(cabinet["secretary"]), published.items[0], Position.AGREE)


def test_position_refuses_an_overlong_comment(published, cabinet):
    with pytest.raises(MeetingError, match="longer than 500"):
        service.mark_position(actor(cabinet["member"]), published.items[0], Position.AGREE, "x" * 501)


def test_position_refuses_an_unknown_value(published, cabinet):
    with pytest.raises(MeetingError, match="Choose agree"):
        service.mark_position(actor(cabinet["member"]), published.items[0], "maybe")


def test_chair_is_a_member_and_marks_positions(published, cabinet):
    service.mark_position(actor(cabinet["chair"]), published.items[0], Position.AGREE)
    assert cabinet["chair"] not in service.missing_positions(published, published.items[0])


def test_missing_positions_lists_who_has_not_responded(published, cabinet):
    item = published.items[0]
    service.mark_position(actor(cabinet["member"]), item, Position.AGREE)
    missing = {u.id for u in service.missing_positions(published, item)}
    assert missing == {cabinet["member2"].id, cabinet["member3"].id, cabinet["chair"].id}


def test_consent_block_holds_unopposed_decision_items_nobody_wants_to_speak_on(published, cabinet):
    a, b, _c = published.items
    service.mark_position(actor(cabinet["member"]), a, Position.AGREE)
    service.mark_position(actor(cabinet["member2"]), b, Position.OBJECT)
    assert service.consent_block(published) == [a]
    service.mark_position(actor(cabinet["member3"]), a, Position.SPEAK)
    assert service.consent_block(published) == []


def test_speaker_requests_prefill_the_queue(published, cabinet):
    a = published.items[0]
    service.mark_position(actor(cabinet["member2"]), a, Position.SPEAK)
    service.mark_position(actor(cabinet["member"]), a, Position.SPEAK)
    service.mark_position(actor(cabinet["member3"]), a, Position.AGREE)
    assert service.speaker_requests(published, a) == [cabinet["member2"], cabinet["member"]]


def _reach_quorum(meeting, cabinet):
    for who in ("member", "member2", "member3"):
        service.check_in(actor(cabinet["secretary"]), meeting, service.participant_of(meeting, cabinet[who]),
                         CheckInMode.ROOM)


def test_chair_adopts_the_consent_block_in_one_step(published, cabinet):
    a, b, _c = published.items
    service.mark_position(actor(cabinet["member2"]), b, Position.OBJECT)
    service.start_meeting(actor(cabinet["chair"]), published)
    _reach_quorum(published, cabinet)
    adopted = service.adopt_consent_block(actor(cabinet["chair"]), published)
    assert adopted == [a] and a.outcome == "adopted_by_consent" and b.outcome is None
    assert published.consent_adopted_at is not None
    assert audit_actions()[-1] == "consent.adopt"


def test_consent_adoption_refused_before_the_meeting_starts(published, cabinet):
    with pytest.raises(MeetingError, match="in session"):
        service.adopt_consent_block(actor(cabinet["chair"]), published)


def test_consent_adoption_refused_without_quorum(published, cabinet):
    service.start_meeting(actor(cabinet["chair"]), published)
    with pytest.raises(MeetingError, match="quorum is not reached"):
        service.adopt_consent_block(actor(cabinet["chair"]), published)
    assert all(i.outcome is None for i in published.items)


def test_consent_adoption_refused_to_a_member(published, cabinet):
    service.start_meeting(actor(cabinet["chair"]), published)
    with pytest.raises(MeetingError, match="Only the chair"):
        service.adopt_consent_block(actor(cabinet["member"]), published)


def test_consent_adoption_refused_twice(published, cabinet):
    service.start_meeting(actor(cabinet["chair"]), published)
    _reach_quorum(published, cabinet)
    service.adopt_consent_block(actor(cabinet["chair"]), published)
    with pytest.raises(MeetingError, match="already been adopted"):
        service.adopt_consent_block(actor(cabinet["chair"]), published)


def test_items_awaiting_my_position(published, cabinet):
    member = cabinet["member"]
    assert len(service.items_awaiting_position(published, member)) == 2
    service.mark_position(actor(member), published.items[0], Position.AGREE)
    assert service.items_awaiting_position(published, member) == [published.items[1]]
    service.respond(actor(member), published, Attendance.IN_PERSON)
