"""The chair's console, server side: the course of the meeting and the steps valid in each state, refusals
in words, starting below the quorum only when the chair confirms, what the console is told before it
adjourns or closes a vote (who has not voted, the quorum with its rule, the items not discussed), the
consent block's items without any member's position, and the item's time stopping at the adjournment."""

from __future__ import annotations

import re

from ecabinet.extensions import db
from ecabinet.meetings.models import CheckInMode, MeetingStatus, Position
from tests.meetings.conftest import actor

# The codes of the meeting's states: never shown in a refusal.
RAW = re.compile(r"\b(draft|published|in_session|adjourned|closed|not_started|paused)\b")


def _check_in(meeting, cabinet, *names: str) -> None:
    from ecabinet.meetings import service

    for name in names:
        service.check_in(actor(cabinet["secretary"]), meeting, service.participant_of(meeting, cabinet[name]),
                         CheckInMode.ROOM)
    db.session.commit()


def _state(meeting) -> dict:
    from ecabinet.live import service as live

    db.session.expire_all()
    return live.meeting_state(meeting, live.state_of(meeting.id))


# --- the course and its steps ---------------------------------------------------------------------------

def test_each_state_offers_only_its_valid_steps(published, cabinet):
    from ecabinet.live import service as live

    chair = actor(cabinet["chair"])
    state = _state(published)
    assert (state["course"], state["steps"]) == ("not_started", ["start"])
    live.start(chair, published, below_quorum=True)
    db.session.commit()
    assert (_state(published)["course"], _state(published)["steps"]) == ("in_session", ["pause", "adjourn"])
    live.set_paused(chair, published, True)
    db.session.commit()
    assert (_state(published)["course"], _state(published)["steps"]) == ("paused", ["resume", "adjourn"])
    live.adjourn(chair, published)
    db.session.commit()
    state = _state(published)
    assert (state["course"], state["steps"], state["paused"]) == ("adjourned", [], False)


def test_a_draft_offers_no_step(draft):
    state = _state(draft)
    assert (state["course"], state["steps"]) == ("not_started", [])


def test_starting_twice_is_refused_in_words(in_session, room_client):
    chair = room_client("chair@example.gov.vn", in_session.id)
    refused = chair.call("chair.start")
    assert refused["error"] == "refused"
    assert refused["message"] == "Không thể thực hiện bước này lúc này: phiên họp đã khai mạc."
    assert not RAW.search(refused["message"])


def test_invalid_steps_are_refused_in_words(published, cabinet, room_client):
    chair = room_client("chair@example.gov.vn", published.id)
    for event in ("chair.adjourn", "chair.pause", "chair.resume"):
        refused = chair.call(event)
        assert refused["error"] == "refused", (event, refused)
        assert not RAW.search(refused["message"]), refused
    assert chair.call("chair.adjourn")["message"] == "Không thể thực hiện bước này lúc này: phiên họp chưa khai mạc."
    assert chair.call("chair.start", below_quorum=True)["ok"]
    assert chair.call("chair.resume")["message"] == "Phiên họp không tạm dừng."
    assert chair.call("chair.adjourn")["ok"]
    for event in ("chair.start", "chair.adjourn", "chair.pause"):
        refused = chair.call(event)
        assert refused["error"] == "refused" and not RAW.search(refused["message"]), (event, refused)
    assert chair.call("chair.adjourn")["message"] == "Không thể thực hiện bước này lúc này: phiên họp đã bế mạc."


def test_lifecycle_refusals_name_no_state_code(published, cabinet):
    import pytest

    from ecabinet.meetings import service
    from ecabinet.meetings.service import MeetingError

    with pytest.raises(MeetingError) as refused:
        service.close_meeting(actor(cabinet["chair"]), published)
    assert str(refused.value) == "This step is not possible now: the meeting has not started yet."


# --- starting below the quorum ----------------------------------------------------------------------------

