"""The live room over real sockets: a full meeting flow, refusals, guests, reconnection, two instances."""

from __future__ import annotations

import time

from sqlalchemy import select

from ecabinet.extensions import db
from tests.conftest import LiveServer
from tests.live.conftest import Replica, RoomClient


def _typed(kind: str):
    return lambda e: e["type"] == kind


def test_full_meeting_flow(in_session, cabinet, room_client):
    mid = in_session.id
    chair = room_client("chair@example.gov.vn", mid)
    member = room_client("member@example.gov.vn", mid)
    member2 = room_client("member2@example.gov.vn", mid)
    first, second = in_session.items[0], in_session.items[1]

    # Members check in from their tablets; everyone sees attendance and quorum move.
    assert member.call("attendance.check_in", mode="room")["ok"]
    assert member2.call("attendance.check_in", mode="remote")["ok"]
    event = chair.wait_for(lambda e: e["type"] == "attendance.check_in"
                           and len(e["payload"]["attendance"]["present"]) == 2)
    assert {p["mode"] for p in event["payload"]["attendance"]["present"]} == {"room", "remote"}

    # The chair moves to an item: every tablet follows.
    ack = chair.call("chair.set_item", item_id=first.id)
    assert ack["ok"] and ack["seq"] > 0
    for client in (member, member2):
        moved = client.wait_for(_typed("agenda.current_item"))
        assert moved["payload"]["meeting"]["current_item_id"] == first.id
        assert moved["payload"]["meeting"]["item_started_at"]

    # A member asks for the floor; the chair grants it; everyone sees who speaks.
    request_id = member.call("floor.request", item_id=first.id)["request_id"]
    queued = chair.wait_for(_typed("floor.request"))
    assert [r["request_id"] for r in queued["payload"]["queue"]["requests"]] == [request_id]
    assert chair.call("chair.grant_floor", request_id=request_id)["ok"]
    granted = member2.wait_for(_typed("floor.grant"))
    assert granted["payload"]["meeting"]["floor"]["user_id"] == cabinet["member"].id

    # Comments, and the chair hiding one (kept, and audited).
    comment_id = member2.call("comment.post", item_id=first.id, body="Đồng ý với tờ trình.",
                              client_id="c-0001-member2")["comment_id"]
    seen = member.wait_for(_typed("comment.post"))
    assert seen["payload"]["comment"]["body"] == "Đồng ý với tờ trình."
    assert chair.call("chair.hide_comment", comment_id=comment_id)["ok"]
    hidden = member.wait_for(_typed("comment.hide"))
    assert hidden["payload"]["comment"]["hidden"] is True and hidden["payload"]["comment"]["body"] is None

    # Pause, resume, next item, adjourn.
    assert chair.call("chair.pause")["ok"]
    assert member.wait_for(_typed("live.pause"))["payload"]["meeting"]["paused"] is True
    assert chair.call("chair.resume")["ok"]
    assert chair.call("chair.set_item", item_id=second.id)["ok"]
    assert chair.call("chair.adjourn")["ok"]
    assert member.wait_for(_typed("meeting.adjourn"))["payload"]["meeting"]["status"] == "adjourned"

    # The acknowledgement came after the commit: the database already holds all of it.
    from ecabinet.live.models import Comment, SpeakerRequest

    db.session.rollback()
    assert db.session.get(Comment, comment_id).hidden_at is not None
    assert db.session.get(SpeakerRequest, request_id).status.value == "done"
    # Every client saw one unbroken sequence of numbers.
    for client in (chair, member, member2):
        seqs = [e["seq"] for e in client.received]
        assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))


def test_member_cannot_send_chair_actions(in_session, room_client):
    member = room_client("member@example.gov.vn", in_session.id)
    for event, data in (("chair.set_item", {"item_id": in_session.items[0].id}), ("chair.pause", {}),
                        ("chair.adjourn", {}), ("chair.hide_comment", {"comment_id": 1}),
                        ("chair.grant_floor", {"request_id": 1})):
        ack = member.call(event, **data)
        assert ack == {"ok": False, "error": "forbidden"}, event
    db.session.rollback()
    db.session.refresh(in_session)
    assert in_session.current_item_id is None and in_session.status.value == "in_session"


