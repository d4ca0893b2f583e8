"""Redis dies while two app instances share a meeting, then comes back.

Two gunicorn instances use a private redis-server of this test (never the shared one) as their
Socket.IO message queue. Proves: while Redis is down each instance keeps serving its own tablets:
acknowledgements come at once, the events reach the tablets on the same instance, signing in still
works (the rate limiter falls back to memory), and /healthz says that the message queue is unavailable;
events do not reach the other instance's tablets (they cannot: that is what Redis carries). When Redis
returns, cross-instance delivery resumes within a few seconds without restarting anything; each
instance announces its meetings' latest event number (``sync``), so a tablet that follows it as live.js
does gets the events of the outage within seconds, without any later event; and a tablet that missed
events gets them by number when it asks (join with its last_seq), with no gap.
"""

from __future__ import annotations

import threading
import time

import pytest
import requests

from tests.conftest import PASSWORD, LiveServer
from tests.helpers import http_login
from tests.live.conftest import RoomClient, in_session  # noqa: F401 - fixtures reused here
from tests.meetings.conftest import cabinet, draft, published  # noqa: F401

pytestmark = [pytest.mark.timeout(120),
              # The message queue does not depend on the database: one is enough, the one for several instances.
              pytest.mark.parametrize("database", ["postgresql"], indirect=True)]

RESUME = 5.0


def _received(client: RoomClient, seq: int) -> bool:
    return any(e["seq"] == seq for e in client.received)


def _toggle(chair: RoomClient, paused: list[bool]) -> int:
    ack = chair.call("chair.resume" if paused[0] else "chair.pause")
    assert ack["ok"], ack
    paused[0] = not paused[0]
    return ack["seq"]


def _contiguous(client: RoomClient) -> int:
    """The last event number up to which this tablet has every event."""
    last = client.joined["snapshot"]["seq"]
    for received in sorted(e["seq"] for e in client.received):
        if received == last + 1:
            last = received
    return last


def _follow_sync(client: RoomClient) -> list[dict]:
    """Answer ``sync`` as static/js/live.js does: when behind, join again with the last number held, and
    take the missed events. Returns the sync messages received."""
    syncs: list[dict] = []

    def catch_up(message: dict) -> None:
        last = _contiguous(client)
        if message["meeting_id"] == client.meeting_id and message["seq"] > last:
            for event in client.join(last_seq=last)["events"]:
                client._on_event(event)

    def on_sync(message: dict) -> None:
        syncs.append(message)
        threading.Thread(target=catch_up, args=(message,), daemon=True).start()

    client.sio.on("sync", on_sync)
    return syncs


def test_redis_down_while_two_instances_share_a_meeting(in_session, app, db_url, tmp_path,  # noqa: F811
                                                        private_redis):
    meeting_id = in_session.id
    a = LiveServer(db_url, tmp_path, REDIS_URL=private_redis.url).start()
    b = LiveServer(db_url, tmp_path, REDIS_URL=private_redis.url).start()
    clients: list[RoomClient] = []
    try:
        def tablet(server: LiveServer, email: str) -> RoomClient:
            client = RoomClient(server.url, email, meeting_id).connect()
            clients.append(client)
            client.joined = client.join()
            return client

        chair_a, on_a = tablet(a, "chair@example.gov.vn"), tablet(a, "member@example.gov.vn")
        chair_b, on_b = tablet(b, "chair@example.gov.vn"), tablet(b, "member2@example.gov.vn")
        synced_a = _follow_sync(on_a)
        synced_b: list[dict] = []  # this one only notes the announcements: it still has the gap below
        on_b.sio.on("sync", synced_b.append)
        paused = [False]
        seq = _toggle(chair_a, paused)
        on_b.wait_for(lambda e: e["seq"] == seq)  # across instances, through Redis

        private_redis.kill()
        for server in (a, b):
            start = time.monotonic()
            health = requests.get(server.url + "/healthz", timeout=10)
            assert health.status_code == 200 and time.monotonic() - start < 3
        # An instance notices when it next publishes (or its listener drops): ask after one event.
        start = time.monotonic()
        seq_a = _toggle(chair_a, paused)
        assert time.monotonic() - start < 3, "an acknowledgement waited for Redis"
        on_a.wait_for(lambda e: e["seq"] == seq_a)  # this instance's own tablets are served
        assert requests.get(a.url + "/healthz", timeout=10).json()["message_queue"] == "unavailable"
        seq_b = _toggle(chair_b, paused)
        on_b.wait_for(lambda e: e["seq"] == seq_b)
        assert http_login(b.url, "member3@example.gov.vn", PASSWORD)  # sign-in needs no Redis
        time.sleep(0.5)
        assert not _received(on_b, seq_a) and not _received(on_a, seq_b)  # nothing can carry them now

        private_redis.start()  # same port, as a restarted service would be
        # No event yet: A's listener subscribes again and A announces the meeting's latest number, so
        # its tablet asks for what B published during the outage.
        on_a.wait_for(lambda e: e["seq"] == seq_b, timeout=RESUME)
        assert any(m == {"meeting_id": meeting_id, "seq": seq_b} for m in synced_a)
        assert _contiguous(on_a) == seq_b  # every event, in order, up to the last one
        deadline = time.monotonic() + RESUME  # B announces too
        while not any(m["meeting_id"] == meeting_id and m["seq"] >= seq_b for m in synced_b):
            assert time.monotonic() < deadline, f"instance B did not resync: {synced_b}"
            time.sleep(0.1)
        start = time.monotonic()
        while True:
            seq = _toggle(chair_a, paused)
            try:
                on_b.wait_for(lambda e, s=seq: e["seq"] == s, timeout=0.5)
                break
            except AssertionError:
                assert time.monotonic() - start < RESUME, "cross-instance delivery did not resume"
        resumed_after = time.monotonic() - start
        assert resumed_after < RESUME
        assert requests.get(a.url + "/healthz", timeout=10).json()["message_queue"] == "ok"

        # The tablet on B has a gap; it asks for what it missed, by number, as live.js does.
        last = on_b.joined["snapshot"]["seq"]
        for received in sorted(e["seq"] for e in on_b.received):
            if received == last + 1:
                last = received
        assert last < seq_a
        replay = on_b.join(last_seq=last)
        missed = [e["seq"] for e in replay["events"]]
        assert missed == list(range(last + 1, seq + 1)) and seq_a in missed
    finally:
        for client in clients:
            client.close()
        a.stop()
        b.stop()