def test_starting_below_the_quorum_needs_the_chairs_confirmation(published, cabinet, room_client):
    _check_in(published, cabinet, "member")
    chair = room_client("chair@example.gov.vn", published.id)
    refused = chair.call("chair.start")
    assert refused["error"] == "refused"
    assert refused["message"] == ("Chưa đủ số lượng (có mặt 1/4, cần 3): hãy xác nhận để khai mạc khi chưa đủ "
                                  "số lượng.")
    db.session.expire_all()
    assert published.status is MeetingStatus.PUBLISHED
    assert chair.call("chair.start", below_quorum=True)["ok"]
    db.session.expire_all()
    assert published.status is MeetingStatus.IN_SESSION


def test_starting_with_the_quorum_needs_no_confirmation(published, cabinet, room_client):
    _check_in(published, cabinet, "member", "member2", "chair")
    chair = room_client("chair@example.gov.vn", published.id)
    assert chair.call("chair.start")["ok"]


def test_the_confirmation_flag_must_be_true_or_false(published, cabinet, room_client):
    chair = room_client("chair@example.gov.vn", published.id)
    refused = chair.call("chair.start", below_quorum="yes")
    assert refused["ok"] is False and refused["error"] == "invalid"


def test_the_quorum_carries_its_rule(published, cabinet):
    from ecabinet.live import service as live
    from ecabinet.meetings.models import QuorumRule

    _check_in(published, cabinet, "member", "member2")
    assert live.attendance_state(published)["quorum"] == {"present": 2, "eligible": 4, "required": 3,
                                                          "reached": False, "rule": "more_than_half"}
    published.quorum_rule = QuorumRule.TWO_THIRDS
    db.session.commit()
    assert live.attendance_state(published)["quorum"]["rule"] == "two_thirds"


# --- what the console is told before a step ---------------------------------------------------------------

def test_overview_before_closing_a_vote_names_who_has_not_voted(in_session, cabinet, room_client):
    from ecabinet.voting import service as voting

    _check_in(in_session, cabinet, "chair", "member", "member2")
    ballot = voting.create_ballot(actor(cabinet["secretary"]), voting.BallotData(
        title="Thông qua Nghị quyết A", kind="live", meeting_id=in_session.id, item_id=in_session.items[0].id))
    voting.open_ballot(actor(cabinet["chair"]), ballot)
    db.session.commit()
    member = room_client("member@example.gov.vn", in_session.id)
    assert member.call("vote.cast", ballot_id=ballot.id, choice="approve", client_vote_id="a" * 32)["ok"]
    chair = room_client("chair@example.gov.vn", in_session.id)
    overview = chair.call("console.overview")
    assert overview["ok"], overview
    [seen] = overview["ballots"]
    assert seen["ballot_id"] == ballot.id and seen["title"] == "Thông qua Nghị quyết A"
    assert (seen["voted"], seen["eligible"], seen["present"], seen["present_voted"]) == (1, 4, 3, 1)
    assert seen["not_voted"] == [{"name": "Test chair", "present": True},
                                 {"name": "Test member 2", "present": True},
                                 {"name": "Test member 3", "present": False}]
    assert seen["quorum"] == {"present": 3, "eligible": 4, "required": 3, "reached": True, "rule": "more_than_half"}
    # Participation only: who voted, never what.
    assert "approve" not in str(overview)


def test_overview_is_the_chairs_alone(in_session, cabinet, room_client):
    member = room_client("member@example.gov.vn", in_session.id)
    assert member.call("console.overview")["error"] == "forbidden"
    secretary = room_client("secretary@example.gov.vn", in_session.id)
    assert secretary.call("console.overview")["error"] == "forbidden"