def test_outsider_cannot_join(in_session, live_server, users):
    from ecabinet.accounts import service as accounts
    from ecabinet.accounts.models import Role
    from ecabinet.core.actor import Actor
    from tests.conftest import PASSWORD

    accounts.create_user(Actor.system("test"), accounts.UserData(email="outsider@example.gov.vn", name="Out",
                                                                 role=Role.MEMBER), PASSWORD)
    db.session.commit()
    outsider = RoomClient(live_server.url, "outsider@example.gov.vn", in_session.id).connect()
    try:
        assert outsider.call("join", last_seq=None) == {"ok": False, "error": "not_found"}
    finally:
        outsider.close()


def test_malformed_payloads_are_refused(in_session, room_client):
    chair = room_client("chair@example.gov.vn", in_session.id)
    assert chair.sio.call("chair.pause", "not a dict", timeout=10)["ok"] is False
    assert chair.sio.call("chair.pause", {"meeting_id": "1"}, timeout=10)["ok"] is False
    assert chair.call("chair.set_item", item_id="x")["ok"] is False
    assert chair.call("chair.set_item", item_id=999999)["message"]
    assert chair.call("chair.reorder_queue", item_id=in_session.items[0].id, request_ids=[1, 1])["ok"] is False


def test_guest_hears_nothing_about_other_items(in_session, cabinet, room_client):
    mid = in_session.id
    first, second = in_session.items[0], in_session.items[1]
    chair = room_client("chair@example.gov.vn", mid)
    member = room_client("member@example.gov.vn", mid)
    guest = RoomClient(chair.base_url, "guest@example.gov.vn", mid).connect()
    try:
        snapshot = guest.join()["snapshot"]
        assert [i["item_id"] for i in snapshot["items"]] == [first.id]
        assert chair.call("chair.set_item", item_id=second.id)["ok"]
        member.call("comment.post", item_id=second.id, body="Bí mật của mục 2", client_id="secret-0001")
        member.call("floor.request", item_id=second.id)
        member.call("comment.post", item_id=first.id, body="Về mục 1", client_id="public-0001")
        guest.wait_for(lambda e: e["type"] == "comment.post")
        text = repr(guest.received)
        assert "Bí mật" not in text
        redacted = [e for e in guest.received if e["type"] == "redacted"]
        assert len(redacted) == 2 and all(e["payload"] == {} for e in redacted)
        # Its numbers still run without a gap, so the guest never needs a resync for them.
        seqs = [e["seq"] for e in guest.received]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        # And a replay redacts the same way.
        replay = guest.join(last_seq=snapshot["seq"])["events"]
        assert "Bí mật" not in repr(replay)
    finally:
        guest.close()


def test_reconnect_gets_exactly_the_missed_events(in_session, cabinet, room_client):
    mid = in_session.id
    first = in_session.items[0]
    chair = room_client("chair@example.gov.vn", mid)
    stayer = RoomClient(chair.base_url, "member2@example.gov.vn", mid).connect()
    leaver = RoomClient(chair.base_url, "member@example.gov.vn", mid).connect()
    try:
        stay = Replica(stayer.join()["snapshot"])
        leave = Replica(leaver.join()["snapshot"])
        assert chair.call("chair.set_item", item_id=first.id)["ok"]
        leaver.wait_for(_typed("agenda.current_item"))
        for event in list(leaver.received):
            leave.apply(event)
        leaver.close()  # the tablet drops off the Wi-Fi

        request_id = stayer.call("floor.request", item_id=first.id)["request_id"]
        stayer.call("comment.post", item_id=first.id, body="Trong lúc mất mạng", client_id="offline-0001")
        chair.call("chair.grant_floor", request_id=request_id)
        chair.call("chair.pause")
        last = chair.call("chair.resume")["seq"]

        stayer.wait_for(lambda e: e["seq"] == last)
        for event in stayer.received:
            stay.apply(event)

        leaver.sio = type(leaver.sio)(reconnection=False, websocket_extra_options={"origin": leaver.base_url})
        leaver.sio.on("event", leaver._on_event)
        leaver.connect()
        missed = leaver.join(last_seq=leave.seq)["events"]
        assert [e["seq"] for e in missed] == list(range(leave.seq + 1, last + 1))
        for event in missed:
            leave.apply(event)
        assert leave.view() == stay.view()
        # Asking again with the same number gives the same events: applying them twice is refused by number.
        again = leaver.join(last_seq=leave.seq)["events"]
        assert again == []
    finally:
        stayer.close()
        leaver.close()


