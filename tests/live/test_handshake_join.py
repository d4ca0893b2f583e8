"""A tablet's join carried in its Socket.IO handshake (``auth``): the connect handler decides it as the
join event is decided (rate, schema, rule) and answers with a "joined" message before the connection is
confirmed, so a reconnecting tablet is back in its room after one round trip (static/js/live.js)."""

from __future__ import annotations

import threading
from typing import Any

import socketio
import sqlalchemy as sa

from ecabinet.extensions import db
from ecabinet.extensions import socketio as server_socketio
from ecabinet.live.models import LiveConnection
from tests.conftest import PASSWORD, IsolatedClient
from tests.helpers import cookie_header, http_login, login, statements_of
from tests.live.conftest import in_session  # noqa: F401 - fixture


class HandshakeTablet:
    """A real Socket.IO client over a real socket that joins in its handshake, as live.js does."""

    def __init__(self, base_url: str, email: str) -> None:
        self.base_url = base_url
        self.http = http_login(base_url, email, PASSWORD)
        self.joined: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.order: list[str] = []  # what arrived, in order: "joined", "event", "connect"
        self.got_joined = threading.Event()
        self.sio = socketio.Client(reconnection=False, websocket_extra_options={"origin": base_url})
        self.sio.on("joined", self._on_joined)
        self.sio.on("event", lambda e: (self.events.append(e), self.order.append("event")))
        self.sio.on("connect", lambda: self.order.append("connect"))

    def _on_joined(self, message: dict[str, Any]) -> None:
        self.joined.append(message)
        self.order.append("joined")
        self.got_joined.set()

    def connect(self, auth: Any) -> HandshakeTablet:
        self.sio.connect(self.base_url, headers={"Cookie": cookie_header(self.http)}, transports=["websocket"],
                         auth=auth, wait_timeout=10)
        return self

    def answer(self) -> dict[str, Any]:
        assert self.got_joined.wait(10), "no joined message"
        return self.joined[-1]

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


def test_the_join_in_the_handshake_answers_before_the_connection_is_confirmed(live_server, in_session, cabinet):  # noqa: F811
    meeting_id = in_session.id
    tablet = HandshakeTablet(live_server.url, cabinet["member"].email)
    try:
        tablet.connect({"join": {"meeting_id": meeting_id, "last_seq": None}, "attempt": 7})
        message = tablet.answer()
        assert message["attempt"] == 7
        answer = message["answer"]
        assert answer["ok"] and answer["snapshot"]["meeting_id"] == meeting_id
        assert isinstance(answer["ballots"], list)
        # Before the client's "connect": a client that kept its own join waiting for "connect" finds the
        # answer already there.
        assert tablet.order[0] == "joined", tablet.order

        # In the room: the chair's next action reaches this tablet, numbered after the snapshot.
        chair = HandshakeTablet(live_server.url, cabinet["chair"].email).connect(
            {"join": {"meeting_id": meeting_id, "last_seq": None}, "attempt": 1})
        chair.answer()
        ack = chair.sio.call("chair.set_item", {"meeting_id": meeting_id, "item_id": in_session.items[1].id},
                             timeout=15)
        assert ack["ok"], ack
        deadline = threading.Event()
        for _ in range(100):
            if tablet.events:
                break
            deadline.wait(0.1)
        assert tablet.events and tablet.events[0]["seq"] == answer["snapshot"]["seq"] + 1
        chair.close()
    finally:
        tablet.close()


def test_a_reconnecting_tablet_gets_the_events_it_missed(live_server, in_session, cabinet):  # noqa: F811
    meeting_id = in_session.id
    chair = HandshakeTablet(live_server.url, cabinet["chair"].email).connect(
        {"join": {"meeting_id": meeting_id, "last_seq": None}, "attempt": 1})
    last_seq = chair.answer()["answer"]["snapshot"]["seq"]
    for item in in_session.items[:2]:
        assert chair.sio.call("chair.set_item", {"meeting_id": meeting_id, "item_id": item.id}, timeout=15)["ok"]
    tablet = HandshakeTablet(live_server.url, cabinet["member"].email)
    try:
        tablet.connect({"join": {"meeting_id": meeting_id, "last_seq": last_seq}, "attempt": 2})
        answer = tablet.answer()["answer"]
        assert answer["ok"] and "snapshot" not in answer
        assert [e["seq"] for e in answer["events"]] == [last_seq + 1, last_seq + 2]
    finally:
        tablet.close()
        chair.close()


def test_a_join_the_rule_refuses_is_answered_and_the_socket_stays(live_server, in_session, cabinet):  # noqa: F811
    tablet = HandshakeTablet(live_server.url, cabinet["member"].email)
    try:
        tablet.connect({"join": {"meeting_id": 999_999, "last_seq": None}, "attempt": 3})
        message = tablet.answer()
        assert message == {"attempt": 3, "answer": {"ok": False, "error": "not_found"}}
        assert tablet.sio.connected  # the tablet may still join another meeting, by the join event
        ack = tablet.sio.call("join", {"meeting_id": in_session.id, "last_seq": None}, timeout=15)
        assert ack["ok"]
    finally:
        tablet.close()