def test_overview_before_adjourning_lists_items_not_discussed(in_session, cabinet, room_client):
    chair = room_client("chair@example.gov.vn", in_session.id)
    first, second, third = in_session.items
    assert chair.call("console.overview")["not_discussed"] == [first.id, second.id, third.id]
    assert chair.call("chair.set_item", item_id=first.id)["ok"]
    assert chair.call("chair.set_item", item_id=second.id)["ok"]
    overview = chair.call("console.overview")
    assert overview["not_discussed"] == [third.id]
    assert overview["ballots"] == [] and overview["course"] == "in_session"


def test_consent_block_says_which_items_have_no_member_position(published, cabinet, room_client):
    from ecabinet.meetings import service

    first, second = published.items[0], published.items[1]
    service.mark_position(actor(cabinet["member"]), first, Position.AGREE)
    db.session.commit()
    chair = room_client("chair@example.gov.vn", published.id)
    snapshot = chair.join()["snapshot"]
    assert snapshot["consent_block"] == [first.id, second.id]
    assert chair.call("console.overview")["consent_without_positions"] == [second.id]


# --- the item's time --------------------------------------------------------------------------------------

def test_the_items_time_stops_at_the_adjournment(in_session, cabinet, room_client):
    chair = room_client("chair@example.gov.vn", in_session.id)
    member = room_client("member@example.gov.vn", in_session.id)
    assert chair.call("chair.set_item", item_id=in_session.items[0].id)["ok"]
    running = member.wait_for(lambda e: e["type"] == "agenda.current_item")["payload"]["meeting"]
    assert running["item_started_at"] and running["item_stopped_at"] is None
    assert chair.call("chair.adjourn")["ok"]
    stopped = member.wait_for(lambda e: e["type"] == "meeting.adjourn")["payload"]["meeting"]
    db.session.expire_all()
    assert stopped["item_stopped_at"] == in_session.adjourned_at.isoformat()
    assert stopped["floor"] is None and stopped["steps"] == []
    # A tablet that joins later gets the same stopped time.
    assert member.join()["snapshot"]["meeting"]["item_stopped_at"] == stopped["item_stopped_at"]


# --- running counts: as the voting policy allows ------------------------------------------------------------

def test_running_counts_reach_the_console_only_where_the_ballot_shows_them(in_session, cabinet, room_client):
    from ecabinet.voting import service as voting

    _check_in(in_session, cabinet, "chair", "member", "member2")
    sec = actor(cabinet["secretary"])
    shown = voting.create_ballot(sec, voting.BallotData(title="Công khai", kind="live", meeting_id=in_session.id,
                                                        item_id=in_session.items[0].id, show_running=True))
    hidden = voting.create_ballot(sec, voting.BallotData(title="Giữ kín đến khi kết thúc", kind="live",
                                                         meeting_id=in_session.id, item_id=in_session.items[0].id))
    secret = voting.create_ballot(sec, voting.BallotData(title="Bỏ phiếu kín", kind="live", secret=True,
                                                         meeting_id=in_session.id, item_id=in_session.items[1].id))
    for ballot in (shown, hidden, secret):
        voting.open_ballot(actor(cabinet["chair"]), ballot)
    db.session.commit()
    member = room_client("member@example.gov.vn", in_session.id)
    for i, ballot in enumerate((shown, hidden, secret)):
        assert member.call("vote.cast", ballot_id=ballot.id, choice="approve", client_vote_id=f"{i}" * 32)["ok"]
    chair = room_client("chair@example.gov.vn", in_session.id)
    listed = {b["ballot_id"]: b for b in chair.call("vote.list")["ballots"]}
    question = str(listed[shown.id]["questions"][0]["question_id"])
    assert listed[shown.id]["running"][question] == {"approve": 1, "reject": 0, "abstain": 0}
    assert listed[hidden.id]["running"] is None
    assert listed[secret.id]["running"] is None
    # The console's overview carries participation only, for every kind of ballot.
    for seen in chair.call("console.overview")["ballots"]:
        assert set(seen) == {"ballot_id", "title", "voted", "eligible", "present", "present_voted", "not_voted",
                             "quorum"}