def test_far_behind_client_gets_a_snapshot(in_session, live_server, room_client, app, db_url, tmp_path):
    server = LiveServer(db_url, tmp_path, LIVE_MAX_REPLAY="2").start()
    try:
        chair = RoomClient(server.url, "chair@example.gov.vn", in_session.id).connect()
        member = RoomClient(server.url, "member@example.gov.vn", in_session.id).connect()
        start_seq = member.join()["snapshot"]["seq"]
        for _ in range(2):
            chair.call("chair.pause")
            chair.call("chair.resume")
        answer = member.join(last_seq=start_seq)
        assert "snapshot" in answer and answer["snapshot"]["seq"] == start_seq + 4
        chair.close()
        member.close()
    finally:
        server.stop()


def test_two_instances_share_a_meeting(in_session, app, db_url, tmp_path, redis_url):
    a = LiveServer(db_url, tmp_path, REDIS_URL=redis_url).start()
    b = LiveServer(db_url, tmp_path, REDIS_URL=redis_url).start()
    try:
        chair = RoomClient(a.url, "chair@example.gov.vn", in_session.id).connect()
        member = RoomClient(b.url, "member@example.gov.vn", in_session.id).connect()
        chair.join()
        member.join()
        time.sleep(0.3)
        assert chair.call("chair.set_item", item_id=in_session.items[1].id)["ok"]
        moved = member.wait_for(_typed("agenda.current_item"))
        assert moved["payload"]["meeting"]["current_item_id"] == in_session.items[1].id
        # And back the other way: a member on B comments, the chair on A sees it.
        member.call("comment.post", item_id=in_session.items[1].id, body="Qua Redis", client_id="redis-0001")
        assert chair.wait_for(_typed("comment.post"))["payload"]["comment"]["body"] == "Qua Redis"
        chair.close()
        member.close()
    finally:
        a.stop()
        b.stop()


def test_comment_retry_is_stored_once(in_session, room_client):
    from ecabinet.live.models import Comment

    member = room_client("member@example.gov.vn", in_session.id)
    item_id = in_session.items[0].id
    first = member.call("comment.post", item_id=item_id, body="Một lần", client_id="retry-00001")
    second = member.call("comment.post", item_id=item_id, body="Một lần", client_id="retry-00001")
    assert first["comment_id"] == second["comment_id"]
    db.session.rollback()
    assert len(db.session.scalars(select(Comment)).all()) == 1


def test_pre_meeting_speak_marks_fill_the_queue(published, cabinet, room_client):
    from ecabinet.meetings import service
    from ecabinet.meetings.models import Position

    first = published.items[0]
    service.mark_position(_actor(cabinet["member2"]), first, Position.SPEAK, "Xin phát biểu")
    service.start_meeting(_actor(cabinet["chair"]), published)
    chair = room_client("chair@example.gov.vn", published.id)
    member = room_client("member@example.gov.vn", published.id)
    assert chair.call("chair.set_item", item_id=first.id)["ok"]
    # Tablets already in the room see the queue at once, without joining again...
    for tablet in (chair, member):
        event = tablet.wait_for(lambda e: e["type"] == "floor.prefill")
        assert event["item_id"] == first.id
        assert [(r["user_id"], r["from_position"]) for r in event["payload"]["queue"]["requests"]] == [
            (cabinet["member2"].id, True)]
    # ...and so does a snapshot.
    snapshot = chair.join(last_seq=None)["snapshot"]
    queue = snapshot["queues"][str(first.id)]
    assert [(r["user_id"], r["from_position"]) for r in queue] == [(cabinet["member2"].id, True)]


def _actor(user):
    from tests.meetings.conftest import actor

    return actor(user)
