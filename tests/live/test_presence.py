"""Who is online, across instances: each instance sends the list to its own tablets only, and learns of
the other instances' arrivals and departures from a small note through Redis (ecabinet/live/presence.py).

Two gunicorn instances share this test's PostgreSQL schema and Redis channel; the test listens on Redis
as a third party would, to see what crosses between them."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
import redis

from tests.conftest import LiveServer
from tests.live.conftest import RoomClient, in_session  # noqa: F401 - fixture

pytestmark = [pytest.mark.timeout(90),
              # Several instances need PostgreSQL (and Redis between them).
              pytest.mark.parametrize("database", ["postgresql"], indirect=True)]


def _online(client: RoomClient, meeting_id: int) -> set[int] | None:
    seen = [p for p in client.presence if p["meeting_id"] == meeting_id]
    return set(seen[-1]["online"]) if seen else None


def _wait_online(client: RoomClient, meeting_id: int, predicate, what: str, timeout: float = 8.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        online = _online(client, meeting_id)
        if online is not None and predicate(online):
            return
        time.sleep(0.1)
    raise AssertionError(f"{what}: the tablet's last list is {_online(client, meeting_id)}")


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def _drain(listener: Any) -> list[dict[str, Any]]:
    messages = []
    while (message := listener.get_message(timeout=0.2)) is not None:
        if message["type"] == "message":
            messages.append(message)
    return messages


def test_each_instance_tells_its_own_tablets_who_is_online(in_session, cabinet, db_url, tmp_path,  # noqa: F811
                                                            redis_url):
    meeting_id = in_session.id
    member, member2 = cabinet["member"].id, cabinet["member2"].id
    channel = os.environ["SOCKETIO_CHANNEL"]  # the instances' channel (tests/conftest.py), one per test run
    notes_channel = f"{channel}:presence"
    watcher = redis.Redis.from_url(redis_url)
    listener = watcher.pubsub()
    listener.subscribe(channel, notes_channel)
    a = LiveServer(db_url, tmp_path, REDIS_URL=redis_url).start()
    b = LiveServer(db_url, tmp_path, REDIS_URL=redis_url).start()
    clients: list[RoomClient] = []
    try:
        on_a = RoomClient(a.url, "member@example.gov.vn", meeting_id).connect()
        clients.append(on_a)
        on_a.join()
        _wait_online(on_a, meeting_id, lambda s: member in s, "the tablet on A sees itself")

        # Odd bytes on the notes' channel change nothing: both instances go on.
        for odd in (b"\xff\xfe", b"[1, 2]", b'{"meetings": "all"}', b'{"host_id": "x", "meetings": [true, "7"]}'):
            watcher.publish(notes_channel, odd)

        on_b = RoomClient(b.url, "member2@example.gov.vn", meeting_id).connect()
        clients.append(on_b)
        on_b.join()
        # A's tablet hears of the arrival on B from its own instance, which B told through Redis.
        _wait_online(on_a, meeting_id, lambda s: {member, member2} <= s, "A's tablet learns of B's")
        _wait_online(on_b, meeting_id, lambda s: {member, member2} <= s, "B's tablet sees both")

        on_b.close()
        _wait_online(on_a, meeting_id, lambda s: member in s and member2 not in s, "A's tablet sees B's leave")

        for server in (a, b):  # neither instance was hurt by the odd notes
            assert server.proc.poll() is None
        crossed = _drain(listener)
        notes = [note for m in crossed if m["channel"].decode() == notes_channel
                 and isinstance(note := _json(m["data"]), dict)]
        # Each instance said which meeting changed (A on its tablet's arrival, B on its arrival and leave).
        assert len({n["host_id"] for n in notes if n.get("meetings") == [meeting_id]}) == 2, notes
        # The lists themselves never crossed: no instance sent one to another instance's tablets.
        emitted = [json.loads(m["data"]) for m in crossed if m["channel"].decode() == channel]
        assert not [e for e in emitted if e.get("event") == "presence"], emitted
    finally:
        for client in clients:
            client.close()
        for server in (a, b):
            server.stop()
        listener.close()
        watcher.close()