def test_odd_handshakes_get_specific_answers(live_server, in_session, cabinet):  # noqa: F811
    odd = [
        ({"join": "meeting 1", "attempt": 1}, "invalid"),
        ({"join": {"meeting_id": in_session.id, "last_seq": -1}, "attempt": 1}, "invalid"),
        ({"join": {"meeting_id": "1; DROP TABLE meeting", "last_seq": None}}, "invalid"),
        ({"join": {"meeting_id": in_session.id, "last_seq": 1.5}}, "invalid"),
        ({"join": {"meeting_id": True, "last_seq": None}}, "invalid"),
    ]
    for auth, error in odd:
        tablet = HandshakeTablet(live_server.url, cabinet["member"].email)
        try:
            tablet.connect(auth)
            message = tablet.answer()
            assert message["answer"]["ok"] is False and message["answer"]["error"] == error, (auth, message)
            assert tablet.sio.connected
        finally:
            tablet.close()
    # An attempt that is not a whole number is not echoed; auth that is not an object is no join at all.
    for auth, echoed in (({"join": {"meeting_id": in_session.id}, "attempt": "x"}, None),
                         ({"join": {"meeting_id": in_session.id}, "attempt": True}, None),
                         ({"join": {"meeting_id": in_session.id}, "attempt": 2**60}, None)):
        tablet = HandshakeTablet(live_server.url, cabinet["member"].email)
        try:
            message = tablet.connect(auth).answer()
            assert message["attempt"] == echoed and message["answer"]["ok"], message
        finally:
            tablet.close()
    for auth in ({}, {"attempt": 1}, {"join": None}):
        tablet = HandshakeTablet(live_server.url, cabinet["member"].email)
        try:
            tablet.connect(auth)
            assert tablet.sio.connected and not tablet.got_joined.wait(0.5)
        finally:
            tablet.close()


def test_a_signed_out_handshake_is_refused_whatever_it_carries(live_server, in_session):  # noqa: F811
    client = socketio.Client(reconnection=False, websocket_extra_options={"origin": live_server.url})
    reasons: list[object] = []
    client.on("connect_error", reasons.append)
    joined: list[object] = []
    client.on("joined", joined.append)
    try:
        client.connect(live_server.url, transports=["websocket"], wait_timeout=10,
                       auth={"join": {"meeting_id": in_session.id, "last_seq": None}})
    except socketio.exceptions.ConnectionError:
        pass
    assert reasons == [{"message": "not_signed_in"}] and joined == []


def test_a_join_in_the_handshake_costs_one_transaction(app, in_session, cabinet):  # noqa: F811
    meeting_id = in_session.id
    chair_email, member_email = cabinet["chair"].email, cabinet["member"].email
    app.test_client_class = IsolatedClient
    first = app.test_client()
    login(first, chair_email, PASSWORD)
    warm = server_socketio.test_client(app, flask_test_client=first, headers={"Origin": "http://localhost"},
                                       auth={"join": {"meeting_id": meeting_id, "last_seq": None}})
    assert warm.is_connected()
    client = app.test_client()
    login(client, member_email, PASSWORD)

    commits: list[object] = []

    def committed(conn) -> None:  # noqa: ANN001
        commits.append(conn)

    sa.event.listen(db.engine, "commit", committed)
    try:
        tablet, statements = statements_of(lambda: server_socketio.test_client(
            app, flask_test_client=client, headers={"Origin": "http://localhost"},
            auth={"join": {"meeting_id": meeting_id, "last_seq": None}, "attempt": 1}))
    finally:
        sa.event.remove(db.engine, "commit", committed)

    received = tablet.get_received()
    joined = [r["args"][0] for r in received if r["name"] == "joined"]
    assert joined and joined[0]["answer"]["ok"], received
    flat = [" ".join(s.split())[:90] for s in statements]
    # The user and their sign-in session, the connection and its meeting, the meeting and the reader's
    # part in it, the event number, the items they may see, the open ballots and their tallies: the
    # connection and the join event apart made 10, in two transactions.
    assert len(flat) <= 7, "\n".join(flat)
    assert len(commits) == 1
    # The connection is written once, with its meeting (presence and the sweep read it there).
    assert not any(s.startswith("UPDATE live_connection") for s in flat), flat
    sid = tablet.eio_sid and server_socketio.server.manager.sid_from_eio_sid(tablet.eio_sid, "/")
    assert db.session.scalar(sa.select(LiveConnection.meeting_id).where(LiveConnection.sid == sid)) == meeting_id


def test_a_join_that_dooms_its_unit_of_work_still_leaves_the_connection_recorded(  # noqa: F811
        app, in_session, cabinet, monkeypatch):  # noqa: F811
    from ecabinet.core import uow
    from ecabinet.live import service

    meeting_id, member_email = in_session.id, cabinet["member"].email
    app.test_client_class = IsolatedClient
    client = app.test_client()
    login(client, member_email, PASSWORD)
    monkeypatch.setattr(service, "enter_meeting", lambda sid, mid: uow.doom())

    tablet = server_socketio.test_client(app, flask_test_client=client, headers={"Origin": "http://localhost"},
                                         auth={"join": {"meeting_id": meeting_id, "last_seq": None}, "attempt": 4})

    assert tablet.is_connected()
    joined = [r["args"][0] for r in tablet.get_received() if r["name"] == "joined"]
    assert joined == [{"attempt": 4, "answer": {"ok": False, "error": "refused"}}]
    sid = server_socketio.server.manager.sid_from_eio_sid(tablet.eio_sid, "/")
    assert db.session.scalar(sa.select(LiveConnection.sid).where(LiveConnection.sid == sid)) == sid
