"""Fixtures for the live room: a meeting in session, and real Socket.IO clients."""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import pytest
import socketio

from ecabinet.extensions import db
from tests.conftest import PASSWORD
from tests.helpers import cookie_header, http_login
from tests.meetings.conftest import actor, cabinet, draft, published  # noqa: F401 - fixtures reused here


@pytest.fixture
def in_session(published, cabinet):  # noqa: F811 - pytest fixtures, imported above
    """The published meeting, started by its chair, with a guest invited to the first item only."""
    from ecabinet.meetings import service

    first = published.items[0]
    service.invite_guest(actor(cabinet["secretary"]), first, cabinet["guest"])
    service.start_meeting(actor(cabinet["chair"]), published)
    db.session.commit()  # services only flush: the fixture is the boundary
    return published


class RoomClient:
    """A participant's tablet: a real Socket.IO client that keeps every event it receives."""

    def __init__(self, base_url: str, email: str, meeting_id: int) -> None:
        self.base_url = base_url
        self.meeting_id = meeting_id
        self.http = http_login(base_url, email, PASSWORD)
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.received: list[dict[str, Any]] = []
        self.presence: list[dict[str, Any]] = []
        self.disconnected = threading.Event()
        self.sio = socketio.Client(reconnection=False, websocket_extra_options={"origin": base_url})
        self.sio.on("event", self._on_event)
        self.sio.on("presence", self.presence.append)
        self.sio.on("disconnect", lambda *a: self.disconnected.set())

    def _on_event(self, data: dict[str, Any]) -> None:
        self.received.append(data)
        self.events.put(data)

    def connect(self) -> RoomClient:
        self.disconnected.clear()
        self.sio.connect(self.base_url, headers={"Cookie": cookie_header(self.http)}, transports=["websocket"],
                         wait_timeout=10)
        return self

    def call(self, event: str, **data: Any) -> dict[str, Any]:
        return self.sio.call(event, {"meeting_id": self.meeting_id, **data}, timeout=15)

    def join(self, last_seq: int | None = None) -> dict[str, Any]:
        ack = self.call("join", last_seq=last_seq)
        assert ack["ok"], ack
        return ack

    def wait_for(self, predicate, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                break
            if predicate(event):
                return event
        raise AssertionError(f"no matching event within {timeout}s; received {self.received[-5:]}")

    def close(self) -> None:
        if self.sio.connected:
            self.sio.disconnect()


@pytest.fixture
def room_client(live_server):
    clients: list[RoomClient] = []

    def make(email: str, meeting_id: int, join: bool = True) -> RoomClient:
        db.session.commit()  # what the test staged so far is what the server sees
        client = RoomClient(live_server.url, email, meeting_id).connect()
        if join:
            client.join()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


class Replica:
    """Applies snapshots and events the way static/js/live.js does, to compare end states."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.state = snapshot
        self.seq = snapshot["seq"]

    def apply(self, event: dict[str, Any]) -> None:
        assert event["seq"] == self.seq + 1, f"gap or duplicate: {event['seq']} after {self.seq}"
        self.seq = event["seq"]
        payload = event["payload"]
        if "meeting" in payload:
            self.state["meeting"] = payload["meeting"]
        if "attendance" in payload:
            self.state["attendance"] = payload["attendance"]
        if "queue" in payload:
            self.state["queues"][str(payload["queue"]["item_id"])] = payload["queue"]["requests"]
        if "comment" in payload:
            others = [c for c in self.state["comments"] if c["comment_id"] != payload["comment"]["comment_id"]]
            self.state["comments"] = sorted(others + [payload["comment"]], key=lambda c: c["comment_id"])

    def view(self) -> dict[str, Any]:
        """What the screen shows (not the bookkeeping fields)."""
        return {k: self.state[k] for k in ("meeting", "attendance", "queues", "comments")}
